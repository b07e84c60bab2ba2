// Package vaulttest runs a Vault API server on a loopback TLS port for the
// tests of internal/vault, credmon-token's Vault source and the daemon's
// Vault credentials. Vault and OpenBao cannot be installed here, so this
// server implements exactly the endpoints htgettoken and
// condor_credmon_vault use, with Vault's response shapes (the standard
// envelope, auth.client_token, lease_duration, renewable,
// data.access_token, {"errors": [...]} bodies, X-Vault-Token); its tests
// check those shapes with github.com/hashicorp/vault/api as the client, so
// they are Vault's and not our reading of them. Like internal/oidcprovider
// it imports no "testing" (TB is the small interface it needs) and is
// linked into no shipped binary.
//
// # Endpoints (below /v1/)
//
//   - auth/oidc-<issuer>/oidc/auth_url and .../poll: an OIDC device login
//     backed by the real OIDC provider (oidcprovider): auth_url starts a
//     device authorization there, the user approves it at the provider
//     (Provider.ApproveDevice), each poll polls the provider once
//     (authorization_pending, slow_down as Vault's 400 answers); the login
//     token's metadata carries the credkey (the token's sub) and the
//     refresh token, which the client stores;
//   - auth/kerberos-<issuer>_<role>/login: the Authorization: Negotiate
//     header goes to Options.KerberosVerifier, which returns the
//     principal (gokrb5's service check plugs in there); one mount per
//     role (Options.Role and Options.Roles);
//   - auth/token/create (a child token, policies a subset of the
//     parent's, ttl and renewable as numbers or htgettoken's strings),
//     lookup-self (ttl left on the server's clock), revoke-self;
//   - secret/oauth/creds/<issuer>/<credkey>:<role>: POST stores a refresh
//     token, GET returns the cached access token while it has
//     minimum_seconds (at least 10 s) left, else refreshes at the provider
//     and persists the rotated refresh token, as the oauthapp plugin does
//     ("token expired" when even a fresh token is too short), DELETE
//     forgets it;
//   - secret/oauth/sts/...: an RFC 8693 exchange of that access token at
//     the provider with scopes and audiences, cached per (scopes,
//     audiences).
//
// Tokens expire on Options.Now (see Clock) and die with their parent;
// policies limit a token to paths, so a token without a rule gets Vault's
// 403 "permission denied", and an expired, revoked or unknown one 403
// "permission denied" plus "invalid token". Throttle answers 429 with
// Retry-After (Vault's rate-limit quota); Stats counts logins, refreshes,
// exchanges and cache hits for tests to wait on.
//
// StartSite starts a robot's whole site for end-to-end tests: a KDC
// knowing the robot (RobotPrincipal) and Vault's Kerberos service, the
// OIDC provider, and the server in front of it with the robot's issuer
// and role.
package vaulttest

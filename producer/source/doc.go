// Package source is where credmon-token gets access tokens from: one
// interface, Source, and its implementations.
//
//   - Account: an oidc-agent account file (made by `credmon-token setup` or
//     oidc-gen) whose refresh token is exchanged for an access token; a
//     rotated refresh token is saved to the file before the access token is
//     returned. The file is locked (oidcagent.LockAccount) from load to
//     save, so credmon-token renew, or another get, never refreshes with
//     the same refresh token at the same time: issuers that rotate
//     refresh tokens revoke the grant when one is used twice. The wait is
//     bounded by LockWait (oidcagent.DefaultLockWait); a busy account is
//     then an error wrapping oidcagent.ErrAccountBusy.
//   - ClientCredentials: the OAuth2 client-credentials grant.
//
// Both talk to the issuer through internal/tokenclient, as the renewer
// (package renewer) does: HTTP Basic first, as oidc-agent authenticates,
// then client_secret_post when the issuer refuses the client as
// invalid_client, which it does before looking at the grant.
//
// A cancelled context is a stop, not an abort: it ends waits and
// discovery, and no token request is sent after it, but a request already
// being sent finishes (Detach) and its result is kept — for Account, a
// rotated refresh token is saved — because the issuer may already have
// rotated the refresh token it received. Such a request is bounded by the
// context's deadline and the HTTP client's timeout.
//
//   - Vault: htgettoken's flow against an htvault-config Vault, where the
//     refresh token lives: a cached Vault token (TokenFile, reused while
//     lookup-self gives it MinTTL), else a Kerberos login
//     (producer/kerberos: keytab or ticket cache, SPNEGO at
//     auth/kerberos-<issuer>_<role>/login) exchanged for a TTL child token
//     and cached 0600; then secret/oauth/creds (or sts, for scopes and
//     audiences) with minimum_seconds. When Vault holds no usable refresh
//     token, DeviceLogin's person logs in with Vault's OIDC device flow and
//     the refresh token is stored there; without DeviceLogin (cron) that is
//     ErrNeedsLogin. Without a CredKey only that login is tried: it names
//     the credkey (checked by CheckCredKey), which the caller may cache.
//
// `credmon-token get` and future callers only see Source.
//
// Errors a caller must tell apart are sentinels: ErrNeedsLogin (a human has
// to log in: no stored credential, or the issuer refused it) and
// ErrNoCredential (nothing stored yet, a subset of ErrNeedsLogin). Issuer
// errors keep their type (*tokenclient.Error) so callers can classify them
// (tokenclient.Classify).
package source

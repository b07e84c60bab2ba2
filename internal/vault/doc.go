// Package vault is the module's Vault client: the requests htgettoken,
// igwn-robot-get and condor_credmon_vault make to an htvault-config Vault
// (or OpenBao), and nothing else.
//
// # Requests
//
//   - KerberosLogin: POST auth/kerberos-<issuer>_<role>/login with the
//     caller's SPNEGO "Negotiate" header (the Kerberos side is another
//     package's; it is passed in as a function, called per request);
//   - OIDCAuthURL and OIDCPoll: the OIDC device login at
//     auth/oidc-<issuer>/oidc/auth_url and .../poll, with
//     authorization_pending and slow_down (the interval doubles, as in
//     htgettoken) and no deadline but the caller's context;
//   - CreateToken (auth/token/create, a non-renewable child of a TTL),
//     LookupSelf (its remaining ttl), RevokeSelf;
//   - StoreRefreshToken: the refresh token an OIDC login returned, stored
//     at secret/oauth/creds/<issuer>/<credkey>:<role>;
//   - Token: an access token from a creds path with minimum_seconds, or
//     from an sts path with scopes and audiences (RFC 8693 exchange in
//     Vault); with a credd-stored vault_url (SplitURL) it is
//     condor_credmon_vault's request.
//
// # Failures
//
// Every failure has tokenclient's classes (Classify): Transient (network,
// timeouts, 5xx, 412, 429 "retry later" with RetryAfter), Permanent (a
// policy's "permission denied", bad requests, redirects) or NeedsLogin (a
// Vault token that is expired, revoked or unknown, a dead or missing
// refresh token in Vault). Vault's {"errors": [...]} bodies become one
// line each in an *Error. errors.Is finds ErrPermissionDenied on every 403
// "permission denied" (also ErrInvalidToken when Vault says the token is
// dead): condor_credmon_vault deletes a user's files on that answer, the
// daemon must be able to tell it apart and not.
//
// # Transport
//
// https only (ParseAddress adds https:// and :8200 to a bare host, as
// htgettoken does); IPv4 addresses first, each with a connect timeout
// (2 s), every read with a read timeout (10 s), the whole request bounded
// (60 s); a CA file and/or directory replaces the system roots; redirects
// are never followed (X-Vault-Token would follow them to any host);
// bodies are read up to MaxResponseBytes. The Vault token, SPNEGO tokens,
// refresh and access tokens are never in an error text: every text Vault
// supplied goes through internal/redact with the request's secrets.
package vault

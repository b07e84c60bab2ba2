// Package oidc is the part of an OpenID Connect / OAuth 2.0 client that
// credmon-token needs to replace osg-token-renewer-setup and oidc-gen:
// issuer discovery, dynamic client registration, the device authorization
// grant, and the client credentials grant. The refresh grant the daemon
// runs lives in producer/oauth2refresh.
//
// # Why not golang.org/x/oauth2 alone
//
// x/oauth2's Config.DeviceAuth never sends a client secret, so a
// confidential client's device authorization fails with invalid_client at
// any server that checks (RFC 8628 §3.1 says the client authenticates
// there as at the token endpoint; test-infra spec, summary item 12). It
// also follows redirects on POSTs, reads unbounded bodies, has no
// discovery or registration, and its device polling sleeps on the real
// clock. The requests here are therefore written with net/http: form
// encoded (JSON for registration), Accept: application/json, client
// authentication per ClientAuth.Style. x/oauth2 supplies only the
// AuthStyle constants, so callers can share them with producer/oauth2refresh.
//
// # Contract
//
//   - Discover (OpenID Connect Discovery 1.0 §4, RFC 8414 §3) refuses a
//     document whose issuer differs from the requested one, ignoring one
//     trailing slash, and falls back to RFC 8414 locations on 4xx.
//   - Register (RFC 7591) returns the server's answer verbatim in Raw.
//   - StartDevice and PollDevice (RFC 8628 §3.1–3.5) wait the interval
//     before every poll, add 5 s on slow_down and keep it, stop at the
//     code's expiry, and report access_denied and expired_token as
//     ErrAccessDenied and ErrExpiredToken.
//   - ClientCredentials (RFC 6749 §4.4) sends the audience as RFC 8707
//     resource, as the non-standard audience parameter, or both.
//
// # Failure modes and the rules that handle them
//
//   - Plain http:// is refused unless Client.AllowInsecure is set: a
//     client secret or token must not cross the network in clear text.
//   - Token, device and registration endpoints never follow redirects: a
//     307 would replay the secret to wherever Location points. Discovery
//     follows at most 5, never from https to http.
//   - Bodies are read up to MaxResponseBytes (1 MiB).
//   - A token response counts only if it is 2xx, has no "error" member and
//     has an access_token; a non-2xx answer with an access_token is still
//     an error. Numbers (expires_in, interval, client_secret_expires_at)
//     may be JSON strings, as some IdPs send them.
//   - OAuth errors are *TokenError values with the HTTP status, error and
//     error_description (printable ASCII, 256 bytes at most, with every
//     credential the request carried and anything token-like blanked, by
//     the one scrub both token clients share, producer/internal/redact).
//     No error ever carries a response body, a token or a secret, even from
//     a server that echoes its request.
//   - A token response whose access_token is not visible ASCII
//     (0x21-0x7E), or whose refresh_token is not 0x20-0x7E, is refused as
//     if it had no token: it would split a header or a token file.
//   - PollDevice backs off (doubling the interval, RFC 8628 §3.5) on
//     network failures and 408/429/502/503/504, and gives up only at the
//     code's expiry, naming the last failure.
//
// Time (Client.Now, Client.Sleep) and HTTP (Client.HTTPClient) are
// injected, so tests run the device flow without waiting five seconds a
// poll.
package oidc

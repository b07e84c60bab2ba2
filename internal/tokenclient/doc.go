// Package tokenclient is the module's one OAuth 2.0 / OpenID Connect
// client: every request to a token endpoint, by the daemon (credmon) and by
// credmon-token (get, setup, renew), goes through it.
//
// A Client is one OAuth2 client at one authorization server: its identity
// (ClientID, ClientSecret, AuthStyle), its endpoints (TokenURL,
// DeviceAuthURL) and the wire choices (AudienceMode, SendScopes). The
// grants are methods:
//
//   - Refresh, ClientCredentials and Exchange (RFC 8693) return a *Result:
//     the whole JSON response (every key, in the server's order), the
//     rotated refresh token, and when it arrived, the base for Expiry;
//   - StartDevice and PollDevice run the device authorization grant (RFC
//     8628), ending in ErrAccessDenied or ErrExpiredToken when a human
//     refused or never came;
//   - Register is RFC 7591 dynamic client registration;
//   - Discover (OpenID Connect Discovery, then RFC 8414) is the one
//     discovery, DiscoverTokenURL its shorthand, and Cache shares its
//     results.
//
// Failures are classified once, when they are built: Classify says
// Transient (RetryAfter tells how long when the server said), Permanent
// (IsPermanent) or NeedsLogin (invalid_grant, invalid_token, an expired
// device code). A server's answer is an *Error; errors.As also finds an
// *oauth2.RetrieveError in it. Describe renders any error for a log line;
// RefusedTarget tells a refused scope or audience apart.
//
// Guarantees: http:// is refused before anything is sent (ErrInsecureURL)
// unless AllowInsecure; POSTs never follow redirects; bodies are capped at
// MaxResponseBytes; AuthStyleAutoDetect retries once with the other client
// authentication after invalid_client; and no error ever carries a response
// body, a token or a secret. Each call takes its own context, which the
// caller bounds; time and HTTP are injected (Client.Now, Client.Sleep,
// Client.HTTPClient).
//
// The rules every request follows, and why this is not golang.org/x/oauth2,
// are in docs/architecture.md#tokenclient.
package tokenclient

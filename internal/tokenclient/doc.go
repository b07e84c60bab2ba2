// Package tokenclient is the module's one OAuth 2.0 / OpenID Connect
// client: every request to a token endpoint, by the daemon (credmon) and by
// credmon-token (get, setup, renew), goes through it.
//
// # What a caller needs
//
// A Client is one OAuth2 client at one authorization server: its identity
// (ClientID, ClientSecret, AuthStyle), its endpoints (TokenURL,
// DeviceAuthURL) and the wire choices (AudienceMode, SendScopes). The
// grants are methods, as golang.org/x/oauth2 funnels every grant through
// one request function:
//
//   - Refresh (RFC 6749 §6), ClientCredentials (§4.4) and Exchange (RFC
//     8693) return a *Result: the whole JSON response (every key, e.g.
//     id_token, in the server's order), the rotated refresh token, and when
//     it arrived, the base for Expiry;
//   - StartDevice and PollDevice run the device authorization grant (RFC
//     8628): the interval before every poll, +5 s on slow_down, doubling on
//     network failures, an end at the code's expiry, access_denied and
//     expired_token as ErrAccessDenied and ErrExpiredToken;
//   - Register is RFC 7591 dynamic client registration;
//   - Discover (OpenID Connect Discovery 1.0 with the RFC 8414 fallback) is
//     the one discovery, DiscoverTokenURL its shorthand, and Cache shares
//     and remembers its results.
//
// Failures are classified once, when they are built: Classify says
// Transient (retry later, RetryAfter tells how much later when the server
// said), Permanent (nothing changes until the configuration does;
// IsPermanent) or NeedsLogin (the grant is dead: invalid_grant,
// invalid_token, an expired device code). A server's answer is an *Error
// (status, OAuth error code, description); errors.As also finds an
// *oauth2.RetrieveError in it. Describe renders any error for a log line;
// RefusedTarget tells a refused scope or audience apart.
//
// # Why not golang.org/x/oauth2 itself
//
// x/oauth2 cannot add parameters to a refresh ("scope", "audience", RFC
// 8707 "resource"), exposes only some response fields (a .use must keep
// every key), hides whether the refresh token rotated (golang/oauth2#84),
// captures the context of its first use (golang/oauth2#388), never
// authenticates a confidential client at the device authorization endpoint
// (RFC 8628 §3.1 says it must), follows redirects on POSTs, reads unbounded
// bodies, and has no discovery or registration. Its vocabulary is kept:
// AuthStyle values and RetrieveError.
//
// # Rules every request follows
//
//   - One POST path (postForm) with one client-authentication model:
//     client_secret_basic, client_secret_post, or none for a client without
//     a secret; AuthStyleAutoDetect tries Basic and, when the server refuses
//     the client (invalid_client or a bare 401), client_secret_post once,
//     and remembers what it tried in AuthStyle.
//   - Plain http:// is refused (a permanent ErrInsecureURL, nothing sent)
//     unless AllowInsecure: a secret or token must not cross the network
//     in clear text. That holds for discovered endpoints too.
//   - POSTs never follow redirects (a 307 would replay the secret to
//     wherever Location points); discovery follows at most 5, never from
//     https to http.
//   - Bodies are read up to MaxResponseBytes (1 MiB). A JSON body, else a
//     form-encoded one (as oauthlib accepts), is the answer.
//   - A token response counts only if it is 2xx, has no "error" member and
//     has an access_token of visible ASCII (and a refresh_token, if any, of
//     0x20-0x7E): anything else is an *Error, even a non-2xx answer with an
//     access_token.
//   - No error ever carries a response body, a token or a secret, even
//     from a server that echoes its request: every text the server supplied
//     goes through internal/redact when the error is built, with the
//     request's credentials (client secret, Basic credential, refresh
//     token, device code, subject token, initial access token) blanked, and
//     transport errors lose the URL's query.
//
// Each call takes its own context, which the caller bounds. Time
// (Client.Now, Client.Sleep) and HTTP (Client.HTTPClient) are injected, so
// tests run the device flow without waiting five seconds a poll.
package tokenclient

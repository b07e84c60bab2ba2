// Package oauth2refresh performs the OAuth2 refresh-token grant against a
// token endpoint and returns the whole response.
//
// Why not oauth2.Config.TokenSource: golang.org/x/oauth2 cannot add request
// parameters to a refresh (so "scope", "audience" and RFC 8707 "resource"
// cannot be sent, and the .use would not carry what the job asked for),
// exposes only selected response fields (a .use must keep every key the
// server returned, e.g. id_token), hides whether the refresh token rotated
// (golang/oauth2#84) and captures the context of its first use
// (golang/oauth2#388). The grant itself is a single form POST, so we make it
// here and keep x/oauth2's vocabulary: errors.As finds an
// *oauth2.RetrieveError with the server's error code, and the client
// authentication styles are oauth2.AuthStyle values.
//
// Whatever the issuer sends back is scrubbed once, here, when the error is
// built (producer/internal/redact): an issuer that echoes its request
// would otherwise put the refresh token and client secret into the
// daemon's log. The errors keep no response body, and their Error() is one
// line (x/oauth2's RetrieveError.Error prints the body).
//
// Each call takes its own context; the caller bounds it. Token URLs must be
// https unless AllowInsecure is set (parity with OAUTHLIB_INSECURE_TRANSPORT).
package oauth2refresh

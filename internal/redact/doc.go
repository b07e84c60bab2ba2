// Package redact makes text an issuer sent fit for a log line. The token
// client (internal/tokenclient, used by the daemon and credmon-token) runs
// every issuer-supplied string that may end up in an error through Text
// once, when the error is built, so nothing above it needs to think about
// it.
//
// An issuer can put anything in error, error_description, a status line or
// a Location: one that echoes its request hands back the refresh token and
// the client secret, and one that is broken or hostile sends control
// characters that forge log lines, or megabytes. Text therefore
//
//   - keeps printable ASCII only (the error_description character set of
//     RFC 6749 §5.2), so a line cannot be split or forged;
//   - replaces each secret the request carried, as sent and form-encoded,
//     with "[redacted]";
//   - replaces every token-like word (a run of token characters at least 32
//     long with a letter and a digit: JWTs, opaque tokens, UUIDs, base64 of
//     a Basic credential), so a secret the caller did not know of, or one
//     the issuer re-encoded, does not survive either;
//   - cuts the result to a length the caller chooses.
//
// Error wraps an error whose text may carry issuer-supplied bytes (a
// transport error quoting a malformed status line) the same way, keeping
// errors.Is and errors.As working on what it wraps.
package redact

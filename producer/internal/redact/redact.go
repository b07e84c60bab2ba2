// Package redact makes text that an issuer sent back safe to log: the one
// place where the project's token clients clean issuer-supplied strings
// (error, error_description, error_uri) before they reach an error value.
//
// An issuer may echo the request it refused, and with it the refresh
// token, the client secret or a device code; a misbehaving one may send
// control characters that forge log lines, or megabytes. Text removes the
// request's secrets (as sent and form-encoded), blanks anything shaped like
// a token (a JWT, or a long run of token characters), keeps printable
// ASCII only (the error_description character set of RFC 6749 §5.2) and
// cuts the result to a length.
package redact

import (
	"net/url"
	"strings"
)

// Placeholder replaces what was removed.
const Placeholder = "[redacted]"

// MinTokenRun is the shortest run of token characters (letters, digits and
// -._~+/=) blanked as "looks like a token": longer than any English word or
// OAuth error code, shorter than any real refresh token or secret.
const MinTokenRun = 32

// Text returns s with every secret (each at least 4 bytes) removed, token-
// shaped runs blanked, non-printable characters dropped and the result cut
// to n bytes (with "..." appended when cut).
func Text(s string, n int, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, Placeholder)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Placeholder)
		}
	}
	return Printable(blankTokens(s), n)
}

// blankTokens replaces every run of at least MinTokenRun token characters.
func blankTokens(s string) string {
	var b strings.Builder
	run := 0 // start of the current run of token characters
	flush := func(end int) {
		if end-run >= MinTokenRun {
			b.WriteString(Placeholder)
		} else {
			b.WriteString(s[run:end])
		}
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			flush(i)
			b.WriteByte(s[i])
			run = i + 1
		}
	}
	flush(len(s))
	return b.String()
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '%'
}

// Printable keeps printable ASCII and cuts to n bytes, so a string cannot
// forge log lines or flood them.
func Printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			b.WriteRune(r)
		}
		if b.Len() >= n {
			b.WriteString("...")
			break
		}
	}
	return b.String()
}

// ValidAccessToken reports whether tok can be an access token: one or more
// visible ASCII characters (0x21–0x7E). It goes into an Authorization
// header and a file a job reads line by line; a space, a control character
// or a byte above 0x7E in it is an issuer that lies.
func ValidAccessToken(tok string) bool {
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return false
		}
	}
	return true
}

// ValidRefreshToken reports whether tok is a refresh token as RFC 6749
// (Appendix A.17) defines it: one or more VSCHAR (0x20–0x7E).
func ValidRefreshToken(tok string) bool {
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x20 || tok[i] > 0x7e {
			return false
		}
	}
	return true
}

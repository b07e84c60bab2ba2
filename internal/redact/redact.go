package redact

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Placeholder stands where a secret or a token-like word was.
const Placeholder = "[redacted]"

// DescriptionLen is the length both clients cut an error_description to:
// room for any useful sentence, no room for pages of text in a log.
const DescriptionLen = 256

// MinTokenLen is the shortest run of token characters that counts as a
// token when it has a letter and a digit. Refresh and access tokens are
// longer; the natural-language words and identifiers of an error
// description ("invalid_grant", "unauthorized_client") are shorter or
// have no digit.
const MinTokenLen = 32

// maxWordLen is the length from which a run of token characters counts as
// a token even without a digit: no word of an error description is this
// long.
const maxWordLen = 80

// Text returns s with only printable ASCII, every secret and every
// token-like word replaced by Placeholder, cut to max bytes ("..." marks a
// cut). Secrets are matched as given and form-encoded (how a request body
// carries them); empty ones are ignored. The order matters and is fixed:
// filtering first (a secret with a control character spliced in would
// otherwise survive), scrubbing next, cutting last (a cut first could leave
// half a secret that no longer matches).
func Text(s string, max int, secrets ...string) string {
	s = printable(s)
	s = scrubSecrets(s, secrets)
	s = scrubTokens(s)
	if max >= 0 && len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func scrubSecrets(s string, secrets []string) string {
	var forms []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		// As it can appear in s: printable bytes only, raw or
		// form-encoded (url.Values.Encode, and Basic auth's parts).
		forms = append(forms, printable(sec), url.QueryEscape(sec))
	}
	// Longest first: a secret containing another is replaced whole.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		if f != "" {
			s = strings.ReplaceAll(s, f, Placeholder)
		}
	}
	return s
}

// tokenChar is RFC 6750's b64token alphabet (less '=', which would join
// "key=value" pairs into one word), plus '.' for JWTs and '%' for
// form-encoded values.
func tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '%'
}

func scrubTokens(s string) string {
	var b strings.Builder
	start := -1 // start of the current run of token characters
	last := 0   // s[last:start] is not yet copied
	flush := func(end int) {
		if start >= 0 && tokenLike(s[start:end]) {
			b.WriteString(s[last:start])
			b.WriteString(Placeholder)
			last = end
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		if tokenChar(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func tokenLike(w string) bool {
	if len(w) < MinTokenLen {
		return false
	}
	if len(w) >= maxWordLen {
		return true
	}
	letter, digit := false, false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		}
	}
	return letter && digit
}

// Error returns err with its message passed through Text(msg, max,
// secrets...), or nil for nil. errors.Is and errors.As see err, and a
// timeout stays a timeout (net.Error's Timeout), so callers classify it as
// before.
func Error(err error, max int, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &scrubbed{msg: Text(err.Error(), max, secrets...), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// Timeout reports whether the wrapped error is a timeout, so that a
// *url.Error around a scrubbed error still says so.
func (e *scrubbed) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

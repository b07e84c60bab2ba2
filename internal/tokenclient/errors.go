package tokenclient

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/redact"
)

// Class is what a caller can do about a failure. Every error this package
// returns has exactly one (Classify).
type Class int

const (
	// Transient: the same request may succeed later. Network errors,
	// timeouts, 5xx, 429, temporarily_unavailable, answers that are not a
	// token, a discovery document not served.
	Transient Class = iota
	// Permanent: the same request fails the same way until the
	// configuration or the client changes: a bad or insecure URL, a
	// rejected client, a refused scope or audience, an issuer mismatch.
	Permanent
	// NeedsLogin: the grant itself is dead (invalid_grant, invalid_token,
	// an expired device code): a human must log in again. It is permanent
	// too.
	NeedsLogin
)

func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case NeedsLogin:
		return "needs-login"
	}
	return "transient"
}

// codeClass is the one table of OAuth error codes that are not transient
// (RFC 6749 §5.2, RFC 8707 §2 invalid_target, RFC 8628 §3.5, RFC 7591
// §3.2.2, RFC 6750 §3.1 invalid_token). A code not listed (invalid_request,
// temporarily_unavailable, server_error, slow_down, ...) is transient.
var codeClass = map[string]Class{
	"invalid_grant":                 NeedsLogin,
	"invalid_token":                 NeedsLogin,
	"expired_token":                 NeedsLogin,
	"invalid_client":                Permanent,
	"unauthorized_client":           Permanent,
	"unsupported_grant_type":        Permanent,
	"invalid_scope":                 Permanent,
	"invalid_target":                Permanent,
	"access_denied":                 Permanent,
	"invalid_redirect_uri":          Permanent,
	"invalid_client_metadata":       Permanent,
	"invalid_software_statement":    Permanent,
	"unapproved_software_statement": Permanent,
}

// classOf classifies an OAuth answer: its error code, else a bare 401
// (client authentication failed without an OAuth body) is permanent.
func classOf(status int, code string) Class {
	if c, ok := codeClass[code]; ok {
		return c
	}
	if code == "" && status == http.StatusUnauthorized {
		return Permanent
	}
	return Transient
}

// Error is a server's answer that is not what was asked for: an OAuth
// error (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7591 §3.2.2), a non-2xx status,
// or a 2xx that is not a usable token, or a discovery document not served.
// It never holds the response body, which may echo credentials: Code,
// Description and URI are the server's error, error_description and
// error_uri passed through redact.Text when the error is built (printable
// ASCII, cut short, with every credential the request carried and anything
// token-like blanked out), or Description is our own words.
//
// errors.As also finds an *oauth2.RetrieveError in it (x/oauth2's
// vocabulary), with the same code and description, no Body, and a Response
// with only the status and Retry-After.
type Error struct {
	Status                 int
	Code, Description, URI string
	// Class is the failure's classification (see Classify).
	Class      Class
	retryAfter string
	re         *oauth2.RetrieveError
}

func (e *Error) Error() string {
	switch {
	case e.Code != "" && e.Description != "":
		return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Description, e.Status)
	case e.Code != "":
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
	case e.Description != "":
		return fmt.Sprintf("%s (HTTP %d)", e.Description, e.Status)
	}
	return fmt.Sprintf("HTTP %d without an OAuth error", e.Status)
}

// Unwrap gives the *oauth2.RetrieveError view of the answer.
func (e *Error) Unwrap() error { return e.re }

// Is makes errors.Is(err, ErrAccessDenied) and errors.Is(err,
// ErrExpiredToken) true for the matching server answers, so callers need
// not know whether the client or the server ended a device flow.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrExpiredToken:
		return e.Code == "expired_token"
	}
	return false
}

// maxCodeLen bounds an OAuth error code (the registered ones are shorter
// than 30 bytes) and a content type in a message.
const maxCodeLen = 64

// answerError builds the Error for resp. obj is the parsed body (nil: none);
// desc, when not empty, is our own description and replaces the server's.
// Every text the server supplied is scrubbed of the request's secrets here,
// once.
func answerError(resp *response, obj *jsonobj.Object, desc string) *Error {
	secrets := resp.secrets
	e := &Error{Status: resp.status}
	code := errorCode(obj)
	if obj != nil {
		d, _ := obj.String("error_description")
		uri, _ := obj.String("error_uri")
		e.Code = redact.Text(code, maxCodeLen, secrets...)
		e.Description = redact.Text(d, redact.DescriptionLen, secrets...)
		e.URI = redact.Text(uri, redact.DescriptionLen, secrets...)
	}
	switch {
	case desc != "":
		e.Description = desc
	case e.Code == "" && e.Description == "" && resp.status/100 == 3:
		e.Description = "redirect to " + redact.Text(resp.location, redact.DescriptionLen, secrets...) + " not followed"
	case e.Code == "" && e.Description == "" && resp.contentType != "" && resp.contentType != "application/json":
		e.Description = "non-JSON " + redact.Text(resp.contentType, maxCodeLen, secrets...) + " response"
	}
	// The server's own code, not its scrubbed text: a secret that happens
	// to occur in it must not change what the caller does.
	e.Class = classOf(e.Status, code)
	e.retryAfter = resp.retryAfter
	e.re = &oauth2.RetrieveError{Response: bareResponse(resp), ErrorCode: e.Code, ErrorDescription: e.Description, ErrorURI: e.URI}
	return e
}

// bareResponse is the http.Response of an Error's RetrieveError view: the
// status and Retry-After only (the real one's headers could echo the
// request, and its Request holds the credentials).
func bareResponse(resp *response) *http.Response {
	r := &http.Response{
		Status:     strings.TrimSpace(fmt.Sprintf("%d %s", resp.status, http.StatusText(resp.status))),
		StatusCode: resp.status,
		Header:     http.Header{},
		Body:       http.NoBody,
	}
	if resp.retryAfter != "" {
		r.Header.Set("Retry-After", resp.retryAfter)
	}
	return r
}

// PermanentError marks a failure that retrying cannot fix until something
// changes (a new credential, a config change): a bad URL, a document
// naming another issuer. Callers may wrap their own such failures in it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Classify returns err's class: that of the server's answer in it (an
// *Error) when that is not transient, else Permanent for a
// *PermanentError, else Transient (network errors, timeouts, everything
// unknown).
func Classify(err error) Class {
	var e *Error
	if errors.As(err, &e) && e.Class != Transient {
		return e.Class
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return Permanent
	}
	return Transient
}

// IsPermanent reports whether err should stop retries until the inputs
// change: Classify says Permanent or NeedsLogin.
func IsPermanent(err error) bool { return err != nil && Classify(err) != Transient }

// RefusedTarget returns the OAuth error code when err is the token
// endpoint refusing the requested resource or audience (RFC 8707
// invalid_target) or scope (RFC 6749 §5.2 invalid_scope), and "" otherwise.
// Such an answer is an error response to the request as a whole, so the
// refresh token was not used; the same grant without "scope", "audience"
// and "resource" (the Python credmon's request) may succeed.
func RefusedTarget(err error) string {
	var e *Error
	if errors.As(err, &e) && (e.Code == "invalid_target" || e.Code == "invalid_scope") {
		return e.Code
	}
	return ""
}

// Describe renders err for a log line: for a server's answer, the OAuth
// error code, description and HTTP status without what the caller wrapped
// around it; else err.Error(). Every error this package returns is already
// scrubbed and one line.
func Describe(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// maxRetryAfterLen is longer than any valid Retry-After (an IMF-fixdate is
// 29 bytes); a longer value is dropped when the error is built.
const maxRetryAfterLen = 64

// RetryAfter returns how long the server asked the client to wait, from
// the Retry-After header (RFC 9110 §10.2.3) of the answer behind err (a
// token endpoint's answer, or a discovery document not served; 429 and 503
// usually carry one, but any status may). Both forms are read:
// delta-seconds ("120") and an HTTP-date, which is taken relative to now
// (the caller's clock; the server's Date is not consulted).
//
// ok is false when err carries no Retry-After, or one that is not a
// non-negative number of seconds or a date not in the past. The result is
// not capped, except that a number of seconds too large for a
// time.Duration gives the largest one: the caller decides how long it is
// willing to wait.
func RetryAfter(err error, now time.Time) (d time.Duration, ok bool) {
	var e *Error
	if !errors.As(err, &e) || e.retryAfter == "" {
		return 0, false
	}
	return ParseRetryAfter(e.retryAfter, now)
}

// ParseRetryAfter reads a Retry-After header value as RetryAfter does:
// delta-seconds or an HTTP-date relative to now; ok is false for anything
// else, a date in the past, or a value longer than any valid one. It is
// exported for the module's other HTTP clients (internal/vault), so that
// every client reads the header one way.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxRetryAfterLen {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64), true // only overflow fails on digits
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d = t.Sub(now); d < 0 {
		return 0, false
	}
	return d, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

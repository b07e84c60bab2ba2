package oauth2refresh

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// PermanentError marks a failure that retrying cannot fix until something
// changes (a new .top, a config change): a bad URL, a revoked grant, a
// rejected client. Callers stop retrying and wait for that change.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// permanentCodes are RFC 6749 §5.2 / RFC 8707 error codes that describe the
// grant or client, not the moment: the same request will fail again.
var permanentCodes = map[string]bool{
	"invalid_grant":          true,
	"invalid_client":         true,
	"unauthorized_client":    true,
	"unsupported_grant_type": true,
	"invalid_scope":          true,
	"invalid_target":         true,
}

// IsPermanent reports whether err should stop retries until the inputs
// change. Network errors, timeouts, 5xx, 429 and unparseable answers are
// transient.
func IsPermanent(err error) bool {
	var pe *PermanentError
	if errors.As(err, &pe) {
		return true
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if permanentCodes[re.ErrorCode] {
			return true
		}
		if re.ErrorCode == "" && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
			return true // client authentication failed without an OAuth body
		}
	}
	return false
}

// RefusedTarget returns the OAuth error code when err is the token
// endpoint refusing the requested resource or audience (RFC 8707
// invalid_target) or scope (RFC 6749 §5.2 invalid_scope), and "" otherwise.
// Such an answer is an error response to the request as a whole, so the
// refresh token was not used; the same grant without "scope", "audience"
// and "resource" (the Python credmon's request) may succeed.
func RefusedTarget(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && (re.ErrorCode == "invalid_target" || re.ErrorCode == "invalid_scope") {
		return re.ErrorCode
	}
	return ""
}

// Describe renders err for a log line without response bodies (which may
// echo tokens): the OAuth error code, description and HTTP status.
func Describe(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		switch {
		case re.ErrorCode != "" && re.ErrorDescription != "":
			return fmt.Sprintf("%s: %s (HTTP %d)", re.ErrorCode, re.ErrorDescription, status)
		case re.ErrorCode != "":
			return fmt.Sprintf("%s (HTTP %d)", re.ErrorCode, status)
		case re.ErrorDescription != "":
			return fmt.Sprintf("%s (HTTP %d)", re.ErrorDescription, status)
		default:
			return fmt.Sprintf("token endpoint answered HTTP %d without a token", status)
		}
	}
	return err.Error()
}

// RetryAfter returns how long the issuer asked the client to wait before
// trying again: the Retry-After header (RFC 9110 §10.2.3: delta-seconds or
// an HTTP-date, counted from now) of the answer behind err, on whatever
// status it came with (429 and 503 in practice). ok is false when there is
// no such answer or header, or it does not parse or lies in the past. The
// value is not capped: the caller bounds it by its own policy.
func RetryAfter(err error, now time.Time) (d time.Duration, ok bool) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return 0, false
	}
	v := strings.TrimSpace(re.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > math.MaxInt64/int64(time.Second) {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil || !at.After(now) {
		return 0, false
	}
	return at.Sub(now), true
}

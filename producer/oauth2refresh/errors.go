package oauth2refresh

import (
	"errors"
	"fmt"
	"net/http"

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

// responseError is what Refresh returns for an answer that is not a
// token. It wraps an *oauth2.RetrieveError, which callers reach with
// errors.As as before, whose texts were scrubbed when it was built (see
// retrieveError), whose Body is nil and whose Response carries only the
// status and Retry-After. Its own Error() is Describe's one line: x/oauth2's
// RetrieveError.Error() prints the body (none here, but also a line break)
// for an answer without an error code.
type responseError struct{ re *oauth2.RetrieveError }

func (e *responseError) Error() string { return describeRetrieve(e.re) }
func (e *responseError) Unwrap() error { return e.re }

// Describe renders err for a log line without response bodies (which may
// echo tokens): the OAuth error code, description and HTTP status. The
// errors Refresh returns are already scrubbed; for them Describe and
// Error() say the same.
func Describe(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return describeRetrieve(re)
	}
	return err.Error()
}

func describeRetrieve(re *oauth2.RetrieveError) string {
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

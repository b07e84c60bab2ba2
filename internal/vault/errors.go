package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/redact"
	"github.com/credmon/credmon/internal/tokenclient"
)

// Class is tokenclient's: Transient, Permanent or NeedsLogin, so the
// daemon and credmon-token branch on Vault failures as on OAuth ones.
type Class = tokenclient.Class

// Sentinel errors, matched with errors.Is on what this package returns.
var (
	// ErrPermissionDenied: Vault answered "permission denied" (HTTP 403).
	// It is Vault's answer both for a token that is expired, revoked or
	// unknown (then ErrInvalidToken matches too) and for a live token whose
	// policies do not cover the path. condor_credmon_vault deletes the
	// user's credential files on it; the daemon must not, so it is kept
	// recognisable on its own.
	ErrPermissionDenied = errors.New("vault: permission denied")
	// ErrInvalidToken: the Vault token is expired, revoked or unknown
	// (Vault adds "invalid token" to "permission denied" then). A new
	// login is needed; the class is NeedsLogin.
	ErrInvalidToken = errors.New("vault: invalid token")
	// ErrRateLimited: HTTP 429, Vault's rate-limit quota; retry later
	// (RetryAfter says when, if Vault did).
	ErrRateLimited = errors.New("vault: rate limited, retry later")
	// ErrNoCredential: nothing is stored at the credential path (HTTP 404):
	// no refresh token was ever stored for this credkey, or it was
	// deleted. Someone must log in with OIDC to store one.
	ErrNoCredential = errors.New("vault: no credential stored at this path")
)

// Error is Vault's answer with a non-2xx status, or a 2xx answer that is
// not what was asked for. Messages are Vault's "errors" list made one line
// each, scrubbed of the request's secrets and of anything token-like;
// the body itself is never kept.
type Error struct {
	// Method and Path are the request's (Path is below /v1/, no query).
	Method, Path string
	Status       int
	// Messages are Vault's errors, each one scrubbed line.
	Messages []string
	// Description is our own words, for answers Vault gave no errors in.
	Description string
	// Class is the failure's classification (see Classify).
	Class      Class
	retryAfter string
	// tokenPath: the request's path (before redaction, which may blank a
	// credkey holding digits) is one of the secrets engine's.
	tokenPath bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vault: %s %s: ", e.Method, e.Path)
	switch {
	case len(e.Messages) > 0:
		b.WriteString(strings.Join(e.Messages, "; "))
	case e.Description != "":
		b.WriteString(e.Description)
	default:
		b.WriteString(http.StatusText(e.Status))
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	return b.String()
}

// Is matches the sentinels by Vault's own words and status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrPermissionDenied:
		return e.has("permission denied")
	case ErrInvalidToken:
		return e.Status == http.StatusForbidden && e.has("invalid token")
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrNoCredential:
		return e.Status == http.StatusNotFound && e.onTokenPath()
	}
	return false
}

func (e *Error) has(phrase string) bool {
	for _, m := range e.Messages {
		if strings.Contains(strings.ToLower(m), phrase) {
			return true
		}
	}
	return false
}

func (e *Error) onTokenPath() bool { return e.tokenPath || isTokenPath(e.Path) }

// isTokenPath reports a path of the oauthapp secrets engine.
func isTokenPath(p string) bool {
	return strings.Contains(p, "/creds/") || strings.Contains(p, "/sts/")
}

// newError builds the Error for a non-2xx answer.
func newError(method, path string, resp *response, secrets []string) *Error {
	e := &Error{Method: method, Path: redact.Text(path, redact.DescriptionLen, secrets...), Status: resp.status, retryAfter: resp.retryAfter,
		tokenPath: isTokenPath(path)}
	e.Messages = parseErrors(resp.body, secrets)
	if len(e.Messages) == 0 && resp.status/100 == 3 {
		e.Description = "redirect to " + redact.Text(resp.location, redact.DescriptionLen, secrets...) + " not followed (use the active node's address)"
	}
	e.Class = classify(e)
	return e
}

// badAnswer is a 2xx answer that lacks what was asked for: transient, as
// a proxy or a Vault mid-upgrade may send it.
func badAnswer(method, path string, status int, what string) *Error {
	return &Error{Method: method, Path: path, Status: status, Description: what, Class: tokenclient.Transient}
}

// maxMessages bounds how many of Vault's errors are kept.
const maxMessages = 8

// parseErrors reads Vault's {"errors": [...]} body into one-line messages.
// Vault renders a multierror as "2 errors occurred:\n\t* permission
// denied\n\t* invalid token\n\n": the header line is dropped and each
// bullet becomes a message of its own. Anything else (not JSON, no
// errors) gives none.
func parseErrors(body []byte, secrets []string) []string {
	var v struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	for _, raw := range v.Errors {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue
		}
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimSpace(line)
			line = strings.TrimSpace(strings.TrimPrefix(line, "* "))
			if line == "" || isMultierrorHeader(line) {
				continue
			}
			// Redact first: a line of control characters only is empty
			// once scrubbed, and an empty message says nothing.
			line = redact.Text(line, redact.DescriptionLen, secrets...)
			if line == "" {
				continue
			}
			if len(out) == maxMessages {
				return out
			}
			out = append(out, line)
		}
	}
	return out
}

// isMultierrorHeader matches go-multierror's "1 error occurred:" and "N
// errors occurred:".
func isMultierrorHeader(line string) bool {
	n, rest, ok := strings.Cut(line, " ")
	if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return false
	}
	return rest == "error occurred:" || rest == "errors occurred:"
}

// classify is the one table of Vault answers:
//
//   - 403 with "invalid token": the Vault token is dead, NeedsLogin;
//   - other 403 (policy), 400, 401, 405, 3xx: Permanent until the request
//     or the configuration changes; but a 400 naming invalid_grant from
//     the secrets engine is NeedsLogin (the stored refresh token is dead);
//   - 404 on a credential path: NeedsLogin (nothing stored yet), else
//     Permanent;
//   - 429 (rate limit), 412 (a performance standby not yet caught up),
//     5xx and anything else: Transient.
func classify(e *Error) Class {
	switch s := e.Status; {
	case s == http.StatusForbidden && e.has("invalid token"):
		return tokenclient.NeedsLogin
	case s == http.StatusBadRequest && e.has("invalid_grant"):
		return tokenclient.NeedsLogin
	case s == http.StatusNotFound && e.onTokenPath():
		return tokenclient.NeedsLogin
	case s == http.StatusTooManyRequests, s == http.StatusPreconditionFailed, s >= 500:
		return tokenclient.Transient
	case s/100 == 4, s/100 == 3:
		return tokenclient.Permanent
	}
	return tokenclient.Transient
}

// Classify returns err's class: an *Error's own, else tokenclient's rules
// (a *tokenclient.PermanentError is Permanent, anything else, network
// failures included, Transient).
func Classify(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return tokenclient.Classify(err)
}

// IsPermanent reports whether retrying cannot help until something
// changes: Classify says Permanent or NeedsLogin.
func IsPermanent(err error) bool { return err != nil && Classify(err) != tokenclient.Transient }

// RetryAfter returns how long Vault asked the client to wait (the
// Retry-After of a 429 or 503), read as tokenclient reads it.
func RetryAfter(err error, now time.Time) (time.Duration, bool) {
	var e *Error
	if !errors.As(err, &e) || e.retryAfter == "" {
		return 0, false
	}
	return tokenclient.ParseRetryAfter(e.retryAfter, now)
}

package oauth2refresh

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// maxRetryAfterLen is longer than any valid Retry-After (an IMF-fixdate is
// 29 bytes); a longer value is dropped when the error is built.
const maxRetryAfterLen = 64

// RetryAfter returns how long the server asked the client to wait, from
// the Retry-After header (RFC 9110 §10.2.3) of the answer behind err: an
// error Refresh returned for a token endpoint answer (429 and 503 usually
// carry one, but any status may), or one DiscoverTokenURL returned for a
// discovery document that was not served. Both forms are read:
// delta-seconds ("120") and an HTTP-date, which is taken relative to now
// (the caller's clock; the server's Date is not consulted).
//
// ok is false when err carries no Retry-After, or one that is not a
// non-negative number of seconds or a date not in the past. The result is
// not capped, except that a number of seconds too large for a
// time.Duration gives the largest one: the caller decides how long it is
// willing to wait.
func RetryAfter(err error, now time.Time) (d time.Duration, ok bool) {
	v := retryAfterHeader(err)
	if v == "" {
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

// retryAfterHeader finds the Retry-After value carried by err.
func retryAfterHeader(err error) string {
	var de *discoveryStatusError
	if errors.As(err, &de) {
		return strings.TrimSpace(de.retryAfter)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.Header != nil {
		return strings.TrimSpace(re.Response.Header.Get("Retry-After"))
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

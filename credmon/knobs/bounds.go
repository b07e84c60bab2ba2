package knobs

import (
	"fmt"
	"time"

	"github.com/credmon/credmon/condorcfg"
)

// Bounds of the daemon's numeric knobs. A value outside them is an error
// naming the knob (the daemon refuses to start, a reload keeps the previous
// configuration): every one of them is a typo, a unit mistake (milliseconds
// written for seconds) or a value that would make the daemon useless, never
// a deliberate setting. The upper bounds also keep every conversion to
// time.Duration (at most 292 years) far from overflowing.
const (
	// maxScanInterval bounds <NAME>_SCAN_INTERVAL: the full pass is what
	// finds files whose events were lost (NFS, an inotify overflow), and
	// credd waits for a new .use until then.
	maxScanInterval = time.Hour
	// maxRequestTimeout bounds <NAME>_HTTP_TIMEOUT and
	// <NAME>_CONNECT_TIMEOUT: a token request still unanswered after 10
	// minutes is a hung issuer, and a stop waits for the requests on the
	// wire up to this long.
	maxRequestTimeout = 10 * time.Minute
	// maxScheduleSpan bounds SEC_CREDENTIAL_REFRESH, <NAME>_REFRESH_MARGIN,
	// <NAME>_MIN_REFRESH_INTERVAL, <NAME>_MIN_BACKOFF and <NAME>_MAX_BACKOFF:
	// a day is longer than any access token an issuer hands out lives.
	maxScheduleSpan = 24 * time.Hour
	// MinRefreshIntervalFloor is the least time between two refreshes of one
	// token. A smaller <NAME>_MIN_REFRESH_INTERVAL (0 in particular) is
	// raised to it with a warning: a token whose lifetime is shorter than
	// SEC_CREDENTIAL_REFRESH + <NAME>_REFRESH_MARGIN can never meet that
	// margin, so it is refreshed at every MIN_REFRESH_INTERVAL, and at 0
	// that is a tight loop (2,993 local mints in 8 s were measured). One
	// second still serves tokens that live a few seconds (test issuers);
	// production keeps the 30 s default.
	MinRefreshIntervalFloor = time.Second
	// minBackoffFloor is the least <NAME>_MIN_BACKOFF; a smaller one is
	// raised to it with a warning. The first retries of a failing issuer
	// come MIN_BACKOFF apart, and a rotated refresh token the daemon could
	// not save is re-sent (rotating the grant again) every MIN_BACKOFF until
	// it is saved: at a millisecond either is a loop against the issuer.
	minBackoffFloor = time.Second
	// maxWorkers bounds <NAME>_WORKERS: more concurrent refreshes than this
	// look like an attack to an identity provider.
	maxWorkers = 1024
	// maxNumLog bounds MAX_NUM_<NAME>_LOG and MAX_NUM_DEFAULT_LOG (HTCondor
	// keeps 1 rotated log by default).
	maxNumLog = 10000
	// maxLocalLifetime bounds LOCAL_CREDMON_[<P>_]TOKEN_LIFETIME (1200 s by
	// default): a bearer token valid for more than a year is a unit mistake,
	// and larger values overflowed into negative or 2086 expiries.
	maxLocalLifetime = 365 * 24 * time.Hour
)

// span is the accepted range of a numeric knob. The comparisons in contains
// are all false for NaN, and the bounds are finite, so NaN and both
// infinities are outside every span: `REFRESH_FRACTION = nan` used to pass a
// check written as "v <= 0 || v >= 1 is an error".
type span[T int64 | float64] struct {
	lo, hi         T
	openLo, openHi bool   // the bound itself is excluded
	unit           string // appended to the bounds in messages (" seconds")
}

func (s span[T]) contains(v T) bool {
	return (v > s.lo || (!s.openLo && v == s.lo)) && (v < s.hi || (!s.openHi && v == s.hi))
}

// check returns nil when v is in s, else an error that names the knob, the
// value and the accepted range.
func (s span[T]) check(knob string, v T) error {
	if s.contains(v) {
		return nil
	}
	lo, hi := "at least", "at most"
	if s.openLo {
		lo = "more than"
	}
	if s.openHi {
		hi = "less than"
	}
	return fmt.Errorf("%s = %v: must be %s %v and %s %v%s", knob, v, lo, s.lo, hi, s.hi, s.unit)
}

// seconds is the span of a knob given in (possibly fractional) seconds.
func seconds(lo, hi time.Duration, openLo bool) span[float64] {
	return span[float64]{lo: lo.Seconds(), hi: hi.Seconds(), openLo: openLo, unit: " seconds"}
}

// knobReader converts and range-checks numeric knobs and collects the
// errors, so that one start reports every bad knob at once. A knob that is
// unreadable or out of range reads as its default, so the result is still
// usable (to open the log that reports the errors).
type knobReader struct {
	c    *condorcfg.Config
	errs []string
}

func (r *knobReader) fail(err error) {
	if err != nil {
		r.errs = append(r.errs, err.Error())
	}
}

// float reads a real-valued knob (param_double).
func (r *knobReader) float(knob string, def float64, s span[float64]) float64 {
	f, err := r.c.Float(knob, def)
	if err == nil {
		err = s.check(knob, f)
	}
	if err != nil {
		r.fail(err)
		return def
	}
	return f
}

// duration reads a knob given in seconds; s's bounds keep the conversion
// from overflowing.
func (r *knobReader) duration(knob string, def time.Duration, s span[float64]) time.Duration {
	return time.Duration(r.float(knob, def.Seconds(), s) * float64(time.Second))
}

// int reads an integer knob (param_integer).
func (r *knobReader) int(knob string, def int64, s span[int64]) int64 {
	n, err := r.c.Int(knob, def)
	if err == nil {
		err = s.check(knob, n)
	}
	if err != nil {
		r.fail(err)
		return def
	}
	return n
}

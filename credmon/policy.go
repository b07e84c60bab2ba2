package credmon

import (
	"regexp"
	"time"

	"github.com/credmon/credmon/internal/refreshpolicy"
)

// Policy is when the daemon refreshes a token: its knobs mapped onto the
// project's one refresh schedule (internal/refreshpolicy, shared with the
// robot renewer). It is pure: RefreshAt takes every input, including the
// time and the random draw, as a parameter.
type Policy struct {
	// Fraction of the lifetime after which a token is refreshed (0.5, or
	// 0.95 for Box like the Python credmon).
	Fraction float64
	// Jitter moves the refresh point earlier (never later) by up to this
	// fraction of the time to it, so tokens issued together do not refresh
	// together.
	Jitter float64
	// Safety is how long before expiry a refresh must have happened at the
	// latest: SEC_CREDENTIAL_REFRESH (a job's copy can be that old) plus a
	// margin. It beats Fraction when the two disagree.
	Safety time.Duration
	// MinInterval is the shortest time between two refreshes of one token
	// by this daemon. Values below MinIntervalFloor count as the floor.
	MinInterval time.Duration
}

// MinIntervalFloor is the shortest MinInterval a Policy applies whatever it
// is given: a refresh schedule must have a floor that no issuer answer,
// clock skew or knob combination can break (the configuration clamps
// MIN_REFRESH_INTERVAL with a warning; this guards library users too).
const MinIntervalFloor = refreshpolicy.MinIntervalFloor

// Floor says why a refresh time was pushed back to the minimum interval
// after the daemon's own last refresh of the token, for a log line.
type Floor = refreshpolicy.Floor

const (
	// FloorNone: the schedule came from the token's lifetime.
	FloorNone = refreshpolicy.FloorNone
	// FloorExpired: the token was already expired (by our clock) when the
	// daemon got it: the issuer handed out an expired token, or the clocks
	// of the issuer and this machine differ by more than its lifetime.
	FloorExpired = refreshpolicy.FloorExpired
	// FloorShortLife: the token lives shorter than Safety plus the minimum
	// interval, so its job-copy deadline lies before the minimum interval.
	FloorShortLife = refreshpolicy.FloorShortLife
	// FloorSkew: the token's own issue time is so far behind this
	// machine's clock that its refresh point had already passed when the
	// daemon got it.
	FloorSkew = refreshpolicy.FloorSkew
)

// Times is what the policy knows of one token version: Issued and Expiry
// bound its lifetime; LastRefresh is when this daemon last refreshed (or
// minted) it from the same inputs, zero when it has not (a .use someone
// else wrote, a new .top).
type Times = refreshpolicy.Times

// RefreshAt returns when a token should be refreshed and, for a token the
// daemon refreshed before, why its lifetime alone would have made that
// sooner than the minimum interval allows (FloorNone when it did not).
// rnd is a uniform draw in [0,1), fixed per token version so that
// re-evaluating a token does not move its refresh point.
//
//	target   = issued + Fraction·L − rnd·Jitter·Fraction·L      (L = expiry − issued)
//	deadline = expiry − Safety                                  (the job's copy must stay valid)
//	at       = min(target, deadline), floored at issued + MinInterval
//	at       = now, if the token has expired (refresh at once)
//	at       = max(at, lastRefresh + MinInterval)                (never a loop)
//
// The last line is the floor that holds whatever the inputs: it is counted
// from the daemon's own last refresh, not from anything an issuer or a file
// says. A token the daemon has not refreshed yet (LastRefresh zero) that
// is already expired is refreshed at once, as the Python credmon does; one
// whose refresh point has passed gets that past time (overdue: at once).
func (p Policy) RefreshAt(t Times, now time.Time, rnd float64) (time.Time, Floor) {
	return refreshpolicy.Policy{
		Fraction:    p.Fraction,
		Jitter:      p.Jitter,
		Margin:      p.Safety,
		MinInterval: p.MinInterval,
	}.RefreshAt(t, now, rnd)
}

// boxTokenURL is the Python credmon's test for Box (api_endpoints.py:
// re.match("https://.*\.box\.com", token_url), anchored at the start only).
var boxTokenURL = regexp.MustCompile(`^https://.*\.box\.com`)

// fractionFor returns the refresh fraction for a token URL: Box tokens are
// refreshed at 0.95 of their lifetime, others at def.
func fractionFor(tokenURL string, def float64) float64 {
	if boxTokenURL.MatchString(tokenURL) {
		return 0.95
	}
	return def
}

// Backoff returns how long to wait after the n-th consecutive transient
// failure (n >= 1): min·2^(n−1), capped at max, lengthened by up to a
// quarter from rnd so that tokens failing together retry apart, and
// capped at max again; never sooner than the doubling, never past max
// (refreshpolicy.Backoff).
func Backoff(n int, min, max time.Duration, rnd float64) time.Duration {
	return refreshpolicy.Backoff(n, min, max, rnd)
}

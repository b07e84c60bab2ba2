package credmon

import (
	"regexp"
	"time"
)

// Policy is when to refresh a token. It is pure: RefreshAt takes every
// input, including the random draw, as a parameter.
type Policy struct {
	// Fraction of the lifetime after which a token is refreshed (0.5, or
	// 0.95 for Box like the Python credmon).
	Fraction float64
	// Jitter moves the refresh point earlier by up to this fraction of the
	// time to it, so tokens issued together do not refresh together.
	Jitter float64
	// Safety is how long before expiry a refresh must have happened at the
	// latest: SEC_CREDENTIAL_REFRESH (a job's copy can be that old) plus a
	// margin. It beats Fraction when the two disagree.
	Safety time.Duration
	// MinInterval keeps a token whose whole lifetime is shorter than
	// Safety from being refreshed in a tight loop.
	MinInterval time.Duration
}

// RefreshAt returns when a token issued at issued and expiring at expiry
// should be refreshed. rnd is a uniform draw in [0,1), fixed per token
// version so that re-evaluating a token does not move its refresh point.
//
//	target   = issued + Fraction·L − rnd·Jitter·Fraction·L      (L = expiry − issued)
//	deadline = expiry − Safety                                  (the job's copy must stay valid)
//	at       = max(min(target, deadline), issued + MinInterval)
func (p Policy) RefreshAt(issued, expiry time.Time, rnd float64) time.Time {
	life := expiry.Sub(issued)
	if life <= 0 {
		return issued
	}
	toTarget := time.Duration(float64(life) * p.Fraction)
	toTarget -= time.Duration(float64(toTarget) * p.Jitter * rnd)
	at := issued.Add(toTarget)
	if deadline := expiry.Add(-p.Safety); deadline.Before(at) {
		at = deadline
	}
	if floor := issued.Add(p.MinInterval); at.Before(floor) {
		at = floor
	}
	return at
}

// boxTokenURL is the Python credmon's test for Box (api_endpoints.py:
// re.match("https://.*\.box\.com", token_url), anchored at the start only).
var boxTokenURL = regexp.MustCompile(`^https://.*\.box\.com`)

// FractionFor returns the refresh fraction for a token URL: Box tokens are
// refreshed at 0.95 of their lifetime, others at def.
func FractionFor(tokenURL string, def float64) float64 {
	if boxTokenURL.MatchString(tokenURL) {
		return 0.95
	}
	return def
}

// Backoff returns how long to wait after the n-th consecutive transient
// failure (n >= 1): min·2^(n−1), capped at max, then scaled by a factor in
// [0.75, 1) from rnd so that tokens failing together retry apart (the
// envelope Vault agent tests for).
func Backoff(n int, min, max time.Duration, rnd float64) time.Duration {
	if n < 1 {
		n = 1
	}
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d - time.Duration(float64(d)*0.25*rnd)
}

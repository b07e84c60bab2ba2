package refreshpolicy

import "time"

// MinIntervalFloor is the shortest minimum interval, and the shortest
// backoff, this package applies whatever it is given: a schedule must have
// a floor that no issuer answer, clock skew or knob combination can break.
// Callers clamp their own knobs with a warning; this guards library users
// too.
const MinIntervalFloor = time.Second

// backoffJitter is how much longer than its doubling a backoff may be, as
// a fraction of it: Vault agent's envelope is a quarter wide too.
const backoffJitter = 0.25

// Policy holds the knobs of RefreshAt.
type Policy struct {
	// Fraction of the lifetime after which a token is refreshed, in
	// [0, 1]; values outside count as the nearest bound.
	Fraction float64
	// Jitter moves the refresh point earlier by up to this fraction of the
	// time from issue to it, in [0, 1] (clamped like Fraction).
	Jitter float64
	// Margin is how long before expiry a refresh must have happened at the
	// latest. It beats Fraction when the two disagree. Negative counts as
	// zero.
	Margin time.Duration
	// MinInterval is the shortest time between two refreshes of one token
	// by the caller. Values below MinIntervalFloor count as the floor.
	MinInterval time.Duration
}

// Floor says why a refresh time was pushed back to the minimum interval,
// for a log line.
type Floor int

const (
	// FloorNone: the schedule came from the token's lifetime.
	FloorNone Floor = iota
	// FloorExpired: the token was already expired (by our clock) when the
	// caller got it, or its expiry is not after its issue time: the issuer
	// handed out an expired token, or the clocks of the issuer and this
	// machine differ by more than its lifetime.
	FloorExpired
	// FloorShortLife: the token lives shorter than Margin plus the minimum
	// interval, so its deadline lies before the minimum interval after its
	// issue.
	FloorShortLife
	// FloorSkew: the token's refresh point had already passed when the
	// caller got it, e.g. its issue time is far behind this machine's
	// clock.
	FloorSkew
)

// Times is what the policy knows of one token version.
type Times struct {
	// Issued and Expiry bound the token's lifetime (Expiry > Issued unless
	// the issuer or a clock lies). A zero Issued means unknown: the
	// lifetime is counted from now.
	Issued, Expiry time.Time
	// LastRefresh is when the caller last refreshed (or minted) the token;
	// zero when it has not, e.g. for a token file someone else wrote.
	LastRefresh time.Time
}

// RefreshAt returns when a token should be refreshed and, for a token the
// caller refreshed before (LastRefresh set), why the minimum interval
// rather than the token's lifetime set that time (FloorNone when it did
// not, and always for a token the caller has not refreshed: there is no
// refresh loop to explain). rnd is a uniform draw in [0,1) (values outside [0,1]
// count as the nearest bound), which callers may fix per token version so
// that re-evaluating a token does not move its refresh point.
//
//	target   = issued + Fraction·L − rnd·Jitter·Fraction·L   (L = expiry − issued)
//	deadline = expiry − Margin
//	at       = min(target, deadline), floored at issued + MinInterval
//	at       = now, if the token has expired (refresh at once)
//	at       = max(at, lastRefresh + MinInterval)             (never a loop)
//
// The last line is the floor that holds whatever the inputs: it is counted
// from the caller's own last refresh, not from anything an issuer or a
// file says. Jitter only moves the target earlier, so with no floor
// applied the result is never after expiry − Margin.
//
// The result is before now only for a token that is still valid, that the
// caller has not refreshed within MinInterval, and whose refresh point has
// passed (FloorNone): it is overdue, to be refreshed at once. That time is
// returned as computed, not raised to now, so re-evaluating the token
// gives the same answer and overdue tokens order by how overdue they are.
func (p Policy) RefreshAt(t Times, now time.Time, rnd float64) (time.Time, Floor) {
	minInterval := max(p.MinInterval, MinIntervalFloor)
	issued := t.Issued
	if issued.IsZero() {
		issued = now
	}
	var at time.Time
	why := FloorNone
	if !t.Expiry.After(now) || !t.Expiry.After(issued) {
		at, why = now, FloorExpired
	} else {
		toTarget := scale(t.Expiry.Sub(issued), unit(p.Fraction))
		toTarget -= scale(toTarget, unit(p.Jitter)*unit(rnd))
		at = issued.Add(toTarget)
		if deadline := t.Expiry.Add(-max(p.Margin, 0)); deadline.Before(at) {
			at = deadline
		}
		if floor := issued.Add(minInterval); at.Before(floor) {
			at, why = floor, FloorShortLife
		}
	}
	if t.LastRefresh.IsZero() {
		return at, FloorNone
	}
	floor := t.LastRefresh.Add(minInterval)
	if !at.Before(floor) {
		if why == FloorShortLife {
			return at, why // the issue-time floor bound
		}
		return at, FloorNone
	}
	if why == FloorNone {
		why = FloorSkew
	}
	return floor, why
}

// Backoff returns how long to wait after the n-th consecutive failure
// (n >= 1; less counts as 1): lo·2^(n−1), capped at hi, then lengthened by
// up to a quarter of that from rnd (uniform in [0,1), clamped like
// RefreshAt's) and capped at hi again, so that tokens failing together
// retry apart. lo below MinIntervalFloor counts as the floor, and hi below
// lo as lo: the result always lies in [lo, hi].
func Backoff(n int, lo, hi time.Duration, rnd float64) time.Duration {
	lo = max(lo, MinIntervalFloor)
	hi = max(hi, lo)
	d := lo
	for i := 1; i < n && d < hi; i++ {
		if d > hi/2 {
			d = hi // doubling would pass the cap (or overflow)
			break
		}
		d *= 2
	}
	if extra := scale(d, backoffJitter*unit(rnd)); extra < hi-d {
		return d + extra
	}
	return hi
}

// unit clamps x to [0, 1]; NaN counts as 0.
func unit(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, 1)
}

// scale returns d·f, at most d, for d >= 0 and f in [0, 1], without the
// float conversion overflowing for the longest durations.
func scale(d time.Duration, f float64) time.Duration {
	x := float64(d) * f
	if x >= float64(d) {
		return d
	}
	return min(time.Duration(x), d)
}

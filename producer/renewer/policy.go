package renewer

import "time"

// Schedule defaults for Watch. Each is a starting point; the comments give
// the reason for the number.
const (
	// DefaultRenewRatio renews a token when this fraction of its lifetime
	// has passed: half, as the Python credmon and SPIRE do, so one failed
	// attempt still leaves half the lifetime to retry in.
	DefaultRenewRatio = 0.5
	// DefaultJitter spreads the renewal point by ±10% of the ratio (SPIRE's
	// jittered half-life), so tokens issued together are not renewed in
	// lock-step against the issuer.
	DefaultJitter = 0.10
	// DefaultMargin is added to min_lifetime for the latest renewal point
	// (capped at a tenth of the lifetime for short tokens): time for the
	// renewal itself and for clock skew between us and the consumer.
	DefaultMargin = 60 * time.Second
	// DefaultMinInterval is the shortest wait between two renewals of a
	// token, whatever the token says, so a token that is born expired or
	// a min_lifetime longer than the lifetime can never make a busy loop.
	DefaultMinInterval = 10 * time.Second
	// DefaultUnknownExpiryInterval is the renewal interval of tokens whose
	// expiry cannot be known (opaque, without expires_in): osg-token-
	// renewer's timer period (OnUnitActiveSec=10min).
	DefaultUnknownExpiryInterval = 10 * time.Minute
	// DefaultBackoffMin and DefaultBackoffMax bound the retry delay after
	// failures: capped exponential, doubling from 10 s to 5 min (Vault's
	// lifetime watcher MaxInterval). Permanent failures (re-authorisation
	// needed, rejected client) wait the maximum: only a person can fix
	// them, and a config reload or a changed account file is noticed then.
	DefaultBackoffMin = 10 * time.Second
	DefaultBackoffMax = 5 * time.Minute
)

// schedulePolicy holds the knobs of nextRenewal.
type schedulePolicy struct {
	Ratio       float64
	Jitter      float64
	Margin      time.Duration
	MinInterval time.Duration
}

// nextRenewal returns when a token issued at issued and expiring at expiry
// should be renewed, seen at now: at Ratio of its lifetime (jittered by
// ±Jitter with u uniform in [0,1)), but no later than when min_lifetime
// plus the margin remains, and no sooner than now+MinInterval. A zero
// issued time means unknown: the lifetime is counted from now. A
// min_lifetime that the lifetime cannot satisfy is ignored (renewing
// earlier could not help). A zero expiry means unknown:
// DefaultUnknownExpiryInterval.
func nextRenewal(p schedulePolicy, issued, expiry, now time.Time, minLifetime time.Duration, u float64) time.Time {
	floor := now.Add(p.MinInterval)
	if expiry.IsZero() {
		return later(now.Add(DefaultUnknownExpiryInterval), floor)
	}
	if issued.IsZero() || !issued.Before(expiry) {
		issued = now
	}
	life := expiry.Sub(issued)
	if life <= 0 {
		return floor
	}
	f := p.Ratio * (1 + p.Jitter*(2*u-1))
	at := issued.Add(time.Duration(float64(life) * f))
	margin := min(p.Margin, life/10)
	if latest := expiry.Add(-minLifetime - margin); latest.After(issued) && latest.Before(at) {
		at = latest
	}
	return later(at, floor)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// backoffDelay is the wait before retry number failures (1 = after the
// first failure): min·2^(failures−1) capped at max, then jittered down to
// 75–100% (u uniform in [0,1)) so that failing tokens spread out.
// Permanent failures wait max.
func backoffDelay(failures int, permanent bool, lo, hi time.Duration, u float64) time.Duration {
	d := hi
	if !permanent {
		d = lo
		for i := 1; i < failures && d < hi; i++ {
			d *= 2
		}
		d = min(d, hi)
	}
	return time.Duration(float64(d) * (0.75 + 0.25*u))
}

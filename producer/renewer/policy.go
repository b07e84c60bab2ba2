package renewer

import (
	"math"
	"time"

	"github.com/credmon/credmon/internal/refreshpolicy"
)

// Schedule defaults for Watch. Each is a starting point; the comments give
// the reason for the number.
const (
	// defaultRenewRatio renews a token when this fraction of its lifetime
	// has passed: half, as the Python credmon and SPIRE do, so one failed
	// attempt still leaves half the lifetime to retry in.
	defaultRenewRatio = 0.5
	// defaultJitter moves the renewal point earlier by up to 10% of the
	// time to it, so tokens issued together are not renewed in lock-step
	// against the issuer. Only earlier: a token is never renewed later
	// than the ratio or min_lifetime plus the margin say (the shared
	// policy's rule, internal/refreshpolicy).
	defaultJitter = 0.10
	// defaultMargin is added to min_lifetime for the latest renewal point
	// (capped at a tenth of the lifetime for short tokens): time for the
	// renewal itself and for clock skew between us and the consumer.
	defaultMargin = 60 * time.Second
	// defaultMinInterval is the shortest wait between two renewals of a
	// token, whatever the token says, so a token that is born expired or
	// a min_lifetime longer than the lifetime can never make a busy loop.
	// A minInterval below refreshpolicy.MinIntervalFloor (1 s) counts as
	// that floor.
	defaultMinInterval = 10 * time.Second
	// defaultUnknownExpiryInterval is the renewal interval of tokens whose
	// expiry cannot be known (opaque, without expires_in): osg-token-
	// renewer's timer period (OnUnitActiveSec=10min).
	defaultUnknownExpiryInterval = 10 * time.Minute
	// defaultBackoffMin and defaultBackoffMax bound the retry delay after
	// failures: capped exponential, doubling from 10 s to 5 min (Vault's
	// lifetime watcher MaxInterval). Permanent failures (re-authorisation
	// needed, rejected client) wait the maximum: only a person can fix
	// them, and a config reload or a changed account file is noticed then.
	// A backoffMin below refreshpolicy.MinIntervalFloor (1 s) counts as
	// that floor.
	defaultBackoffMin = 10 * time.Second
	defaultBackoffMax = 5 * time.Minute
)

// schedulePolicy holds the knobs of nextRenewal.
type schedulePolicy struct {
	ratio       float64
	jitter      float64
	margin      time.Duration
	minInterval time.Duration
}

// nextRenewal returns when a token issued at issued and expiring at expiry
// should be renewed, seen at now right after renewing it (or reading it
// at start): the shared refresh policy (internal/refreshpolicy) at ratio
// of its lifetime, moved earlier by up to jitter with u uniform in [0,1),
// but no later than when min_lifetime plus the margin remains, never
// sooner than issued+minInterval, and never sooner than now+minInterval
// (now counts as the last renewal). A token already expired is renewed at
// now+minInterval. The margin is capped at a tenth of the lifetime for
// short tokens. A min_lifetime that the lifetime cannot satisfy is ignored
// (renewing earlier could not help). A zero issued time means unknown: the
// lifetime is counted from now. A zero expiry means unknown:
// defaultUnknownExpiryInterval.
func nextRenewal(p schedulePolicy, issued, expiry, now time.Time, minLifetime time.Duration, u float64) time.Time {
	if expiry.IsZero() {
		return now.Add(max(defaultUnknownExpiryInterval, p.minInterval, refreshpolicy.MinIntervalFloor))
	}
	if issued.IsZero() {
		issued = now
	}
	var margin time.Duration
	if life := expiry.Sub(issued); life > 0 {
		margin = min(p.margin, life/10)
		if minLifetime < life-margin { // (minLifetime+margin could overflow)
			margin += minLifetime
		}
	}
	at, _ := refreshpolicy.Policy{
		Fraction:    p.ratio,
		Jitter:      p.jitter,
		Margin:      margin,
		MinInterval: p.minInterval,
	}.RefreshAt(refreshpolicy.Times{Issued: issued, Expiry: expiry, LastRefresh: now}, now, u)
	return at
}

// backoffDelay is the wait before retry number failures (1 = after the
// first failure): the shared policy's backoff (internal/refreshpolicy),
// min·2^(failures−1) capped at max and lengthened by up to a quarter
// (u uniform in [0,1)) so that failing tokens spread out, never past max.
// Permanent failures wait max.
func backoffDelay(failures int, permanent bool, lo, hi time.Duration, u float64) time.Duration {
	if permanent {
		failures = math.MaxInt
	}
	return refreshpolicy.Backoff(failures, lo, hi, u)
}

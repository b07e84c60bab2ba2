package refreshpolicy_test

import (
	"math"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/refreshpolicy"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// pol is the daemon's default shape: half-life, 10% jitter, a 6-minute
// margin (SEC_CREDENTIAL_REFRESH + REFRESH_MARGIN), 30 s minimum interval.
var pol = refreshpolicy.Policy{Fraction: 0.5, Jitter: 0.1, Margin: 6 * time.Minute, MinInterval: 30 * time.Second}

// TestRefreshAtSchedulesEachKindOfToken pins the schedule for each kind of
// token the daemon and the renewer meet, and checks that every healthy
// token's refresh lies in [now, expiry − margin]: never before it can be
// useful, never so late that a job's copy (or a consumer's min_lifetime)
// runs out.
func TestRefreshAtSchedulesEachKindOfToken(t *testing.T) {
	last := now.Add(-2 * time.Second)
	for _, tt := range []struct {
		name    string
		p       refreshpolicy.Policy
		t       refreshpolicy.Times
		rnd     float64
		want    time.Time
		why     refreshpolicy.Floor
		healthy bool // the result must lie in [now, expiry − margin]
	}{
		{"normal token, jitter draw 0: the fraction exactly", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0, now.Add(30 * time.Minute), refreshpolicy.FloorNone, true},
		{"normal token, jitter draw 1: the full jitter earlier", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 1, now.Add(27 * time.Minute), refreshpolicy.FloorNone, true},
		{"normal token, draw 0.5: half the jitter, never later", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0.5, now.Add(28*time.Minute + 30*time.Second), refreshpolicy.FloorNone, true},
		{"draw below 0 counts as 0", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, -3, now.Add(30 * time.Minute), refreshpolicy.FloorNone, true},
		{"draw above 1 counts as 1", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 7, now.Add(27 * time.Minute), refreshpolicy.FloorNone, true},
		{"NaN draw counts as 0", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, math.NaN(), now.Add(30 * time.Minute), refreshpolicy.FloorNone, true},
		{"normal token refreshed by us just now", pol,
			refreshpolicy.Times{Issued: last, Expiry: last.Add(time.Hour), LastRefresh: last}, 0, last.Add(30 * time.Minute), refreshpolicy.FloorNone, true},
		{"margin beats the fraction", refreshpolicy.Policy{Fraction: 0.95, Margin: 6 * time.Minute, MinInterval: 30 * time.Second},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0, now.Add(54 * time.Minute), refreshpolicy.FloorNone, true},
		{"exactly at the margin", refreshpolicy.Policy{Fraction: 0.9, Margin: 6 * time.Minute},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0, now.Add(54 * time.Minute), refreshpolicy.FloorNone, true},
		{"one ns past the margin is capped", refreshpolicy.Policy{Fraction: 0.9, Margin: 6*time.Minute + 1},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0, now.Add(54*time.Minute - 1), refreshpolicy.FloorNone, true},
		{"short lifetime: margin leaves room, it binds", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(10 * time.Minute)}, 0, now.Add(4 * time.Minute), refreshpolicy.FloorNone, true},
		{"short lifetime: shorter than the margin, floored after issue (no reason: not refreshed by us)", pol,
			refreshpolicy.Times{Issued: now, Expiry: now.Add(5 * time.Minute)}, 0, now.Add(30 * time.Second), refreshpolicy.FloorNone, false},
		{"short lifetime refreshed by us: the same floor", pol,
			refreshpolicy.Times{Issued: last, Expiry: last.Add(5 * time.Minute), LastRefresh: last}, 0, last.Add(30 * time.Second), refreshpolicy.FloorShortLife, false},
		{"expired on arrival, not refreshed by us: at once", pol,
			refreshpolicy.Times{Issued: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour)}, 0, now, refreshpolicy.FloorNone, false},
		{"expires exactly now: at once", pol,
			refreshpolicy.Times{Issued: now.Add(-time.Hour), Expiry: now}, 0, now, refreshpolicy.FloorNone, false},
		{"expired on arrival right after our refresh: floored", pol,
			refreshpolicy.Times{Issued: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour), LastRefresh: last}, 0, last.Add(30 * time.Second), refreshpolicy.FloorExpired, false},
		{"expired long after our last refresh: at once", pol,
			refreshpolicy.Times{Issued: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour), LastRefresh: now.Add(-2 * time.Hour)}, 0, now, refreshpolicy.FloorNone, false},
		{"expiry before issue is expired", pol,
			refreshpolicy.Times{Issued: now.Add(time.Hour), Expiry: now.Add(time.Minute), LastRefresh: last}, 0, last.Add(30 * time.Second), refreshpolicy.FloorExpired, false},
		{"clock skew: issued in the future, lifetime counted from it", pol,
			refreshpolicy.Times{Issued: now.Add(10 * time.Minute), Expiry: now.Add(70 * time.Minute), LastRefresh: now}, 0, now.Add(40 * time.Minute), refreshpolicy.FloorNone, true},
		{"clock skew: issued far behind our clock, refresh point passed", pol,
			refreshpolicy.Times{Issued: now.Add(-50 * time.Minute), Expiry: now.Add(10 * time.Minute), LastRefresh: last}, 0, last.Add(30 * time.Second), refreshpolicy.FloorSkew, false},
		{"issued far behind our clock, not refreshed by us: overdue, kept in the past", pol,
			refreshpolicy.Times{Issued: now.Add(-50 * time.Minute), Expiry: now.Add(10 * time.Minute)}, 0, now.Add(-20 * time.Minute), refreshpolicy.FloorNone, false},
		{"issued behind our clock, refresh point still ahead", pol,
			refreshpolicy.Times{Issued: now.Add(-50 * time.Minute), Expiry: now.Add(10 * time.Hour), LastRefresh: last}, 0, now.Add(-50 * time.Minute).Add(5*time.Hour + 25*time.Minute), refreshpolicy.FloorNone, true},
		{"unknown issue time: lifetime counted from now", pol,
			refreshpolicy.Times{Expiry: now.Add(time.Hour)}, 0, now.Add(30 * time.Minute), refreshpolicy.FloorNone, true},
		{"min-interval floor: 0 counts as MinIntervalFloor", refreshpolicy.Policy{Fraction: 0.5, Margin: 6 * time.Minute},
			refreshpolicy.Times{Issued: last, Expiry: last.Add(5 * time.Minute), LastRefresh: last}, 0, last.Add(refreshpolicy.MinIntervalFloor), refreshpolicy.FloorShortLife, false},
		{"min-interval floor binds exactly at the fraction", refreshpolicy.Policy{Fraction: 0.5, MinInterval: 10 * time.Second},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(20 * time.Second), LastRefresh: now}, 0, now.Add(10 * time.Second), refreshpolicy.FloorNone, true},
		{"min-interval floor: 1 ns short of it", refreshpolicy.Policy{Fraction: 0.5, MinInterval: 10 * time.Second},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(20*time.Second - 2), LastRefresh: now}, 0, now.Add(10 * time.Second), refreshpolicy.FloorShortLife, false},
		{"negative margin counts as 0", refreshpolicy.Policy{Fraction: 1, Margin: -time.Hour},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0, now.Add(time.Hour), refreshpolicy.FloorNone, true},
		{"fraction above 1 counts as 1, margin still binds", refreshpolicy.Policy{Fraction: 3, Margin: time.Minute},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour)}, 0, now.Add(59 * time.Minute), refreshpolicy.FloorNone, true},
		{"jitter above 1 counts as 1: never before issue", refreshpolicy.Policy{Fraction: 0.5, Jitter: 5, MinInterval: time.Second},
			refreshpolicy.Times{Issued: now, Expiry: now.Add(time.Hour), LastRefresh: now}, 1, now.Add(time.Second), refreshpolicy.FloorShortLife, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at, why := tt.p.RefreshAt(tt.t, now, tt.rnd)
			if !at.Equal(tt.want) || why != tt.why {
				t.Errorf("RefreshAt = now%+v, %v; want now%+v, %v", at.Sub(now), why, tt.want.Sub(now), tt.why)
			}
			if tt.healthy {
				if latest := tt.t.Expiry.Add(-max(tt.p.Margin, 0)); at.Before(now) || at.After(latest) {
					t.Errorf("RefreshAt = now%+v; want within [now, expiry − margin = now%+v]", at.Sub(now), latest.Sub(now))
				}
			}
			if !tt.t.LastRefresh.IsZero() && at.Before(tt.t.LastRefresh.Add(max(tt.p.MinInterval, refreshpolicy.MinIntervalFloor))) {
				t.Errorf("RefreshAt = now%+v is inside the minimum interval after the last refresh", at.Sub(now))
			}
		})
	}
}

// TestBackoffDoublesToTheCapWithinBounds pins the retry delays: doubling
// from lo, capped at hi, jitter only lengthening, never past hi, and the
// floors that keep a zero or inverted knob from making a retry loop.
func TestBackoffDoublesToTheCapWithinBounds(t *testing.T) {
	lo, hi := 10*time.Second, 5*time.Minute
	for _, tt := range []struct {
		name   string
		n      int
		lo, hi time.Duration
		rnd    float64
		want   time.Duration
	}{
		{"first, draw 0", 1, lo, hi, 0, 10 * time.Second},
		{"first, draw 1: a quarter longer", 1, lo, hi, 1, 12500 * time.Millisecond},
		{"n 0 counts as 1", 0, lo, hi, 0, 10 * time.Second},
		{"negative n counts as 1", -5, lo, hi, 0, 10 * time.Second},
		{"second doubles", 2, lo, hi, 0, 20 * time.Second},
		{"third doubles again", 3, lo, hi, 0, 40 * time.Second},
		{"fifth", 5, lo, hi, 0, 160 * time.Second},
		{"fifth, draw 1", 5, lo, hi, 1, 200 * time.Second},
		{"sixth is capped", 6, lo, hi, 0, 5 * time.Minute},
		{"jitter never passes the cap", 6, lo, hi, 1, 5 * time.Minute},
		{"below the cap, jitter is cut at it", 5, lo, 3 * time.Minute, 1, 3 * time.Minute},
		{"far out stays at the cap", 1000, lo, hi, 0.5, 5 * time.Minute},
		{"MaxInt failures", math.MaxInt, lo, hi, 0.5, 5 * time.Minute},
		{"NaN draw counts as 0", 2, lo, hi, math.NaN(), 20 * time.Second},
		{"zero lo counts as MinIntervalFloor", 1, 0, hi, 0, refreshpolicy.MinIntervalFloor},
		{"hi below lo counts as lo", 3, lo, time.Second, 1, lo},
		{"longest hi does not overflow", 100, time.Second, math.MaxInt64, 1, math.MaxInt64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := refreshpolicy.Backoff(tt.n, tt.lo, tt.hi, tt.rnd)
			if got != tt.want {
				t.Errorf("Backoff(%d, %v, %v, %v) = %v; want %v", tt.n, tt.lo, tt.hi, tt.rnd, got, tt.want)
			}
		})
	}
}

// FuzzRefreshAt checks RefreshAt's invariants for any token and knobs:
// never inside the minimum interval after the caller's last refresh;
// before now only for an overdue token (valid, no floor applied); for a
// valid token never after expiry − margin (so never after expiry) unless
// a minimum-interval floor set the time,
// and never before issue + MinInterval; jitter only ever earlier.
func FuzzRefreshAt(f *testing.F) {
	h, s := int64(time.Hour), int64(time.Second)
	f.Add(int64(0), h, int64(0), false, 0.5, 0.1, 360*s, 30*s, 0.3)
	f.Add(-2*h, -h, -2*s, true, 0.5, 0.1, 360*s, 30*s, 0.0)
	f.Add(10*60*s, 70*60*s, int64(0), true, 0.95, 0.5, 60*s, 0*s, 0.999)
	f.Add(-50*60*s, 10*60*s, -2*s, true, 0.5, 0.1, 360*s, 30*s, 1.0)
	f.Add(int64(0), 5*60*s, int64(0), true, 0.5, 0.1, 360*s, -s, 0.5)
	f.Add(int64(math.MinInt64), int64(math.MaxInt64), int64(math.MaxInt64), true, math.NaN(), math.Inf(1), int64(math.MinInt64), int64(math.MaxInt64), -1.0)
	f.Fuzz(func(t *testing.T, issuedOff, expiryOff, lastOff int64, hasLast bool, fraction, jitter float64, margin, minInterval int64, rnd float64) {
		// Token dates within a century of now: the time package's own
		// range, not the policy, limits the rest.
		const span = int64(100 * 365 * 24 * time.Hour)
		issuedOff, expiryOff, lastOff = issuedOff%span, expiryOff%span, lastOff%span
		p := refreshpolicy.Policy{Fraction: fraction, Jitter: jitter, Margin: time.Duration(margin), MinInterval: time.Duration(minInterval)}
		tm := refreshpolicy.Times{Issued: now.Add(time.Duration(issuedOff)), Expiry: now.Add(time.Duration(expiryOff))}
		if hasLast {
			tm.LastRefresh = now.Add(time.Duration(lastOff))
		}
		at, why := p.RefreshAt(tm, now, rnd)
		minIv := max(p.MinInterval, refreshpolicy.MinIntervalFloor)
		valid := tm.Expiry.After(now) && tm.Expiry.After(tm.Issued)
		if hasLast && at.Before(tm.LastRefresh.Add(minIv)) {
			t.Fatalf("at now%+v is inside the minimum interval after the last refresh now%+v", at.Sub(now), tm.LastRefresh.Sub(now))
		}
		if at.Before(now) && (!valid || why != refreshpolicy.FloorNone) {
			t.Fatalf("at now%+v (%v) is before now for a token that is not simply overdue (valid %v)", at.Sub(now), why, valid)
		}
		if !valid {
			if at.Before(now) {
				t.Fatalf("expired token: at now%+v; want now or a floor after it", at.Sub(now))
			}
			return
		}
		if at.Before(tm.Issued.Add(minIv)) {
			t.Fatalf("at now%+v is before issue + MinInterval (now%+v)", at.Sub(now), tm.Issued.Add(minIv).Sub(now))
		}
		// Past expiry − margin only when a floor set the time (reported
		// only for a token the caller refreshed).
		floored := at.Equal(tm.Issued.Add(minIv)) || hasLast && at.Equal(tm.LastRefresh.Add(minIv))
		if at.After(tm.Expiry.Add(-max(p.Margin, 0))) && (!floored || hasLast && why == refreshpolicy.FloorNone) {
			t.Fatalf("at now%+v (%v) is after expiry − margin with no floor applied", at.Sub(now), why)
		}
		if why == refreshpolicy.FloorExpired {
			t.Fatalf("valid token reported as expired")
		}
		if at0, _ := p.RefreshAt(tm, now, 0); at.After(at0) {
			t.Fatalf("draw %v moved the refresh later: now%+v after now%+v", rnd, at.Sub(now), at0.Sub(now))
		}
	})
}

// FuzzBackoff checks that every backoff lies in [lo, hi] (after the
// floors: lo at least MinIntervalFloor, hi at least lo) and never shrinks
// as failures go on, whatever the knobs, the count and the draw.
func FuzzBackoff(f *testing.F) {
	s := int64(time.Second)
	f.Add(1, 10*s, 300*s, 0.5)
	f.Add(0, int64(0), int64(0), 1.0)
	f.Add(64, s, int64(math.MaxInt64), 0.999)
	f.Add(math.MaxInt, int64(math.MinInt64), -s, math.NaN())
	f.Fuzz(func(t *testing.T, n int, lo, hi int64, rnd float64) {
		d := refreshpolicy.Backoff(n, time.Duration(lo), time.Duration(hi), rnd)
		wantLo := max(time.Duration(lo), refreshpolicy.MinIntervalFloor)
		wantHi := max(time.Duration(hi), wantLo)
		if d < wantLo || d > wantHi {
			t.Fatalf("Backoff(%d, %v, %v, %v) = %v; want within [%v, %v]", n, lo, hi, rnd, d, wantLo, wantHi)
		}
		if n < math.MaxInt {
			// The next failure's delay before jitter is at least this
			// one's: compare the draws' lower edges.
			if a, b := refreshpolicy.Backoff(n, time.Duration(lo), time.Duration(hi), 0), refreshpolicy.Backoff(n+1, time.Duration(lo), time.Duration(hi), 0); b < a {
				t.Fatalf("Backoff(%d) = %v; Backoff(%d) = %v: it shrank", n, a, n+1, b)
			}
		}
	})
}

package credmon

import (
	"testing"
	"time"
)

func TestRefreshAt(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	p := Policy{Fraction: 0.5, Jitter: 0.1, Safety: 360 * time.Second, MinInterval: 30 * time.Second}
	tests := []struct {
		name   string
		p      Policy
		life   time.Duration
		rnd    float64
		wantAt time.Duration // after issue
	}{
		{"half life, no jitter draw", p, time.Hour, 0, 30 * time.Minute},
		{"jitter moves earlier only", p, time.Hour, 0.999999, 30*time.Minute - time.Duration(float64(30*time.Minute)*0.1*0.999999)},
		{"box fraction capped by safety", Policy{Fraction: 0.95, Safety: 360 * time.Second, MinInterval: 30 * time.Second}, time.Hour, 0, time.Hour - 360*time.Second},
		{"exactly at the safety boundary", Policy{Fraction: 0.9, Safety: 360 * time.Second}, time.Hour, 0, 54 * time.Minute},
		{"one ns past the boundary is capped", Policy{Fraction: 0.9, Safety: 360*time.Second + 1}, time.Hour, 0, 54*time.Minute - 1},
		{"short token: min interval floor", p, 5 * time.Minute, 0, 30 * time.Second},
		{"local default 1200s lifetime", p, 1200 * time.Second, 0, 600 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, _ := tt.p.RefreshAt(Times{Issued: t0, Expiry: t0.Add(tt.life)}, t0, tt.rnd)
			got := at.Sub(t0)
			if got != tt.wantAt {
				t.Errorf("RefreshAt = issued+%v; want issued+%v", got, tt.wantAt)
			}
		})
	}
	if got, _ := p.RefreshAt(Times{Issued: t0, Expiry: t0}, t0.Add(time.Hour), 0.5); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("zero lifetime: RefreshAt = %v; want now (refresh at once)", got)
	}
}

// TestRefreshKeepsJobCopyValid checks the invariant behind Safety: for any
// lifetime comfortably above the margin, a job copy fetched just before our
// refresh, kept for SEC_CREDENTIAL_REFRESH, is still valid.
func TestRefreshKeepsJobCopyValid(t *testing.T) {
	const secRefresh = 300 * time.Second
	p := Policy{Fraction: 0.95, Jitter: 0.1, Safety: secRefresh + 60*time.Second, MinInterval: 30 * time.Second}
	t0 := time.Unix(1_800_000_000, 0)
	for life := 7 * time.Minute; life <= 48*time.Hour; life += 7 * time.Minute {
		for _, rnd := range []float64{0, 0.5, 0.999} {
			at, _ := p.RefreshAt(Times{Issued: t0, Expiry: t0.Add(life)}, t0, rnd)
			if at.Add(secRefresh).After(t0.Add(life)) {
				t.Fatalf("life %v rnd %v: refresh at +%v leaves a job copy expired", life, rnd, at.Sub(t0))
			}
		}
	}
}

// TestRefreshFloorHoldsWhateverTheToken protects against refresh storms:
// an issuer (or a clock) that hands out expired tokens, a lifetime shorter
// than the job-copy safety margin, or a knob of zero must never bring the
// next refresh closer than MinInterval after the daemon's own last one,
// and a token the daemon has not refreshed that is already expired is
// refreshed at once.
func TestRefreshFloorHoldsWhateverTheToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	last := now.Add(-2 * time.Second)
	p := Policy{Fraction: 0.5, Jitter: 0.1, Safety: 6 * time.Minute, MinInterval: 30 * time.Second}
	tests := []struct {
		name    string
		p       Policy
		t       Times
		wantAt  time.Time
		wantWhy Floor
	}{
		{"expired on arrival, never refreshed by us: at once", p,
			Times{Issued: now.Add(-time.Hour), Expiry: now.Add(-time.Minute)}, now, FloorNone},
		{"expires_in 0, never refreshed by us: at once", p,
			Times{Issued: now.Add(-time.Second), Expiry: now.Add(-time.Second)}, now, FloorNone},
		{"issuer returned an expired token (exp in the past)", p,
			Times{Issued: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour), LastRefresh: last}, last.Add(30 * time.Second), FloorExpired},
		{"our clock ahead of the issuer by more than the lifetime", p,
			Times{Issued: now.Add(-20 * time.Minute), Expiry: now.Add(-10 * time.Minute), LastRefresh: last}, last.Add(30 * time.Second), FloorExpired},
		{"expiry before issue", p,
			Times{Issued: now, Expiry: now.Add(-time.Second), LastRefresh: last}, last.Add(30 * time.Second), FloorExpired},
		{"lifetime shorter than safety", p,
			Times{Issued: last, Expiry: last.Add(5 * time.Minute), LastRefresh: last}, last.Add(30 * time.Second), FloorShortLife},
		{"MinInterval 0 is floored", Policy{Fraction: 0.5, Safety: 6 * time.Minute},
			Times{Issued: last, Expiry: last.Add(5 * time.Minute), LastRefresh: last}, last.Add(MinIntervalFloor), FloorShortLife},
		{"iat far behind our clock", p,
			Times{Issued: now.Add(-50 * time.Minute), Expiry: now.Add(10 * time.Hour), LastRefresh: last}, now.Add(-50 * time.Minute).Add(time.Duration(float64(10*time.Hour+50*time.Minute) * 0.5)), FloorNone},
		{"refresh point passed at receipt (skew)", p,
			Times{Issued: now.Add(-50 * time.Minute), Expiry: now.Add(10 * time.Minute), LastRefresh: last}, last.Add(30 * time.Second), FloorSkew},
		{"healthy token: lifetime rules, no floor", p,
			Times{Issued: last, Expiry: last.Add(time.Hour), LastRefresh: last}, last.Add(30 * time.Minute), FloorNone},
		{"expired long after our last refresh: at once", p,
			Times{Issued: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour), LastRefresh: now.Add(-2 * time.Hour)}, now, FloorNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, why := tt.p.RefreshAt(tt.t, now, 0)
			if !at.Equal(tt.wantAt) || why != tt.wantWhy {
				t.Errorf("RefreshAt = now%+v, %v; want now%+v, %v", at.Sub(now), why, tt.wantAt.Sub(now), tt.wantWhy)
			}
			if !tt.t.LastRefresh.IsZero() && at.Before(tt.t.LastRefresh.Add(max(tt.p.MinInterval, MinIntervalFloor))) {
				t.Errorf("refresh at %v is inside the floor after the last refresh", at.Sub(now))
			}
		})
	}
}

func TestFractionFor(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want float64
	}{
		{"https://api.box.com/oauth2/token", 0.95},
		{"https://x.box.com", 0.95},
		{"http://api.box.com/oauth2/token", 0.5},
		{"https://box.com/token", 0.5},
		{"https://idp.example/token?x=.box.com", 0.95}, // re.match semantics: unanchored end
		{"https://oauth2.googleapis.com/token", 0.5},
	} {
		if got := fractionFor(tt.url, 0.5); got != tt.want {
			t.Errorf("fractionFor(%q) = %v; want %v", tt.url, got, tt.want)
		}
	}
}

// TestBackoff: the daemon's retry delay doubles from MIN_BACKOFF to
// MAX_BACKOFF and its jitter only lengthens it, never past MAX_BACKOFF:
// never sooner than the doubling promises.
func TestBackoff(t *testing.T) {
	min, max := 10*time.Second, 5*time.Minute
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{
		{0, 10 * time.Second}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second},
		{6, 5 * time.Minute}, {60, 5 * time.Minute},
	} {
		if got := Backoff(tt.n, min, max, 0); got != tt.want {
			t.Errorf("Backoff(%d, rnd 0) = %v; want %v", tt.n, got, tt.want)
		}
		hi := Backoff(tt.n, min, max, 0.999999)
		if hi < tt.want || hi > tt.want*5/4 || hi > max {
			t.Errorf("Backoff(%d, rnd ~1) = %v; want within [100%%, 125%%] of %v and at most %v", tt.n, hi, tt.want, max)
		}
	}
}

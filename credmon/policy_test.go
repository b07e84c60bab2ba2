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
			got := tt.p.RefreshAt(t0, t0.Add(tt.life), tt.rnd).Sub(t0)
			if got != tt.wantAt {
				t.Errorf("RefreshAt = issued+%v; want issued+%v", got, tt.wantAt)
			}
		})
	}
	if got := p.RefreshAt(t0, t0, 0.5); !got.Equal(t0) {
		t.Errorf("zero lifetime: RefreshAt = %v; want issue time", got)
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
			at := p.RefreshAt(t0, t0.Add(life), rnd)
			if at.Add(secRefresh).After(t0.Add(life)) {
				t.Fatalf("life %v rnd %v: refresh at +%v leaves a job copy expired", life, rnd, at.Sub(t0))
			}
		}
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
		if got := FractionFor(tt.url, 0.5); got != tt.want {
			t.Errorf("FractionFor(%q) = %v; want %v", tt.url, got, tt.want)
		}
	}
}

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
		lo := Backoff(tt.n, min, max, 0.999999)
		if lo < tt.want*3/4 || lo > tt.want {
			t.Errorf("Backoff(%d, rnd ~1) = %v; want within [75%%, 100%%] of %v", tt.n, lo, tt.want)
		}
	}
}

package bearer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/producer/bearer"
)

func TestSatisfiesLifetime(t *testing.T) {
	const h = time.Hour
	tests := []struct {
		name    string
		left    time.Duration // exp − now
		noExp   bool
		minsecs time.Duration
		want    bool
		why     string
	}{
		{name: "plenty left", left: 2 * h, minsecs: h, want: true},
		{name: "exactly minsecs left is enough (OpenBao: at least)", left: h, minsecs: h, want: true},
		{name: "minsecs-1ns is not", left: h - time.Nanosecond, minsecs: h, want: false, why: "less than the 1h0m0s wanted"},
		{name: "minsecs+1ns", left: h + time.Nanosecond, minsecs: h, want: true},
		{name: "minsecs 0 uses the 10s floor: exactly 10s", left: 10 * time.Second, minsecs: 0, want: true},
		{name: "minsecs 0 uses the 10s floor: 10s-1ns", left: 10*time.Second - time.Nanosecond, minsecs: 0, want: false, why: "less than the 10s wanted"},
		{name: "minsecs 5s uses the floor", left: 9 * time.Second, minsecs: 5 * time.Second, want: false},
		{name: "expired", left: -time.Minute, minsecs: 0, want: false, why: "expired 1m0s ago"},
		{name: "expiring now", left: 0, minsecs: 0, want: false, why: "expired"},
		{name: "minsecs beyond the 3h lifetime never satisfied", left: 3 * h, minsecs: 4 * h, want: false},
		{name: "no exp is never reused", noExp: true, minsecs: 0, want: false, why: "no exp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := &bearer.Info{Expiry: t0.Add(tt.left), HasExpiry: !tt.noExp}
			ok, why := bearer.Satisfies(info, t0, tt.minsecs, nil, nil)
			if ok != tt.want {
				t.Errorf("Satisfies(left %v, minsecs %v) = %v (%s); want %v", tt.left, tt.minsecs, ok, why, tt.want)
			}
			if ok != (why == "") {
				t.Errorf("Satisfies() why = %q with ok = %v; want why empty iff ok", why, ok)
			}
			if !strings.Contains(why, tt.why) {
				t.Errorf("Satisfies() why = %q; want it to contain %q", why, tt.why)
			}
		})
	}
	t.Run("nil info", func(t *testing.T) {
		if ok, why := bearer.Satisfies(nil, t0, 0, nil, nil); ok || why == "" {
			t.Errorf("Satisfies(nil) = %v, %q; want false with a reason", ok, why)
		}
	})
}

func TestSatisfiesAudienceAndScopes(t *testing.T) {
	fresh := func(aud []string, scopes ...string) *bearer.Info {
		return &bearer.Info{Audience: aud, Scopes: scopes, Expiry: t0.Add(2 * time.Hour), HasExpiry: true}
	}
	tests := []struct {
		name     string
		info     *bearer.Info
		audience []string
		scopes   []string
		want     bool
		why      string
	}{
		{name: "nothing requested", info: fresh(nil), want: true},
		{name: "audience requested, token has none", info: fresh(nil), audience: []string{"https://a.example"}, want: false, why: "audience"},
		{name: "audience in array", info: fresh([]string{"x", "https://a.example"}), audience: []string{"https://a.example"}, want: true},
		{name: "audience exact only (trailing slash differs)", info: fresh([]string{"https://a.example/"}), audience: []string{"https://a.example"}, want: false},
		{name: "ANY does not satisfy a specific audience", info: fresh([]string{"ANY"}), audience: []string{"https://a.example"}, want: false},
		{name: "WLCG any does not satisfy a specific audience", info: fresh([]string{"https://wlcg.cern.ch/jwt/v1/any"}), audience: []string{"https://a.example"}, want: false},
		{name: "ANY requested and present", info: fresh([]string{"ANY"}), audience: []string{"ANY"}, want: true},
		{name: "no audience requested, narrow token ok", info: fresh([]string{"https://b.example"}), want: true},
		{name: "same scopes", info: fresh(nil, "gwdatafind.read", "read:/frames"), scopes: []string{"read:/frames", "gwdatafind.read"}, want: true},
		{name: "token has more scopes", info: fresh(nil, "a", "b", "c"), scopes: []string{"b"}, want: true},
		{name: "missing scope listed", info: fresh(nil, "a"), scopes: []string{"a", "b", "c"}, want: false, why: `["b" "c"]`},
		{name: "storage.read:/ covers a subpath", info: fresh(nil, "storage.read:/"), scopes: []string{"storage.read:/igwn/frames"}, want: true},
		{name: "several audiences, all present", info: fresh([]string{"a", "b"}), audience: []string{"a", "b"}, want: true},
		{name: "several audiences, one missing", info: fresh([]string{"a", "b"}), audience: []string{"a", "c"}, want: false, why: `"c"`},
		{name: "audience ok but scope missing", info: fresh([]string{"a"}, "x"), audience: []string{"a"}, scopes: []string{"y"}, want: false, why: "do not cover"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why := bearer.Satisfies(tt.info, t0, time.Hour, tt.audience, tt.scopes)
			if ok != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("Satisfies(aud %q, scopes %q, token aud %q scopes %q) = %v, %q; want %v (%q)",
					tt.audience, tt.scopes, tt.info.Audience, tt.info.Scopes, ok, why, tt.want, tt.why)
			}
		})
	}
}

func TestScopeCovers(t *testing.T) {
	tests := []struct {
		have, want string
		ok         bool
	}{
		{"storage.read:/a", "storage.read:/a", true},
		{"storage.read:/a", "storage.read:/a/b", true},
		{"storage.read:/a/", "storage.read:/a/b", true},
		{"storage.read:/a", "storage.read:/a/", true},
		{"storage.read:/a/b", "storage.read:/a", false},
		{"storage.read:/a", "storage.read:/ab", false},
		{"storage.read:/", "storage.read:/anything/at/all", true},
		{"storage.read:/a", "storage.read:/a/../b", false},
		{"storage.read:/a", "storage.read:/a/./b", true},
		{"storage.read:/a", "storage.read://a//b", true},
		{"storage.read:/a", "storage.create:/a/b", false},
		{"storage.modify:/", "storage.create:/a", false},
		{"storage.create:/a", "storage.create:/a/b", true},
		{"storage.modify:/a", "storage.modify:/a/b", true},
		{"storage.stage:/a", "storage.stage:/a/b", true},
		{"storage.poll:/a", "storage.poll:/a/b", true},
		{"read:/frames", "read:/frames/O4", true},
		{"write:/home/x", "write:/home/x/out", true},
		{"read:/frames", "write:/frames", false},
		{"storage.read:a", "storage.read:a/b", false},
		{"storage.read:/a", "storage.read:a", false},
		{"storage.read:", "storage.read:/a", false},
		{"compute.read", "compute.read", true},
		{"compute.read", "compute.modify", false},
		{"gwdatafind.read", "gwdatafind.read:/x", false},
		{"x:/a", "x:/a/b", false},
		{"aud:/a", "aud:/a/b", false},
		{"storage.read", "storage.read:/a", false},
	}
	for _, tt := range tests {
		if got := bearer.ScopeCovers(tt.have, tt.want); got != tt.ok {
			t.Errorf("scopeCovers(%q, %q) = %v; want %v", tt.have, tt.want, got, tt.ok)
		}
	}
}

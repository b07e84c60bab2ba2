package credmon

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
)

// TestDecide is the refresh decision, case by case: when a token is due and
// what the loop is told to log, from its state, its files and the
// configuration alone.
func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id := tokenID{"alice", "myidp"}
	policy := Policy{Fraction: 0.5, Jitter: 0, Safety: 10 * time.Minute, MinInterval: time.Minute}
	oauth := configView{kind: credfile.KindOAuth2, policy: policy}
	local := configView{kind: credfile.KindLocal, policy: policy}
	vault := configView{kind: credfile.KindVault, policy: policy}
	robot := configView{kind: credfile.KindRobot, policy: policy}
	hour := observation{hasUse: true, issued: t0, expiry: t0.Add(time.Hour), expiryKnown: true}
	meta := &credfile.Meta{UseRefreshToken: true, TokenURL: "https://idp.example/token"}
	with := func(cv configView, f func(*configView)) configView { f(&cv); return cv }
	tests := []struct {
		name    string
		s       state
		o       observation
		cv      configView
		now     time.Time
		draw    float64
		want    time.Time // zero: not scheduled
		level   hclog.Level
		msg     string // substring of the status line; "" for none
		floor   Floor
		noteHas string // substring of the one-time floor note; "" for none
	}{
		{name: "new .top without .use is due now", o: observation{}, cv: oauth, now: t0, want: t0},
		{name: "robot, trusted issuer: the OAuth2 schedule", o: hour, cv: robot, now: t0, want: t0.Add(30 * time.Minute)},
		{name: "robot, untrusted issuer: never, and say so naming the knob", o: observation{}, now: t0,
			cv: with(robot, func(c *configView) {
				c.robotUntrusted, c.robotKnob = "https://evil.example", "CREDMON_OAUTH_TRUSTED_ISSUERS"
			}),
			level: hclog.Warn, msg: "Leaving myidp for user alice alone: its .top names issuer https://evil.example, which CREDMON_OAUTH_TRUSTED_ISSUERS does not list"},
		{name: "robot, unusable .top: never", o: observation{}, cv: with(robot, func(c *configView) { c.robotErr = errors.New("no client_id") }), now: t0,
			level: hclog.Error, msg: "unusable self-describing .top"},
		{name: "new .top with .meta is due now", o: observation{meta: meta}, cv: oauth, now: t0, want: t0},
		{name: "fresh .use: half its life", o: hour, cv: oauth, now: t0, want: t0.Add(30 * time.Minute)},
		{name: "jitter moves it earlier", o: hour, cv: with(oauth, func(c *configView) { c.policy.Jitter = 0.2 }), now: t0, draw: 0.5,
			want: t0.Add(27 * time.Minute)},
		{name: "after our rotation: from the new .use, lastRefresh floor far behind",
			s: state{lastRefresh: t0}, o: hour, cv: oauth, now: t0, want: t0.Add(30 * time.Minute)},
		{name: "unreadable .use is due now", o: observation{hasUse: true, useBad: true}, cv: oauth, now: t0, want: t0},
		{name: "transient failure: backoff beats the schedule", s: state{failures: 1, retryAt: t0.Add(time.Minute)},
			o: observation{}, cv: oauth, now: t0, want: t0.Add(time.Minute)},
		{name: "transient failure: a later schedule stays", s: state{failures: 1, retryAt: t0.Add(time.Minute)},
			o: hour, cv: oauth, now: t0, want: t0.Add(30 * time.Minute)},
		{name: "invalid_grant (permanent): never", s: state{failures: 1, permanent: true}, o: hour, cv: oauth, now: t0},
		{name: "permanent local: never", s: state{permanent: true}, o: hour, cv: local, now: t0},
		{name: "odd file: never, and say so", o: observation{odd: "myidp.use is a directory"}, cv: oauth, now: t0,
			level: hclog.Error, msg: "Cannot refresh myidp for user alice: myidp.use is a directory; remove it"},
		{name: "unusable .meta", o: observation{metaErr: errors.New("bad json")}, cv: oauth, now: t0,
			level: hclog.Error, msg: "unusable .meta"},
		{name: ".meta says no refresh", o: observation{meta: &credfile.Meta{}}, cv: oauth, now: t0,
			level: hclog.Debug, msg: "use_refresh_token is false"},
		{name: "no .meta, provider unusable", o: observation{}, cv: with(oauth, func(c *configView) { c.providerProblem = "MYIDP_CLIENT_ID is not set" }),
			now: t0, level: hclog.Warn, msg: "no .meta and MYIDP_CLIENT_ID is not set"},
		{name: "a .meta makes the provider's configuration irrelevant", o: observation{meta: meta},
			cv: with(oauth, func(c *configView) { c.providerProblem = "MYIDP_CLIENT_ID is not set" }), now: t0, want: t0},
		{name: "local misconfigured", o: hour, cv: with(local, func(c *configView) { c.localErr = errors.New("no key") }), now: t0,
			level: hclog.Error, msg: "the local issuer is misconfigured"},
		{name: "local stale after a reload: now", s: state{stale: true}, o: hour, cv: local, now: t0, want: t0},
		{name: "local stale, backing off", s: state{stale: true, retryAt: t0.Add(time.Minute)}, o: hour, cv: local, now: t0,
			want: t0.Add(time.Minute)},
		{name: "local fresh: the usual policy", o: hour, cv: local, now: t0, want: t0.Add(30 * time.Minute)},
		{name: "expired on arrival, refreshed by us: floored and noted once", s: state{lastRefresh: t0},
			o: observation{hasUse: true, issued: t0.Add(-2 * time.Hour), expiry: t0.Add(-time.Hour), expiryKnown: true}, cv: oauth,
			now: t0, want: t0.Add(time.Minute), floor: FloorExpired, noteHas: "was already expired when received"},
		{name: "the same floor again: no second note", s: state{lastRefresh: t0, floor: FloorExpired},
			o: observation{hasUse: true, issued: t0.Add(-2 * time.Hour), expiry: t0.Add(-time.Hour), expiryKnown: true}, cv: oauth,
			now: t0, want: t0.Add(time.Minute), floor: FloorExpired},
		{name: "Vault: new .top without .use is due now", o: observation{}, cv: vault, now: t0, want: t0},
		{name: "Vault: the usual policy from the access token's expiry", o: hour, cv: vault, now: t0, want: t0.Add(30 * time.Minute)},
		{name: "Vault: not before Vault would refresh (minimum_seconds left), a long token",
			o:  observation{hasUse: true, issued: t0, expiry: t0.Add(3 * time.Hour), expiryKnown: true},
			cv: with(vault, func(c *configView) { c.vaultMinimum = 40 * time.Minute }), now: t0, want: t0.Add(3*time.Hour - 40*time.Minute + time.Second)},
		{name: "Vault: a minimum below the safety margin: the policy's time stays",
			o:  observation{hasUse: true, issued: t0, expiry: t0.Add(3 * time.Hour), expiryKnown: true},
			cv: with(vault, func(c *configView) { c.vaultMinimum = 5 * time.Minute }), now: t0, want: t0.Add(90 * time.Minute)},
		{name: "Vault: the policy's point already past the minimum stays",
			o: hour, cv: with(vault, func(c *configView) { c.vaultMinimum = 40 * time.Minute }), now: t0, want: t0.Add(30 * time.Minute)},
		{name: "Vault: a stray unusable .meta is not its client", o: observation{metaErr: errors.New("bad json")}, cv: vault, now: t0, want: t0},
		{name: "Vault: a stray .meta saying no refresh is not its", o: observation{meta: &credfile.Meta{}}, cv: vault, now: t0, want: t0},
		{name: "Vault: no provider configuration needed", o: observation{},
			cv: with(vault, func(c *configView) { c.providerProblem = "IGWN_CLIENT_ID is not set" }), now: t0, want: t0},
		{name: "Vault: permission denied (permanent): never, files untouched", s: state{failures: 1, permanent: true}, o: hour, cv: vault, now: t0},
		{name: "Vault down: backoff beats the schedule", s: state{failures: 2, retryAt: t0.Add(2 * time.Minute)},
			o: observation{}, cv: vault, now: t0, want: t0.Add(2 * time.Minute)},
		{name: "client: provider misconfigured: never", o: observation{}, cv: configView{kind: credfile.KindClient, providerProblem: "CLIENT_ID is not set"},
			now: t0, level: hclog.Error, msg: "Cannot refresh myidp for user alice: CLIENT_ID is not set"},
		{name: "client: no .use: now", o: observation{}, cv: configView{kind: credfile.KindClient, policy: oauth.policy}, now: t0, want: t0},
		{name: "Pelican: a new subject token: now, before its .use's refresh point", s: state{stale: true}, o: hour,
			cv: configView{kind: credfile.KindPelican, policy: oauth.policy}, now: t0, want: t0},
		{name: "Pelican: a new subject token waits out a backoff", s: state{stale: true, retryAt: t0.Add(time.Minute)}, o: hour,
			cv: configView{kind: credfile.KindPelican, policy: oauth.policy}, now: t0, want: t0.Add(time.Minute)},
		{name: "unknown expiry: unknownLifetime", o: observation{hasUse: true, issued: t0}, cv: oauth, now: t0,
			want: t0.Add(unknownLifetime / 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := decide(id, tt.s, tt.o, tt.cv, tt.now, tt.draw)
			if !got.Equal(tt.want) {
				t.Errorf("due = %v; want %v", got, tt.want)
			}
			if tt.msg == "" && st.msg != "" || !strings.Contains(st.msg, tt.msg) {
				t.Errorf("status = %q; want one containing %q", st.msg, tt.msg)
			}
			if tt.msg != "" && st.level != tt.level {
				t.Errorf("level = %v; want %v", st.level, tt.level)
			}
			if st.floor != tt.floor {
				t.Errorf("floor = %v; want %v", st.floor, tt.floor)
			}
			if tt.noteHas == "" && st.floorNote != "" || !strings.Contains(st.floorNote, tt.noteHas) {
				t.Errorf("floor note = %q; want one containing %q", st.floorNote, tt.noteHas)
			}
		})
	}
}

package credmon

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/internal/clock"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
)

// loopHarness drives the loop's transitions by hand: passes, the timer,
// dispatch and handleResult, on a real directory, with a fake clock and
// no worker goroutine (the test plays the worker, writing through the
// worker's own replace).
type loopHarness struct {
	t     *testing.T
	m     *Monitor
	clk   *clock.Fake
	dir   string
	cfg   string // extra configuration Reload returns
	jobs  []*job
	calls int // Reload calls
}

const loopConfig = "MYIDP_CLIENT_ID = x\nMYIDP_TOKEN_URL = https://idp.invalid/token\nCREDMON_OAUTH_MIN_BACKOFF = 10\nCREDMON_OAUTH_MAX_BACKOFF = 300\n"

func newLoopHarness(t *testing.T) *loopHarness {
	h := &loopHarness{t: t, clk: clock.NewFake(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC))}
	h.dir = filepath.Join(t.TempDir(), "oauth")
	cm := h.load(loopConfig)
	d, err := PrepareCredDir(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	h.m, err = New(Options{Config: cm, Dir: d, NoWatch: true, Clock: h.clk, Rand: rand.New(rand.NewPCG(1, 2)),
		Reload: func() (*knobs.Credmon, error) { h.calls++; return h.load(loopConfig + h.cfg), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *loopHarness) load(text string) *knobs.Credmon {
	h.t.Helper()
	cfg, err := condorcfg.LoadString("test", text, condorcfg.Options{ConfigVal: "-", Env: []string{}})
	if err != nil {
		h.t.Fatal(err)
	}
	cm, err := knobs.LoadCredmon(cfg, "CREDMON_OAUTH", knobs.Overrides{CredDir: h.dir})
	if err != nil {
		h.t.Fatal(err)
	}
	return cm
}

// store replaces alice/myidp.top by rename, as credd does.
func (h *loopHarness) store(content string) {
	h.t.Helper()
	u := filepath.Join(h.dir, "alice")
	if err := os.MkdirAll(u, 0o700); err != nil {
		h.t.Fatal(err)
	}
	tmp := filepath.Join(u, "incoming")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(u, "myidp.top")); err != nil {
		h.t.Fatal(err)
	}
}

func (h *loopHarness) pass() { h.m.fullPass(context.Background(), true) }

// take takes the jobs the queues allow now and returns how many.
func (h *loopHarness) take() int {
	j := h.m.dispatch()
	h.jobs = append(h.jobs, j...)
	return len(j)
}

func (h *loopHarness) cred() *cred {
	h.t.Helper()
	us := h.m.users["alice"]
	if us == nil || us.creds["myidp"] == nil {
		h.t.Fatal("alice/myidp unknown to the loop")
	}
	return us.creds["myidp"]
}

// job pops the oldest job taken.
func (h *loopHarness) job() *job {
	h.t.Helper()
	if len(h.jobs) == 0 {
		h.t.Fatal("no job out")
	}
	j := h.jobs[0]
	h.jobs = h.jobs[1:]
	return j
}

// succeed plays a worker that got a token living an hour, with a rotated
// refresh token: .top first, then .use, through the worker's replace.
func (h *loopHarness) succeed(j *job) {
	h.t.Helper()
	d, err := h.m.dir.OpenDir(j.user)
	if err != nil {
		h.t.Fatal(err)
	}
	defer d.Close()
	top, err := h.m.worker.replace(d, j.user, j.name+credfile.SuffixTop, []byte(`{"refresh_token":"rotated"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	use, err := h.m.worker.replace(d, j.user, j.name+credfile.SuffixUse, []byte(`{"access_token":"a","expires_in":3600}`))
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clk.Now()
	h.m.handleResult(&result{c: j.c, issuer: j.issuer, outcome: outOK, top: top.ID(), use: use.ID(), rotated: true, asked: true,
		issued: now, expiry: now.Add(time.Hour), expiryKnown: true})
}

// fail plays a worker whose request got err back.
func (h *loopHarness) fail(j *job, err error) {
	h.t.Helper()
	st, serr := h.m.dir.StatPath(j.user, j.name+credfile.SuffixTop)
	if serr != nil {
		h.t.Fatal(serr)
	}
	h.m.handleResult(&result{c: j.c, issuer: j.issuer, outcome: outFailed, err: err, asked: true, netErr: err,
		perm: tokenclient.IsPermanent(err), top: st.ID()})
}

// fire moves the clock to when the loop's timer would fire and runs the
// due tokens, as Run does.
func (h *loopHarness) fire(at time.Time) {
	h.clk.Set(at)
	h.m.runDue()
}

// TestLoopTransitions is the loop's state machine, step by step with a
// fake clock: what each event does to a token's state, its timer and the
// queues. No issuer and no sleep: the test plays the worker.
func TestLoopTransitions(t *testing.T) {
	invalidGrant := &tokenclient.PermanentError{Err: errors.New("invalid_grant")}
	tests := []struct {
		name string
		run  func(t *testing.T, h *loopHarness)
	}{
		{"new .top is refreshed at once and completes its pass", func(t *testing.T, h *loopHarness) {
			h.store(`{"refresh_token":"r1"}`)
			h.pass()
			if n := h.take(); n != 1 {
				t.Fatalf("new .top: %d jobs; want 1", n)
			}
			if s := h.m.Stats(); s.Completed != 0 {
				t.Errorf("pass complete with its refresh in flight")
			}
			h.succeed(h.job())
			if s := h.m.Stats(); s.Completed != 1 || s.Refreshes != 1 {
				t.Errorf("after the refresh: %+v; want the pass complete and one refresh", s)
			}
			if _, err := os.Stat(filepath.Join(h.dir, credfile.CompleteFile)); err != nil {
				t.Errorf("CREDMON_COMPLETE: %v", err)
			}
		}},
		{"rotation: scheduled within the jittered half-life, and only then", func(t *testing.T, h *loopHarness) {
			h.store(`{"refresh_token":"r1"}`)
			h.pass()
			h.take()
			t0 := h.clk.Now()
			h.succeed(h.job())
			c := h.cred()
			if !c.state.lastRefresh.Equal(t0) {
				t.Errorf("lastRefresh = %v; want %v", c.state.lastRefresh, t0)
			}
			due := c.timer.due
			if due.Before(t0.Add(27*time.Minute)) || due.After(t0.Add(30*time.Minute)) {
				t.Errorf("due %v after the refresh; want within [27, 30] min", due.Sub(t0))
			}
			h.pass() // our own writes are no new input
			if n := h.take(); n != 0 {
				t.Errorf("a pass over our own writes queued %d jobs", n)
			}
			h.fire(due.Add(-time.Nanosecond))
			if n := h.take(); n != 0 {
				t.Errorf("queued before its time")
			}
			h.fire(due)
			if n := h.take(); n != 1 {
				t.Errorf("at its time: %d jobs; want 1", n)
			}
		}},
		{".top replaced mid-refresh: our result discarded, the new one refreshed", func(t *testing.T, h *loopHarness) {
			h.store(`{"refresh_token":"r1"}`)
			h.pass()
			h.take()
			j := h.job()
			h.store(`{"refresh_token":"r2","note":"new login"}`)
			h.pass()
			if !h.cred().work.rerun {
				t.Fatal("a new .top during the refresh did not mark the token for another look")
			}
			if n := h.take(); n != 0 {
				t.Fatalf("a second job for a token in flight")
			}
			h.m.handleResult(&result{c: j.c, issuer: j.issuer, outcome: outSuperseded})
			if s := h.m.Stats(); s.Superseded != 1 {
				t.Errorf("Superseded = %d; want 1", s.Superseded)
			}
			if n := h.take(); n != 1 {
				t.Errorf("the new .top: %d jobs; want 1", n)
			}
		}},
		{"invalid_grant is permanent until a new .top", func(t *testing.T, h *loopHarness) {
			h.store(`{"refresh_token":"r1"}`)
			h.pass()
			h.take()
			h.fail(h.job(), invalidGrant)
			c := h.cred()
			if !c.state.permanent || !c.timer.due.IsZero() {
				t.Fatalf("after invalid_grant: permanent %v, due %v; want permanent, unscheduled", c.state.permanent, c.timer.due)
			}
			h.fire(h.clk.Now().Add(24 * time.Hour))
			h.pass()
			if n := h.take(); n != 0 {
				t.Errorf("a permanent failure was retried (%d jobs)", n)
			}
			h.store(`{"refresh_token":"r2"}`)
			h.pass()
			if n := h.take(); n != 1 || c.state.permanent || c.state.failures != 0 {
				t.Errorf("new .top: %d jobs, permanent %v, failures %d; want 1, false, 0", n, c.state.permanent, c.state.failures)
			}
		}},
		{"transient failure backs off, doubling", func(t *testing.T, h *loopHarness) {
			h.store(`{"refresh_token":"r1"}`)
			h.pass()
			h.take()
			for n, min := range []time.Duration{10 * time.Second, 20 * time.Second} {
				t0 := h.clk.Now()
				h.fail(h.job(), errors.New("connection refused"))
				c := h.cred()
				wait := c.timer.due.Sub(t0)
				if c.state.failures != n+1 || c.state.permanent || wait < min || wait > min*5/4 {
					t.Fatalf("failure %d: failures %d, permanent %v, retry in %v; want in [%v, %v]",
						n+1, c.state.failures, c.state.permanent, wait, min, min*5/4)
				}
				h.pass()
				if n := h.take(); n != 0 {
					t.Fatalf("retried before its backoff (%d jobs)", n)
				}
				h.fire(c.timer.due)
				if n := h.take(); n != 1 {
					t.Fatalf("not retried after its backoff")
				}
			}
		}},
		{"reload of config: rate-limited, and a change forgets failures", func(t *testing.T, h *loopHarness) {
			h.store(`{"refresh_token":"r1"}`)
			h.pass()
			h.take()
			h.fail(h.job(), invalidGrant)
			if h.m.maybeReload() {
				t.Error("an unchanged configuration counted as a change")
			}
			h.cfg = "CREDMON_OAUTH_MAX_BACKOFF = 600\n"
			if h.m.maybeReload() || !h.m.reload.due || h.calls != 1 {
				t.Fatalf("a reload within ReloadInterval was not deferred (calls %d)", h.calls)
			}
			h.clk.Add(ReloadInterval)
			if !h.m.maybeReload() {
				t.Fatal("the changed configuration was not applied")
			}
			c := h.cred()
			if c.state.permanent || c.state.failures != 0 || !c.seen.top.IsZero() {
				t.Errorf("after the reload: permanent %v, failures %d, seen %v; want all forgotten", c.state.permanent, c.state.failures, c.seen)
			}
			h.pass()
			if n := h.take(); n != 1 {
				t.Errorf("after the reload: %d jobs; want the token retried", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newLoopHarness(t)) })
	}
}

// TestVisitReadsDirectoryOnce: one visit of a new token lists its user
// directory once, reading the .meta there, and the job carries the parsed
// .meta to the worker.
func TestVisitReadsDirectoryOnce(t *testing.T) {
	h := newLoopHarness(t)
	h.store(`{"refresh_token":"r1"}`)
	meta := `{"use_refresh_token": true, "token_url": "https://other.invalid/token", "client_id": "c", "client_secret": "s"}`
	if err := os.WriteFile(filepath.Join(h.dir, "alice", "myidp.meta"), []byte(meta), 0o600); err != nil {
		t.Fatal(err)
	}
	h.pass()
	if n := h.m.Stats().Listings; n != 1 {
		t.Errorf("%d listings; want 1", n)
	}
	h.take()
	j := h.job()
	if j.meta == nil || j.meta.TokenURL != "https://other.invalid/token" || j.metaID.IsZero() {
		t.Fatalf("job .meta = %+v (version %v); want the one the listing parsed", j.meta, j.metaID)
	}
	c, _, err := h.m.worker.client(context.Background(), j, &result{})
	if err != nil || c.TokenURL != j.meta.TokenURL || c.ClientID != "c" {
		t.Errorf("client from the job's .meta: %+v, %v", c, err)
	}
	var zero atomicfile.ID
	if j.metaID == zero {
		t.Error("no .meta version")
	}
}

// TestRunScansOnTheInjectedClock: Run's scan ticker is the injected
// clock's: moving the fake clock by SCAN_INTERVAL makes exactly the next
// periodic pass, with no wall-clock wait.
func TestRunScansOnTheInjectedClock(t *testing.T) {
	h := newLoopHarness(t)
	interval := h.m.cfg.ScanInterval
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitUntil(t, "the first pass and the loop's ticker and timer", func() bool {
		return h.m.Stats().Completed == 1 && h.clk.Waiters() >= 2
	})
	if n := h.m.Stats().Passes; n != 1 {
		t.Fatalf("%d passes before the clock moved; want 1", n)
	}
	h.clk.Add(interval)
	waitUntil(t, "the periodic pass", func() bool { return h.m.Stats().Completed == 2 })
}

// waitUntil polls one of the code's own counters; the deadline only bounds
// a failing test.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestLoopVaultTransitions: a Vault credential's way through the loop: its
// .top's Vault host is its issuer, a refusal ("permission denied") stops
// it with its files in place until a new .top arrives, a handle is
// retried when its parent's .top (its Vault token) changes, and the
// Vault token's expiry is warned about once.
func TestLoopVaultTransitions(t *testing.T) {
	const url = `"vault_url":"https://Vault.Example.org:8200/v1/secret/oauth/creds/x/alice:r"`
	denied := &vault.Error{Method: "GET", Path: "secret/oauth/creds/x/alice:r", Status: 403,
		Messages: []string{"permission denied"}, Class: tokenclient.Permanent}
	vaultHarness := func(t *testing.T) *loopHarness {
		h := newLoopHarness(t)
		h.cfg = "VAULT_CREDMON_PROVIDER_NAMES = myidp\n"
		h.m.cfg = h.load(loopConfig + h.cfg)
		h.m.gen = h.m.newGeneration()
		return h
	}
	storeAs := func(h *loopHarness, name, content string) {
		t.Helper()
		p := filepath.Join(h.dir, "alice")
		if err := os.WriteFile(filepath.Join(p, "incoming"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(p, "incoming"), filepath.Join(p, name+credfile.SuffixTop)); err != nil {
			t.Fatal(err)
		}
	}
	result := func(h *loopHarness, j *job, out outcome, err error) *result {
		st, serr := h.m.dir.StatPath(j.user, j.name+credfile.SuffixTop)
		if serr != nil {
			t.Fatal(serr)
		}
		return &result{c: j.c, issuer: j.issuer, outcome: out, err: err, perm: vault.IsPermanent(err), asked: true, netErr: err, top: st.ID()}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, h *loopHarness)
	}{
		{"the Vault host is the issuer; the job is a Vault job", func(t *testing.T, h *loopHarness) {
			h.store(`{"vault_token":"hvs.x",` + url + `}`)
			h.pass()
			if n := h.take(); n != 1 {
				t.Fatalf("%d jobs; want 1", n)
			}
			j := h.job()
			if !j.vault || j.vaults == nil || j.meta != nil {
				t.Errorf("job vault=%v vaults=%v meta=%v; want a Vault job without a client of its own", j.vault, j.vaults != nil, j.meta)
			}
			if j.issuer.key != "https://vault.example.org:8200" {
				t.Errorf("issuer = %q; want the Vault host", j.issuer.key)
			}
		}},
		{"permission denied: stopped, files kept, retried on a new .top", func(t *testing.T, h *loopHarness) {
			h.store(`{"vault_token":"hvs.x",` + url + `}`)
			h.pass()
			h.take()
			h.m.handleResult(result(h, h.job(), outFailed, denied))
			c := h.cred()
			if !c.state.permanent || !c.timer.due.IsZero() {
				t.Fatalf("after the refusal: permanent=%v due=%v; want stopped", c.state.permanent, c.timer.due)
			}
			if _, err := os.Stat(filepath.Join(h.dir, "alice", "myidp.top")); err != nil {
				t.Errorf("the .top is gone: %v", err)
			}
			h.clk.Add(time.Hour)
			h.pass()
			if n := h.take(); n != 0 {
				t.Errorf("%d jobs with the refused token; want none", n)
			}
			h.store(`{"vault_token":"hvs.new",` + url + `}`)
			h.pass()
			if n := h.take(); n != 1 {
				t.Errorf("%d jobs after a new .top; want 1", n)
			}
		}},
		{"a handle is retried when its parent's Vault token changes", func(t *testing.T, h *loopHarness) {
			h.store(`{"vault_token":"hvs.x",` + url + `}`)
			storeAs(h, "myidp_read", `{`+url+`}`)
			h.pass()
			h.take()
			h.take()
			for len(h.jobs) > 0 {
				j := h.job()
				h.m.handleResult(result(h, j, outFailed, denied))
			}
			storeAs(h, "myidp", `{"vault_token":"hvs.new",`+url+`}`)
			h.pass()
			if n := h.take(); n != 2 {
				t.Errorf("%d jobs after the parent's new Vault token; want the parent's and the handle's", n)
			}
		}},
		{"the Vault token's expiry is warned about once", func(t *testing.T, h *loopHarness) {
			h.store(`{"vault_token":"hvs.x",` + url + `}`)
			h.pass()
			h.take()
			j := h.job()
			r := result(h, j, outOK, nil)
			r.vaultID, r.vaultExpiry = "fp1", h.clk.Now().Add(3*24*time.Hour)
			r.issued, r.expiry, r.expiryKnown = h.clk.Now(), h.clk.Now().Add(time.Hour), true
			h.m.handleResult(r)
			c := h.cred()
			if c.vault.warned != "fp1" || c.vault.id != "fp1" {
				t.Fatalf("vault state %+v; want fp1 warned", c.vault)
			}
			h.fire(c.timer.due)
			h.take()
			j = h.job()
			if j.vaultID != "fp1" || j.vaultExpiry.IsZero() {
				t.Errorf("the next job does not carry what is known of the Vault token: %q %v", j.vaultID, j.vaultExpiry)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, vaultHarness(t)) })
	}
}

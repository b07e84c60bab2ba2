package credmon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/knobs"
)

// TestIdlePassesKeepSchedule: passes over fresh tokens neither queue work
// nor grow the timer heap (one live entry per token, however many passes).
func TestIdlePassesKeepSchedule(t *testing.T) {
	const users = 100
	m := idleMonitor(t, users)
	dir := m.dir.Path()
	for i := 0; i < 5; i++ {
		m.fullPass(context.Background(), i%2 == 0)
	}
	if n := m.queued(); n != 0 {
		t.Errorf("%d fresh tokens queued for refresh", n)
	}
	if got := m.timers.Len(); got != users {
		t.Errorf("timer heap holds %d entries after 5 passes over %d tokens; want %d", got, users, users)
	}
	// A replaced .use (a new version, by rename as every writer does) is
	// found by a shallow pass and reschedules that token only.
	tmp := filepath.Join(dir, "u00000", "new")
	os.WriteFile(tmp, []byte(`{"access_token":"b","expires_in":7200}`), 0o600)
	os.Rename(tmp, filepath.Join(dir, "u00000", "myidp.use"))
	m.fullPass(context.Background(), false)
	if got := m.timers.Len(); got != users+1 {
		t.Errorf("after one replaced .use: %d heap entries; want %d (one stale, skipped lazily)", got, users+1)
	}
	c := m.users["u00000"].creds["myidp"]
	if !c.obs.expiry.After(c.obs.issued.Add(time.Hour)) {
		t.Errorf("shallow pass did not see the new .use: lifetime %v", c.obs.expiry.Sub(c.obs.issued))
	}
	// A new user appears: a shallow pass lists it.
	os.Mkdir(filepath.Join(dir, "newbie"), 0o700)
	os.WriteFile(filepath.Join(dir, "newbie", "myidp.top"), []byte(`{"refresh_token":"x"}`), 0o600)
	m.fullPass(context.Background(), false)
	if n := m.queued(); m.users["newbie"] == nil || n != 1 {
		t.Errorf("shallow pass missed a new user (queued %d)", n)
	}
}

// queued counts the tokens waiting on every issuer's queue.
func (m *Monitor) queued() int {
	n := 0
	for _, is := range m.q.issuers {
		n += len(is.queue)
	}
	return n
}

// idleMonitor builds a monitor (no watcher, not running) over n users
// whose tokens are fresh.
func idleMonitor(tb testing.TB, n int) *Monitor {
	dir := filepath.Join(tb.TempDir(), "oauth")
	cfg, err := condorcfg.LoadString("test", "MYIDP_CLIENT_ID = x\nMYIDP_TOKEN_URL = https://idp.invalid/token\n",
		condorcfg.Options{ConfigVal: "-", Env: []string{}})
	if err != nil {
		tb.Fatal(err)
	}
	cm, err := knobs.LoadCredmon(cfg, "CREDMON_OAUTH", knobs.Overrides{CredDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := PrepareCredDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	for i := 0; i < n; i++ {
		u := filepath.Join(dir, fmt.Sprintf("u%05d", i))
		if err := os.Mkdir(u, 0o700); err != nil {
			tb.Fatal(err)
		}
		os.WriteFile(filepath.Join(u, "myidp.top"), []byte(`{"refresh_token":"x"}`), 0o600)
		os.WriteFile(filepath.Join(u, "myidp.use"), []byte(`{"access_token":"a","expires_in":3600}`), 0o600)
	}
	m, err := New(Options{Config: cm, Dir: d, NoWatch: true})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkIdlePass measures one pass over 10,000 users whose tokens are
// fresh: deep (every directory listed, every file stat'ed) and shallow
// (one stat per user directory), the steady-state cost of the reconcile.
func BenchmarkIdlePass(b *testing.B) {
	for _, deep := range []bool{true, false} {
		b.Run(map[bool]string{true: "deep", false: "shallow"}[deep], func(b *testing.B) {
			m := idleMonitor(b, 10000)
			m.fullPass(context.Background(), true) // the first pass reads every .use
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.fullPass(context.Background(), deep)
			}
		})
	}
}

// BenchmarkIdleTenMinutes is one default 10-minute cycle of the periodic
// reconcile over 10,000 fresh tokens (ten passes at the default interval,
// a third of a deep pass, a forced GC every 2 minutes as the runtime does),
// reported as process CPU (user + system, GC included).
func BenchmarkIdleTenMinutes(b *testing.B) {
	m := idleMonitor(b, 10000)
	m.fullPass(context.Background(), true)
	runtime.GC()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for pass := 1; pass <= 10; pass++ {
			m.fullPass(context.Background(), (i*10+pass)%deepPassEvery == 0)
			if pass%2 == 0 {
				runtime.GC()
			}
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(cpu.Seconds(), "cpu_s/10min")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap_MiB")
}

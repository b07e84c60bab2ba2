package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// Benchmarks of the real binary against the real OIDC provider. Each
// prints its figures (b.ReportMetric) as a ratio to a baseline measured in
// the same run. Sizes and the idle window come from the environment so a
// quick run is possible: CREDMON_BENCH_USERS (10000), CREDMON_BENCH_IDLE
// (10m), CREDMON_BENCH_BURST (1000).

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDur(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const benchWorkers = 8

// bareRefresh refreshes every token with a plain HTTP client at the
// daemon's concurrency: the floor the daemon is compared with. With a
// non-empty dir it also does the file work any durable credmon must do per
// rotated token: write the new refresh token (temp, fsync, rename, dir
// fsync) and the access token (temp, fsync, rename) in a per-user
// directory — the floor of the daemon's design on this machine's disk.
func bareRefresh(b *testing.B, tokenURL string, grants []oidcprovider.Grant, dir ...string) time.Duration {
	b.Helper()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchWorkers, IdleConnTimeout: 4 * time.Second}}
	jobs := make(chan string)
	var wg sync.WaitGroup
	var failed sync.Map
	start := time.Now()
	for w := 0; w < benchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rt := range jobs {
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
					"client_id": {oidcprovider.ClientIDPost}, "client_secret": {oidcprovider.ClientSecret}}
				resp, err := hc.PostForm(tokenURL, form)
				if err != nil {
					failed.Store(rt, err)
					continue
				}
				var body map[string]any
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != 200 || body["access_token"] == nil {
					failed.Store(rt, resp.StatusCode)
					continue
				}
				if len(dir) > 0 {
					u := filepath.Join(dir[0], rt[:12])
					top, _ := json.Marshal(map[string]any{"refresh_token": body["refresh_token"]})
					delete(body, "refresh_token")
					use, _ := json.Marshal(body)
					if err := os.Mkdir(u, 0o700); err != nil && !os.IsExist(err) {
						failed.Store(rt, err)
					} else if err := durableWrite(u, "myidp.top", top); err != nil {
						failed.Store(rt, err)
					} else if err := renameWrite(u, "myidp.use", use); err != nil {
						failed.Store(rt, err)
					}
				}
			}
		}()
	}
	for _, g := range grants {
		jobs <- g.RefreshToken
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	failed.Range(func(k, v any) bool { b.Fatalf("bare refresh failed: %v", v); return false })
	return took
}

func writeTops(b *testing.B, dir, prefix string, grants []oidcprovider.Grant) {
	b.Helper()
	for i, g := range grants {
		u := filepath.Join(dir, fmt.Sprintf("%s%05d", prefix, i))
		if err := os.MkdirAll(u, 0o700); err != nil {
			b.Fatal(err)
		}
		blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
		if err := os.WriteFile(filepath.Join(u, "myidp.top"), blob, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// procStats reads CPU seconds (utime+stime) and peak RSS (VmHWM) of pid.
func procStats(b *testing.B, pid int) (cpu time.Duration, peakRSS int64) {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	cpu = time.Duration(ut+st) * time.Second / 100 // CLK_TCK is 100 on Linux
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			peakRSS = kb * 1024
		}
	}
	return cpu, peakRSS
}

// refreshFromScratch starts a daemon (benchWorkers issuer slots) over one
// user per grant, none with a .use, and returns it with the time from its
// start to CREDMON_COMPLETE, after checking every .use is there. Only that
// interval is timed.
func refreshFromScratch(b *testing.B, idp *oidcprovider.Provider, grants []oidcprovider.Grant, args ...string) (*daemon, time.Duration) {
	b.Helper()
	d := newDaemon(b, fmt.Sprintf("MYIDP_CLIENT_ID = %s\nMYIDP_TOKEN_URL = %s\nMYIDP_CLIENT_SECRET_FILE = %s\nCREDMON_OAUTH_WORKERS = %d",
		oidcprovider.ClientIDPost, idp.TokenURL, writeSecret(b), benchWorkers))
	if err := os.MkdirAll(d.credDir, 0o2770); err != nil {
		b.Fatal(err)
	}
	os.Chmod(d.credDir, 0o2770)
	writeTops(b, d.credDir, "u", grants)
	b.ResetTimer()
	start := time.Now()
	d.start(args...)
	complete := filepath.Join(d.credDir, "CREDMON_COMPLETE")
	for {
		if _, err := os.Stat(complete); err == nil {
			break
		}
		if time.Since(start) > 30*time.Minute {
			b.Fatal("no CREDMON_COMPLETE after 30 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	b.StopTimer()
	missing := 0
	for i := range grants {
		if _, err := os.Stat(filepath.Join(d.credDir, fmt.Sprintf("u%05d", i), "myidp.use")); err != nil {
			missing++
		}
	}
	if missing > 0 {
		b.Fatalf("%d of %d .use files missing at CREDMON_COMPLETE", missing, len(grants))
	}
	return d, took
}

// BenchmarkRefreshAllUsersRemoteIssuer is BenchmarkRefreshAllUsers's
// comparison with the issuer CREDMON_BENCH_RTT (20ms) away, as a real IdP
// is from an access point (a round trip within one country; CILogon or IAM
// across the Atlantic is 80-150 ms). The provider holds each refresh grant
// that long before processing it, so the wait costs neither client CPU:
// what the ratio shows is the daemon's own overhead (file writes, parsing,
// scheduling) once a grant costs what it costs in production, instead of
// the ~1 ms of a loopback provider that shares this machine's two cores.
func BenchmarkRefreshAllUsersRemoteIssuer(b *testing.B) {
	n := envInt("CREDMON_BENCH_USERS", 10000)
	rtt := envDur("CREDMON_BENCH_RTT", 20*time.Millisecond)
	idp := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour, RefreshDelay: rtt})
	req := oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"}
	grants := idp.CloneRefreshTokens(b, req, 2*n, 4)
	bare := bareRefresh(b, idp.TokenURL, grants[:n])
	var profile []string
	if p := os.Getenv("CREDMON_BENCH_CPUPROFILE"); p != "" {
		profile = []string{"--cpuprofile", p}
	}
	d, took := refreshFromScratch(b, idp, grants[n:], profile...)
	cpu, _ := procStats(b, d.cmd.Process.Pid)
	b.ReportMetric(float64(n), "users")
	b.ReportMetric(float64(rtt)/float64(time.Millisecond), "issuer_rtt_ms")
	b.ReportMetric(bare.Seconds(), "bare_s")
	b.ReportMetric(took.Seconds(), "daemon_s")
	b.ReportMetric(took.Seconds()/bare.Seconds(), "ratio_vs_bare")
	b.ReportMetric(cpu.Seconds()*1e3/float64(n), "daemon_cpu_ms_per_token")
	d.cmd.Process.Signal(syscall.SIGTERM) // a clean exit writes the CPU profile
	d.exitCode(time.Minute)
}

// BenchmarkRefreshAllUsers: N users × 1 token, none with a .use: time from
// daemon start to CREDMON_COMPLETE (every .use fresh), against the same
// number of refresh grants by a bare HTTP client at the same concurrency.
// Then the idle cost of the daemon holding N fresh tokens.
func BenchmarkRefreshAllUsers(b *testing.B) {
	n := envInt("CREDMON_BENCH_USERS", 10000)
	idle := envDur("CREDMON_BENCH_IDLE", 10*time.Minute)
	// One-hour tokens: none falls due during the idle window.
	idp := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour})
	req := oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"}
	grants := idp.CloneRefreshTokens(b, req, 3*n, 4)

	bare := bareRefresh(b, idp.TokenURL, grants[:n])
	// The user directories exist beforehand, as for the daemon.
	floorDir := b.TempDir()
	for _, g := range grants[2*n:] {
		os.Mkdir(filepath.Join(floorDir, g.RefreshToken[:12]), 0o700)
	}
	bareWrites := bareRefresh(b, idp.TokenURL, grants[2*n:], floorDir)

	var profile []string
	if p := os.Getenv("CREDMON_BENCH_CPUPROFILE"); p != "" {
		profile = []string{"--cpuprofile", p} // the whole run: refresh burst and idle window
	}
	d, took := refreshFromScratch(b, idp, grants[n:2*n], profile...)
	refreshCPU, _ := procStats(b, d.cmd.Process.Pid)
	b.ReportMetric(refreshCPU.Seconds(), "daemon_cpu_s")
	b.ReportMetric(float64(n), "users")
	b.ReportMetric(bare.Seconds(), "bare_s")
	b.ReportMetric(took.Seconds(), "daemon_s")
	b.ReportMetric(took.Seconds()/bare.Seconds(), "ratio_vs_bare")
	b.ReportMetric(bareWrites.Seconds(), "bare_with_file_writes_s")
	b.ReportMetric(took.Seconds()/bareWrites.Seconds(), "ratio_vs_bare_with_file_writes")

	// Peak RSS of the whole run so far (the refresh burst included).
	_, burstPeak := procStats(b, d.cmd.Process.Pid)
	b.ReportMetric(float64(burstPeak)/(1<<20), "refresh_peak_rss_MiB")
	// Idle: the same daemon with N fresh tokens, for the idle window. Writing
	// 5 to clear_refs resets the peak (VmHWM) so it covers the window only.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", d.cmd.Process.Pid), []byte("5"), 0o200); err != nil {
		b.Logf("cannot reset peak RSS (%v): idle peak includes the refresh burst", err)
	}
	cpu0, _ := procStats(b, d.cmd.Process.Pid)
	time.Sleep(idle)
	cpu1, peak := procStats(b, d.cmd.Process.Pid)
	perTen := (cpu1 - cpu0).Seconds() * (10 * time.Minute).Seconds() / idle.Seconds()
	b.ReportMetric(perTen, "idle_cpu_s_per_10min")
	b.ReportMetric(perTen/1.0, "idle_cpu_ratio_vs_goal_1s")
	b.ReportMetric(float64(peak)/(1<<20), "idle_peak_rss_MiB")
	b.ReportMetric(float64(peak)/(60e6), "idle_peak_rss_ratio_vs_goal_60MB")
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.exitCode(time.Minute)
	if os.Getenv("CREDMON_BENCH_SHOW_STDERR") != "" {
		b.Logf("daemon stderr:\n%s", d.stderr.String())
	}
}

// BenchmarkTopToUseLatency: credd writes a .top (tmp + rename) and kicks the
// daemon; latency is the .use's mtime minus the moment the .top was in
// place, for one write at a time and for a burst of simultaneous writes.
// The baseline is one bare refresh request's latency.
func BenchmarkTopToUseLatency(b *testing.B) {
	burst := envInt("CREDMON_BENCH_BURST", 1000)
	const singles = 50
	idp := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour})
	req := oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"}
	grants := idp.CloneRefreshTokens(b, req, singles*2+burst, 4)

	var bareLat []time.Duration
	for _, g := range grants[:singles] {
		t0 := time.Now()
		if _, status, err := idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, g.RefreshToken, nil); err != nil || status != 200 {
			b.Fatalf("bare refresh: %d %v", status, err)
		}
		bareLat = append(bareLat, time.Since(t0))
	}
	grants = grants[singles:]

	d := newDaemon(b, fmt.Sprintf("MYIDP_CLIENT_ID = %s\nMYIDP_TOKEN_URL = %s\nMYIDP_CLIENT_SECRET_FILE = %s\nCREDMON_OAUTH_WORKERS = %d",
		oidcprovider.ClientIDPost, idp.TokenURL, writeSecret(b), benchWorkers))
	d.start()
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })
	credd := credtest.NewCredd(b, d.credDir)
	credd.NoPidCache = true

	store := func(user string, g oidcprovider.Grant) time.Time {
		blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
		if err := credd.StoreTop(user, "myidp", blob); err != nil {
			b.Fatal(err)
		}
		at := time.Now()
		if err := credd.Kick(); err != nil {
			b.Fatal(err)
		}
		return at
	}
	useLatency := func(user string, at time.Time) time.Duration {
		p := filepath.Join(d.credDir, user, "myidp.use")
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(2 * time.Millisecond) {
			if fi, err := os.Stat(p); err == nil {
				return fi.ModTime().Sub(at)
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: no .use", user)
			}
		}
	}
	b.ResetTimer()
	var single []time.Duration
	for i := 0; i < singles; i++ {
		u := fmt.Sprintf("s%03d", i)
		single = append(single, useLatency(u, store(u, grants[i])))
	}
	grants = grants[singles:]

	ats := make([]time.Time, burst)
	var wg sync.WaitGroup
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ats[i] = store(fmt.Sprintf("b%04d", i), grants[i])
		}(i)
	}
	wg.Wait()
	var many []time.Duration
	for i := 0; i < burst; i++ {
		many = append(many, useLatency(fmt.Sprintf("b%04d", i), ats[i]))
	}
	b.StopTimer()
	reportLatencies(b, "bare_refresh", "bare", bareLat, single, many)
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.exitCode(time.Minute)
}

// reportLatencies prints the latency figures of one benchmark: the
// baseline's p50, single-request p50/p99 and their ratio to the baseline,
// and the burst's p50/p99.
func reportLatencies(b *testing.B, baseName, ratioTo string, base, single, burst []time.Duration) {
	bp50 := pct(base, 50)
	b.ReportMetric(ms(bp50), baseName+"_p50_ms")
	b.ReportMetric(ms(pct(single, 50)), "single_p50_ms")
	b.ReportMetric(ms(pct(single, 99)), "single_p99_ms")
	b.ReportMetric(pct(single, 50).Seconds()/bp50.Seconds(), "single_p50_ratio_vs_"+ratioTo)
	b.ReportMetric(ms(pct(burst, 50)), "burst_p50_ms")
	b.ReportMetric(ms(pct(burst, 99)), "burst_p99_ms")
	b.ReportMetric(float64(len(burst)), "burst_size")
}

func pct(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkLocalMintLatency measures what condor_submit waits for with a
// local issuer: from credd's SIGHUP to the user's .use, for single fresh
// users on an idle daemon and for a burst of CREDMON_BENCH_BURST users
// submitting at once. The baseline is the floor of the same work done
// in-process: signing one token and writing one .use durably (temp, fsync,
// rename, dir fsync).
func BenchmarkLocalMintLatency(b *testing.B) {
	singles, burst := 200, envInt("CREDMON_BENCH_BURST", 1000)
	d := newDaemon(b, "LOCAL_CREDMON_TOKEN_AUDIENCE = https://storage.example.org\nLOCAL_CREDMON_ISSUER = https://ap.example.org")
	d.start()
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })
	credd := credtest.NewCredd(b, d.credDir)
	credd.NoPidCache = true

	// The floor: mint with the daemon's own key and write the file durably.
	key, err := localissuer.LoadPrivateKey(filepath.Join(d.base, "scitokens-private.pem"), "ES256", "local")
	if err != nil {
		b.Fatal(err)
	}
	minter := localissuer.Minter{Key: key, Config: localissuer.Config{Issuer: "https://ap.example.org", Lifetime: 20 * time.Minute,
		Audience: []string{"https://storage.example.org"}, Version: "scitoken:2.0", AuthzTemplate: "read:/user/{username}"}, Now: time.Now}
	floorDir := b.TempDir()
	var floor []time.Duration
	for i := 0; i < singles; i++ {
		t0 := time.Now()
		tok, err := minter.Mint(localissuer.Request{Username: "floor"})
		if err != nil {
			b.Fatal(err)
		}
		if err := durableWrite(floorDir, "floor.use", localissuer.EncodeUse(tok, 20*time.Minute, true)); err != nil {
			b.Fatal(err)
		}
		floor = append(floor, time.Since(t0))
	}

	b.ResetTimer()
	var single []time.Duration
	for i := 0; i < singles; i++ {
		u := fmt.Sprintf("s%03d", i)
		if err := credd.StoreLocal(u, "scitokens"); err != nil {
			b.Fatal(err)
		}
		lat, err := credd.KickAndWait(context.Background(), u, "scitokens", 50*time.Microsecond)
		if err != nil {
			b.Fatal(err)
		}
		single = append(single, lat)
	}

	// The burst: every user's .top stored and kicked as fast as credd can,
	// then the time from each user's kick to its .use.
	ats := make([]time.Time, burst)
	var wg sync.WaitGroup
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := fmt.Sprintf("b%04d", i)
			if err := credd.StoreLocal(u, "scitokens"); err != nil {
				b.Error(err)
				return
			}
			ats[i] = time.Now()
			if err := credd.Kick(); err != nil {
				b.Error(err)
			}
		}(i)
	}
	wg.Wait()
	seen := make([]time.Duration, burst)
	left := burst
	for deadline := time.Now().Add(5 * time.Minute); left > 0; time.Sleep(100 * time.Microsecond) {
		now := time.Now()
		for i := 0; i < burst; i++ {
			if seen[i] == 0 {
				if _, err := os.Stat(filepath.Join(d.credDir, fmt.Sprintf("b%04d", i), "scitokens.use")); err == nil {
					seen[i] = now.Sub(ats[i])
					left--
				}
			}
		}
		if now.After(deadline) {
			b.Fatalf("%d burst users got no .use", left)
		}
	}
	b.StopTimer()
	reportLatencies(b, "floor_mint_write", "floor", floor, single, seen)
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.exitCode(time.Minute)
}

// renameWrite is durableWrite without the directory fsync (how the daemon
// replaces a .use).
func renameWrite(dir, name string, data []byte) error { return writeFloor(dir, name, data, false) }

// durableWrite is the floor of a .top replacement: temp, fsync, rename,
// directory fsync.
func durableWrite(dir, name string, data []byte) error { return writeFloor(dir, name, data, true) }

func writeFloor(dir, name string, data []byte, syncDir bool) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	if !syncDir {
		return nil
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}

package main

// Process-level tests: the real binary, started as condor_master would
// start it, driven by real signals, a real OIDC provider and the credd
// emulator (credtest; HTCondor's credd cannot run here).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
)

var binary string

func TestMain(m *testing.M) {
	var cleanup func()
	binary, cleanup = credtest.BuildForTests("credmon")
	code := m.Run()
	cleanup()
	os.Exit(code)
}

type daemon struct {
	t       testing.TB
	base    string
	credDir string
	logFile string
	cfgFile string
	cmd     *exec.Cmd
	env     []string // added to the daemon's environment
	stderr  oidcprovider.Buffer
	exited  chan struct{}
	err     error
}

// newDaemon writes a condor_config with the cred dir, log and extra lines.
func newDaemon(t testing.TB, extra string) *daemon {
	t.Helper()
	d := &daemon{t: t, base: t.TempDir()}
	d.credDir = filepath.Join(d.base, "oauth_credentials")
	d.logFile = filepath.Join(d.base, "log", "CredMonOAuthLog")
	if err := os.MkdirAll(filepath.Dir(d.logFile), 0o755); err != nil {
		t.Fatal(err)
	}
	d.cfgFile = filepath.Join(d.base, "condor_config")
	d.writeConfig(extra)
	return d
}

func (d *daemon) writeConfig(extra string) {
	// The local issuer's key pair lives in the test's directory, never in
	// /etc/condor (the daemon creates it at start when missing).
	conf := fmt.Sprintf("SEC_CREDENTIAL_DIRECTORY_OAUTH = %s\nCREDMON_OAUTH_LOG = %s\nCREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = true\n"+
		"LOCAL_CREDMON_PRIVATE_KEY = %s\nLOCAL_CREDMON_PUBLIC_KEY = %s\n%s\n",
		d.credDir, d.logFile, filepath.Join(d.base, "scitokens-private.pem"), filepath.Join(d.base, "scitokens.pem"), extra)
	if err := os.WriteFile(d.cfgFile, []byte(conf), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemon) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CONDOR_CONFIG="+d.cfgFile, "PATH=/nonexistent") // no condor_config_val
	cmd.Env = append(cmd.Env, d.env...)
	cmd.Stderr = &d.stderr
	return cmd
}

func (d *daemon) start(args ...string) {
	d.t.Helper()
	d.cmd = d.command(args...)
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	d.t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if d.t.Failed() {
			b, _ := os.ReadFile(d.logFile)
			d.t.Logf("daemon stderr:\n%s\ndaemon log:\n%s", d.stderr.String(), b)
		}
	})
}

func (d *daemon) wait(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-d.exited:
			d.t.Fatalf("daemon exited while waiting for %s: %v", what, d.err)
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (d *daemon) exitCode(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(timeout):
		d.t.Fatalf("daemon still running after %v", timeout)
	}
	if d.err == nil {
		return 0
	}
	if ee, ok := d.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	d.t.Fatal(d.err)
	return -1
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(d.logFile)
	return string(b)
}

func runOnce(t *testing.T, d *daemon, args ...string) (int, string) {
	t.Helper()
	cmd := d.command(args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), errb.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, errb.String()
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatalf("%v did not exit", args)
	}
	return -1, ""
}

func TestExitCodes(t *testing.T) {
	t.Run("bad option is 2", func(t *testing.T) {
		d := newDaemon(t, "")
		if code, _ := runOnce(t, d, "--bogus"); code != 2 {
			t.Errorf("exit = %d; want 2", code)
		}
	})
	t.Run("unopenable log is 44", func(t *testing.T) {
		d := newDaemon(t, "")
		notDir := filepath.Join(d.base, "file")
		os.WriteFile(notDir, nil, 0o644)
		code, stderr := runOnce(t, d, "-l", filepath.Join(notDir, "log"))
		if code != 44 {
			t.Errorf("exit = %d; want 44 (stderr %q)", code, stderr)
		}
		if !strings.Contains(stderr, "log") {
			t.Errorf("stderr does not explain: %q", stderr)
		}
	})
	t.Run("invalid provider name is 99", func(t *testing.T) {
		d := newDaemon(t, "LOCAL_CREDMON_PROVIDER_NAMES = scitokens, bad_name")
		if code, _ := runOnce(t, d); code != 99 {
			t.Errorf("exit = %d; want 99", code)
		}
		if !strings.Contains(d.log(), "bad_name") {
			t.Errorf("log does not name the bad provider:\n%s", d.log())
		}
	})
	t.Run("special names allowed", func(t *testing.T) {
		d := newDaemon(t, "LOCAL_CREDMON_PROVIDER_NAMES = bad_name\nCREDMON_ALLOW_SPECIAL_CHAR_NAMES = true")
		d.start()
		d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })
		// The cred dir did not exist: created like condor_master does.
		if fi, err := os.Stat(d.credDir); err != nil || fi.Mode()&os.ModePerm != 0o770 || fi.Mode()&os.ModeSetgid == 0 {
			t.Errorf("created cred dir mode = %v; want drwxrws---", fi.Mode())
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		if code := d.exitCode(20 * time.Second); code != 0 {
			t.Errorf("exit = %d; want 0", code)
		}
	})
	t.Run("world-readable cred dir refused", func(t *testing.T) {
		d := newDaemon(t, "")
		if err := os.Mkdir(d.credDir, 0o2770); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d.credDir, 0o2774)
		if code, _ := runOnce(t, d); code == 0 {
			t.Error("started with an o+r credential directory")
		}
		if !strings.Contains(d.log(), "must not be accessible by others") {
			t.Errorf("log does not explain:\n%s", d.log())
		}
	})
	t.Run("bad knob value is refused with its name", func(t *testing.T) {
		d := newDaemon(t, "CREDMON_OAUTH_WORKERS = many")
		if code, _ := runOnce(t, d); code != 1 {
			t.Errorf("exit = %d; want 1", code)
		}
		if !strings.Contains(d.log(), "CREDMON_OAUTH_WORKERS") {
			t.Errorf("log does not name the knob:\n%s", d.log())
		}
	})
}

// dprintfLine is HTCondor's daemon log line (ornithology parses this).
var dprintfLine = regexp.MustCompile(`^\d\d/\d\d/\d\d \d\d:\d\d:\d\d \S`)

func TestDaemonLifecycle(t *testing.T) {
	idp := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	proxy := oidcprovider.NewFaultProxy(t, idp.Issuer)
	d := newDaemon(t, fmt.Sprintf("MYIDP_CLIENT_ID = %s\nMYIDP_TOKEN_URL = %s/token\nMYIDP_CLIENT_SECRET_FILE = %s\nCREDMON_OAUTH_HTTP_TIMEOUT = 5",
		oidcprovider.ClientIDPost, proxy.URL, writeSecret(t)))
	// The master deleted CREDMON_COMPLETE; a stale one from a previous run must go.
	os.MkdirAll(d.credDir, 0o2770)
	os.Chmod(d.credDir, 0o2770)
	os.WriteFile(filepath.Join(d.credDir, "CREDMON_COMPLETE"), nil, 0o644)
	d.start()
	pidFile := filepath.Join(d.credDir, "pid")
	d.wait("pid file", func() bool { _, err := os.Stat(pidFile); return err == nil })
	b, _ := os.ReadFile(pidFile)
	if string(b) != strconv.Itoa(d.cmd.Process.Pid) {
		t.Errorf("pid file = %q; want %d without newline", b, d.cmd.Process.Pid)
	}
	fi, _ := os.Stat(pidFile)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("pid file mode = %v; want 0644 (credd reads it as condor)", fi.Mode().Perm())
	}
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })

	// credd stores a refresh token, SIGHUPs the daemon and waits for the .use.
	credd := credtest.NewCredd(t, d.credDir)
	g := idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	took, err := credd.AddAndWait(context.Background(), "alice", "myidp", blob)
	if err != nil {
		t.Fatalf("credd wait: %v", err)
	}
	t.Logf("credd STORE_CRED with wait returned after %v", took)
	if credd.Kicks() == 0 {
		t.Error("credd never signalled the daemon")
	}

	// SIGTERM while a request hangs at the issuer: no new request, the one
	// on the wire is given its HTTP_TIMEOUT (it could be rotating the
	// refresh token) and no more, then exit 0 with the pid file removed.
	proxy.SetMode(oidcprovider.Hang)
	os.Remove(filepath.Join(d.credDir, "alice", "myidp.use"))
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.wait("the hanging request", func() bool { return proxy.Count("/token") >= 2 })
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(60 * time.Second); code != 0 {
		t.Errorf("exit after SIGTERM = %d; want 0", code)
	}
	t.Logf("exited %v after SIGTERM with a request hanging (HTTP_TIMEOUT 5 s)", time.Since(start))
	if n := proxy.Count("/token"); n != 2 {
		t.Errorf("%d token requests; a stop must start none", n)
	}
	if _, err := os.Stat(pidFile); err == nil {
		t.Error("pid file left behind after a clean exit")
	}

	logText := d.log()
	for _, line := range strings.Split(strings.TrimSpace(logText), "\n") {
		if !dprintfLine.MatchString(line) {
			t.Errorf("log line not in dprintf format: %q", line)
		}
	}
	if !strings.Contains(logText, "Successfully refreshed myidp tokens for user alice") {
		t.Error("no 'Successfully refreshed' line")
	}
	if strings.Contains(logText, "configuration changed") {
		t.Error("credd's SIGHUPs with an unchanged configuration were logged as a reload")
	}
	top, _ := os.ReadFile(filepath.Join(d.credDir, "alice", "myidp.top"))
	var topObj map[string]string
	json.Unmarshal(top, &topObj)
	for _, secret := range []string{g.RefreshToken, topObj["refresh_token"], oidcprovider.ClientSecret} {
		if secret != "" && strings.Contains(logText, secret) {
			t.Error("a secret appears in the log")
		}
	}
}

func writeSecret(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(oidcprovider.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigSources: _CONDOR_ environment overrides, --cred-dir beats
// config, -v logs to stderr, and SIGHUP (condor_reconfig) reloads config.
func TestConfigSources(t *testing.T) {
	idp := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	d := newDaemon(t, "")
	other := filepath.Join(d.base, "elsewhere")
	d.start("-c", other, "-v")
	d.wait("pid in --cred-dir", func() bool { _, err := os.Stat(filepath.Join(other, "pid")); return err == nil })
	if _, err := os.Stat(filepath.Join(d.credDir, "pid")); err == nil {
		t.Error("config cred dir used despite --cred-dir")
	}
	if _, err := os.Stat(d.logFile); err == nil {
		t.Error("-v still wrote the log file")
	}
	// Provider "late" is not configured: its .top is left alone until the
	// admin adds it and runs condor_reconfig (SIGHUP).
	credd := credtest.NewCredd(t, other)
	credd.NoPidCache = true
	g := idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := credd.StoreTop("bob", "late", blob); err != nil {
		t.Fatal(err)
	}
	credd.Kick()
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(other, "bob", "late.use")); err == nil {
		t.Fatal("unconfigured provider serviced")
	}
	// The kick above already reloaded; this SIGHUP comes within the 5 s
	// rate limit, so the reload is deferred, not dropped.
	d.writeConfig(fmt.Sprintf("LATE_CLIENT_ID = %s\nLATE_TOKEN_URL = %s/token\nLATE_CLIENT_SECRET_FILE = %s", oidcprovider.ClientIDPost, idp.Issuer, writeSecret(t)))
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.wait("late.use after reconfig", func() bool { _, err := os.Stat(filepath.Join(other, "bob", "late.use")); return err == nil })
	// The line is logged after the .use is in place: wait for it.
	d.wait("the success line on stderr (-v)", func() bool {
		return strings.Contains(d.stderr.String(), "Successfully refreshed late tokens for user bob")
	})
	d.cmd.Process.Signal(syscall.SIGINT)
	if code := d.exitCode(20 * time.Second); code != 0 {
		t.Errorf("exit after SIGINT = %d", code)
	}

	// _CONDOR_ overrides a config file knob.
	d2 := newDaemon(t, "")
	envDir := filepath.Join(d2.base, "from-env")
	cmd := d2.command("-v")
	cmd.Env = append(cmd.Env, "_CONDOR_SEC_CREDENTIAL_DIRECTORY_OAUTH="+envDir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(envDir, "pid")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("_CONDOR_SEC_CREDENTIAL_DIRECTORY_OAUTH not honoured; stderr: %s", d2.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGQUIT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGQUIT: %v; want 0", err)
	}
}

// TestLogRotation: MAX_<NAME>_LOG (with HTCondor's size units) rotates the
// daemon log to .old.
func TestLogRotation(t *testing.T) {
	d := newDaemon(t, "MAX_CREDMON_OAUTH_LOG = 1 Kb\nNOURL_CLIENT_ID = x")
	// Tokens that cannot be refreshed log a debug line at every pass.
	os.MkdirAll(d.credDir, 0o2770)
	os.Chmod(d.credDir, 0o2770)
	for i := 0; i < 20; i++ {
		u := filepath.Join(d.credDir, fmt.Sprintf("u%02d", i))
		os.Mkdir(u, 0o700)
		os.WriteFile(filepath.Join(u, "nourl.top"), []byte(`{"refresh_token": "x"}`), 0o600)
	}
	d.start("-d")
	// Like credd, signal only the pid the pid file names: it is written
	// after the SIGHUP handler is installed.
	d.wait("pid file", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "pid")); return err == nil })
	d.wait("CredMonOAuthLog.old", func() bool {
		d.cmd.Process.Signal(syscall.SIGHUP)
		_, err := os.Stat(d.logFile + ".old")
		return err == nil
	})
	fi, _ := os.Stat(d.logFile + ".old")
	if fi.Size() < 1024 {
		t.Errorf("rotated at %d bytes; want >= 1024", fi.Size())
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(20 * time.Second); code != 0 {
		t.Errorf("exit = %d", code)
	}
	if !strings.Contains(d.log(), "Now in new log file") && !strings.Contains(d.log(), "shutting down") {
		t.Errorf("new log file has no lines:\n%s", d.log())
	}
}

// TestEventOverflowRescans: when the kernel's inotify queue overflows, the
// daemon rescans everything at once instead of waiting for the periodic
// pass. The queue is made tiny for the daemon's inotify instance only
// (fs.inotify.max_queued_events applies at inotify_init, so it is restored
// right after the daemon started), and the daemon is stopped while 300
// tokens appear, so the overflow is certain.
func TestEventOverflowRescans(t *testing.T) {
	const knob = "/proc/sys/fs/inotify/max_queued_events"
	if os.Geteuid() != 0 {
		t.Skip("needs root to lower " + knob)
	}
	old, err := os.ReadFile(knob)
	if err != nil {
		t.Skip(err)
	}
	d := newDaemon(t, "NOURL_CLIENT_ID = x\nCREDMON_OAUTH_SCAN_INTERVAL = 3600")
	if err := os.WriteFile(knob, []byte("16"), 0o644); err != nil {
		t.Skip(err)
	}
	restored := false
	restore := func() {
		if !restored {
			os.WriteFile(knob, old, 0o644)
			restored = true
		}
	}
	defer restore()
	d.start()
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })
	restore()

	d.cmd.Process.Signal(syscall.SIGSTOP)
	const users = 300
	for i := 0; i < users; i++ {
		u := filepath.Join(d.credDir, fmt.Sprintf("ov%03d", i))
		os.Mkdir(u, 0o700)
		os.WriteFile(filepath.Join(u, "nourl.top"), []byte(`{"refresh_token": "x"}`), 0o600)
	}
	d.cmd.Process.Signal(syscall.SIGCONT)
	d.wait("every token seen", func() bool {
		return strings.Count(d.log(), "Cannot refresh nourl for user ov") >= users
	})
	if !strings.Contains(d.log(), "overflowed") {
		t.Error("no overflow was reported: the test did not exercise the overflow path")
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.exitCode(20 * time.Second)
}

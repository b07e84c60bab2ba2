package daemontest

import (
	"context"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// Options says how to run the daemon.
type Options struct {
	// CredDir is the credential directory (SEC_CREDENTIAL_DIRECTORY_OAUTH);
	// the daemon creates it if missing.
	CredDir string
	// Config is more condor_config lines, after the credential directory
	// and CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = True (the tests' issuers
	// are plain http); a later line wins.
	Config string
	// Level is the log level; the zero value is hclog.Debug.
	Level hclog.Level
	// Clock is the daemon's clock; nil is the system clock.
	Clock credmon.Clock
	// NoWatch turns fsnotify off (credmon.Options.NoWatch).
	NoWatch bool
	// Reload makes a SIGHUP (and Rescan) re-read ConfigFile, rate-limited
	// as in the daemon; ReloadHook, if set, runs on the monitor's goroutine
	// at the start of every such read.
	Reload     bool
	ReloadHook func()
	// VaultDial is credmon.Options.VaultDial.
	VaultDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Daemon is a credmon.Monitor made by New or Start. Its test's cleanup
// stops it, closes its directory, and prints Log when the test failed.
type Daemon struct {
	// Monitor is the daemon.
	Monitor *credmon.Monitor
	// Log is what the daemon logged.
	Log *oidcprovider.Buffer
	// CredDir is Options.CredDir.
	CredDir string
	// ConfigFile is the condor_config it read (WriteConfig rewrites it).
	ConfigFile string

	t      testing.TB
	cancel context.CancelFunc
	done   chan error
}

// Start makes the daemon (New) and starts it (Daemon.Start).
func Start(t testing.TB, o Options) *Daemon {
	t.Helper()
	d := New(t, o)
	d.Start()
	return d
}

// New writes the configuration, opens the credential directory and makes
// the daemon without starting it.
func New(t testing.TB, o Options) *Daemon {
	t.Helper()
	d := &Daemon{t: t, CredDir: o.CredDir, Log: &oidcprovider.Buffer{},
		ConfigFile: filepath.Join(t.TempDir(), "condor_config")}
	d.WriteConfig(o.Config)
	load := func() (*knobs.Credmon, error) {
		cfg, err := condorcfg.Load(condorcfg.Options{Subsystem: "CREDMON_OAUTH", ConfigVal: "-",
			Env: []string{"CONDOR_CONFIG=" + d.ConfigFile}})
		if err != nil {
			return nil, err
		}
		return knobs.LoadCredmon(cfg, "CREDMON_OAUTH", knobs.Overrides{})
	}
	cm, err := load()
	if err != nil {
		t.Fatal(err)
	}
	var reload func() (*knobs.Credmon, error)
	if o.Reload {
		reload = func() (*knobs.Credmon, error) {
			if o.ReloadHook != nil {
				o.ReloadHook()
			}
			return load()
		}
	}
	dir, err := credmon.PrepareCredDir(cm.CredDir)
	if err != nil {
		t.Fatal(err)
	}
	level := o.Level
	if level == hclog.NoLevel {
		level = hclog.Debug
	}
	log := hclog.New(&hclog.LoggerOptions{Output: d.Log, Level: level})
	d.Monitor, err = credmon.New(credmon.Options{Config: cm, Dir: dir, Logger: log, Clock: o.Clock, NoWatch: o.NoWatch,
		Reload: reload, VaultDial: o.VaultDial})
	if err != nil {
		dir.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		dir.Close()
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.Log.String())
		}
	})
	return d
}

// WriteConfig replaces ConfigFile's lines after the credential directory
// (and LOCK, a temporary directory) with config. The daemon reads it again only with Options.Reload.
func (d *Daemon) WriteConfig(config string) {
	d.t.Helper()
	// LOCK in the config's own directory: the state file's default place
	// ($(LOCK)/credmon_oauth-state.json) must never be a real
	// /var/lock/condor of the machine the tests run on.
	conf := "SEC_CREDENTIAL_DIRECTORY_OAUTH = " + d.CredDir + "\nLOCK = " + filepath.Dir(d.ConfigFile) +
		"\nCREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = True\n" + config + "\n"
	if err := os.WriteFile(d.ConfigFile, []byte(conf), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// Start runs the daemon and routes this process's SIGHUPs to it; it
// returns once the daemon has written its pid file (the moment credd can
// kick it).
func (d *Daemon) Start() {
	d.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.done = make(chan error, 1)
	routeSIGHUP(d.Monitor)
	go func() { d.done <- d.Monitor.Run(ctx) }()
	WaitFor(d.t, "the daemon's pid file", func() bool {
		_, err := os.Stat(filepath.Join(d.CredDir, "pid"))
		return err == nil
	})
}

// Stop stops a started daemon and waits until Run has returned (a refresh
// already sent is saved first, as in the daemon); it is a no-op on a daemon
// that is not running.
func (d *Daemon) Stop() {
	if d.cancel == nil {
		return
	}
	d.cancel()
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("the daemon's Run returned %v", err)
		}
	case <-time.After(stopBound):
		d.t.Error("the daemon's Run did not return after cancel")
	}
	d.cancel = nil
}

// stopBound and waitBound are safety nets against a hang, not statements
// about speed; waitPoll is how often WaitFor looks.
const (
	stopBound = 30 * time.Second
	waitBound = 60 * time.Second
	waitPoll  = 5 * time.Millisecond
)

// WaitFor returns once cond holds, looking every few milliseconds; after
// a minute it fails the test with "timed out waiting for what". cond names
// the event waited for (a file, a counter, a log line): the bound is a
// safety net against a hang, not an assertion about speed.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(waitPoll)
	}
}

var (
	sighupMu  sync.Mutex
	sighupMon *credmon.Monitor
	sighupOne sync.Once
)

// routeSIGHUP makes the SIGHUPs sent to this process (by the credd
// emulator or the condor_store_cred stand-in) rescan m, as they would wake
// the daemon: one signal.Notify for the process, routed to the monitor of
// the latest call.
func routeSIGHUP(m *credmon.Monitor) {
	sighupOne.Do(func() {
		ch := make(chan os.Signal, 64)
		signal.Notify(ch, syscall.SIGHUP)
		go func() {
			for range ch {
				sighupMu.Lock()
				if sighupMon != nil {
					sighupMon.Rescan()
				}
				sighupMu.Unlock()
			}
		}()
	})
	sighupMu.Lock()
	sighupMon = m
	sighupMu.Unlock()
}

package daemontest_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/credmon/credmon/credmon/credtest/daemontest"
)

// quiet starts a daemon that passes only when asked: no fsnotify, and its
// periodic pass an hour away.
func quiet(t *testing.T) *daemontest.Daemon {
	t.Helper()
	d := daemontest.Start(t, daemontest.Options{CredDir: filepath.Join(t.TempDir(), "oauth_credentials"),
		Config: "CREDMON_OAUTH_SCAN_INTERVAL = 3600", NoWatch: true})
	daemontest.WaitFor(t, "the first pass", func() bool { s := d.Monitor.Stats(); return s.Completed >= 1 && s.Completed == s.Passes })
	return d
}

// sighup kicks the daemon as credd does, with a SIGHUP to the pid in its
// pid file, and waits for the pass it asks for.
func sighup(t *testing.T, d *daemontest.Daemon) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.CredDir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file %q; want this process, %d", got, os.Getpid())
	}
	n := d.Monitor.Stats().Passes
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	daemontest.WaitFor(t, "the pass the SIGHUP asked for", func() bool { return d.Monitor.Stats().Passes > n })
}

// TestSIGHUPReachesEachTestsDaemon: tests that run one after another each
// get the SIGHUPs sent while their daemon runs, and the daemon's log.
func TestSIGHUPReachesEachTestsDaemon(t *testing.T) {
	var first *daemontest.Daemon
	t.Run("first", func(t *testing.T) {
		first = quiet(t)
		sighup(t, first)
	})
	t.Run("second", func(t *testing.T) {
		passes := first.Monitor.Stats().Passes
		second := quiet(t)
		sighup(t, second)
		sighup(t, second)
		if got := first.Monitor.Stats().Passes; got != passes {
			t.Errorf("the first test's stopped daemon made %d passes after its test", got-passes)
		}
		if !strings.Contains(second.Log.String(), "credential directory "+second.CredDir) {
			t.Errorf("the daemon's log does not name its directory:\n%s", second.Log.String())
		}
	})
}

// TestStopAndRestart: Stop waits for Run (the pid file is gone), a second
// Stop does nothing, and the test's cleanup stops a daemon it started again.
func TestStopAndRestart(t *testing.T) {
	d := quiet(t)
	d.Stop()
	if _, err := os.Stat(filepath.Join(d.CredDir, "pid")); !os.IsNotExist(err) {
		t.Errorf("pid file after Stop: %v", err)
	}
	d.Stop()
	d.Start()
	sighup(t, d)
}

// TestStateFileInTempLock: the daemon's default state file goes under the
// test's LOCK, never a real /var/lock/condor.
func TestStateFileInTempLock(t *testing.T) {
	d := quiet(t)
	want := filepath.Join(filepath.Dir(d.ConfigFile), "credmon_oauth-state.json")
	daemontest.WaitFor(t, "the state file under the test's LOCK", func() bool {
		_, err := os.Stat(want)
		return err == nil
	})
}

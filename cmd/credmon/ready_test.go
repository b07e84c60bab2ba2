package main

// DC_SET_READY end to end: the real binary, started with the environment
// condor_master gives a credmon, talking to the master emulator
// (internal/ready/mastertest) on loopback.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/ready/mastertest"
)

// waitMaster waits until cond holds for the emulator, re-checking at each
// of its changes (never on a timer); 60 s is only a failure bound.
func waitMaster(t *testing.T, d *daemon, fm *mastertest.Master, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		ch := fm.Changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-d.exited:
			t.Fatalf("daemon exited while waiting for %s: %v", what, d.err)
		case <-deadline:
			t.Fatalf("timed out waiting for %s (master rejected %q)", what, fm.Rejected())
		}
	}
}

func TestReadyAfterFirstPass(t *testing.T) {
	fm := mastertest.Start(t, mastertest.Options{SharedPort: true})
	d := newDaemon(t, "")
	d.env = fm.Env()
	complete := filepath.Join(d.credDir, "CREDMON_COMPLETE")

	for run := 1; run <= 2; run++ {
		// The second run is condor_restart -daemon CREDMON_OAUTH: a new
		// process, whose ready state the master does not have yet.
		d.start()
		pid := d.cmd.Process.Pid
		waitMaster(t, d, fm, "DC_SET_READY", func() bool { return len(fm.Accepted()) == run })
		got := fm.Accepted()[run-1]
		if got != (mastertest.Ready{PID: pid, Name: "CREDMON_OAUTH", State: "Ready"}) {
			t.Errorf("run %d: master accepted %+v; want pid %d, CREDMON_OAUTH, Ready", run, got, pid)
		}
		if _, err := os.Stat(complete); err != nil {
			t.Errorf("run %d: ready before CREDMON_COMPLETE: %v", run, err)
		}
		if fm.State(pid) != "Ready" {
			t.Errorf("run %d: CREDMON_OAUTH_State = %q", run, fm.State(pid))
		}
		d.wait("the 'sent DC_SET_READY' line", func() bool { return strings.Contains(d.log(), "sent DC_SET_READY (Ready, pid") })

		// condor_reconfig / credd's SIGHUP: a new pass, no resend (the
		// master keeps the state for the life of the process).
		st, _ := os.Stat(complete)
		d.cmd.Process.Signal(syscall.SIGHUP)
		d.wait("CREDMON_COMPLETE touched again", func() bool {
			st2, err := os.Stat(complete)
			return err == nil && !os.SameFile(st, st2) || err == nil && !st2.ModTime().Equal(st.ModTime())
		})
		if n := fm.Connections(); n != run {
			t.Errorf("run %d: %d connections to the master after a SIGHUP pass; want %d", run, n, run)
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		if code := d.exitCode(60 * time.Second); code != 0 {
			t.Fatalf("run %d: exit %d", run, code)
		}
	}
	if r := fm.Rejected(); len(r) != 0 {
		t.Errorf("master rejected %q", r)
	}
	log := d.log()
	if strings.Contains(log, fm.SessionKey()) || strings.Contains(log, "WARNING:") {
		t.Errorf("log shows the session or a warning:\n%s", log)
	}
}

// A master that refuses the session: a warning, and the daemon carries on.
func TestReadyRefusedIsAWarning(t *testing.T) {
	fm := mastertest.Start(t, mastertest.Options{Mode: mastertest.SIDNotFound})
	d := newDaemon(t, "")
	d.env = fm.Env()
	d.start()
	d.wait("the warning", func() bool { return strings.Contains(d.log(), "Could not send DC_SET_READY message to master") })
	if n := fm.Connections(); n != 1 {
		t.Errorf("%d connections; SID_NOT_FOUND is not worth a retry", n)
	}
	for _, line := range strings.Split(d.log(), "\n") {
		if strings.Contains(line, "Could not send") && !strings.Contains(line, "SID_NOT_FOUND") {
			t.Errorf("the warning does not say why: %q", line)
		}
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(60 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// Started by hand: no CONDOR_INHERIT, one debug line, nothing else.
func TestReadyWithoutMaster(t *testing.T) {
	d := newDaemon(t, "")
	d.env = []string{"CONDOR_INHERIT=", "CONDOR_PRIVATE_INHERIT="}
	d.start("-d")
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(60 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	log := d.log()
	if n := strings.Count(log, "not started by condor_master"); n != 1 {
		t.Errorf("%d 'not started by condor_master' lines; want 1:\n%s", n, log)
	}
	if strings.Contains(log, "DC_SET_READY message") {
		t.Errorf("tried to send without a master:\n%s", log)
	}
}

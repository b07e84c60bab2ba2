package statefile_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/statefile"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestAssess(t *testing.T) {
	alive := func(pid int) bool { return pid == 10 }
	for _, tc := range []struct {
		name string
		s    statefile.State
		now  time.Time
		want statefile.Liveness
	}{
		{"fresh", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 60}, t0.Add(time.Minute), statefile.Running},
		{"two intervals is still fresh", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 60}, t0.Add(2 * time.Minute), statefile.Running},
		{"older than two intervals", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 60}, t0.Add(2*time.Minute + time.Second), statefile.Stale},
		{"short interval", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 5}, t0.Add(11 * time.Second), statefile.Stale},
		{"interval below the write interval", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 1}, t0.Add(9 * time.Second), statefile.Running},
		{"interval below the write interval, stale", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 1}, t0.Add(11 * time.Second), statefile.Stale},
		{"no interval: a minute", statefile.State{Pid: 10, WrittenAt: t0}, t0.Add(90 * time.Second), statefile.Running},
		{"dead pid", statefile.State{Pid: 11, WrittenAt: t0, ScanIntervalSec: 60}, t0, statefile.Stopped},
		{"stopped marker beats a live pid", statefile.State{Pid: 10, WrittenAt: t0, ScanIntervalSec: 60, Stopped: true}, t0, statefile.Stopped},
	} {
		got, msg := statefile.Assess(&tc.s, tc.now, alive)
		if got != tc.want || msg == "" {
			t.Errorf("%s: %s (%s), want %s", tc.name, got, msg, tc.want)
		}
	}
}

func TestPidAlive(t *testing.T) {
	if !statefile.PidAlive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if statefile.PidAlive(0) || statefile.PidAlive(-1) {
		t.Error("pid <= 0 is alive")
	}
}

func TestReadAndReport(t *testing.T) {
	s := statefile.State{Version: statefile.Version, Daemon: "CREDMON_OAUTH", Pid: 10, WrittenAt: t0, ScanIntervalSec: 60,
		Credentials: []statefile.Credential{
			{User: "alice", Token: "a", Type: "oauth2", Present: true, Expiry: t0.Add(time.Hour)},
			{User: "bob", Token: "b", Type: "local", NeedsHuman: "fix the key"},
			{User: "bob", Token: "c", Type: "vault", Present: true, Expiry: t0.Add(-time.Minute), Failures: 2, Error: "down", RetryAt: t0.Add(time.Minute)},
		}}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	b, _ := json.Marshal(s)
	os.WriteFile(path, b, 0o640)
	got, err := statefile.Read(path)
	if err != nil || len(got.Credentials) != 3 || !got.WrittenAt.Equal(t0) {
		t.Fatalf("Read: %+v, %v", got, err)
	}
	alive := func(int) bool { return true }
	r := statefile.NewReport(path, got, "bob", t0, alive)
	if len(r.Credentials) != 2 || r.NeedsHuman != 1 || r.Liveness != statefile.Running || len(got.Credentials) != 3 {
		t.Errorf("report for bob: %+v", r)
	}
	var out bytes.Buffer
	r.WriteText(&out, t0)
	for _, want := range []string{"NEEDS A HUMAN", "bob/b: fix the key", "EXPIRED 1m ago", "failing (2), retry in 1m: down"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
	// JSON of a report: the state's fields inline, plus the assessment.
	j, _ := json.Marshal(statefile.NewReport(path, got, "", t0, alive))
	var m map[string]any
	json.Unmarshal(j, &m)
	for _, k := range []string{"state_file", "liveness", "message", "needs_human", "version", "pid", "written_at", "credentials"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q: %s", k, j)
		}
	}

	s.Version = 2
	b, _ = json.Marshal(s)
	os.WriteFile(path, b, 0o640)
	if _, err := statefile.Read(path); err == nil {
		t.Error("a future schema version was read")
	}
}

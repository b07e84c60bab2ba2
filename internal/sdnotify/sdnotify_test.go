package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a unixgram socket of the test's own, as systemd's
// notification socket, and returns its name and a receive function.
func listen(t *testing.T, name string) func() string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a failure bound only
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
}

func TestMessages(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		fmt.Sprintf("@credmon-sdnotify-test-%d", os.Getpid()), // abstract
	} {
		t.Run(name[:1], func(t *testing.T) {
			recv := listen(t, name)
			t.Setenv("NOTIFY_SOCKET", name)
			n, err := FromEnv()
			if err != nil || n == nil {
				t.Fatalf("FromEnv: %v, %v", n, err)
			}
			defer n.Close()
			if v, ok := os.LookupEnv("NOTIFY_SOCKET"); ok {
				t.Errorf("NOTIFY_SOCKET=%q left for child processes", v)
			}
			n.Ready("")
			if got := recv(); got != "READY=1\n" {
				t.Errorf("Ready: %q", got)
			}
			n.Ready("2 tokens\nnext")
			if got := recv(); got != "READY=1\nSTATUS=2 tokens next\n" {
				t.Errorf("Ready with status: %q", got)
			}
			n.Reloading()
			got := recv()
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
				t.Fatalf("Reloading: %q", got)
			}
			if u, err := strconv.ParseUint(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64); err != nil || u == 0 {
				t.Errorf("MONOTONIC_USEC: %q, %v", lines[1], err)
			}
			n.Stopping()
			if got := recv(); got != "STOPPING=1\n" {
				t.Errorf("Stopping: %q", got)
			}
			n.Watchdog()
			if got := recv(); got != "WATCHDOG=1\n" {
				t.Errorf("Watchdog: %q", got)
			}
		})
	}
}

func TestNoSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n, err := FromEnv()
	if n != nil || err != nil {
		t.Fatalf("FromEnv without NOTIFY_SOCKET: %v, %v", n, err)
	}
	// A nil Notifier is usable and silent.
	for _, err := range []error{n.Ready("x"), n.Reloading(), n.Stopping(), n.Watchdog(), n.Close()} {
		if err != nil {
			t.Error(err)
		}
	}
	if _, err := Dial("relative/path"); err == nil {
		t.Error("Dial of a relative path: no error")
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, c := range []struct {
		usec, pid string
		want      time.Duration
		ok        bool
	}{
		{"", "", 0, false},
		{"60000000", "", 30 * time.Second, true},
		{"60000000", "42", 30 * time.Second, true},
		{"60000000", "43", 0, false}, // another process's watchdog
		{"60000000", "x", 0, false},
		{"0", "", 0, false},
		{"-5", "", 0, false},
		{"abc", "", 0, false},
	} {
		got, ok := watchdogInterval(c.usec, c.pid, 42)
		if got != c.want || ok != c.ok {
			t.Errorf("watchdogInterval(%q, %q) = %v, %v; want %v, %v", c.usec, c.pid, got, ok, c.want, c.ok)
		}
	}
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if got, ok := WatchdogInterval(); got != time.Second || !ok {
		t.Errorf("WatchdogInterval: %v, %v", got, ok)
	}
	if _, ok := os.LookupEnv("WATCHDOG_USEC"); ok {
		t.Error("WATCHDOG_USEC left for child processes")
	}
}

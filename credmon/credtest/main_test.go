package credtest_test

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/credmon/credmon/credmon/credtest"
)

// hup receives every SIGHUP sent to the test binary. Credd.Kick signals
// whatever the pid file names, and the credd tests name this process; the
// handler is installed once for the whole binary because after
// signal.Stop a late SIGHUP would kill the test run.
var hup = make(chan os.Signal, 16)

func TestMain(m *testing.M) {
	signal.Notify(hup, syscall.SIGHUP)
	os.Exit(m.Run())
}

// drainHUP discards signals left over from an earlier test.
func drainHUP() {
	for {
		select {
		case <-hup:
		default:
			return
		}
	}
}

// fakeCredmon makes this process the credmon of c: it writes c.Dir/pid and,
// for every SIGHUP, calls answer (typically writing some .use files). It
// stops when the test ends.
func fakeCredmon(t *testing.T, c *credtest.Credd, answer func()) {
	t.Helper()
	drainHUP()
	writePid(t, c, []byte(strconv.Itoa(os.Getpid())))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				answer()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func writePid(t *testing.T, c *credtest.Credd, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.Dir, "pid"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeUse writes a .use the way a credmon must: temp file, then rename.
func writeUse(t testing.TB, c *credtest.Credd, user, name, content string) {
	p := c.UsePath(user, name)
	tmp := filepath.Join(filepath.Dir(p), ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Error(err)
		return
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Error(err)
	}
}

// within reports whether d is in [lo, hi].

package oidcagent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/producer/oidcagent"
)

// settle is how long a test waits to see that a LockAccount call is still
// blocked: a lower bound on its wait, never a speed assertion.
const settle = 200 * time.Millisecond

// lockResult is what a LockAccount call running in a goroutine returned.
type lockResult struct {
	unlock func()
	err    error
}

func lockAsync(ctx context.Context, dir, name string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		u, err := oidcagent.LockAccount(ctx, dir, name)
		ch <- lockResult{u, err}
	}()
	return ch
}

// stillWaiting fails the test when ch delivers within settle.
func stillWaiting(t *testing.T, ch <-chan lockResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		if r.unlock != nil {
			r.unlock()
		}
		t.Fatalf("%s: LockAccount returned (%v) while another holder had the lock", what, r.err)
	case <-time.After(settle):
	}
}

func got(t *testing.T, ch <-chan lockResult, what string) func() {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: LockAccount = %v", what, r.err)
		}
		return r.unlock
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: LockAccount still waiting after the holder unlocked", what)
	}
	return nil
}

// busy asserts that the account's current file is locked by someone: a
// LockAccount with a short deadline gives up with ErrAccountBusy.
func busy(t *testing.T, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	u, err := oidcagent.LockAccount(ctx, dir, name)
	if err == nil {
		u()
		t.Fatal("LockAccount succeeded on an account another holder has locked")
	}
	if !errors.Is(err, oidcagent.ErrAccountBusy) || !strings.Contains(err.Error(), "account "+name) {
		t.Fatalf("LockAccount = %v; want ErrAccountBusy naming account %s", err, name)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LockAccount = %v wraps context.DeadlineExceeded (read as an unreachable issuer)", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replace swaps dir/name for a new file by rename, as Save does.
func replace(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func TestLockAccountExcludes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "robot"), "v1")
	u1, err := oidcagent.LockAccount(context.Background(), dir, "robot")
	if err != nil {
		t.Fatal(err)
	}
	second := lockAsync(context.Background(), dir, "robot")
	stillWaiting(t, second, "second holder")
	busy(t, dir, "robot")
	u1()
	u1() // a second unlock does nothing
	u2 := got(t, second, "second holder")
	busy(t, dir, "robot")
	u2()
	u3, err := oidcagent.LockAccount(context.Background(), dir, "robot")
	if err != nil {
		t.Fatalf("LockAccount after both unlocked = %v", err)
	}
	u3()
}

// A waiter whose file is replaced by rename (Save) while it waits ends up
// holding the lock on the new file, not on the orphaned old one.
func TestLockAccountFollowsReplace(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "robot"), "v1")
	u1, err := oidcagent.LockAccount(context.Background(), dir, "robot")
	if err != nil {
		t.Fatal(err)
	}
	waiter := lockAsync(context.Background(), dir, "robot")
	stillWaiting(t, waiter, "waiter")
	replace(t, dir, "robot", "v2")

	// A newcomer locks the new file while the first holder still holds
	// the old one: the first holder is done with the account.
	u3, err := oidcagent.LockAccount(context.Background(), dir, "robot")
	if err != nil {
		t.Fatal(err)
	}
	u1()
	// The waiter now has the old file's lock, sees it was replaced and
	// queues behind the newcomer.
	stillWaiting(t, waiter, "waiter after the old file was unlocked")
	u3()
	u2 := got(t, waiter, "waiter")
	defer u2()
	busy(t, dir, "robot") // the waiter's lock is on the current file
}

// Without a newcomer: the waiter gets the old file's lock when the holder
// unlocks, and must move to the new file.
func TestLockAccountWaiterMovesToNewFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "robot"), "v1")
	u1, err := oidcagent.LockAccount(context.Background(), dir, "robot")
	if err != nil {
		t.Fatal(err)
	}
	waiter := lockAsync(context.Background(), dir, "robot")
	stillWaiting(t, waiter, "waiter")
	replace(t, dir, "robot", "v2")
	u1()
	u2 := got(t, waiter, "waiter")
	defer u2()
	busy(t, dir, "robot")
}

func TestLockAccountMissingAndInvalid(t *testing.T) {
	dir := t.TempDir()
	u, err := oidcagent.LockAccount(context.Background(), dir, "nobody")
	if err != nil {
		t.Fatalf("LockAccount of a missing account = %v; want a no-op lock", err)
	}
	u()
	if _, err := oidcagent.LockAccount(context.Background(), dir, "../x"); err == nil {
		t.Error("LockAccount accepted an invalid account name")
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := oidcagent.LockAccount(context.Background(), dir, "adir"); err == nil {
		t.Error("LockAccount locked a directory")
	}
}

// A symlinked account is refused, as Load refuses it: no lock is taken
// through the link, and the error names the path.
func TestLockAccountSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "real")
	writeFile(t, target, "v1")
	if err := os.Symlink(target, filepath.Join(dir, "robot")); err != nil {
		t.Fatal(err)
	}
	u, err := oidcagent.LockAccount(context.Background(), dir, "robot")
	if err == nil {
		u()
		t.Fatal("LockAccount locked a symlinked account")
	}
	if !errors.Is(err, atomicfile.ErrNotRegular) || !strings.Contains(err.Error(), filepath.Join(dir, "robot")) {
		t.Errorf("LockAccount(symlink) error = %v; want ErrNotRegular naming the path", err)
	}
}

// Another process: while it holds the lock LockAccount waits; when it
// exits (without unlocking) the kernel drops its lock.
func TestLockAccountAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "robot"), "v1")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OIDCAGENT_LOCK_HELPER="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, len("locked\n"))
	if _, err := io.ReadFull(stdout, line); err != nil || string(line) != "locked\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	waiter := lockAsync(context.Background(), dir, "robot")
	stillWaiting(t, waiter, "waiting on another process")
	stdin.Close() // the helper exits, holding the lock
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	got(t, waiter, "after the other process exited")()
}

// TestMain runs the lock helper process of TestLockAccountAcrossProcesses:
// lock, say so, hold until stdin closes, exit without unlocking.
func TestMain(m *testing.M) {
	if dir := os.Getenv("OIDCAGENT_LOCK_HELPER"); dir != "" {
		if _, err := oidcagent.LockAccount(context.Background(), dir, "robot"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

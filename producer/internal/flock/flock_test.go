package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Two open file descriptions of one file exclude each other; the waiter
// gets the lock once the holder lets go, and gives up when its context
// ends first.
func TestWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	holder, waiter := open(t, path), open(t, path)
	if err := Wait(context.Background(), holder, time.Millisecond); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := Wait(ctx, waiter, time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait while held = %v; want the context's error", err)
	}

	got := make(chan error, 1)
	go func() { got <- Wait(context.Background(), waiter, time.Millisecond) }()
	select {
	case err := <-got:
		t.Fatalf("Wait returned %v while the lock was held", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("Wait after the holder unlocked: %v", err)
	}
	// The waiter holds it now: the first descriptor cannot take it.
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Errorf("flock by the old holder = %v; want EWOULDBLOCK", err)
	}
}

// A descriptor flock cannot lock is an error at once, not a wait.
func TestWaitBadDescriptor(t *testing.T) {
	f := open(t, filepath.Join(t.TempDir(), "lock"))
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Wait(ctx, f, time.Millisecond); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a closed file = %v; want an immediate error", err)
	}
}

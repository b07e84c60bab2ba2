package renewer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning is returned when another run holds the lock for longer
// than Renewer.LockWait.
var ErrAlreadyRunning = errors.New("credmon: renewal already running")

// DefaultLockWait is how long a run waits for another run's lock. A run
// takes seconds (one grant per token); a timer run that coincides with a
// manual one therefore waits for it and then renews what is due, instead
// of failing. After this long the other run is presumed stuck and the
// waiter reports ErrAlreadyRunning (exit code ExitLocked).
const DefaultLockWait = 30 * time.Second

// lockPoll is how often a waiting run retries the lock. flock has no
// timed wait; polling a non-blocking flock keeps the wait cancellable.
const lockPoll = 50 * time.Millisecond

// fileLock is an exclusive flock(2) on an open file description: two
// Renewers (in two processes, or two in one process) exclude each other,
// and the kernel drops the lock when the holder dies, so there is no stale
// lock to clean up (caddy#4448).
type fileLock struct{ f *os.File }

func acquireLock(ctx context.Context, path string, wait time.Duration) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: %s is locked by another run", ErrAlreadyRunning, path)
		}
		t := time.NewTimer(min(lockPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}

func (l *fileLock) release() {
	if l != nil && l.f != nil {
		_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.f.Close()
	}
}

package oidcagent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/producer/internal/flock"
)

// ErrAccountBusy means LockAccount gave up: another process held the
// account's lock until the caller's context ended.
var ErrAccountBusy = errors.New("oidcagent: account in use by another process")

// DefaultLockWait is how long credmon-token waits for another process's
// hold on an account. A holder does a few refreshes, each bounded by its
// own timeout (20-30 s), and saves; a holder that dies drops the lock at
// once. So a longer wait means a stuck holder, better reported than
// waited for.
const DefaultLockWait = 2 * time.Minute

// lockPoll is how often a waiting LockAccount retries (flock.Wait).
const lockPoll = 25 * time.Millisecond

// LockAccount takes an exclusive lock on the account dir/name, for a caller
// that loads, refreshes and saves it: two such callers (two processes, or
// two in one process) must never use the same refresh token, or an issuer
// that rotates refresh tokens detects the reuse and revokes the grant.
// Hold the lock from before Load until after Save, then call unlock (once
// or more; later calls do nothing).
//
// The lock is a flock(2) on the account file itself. A separate lock file
// would have to live in the oidc-agent directory, where oidc-agent lists
// files as accounts. Since Save replaces the file by a rename, a lock on
// the old file does not cover the new one: LockAccount locks the file it
// opened and then checks that the path still names that file, and starts
// over when it does not (lock-then-verify). A waiter therefore moves to the
// new file when the holder saves and unlocks. A holder that saves and then
// needs the account again must lock the new file (LockAccount again) before
// it unlocks the old one.
//
// A missing file has nothing to protect: unlock is then a no-op and the
// caller's Load reports the missing account. A symlink at dir/name is
// refused, as Load refuses it (atomicfile.ErrNotRegular). Waiting honours ctx; when ctx ends first
// the error wraps ErrAccountBusy and names the account. The kernel drops
// the lock of a process that dies: there is no stale lock.
func LockAccount(ctx context.Context, dir, name string) (unlock func(), err error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	for {
		f, _, err := atomicfile.OpenRegular(path, atomicfile.OpenOptions{})
		if errors.Is(err, fs.ErrNotExist) {
			return func() {}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("oidcagent: opening account %s to lock it: %w", path, err)
		}
		if err := flock.Wait(ctx, f, lockPoll); err != nil {
			f.Close()
			if ctx.Err() != nil {
				// The cause is not wrapped: a lock wait that timed out is
				// not an unreachable issuer, which is what callers make of
				// context.DeadlineExceeded.
				return nil, fmt.Errorf("waiting for the lock on account %s (%s): %w (%v)", name, path, ErrAccountBusy, context.Cause(ctx))
			}
			return nil, fmt.Errorf("oidcagent: locking account %s: %w", path, err)
		}
		same, err := sameFile(f, path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.Close()
			return nil, fmt.Errorf("oidcagent: checking the locked account %s: %w", path, err)
		}
		if same {
			return unlocker(f), nil
		}
		// Replaced (Save) or removed while we waited: our lock is on a
		// file nobody will read again.
		f.Close()
	}
}

// sameFile reports whether path (not followed) is still the file f has
// open.
func sameFile(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	a, ok1 := held.Sys().(*syscall.Stat_t)
	b, ok2 := now.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// unlocker releases f's lock and closes it, once.
func unlocker(f *os.File) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		})
	}
}

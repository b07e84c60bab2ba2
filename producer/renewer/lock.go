package renewer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/credmon/credmon/producer/internal/flock"
)

// ErrAlreadyRunning is returned when another run holds the lock for longer
// than the lock wait (30 s).
var ErrAlreadyRunning = errors.New("credmon: renewal already running")

// defaultLockWait is how long a run waits for another run's lock. A run
// takes seconds (one grant per token); a timer run that coincides with a
// manual one therefore waits for it and then renews what is due, instead
// of failing. After this long the other run is presumed stuck and the
// waiter reports ErrAlreadyRunning.
const defaultLockWait = 30 * time.Second

// lockPoll is how often a waiting run retries the lock (flock.Wait).
const lockPoll = 50 * time.Millisecond

// fileLock is an exclusive flock(2) on an open file description: two
// Renewers (in two processes, or two in one process) exclude each other,
// and the kernel drops the lock when the holder dies, so there is no stale
// lock to clean up (caddy#4448).
type fileLock struct{ f *os.File }

func acquireLock(ctx context.Context, path string, wait time.Duration) (*fileLock, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	switch err := flock.Wait(wctx, f, lockPoll); {
	case err == nil:
		return &fileLock{f: f}, nil
	case ctx.Err() != nil:
		f.Close()
		return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
	case wctx.Err() != nil:
		f.Close()
		return nil, fmt.Errorf("%w: %s is locked by another run", ErrAlreadyRunning, path)
	default:
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
}

func (l *fileLock) release() {
	if l != nil && l.f != nil {
		_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.f.Close()
	}
}

// openLockFile opens path, creating it (mode 0600) when missing. Never
// through a symlink. A lock file root creates in a directory that belongs
// to someone else — the unit's RuntimeDirectory when the unit runs as a
// service user — is given to that owner, so that the service can still
// open it; only a file just created is, never one found there.
func openLockFile(path string) (*os.File, error) {
	for range 3 { // a file removed between the two opens: try again
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err == nil {
			giveToDirOwner(f, path)
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		f, err = os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("%s keeps disappearing", path)
}

// giveToDirOwner chowns f, which root has just created at path, to the
// owner of path's directory when that is not root (best effort).
func giveToDirOwner(f *os.File, path string) {
	if os.Geteuid() != 0 {
		return
	}
	fi, err := os.Lstat(filepath.Dir(path))
	if err != nil {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		_ = f.Chown(int(st.Uid), int(st.Gid))
	}
}

// lockName is the default lock file's name.
const lockName = "renew.lock"

// serviceRuntimeDir is the units' RuntimeDirectory=credmon-token: the
// default lock's directory for root and for the service user, so that a
// manual run and the timer's run share one lock whether or not systemd
// started them.
const serviceRuntimeDir = "/run/credmon-token"

// lockPlace is a default lock file and how its directory is made.
type lockPlace struct {
	path string
	// create: make the directory with mode when it is missing.
	create bool
	mode   fs.FileMode
	// private: the directory must be the user's own and closed to others
	// (a directory in a shared place such as /tmp that someone else made
	// first could be theirs to swap the lock in).
	private bool
}

// defaultLock chooses the default lock file from its arguments alone, so
// that it does not depend on how the process was started:
//
//  1. $RUNTIME_DIRECTORY/renew.lock when systemd sets it (the first of a
//     colon-separated list);
//  2. for root, serviceRuntimeDir/renew.lock, made with mode 0755 when
//     missing;
//  3. for the user that owns an existing serviceRuntimeDir (the unit runs
//     as a service user; systemd gives it the directory, and
//     RuntimeDirectoryPreserve keeps it between runs), that directory;
//  4. $XDG_RUNTIME_DIR/credmon-token/renew.lock (when absolute, as the XDG
//     spec says), its directory made private;
//  5. tmpDir/credmon-token-<uid>/renew.lock, its directory private.
//
// ownerOf reports the owner of an existing directory (not a symlink).
func defaultLock(getenv func(string) string, uid int, tmpDir string, ownerOf func(dir string) (int, bool)) lockPlace {
	if rd := getenv("RUNTIME_DIRECTORY"); rd != "" {
		return lockPlace{path: filepath.Join(strings.SplitN(rd, ":", 2)[0], lockName)}
	}
	if uid == 0 {
		return lockPlace{path: filepath.Join(serviceRuntimeDir, lockName), create: true, mode: 0o755}
	}
	if owner, ok := ownerOf(serviceRuntimeDir); ok && owner == uid {
		return lockPlace{path: filepath.Join(serviceRuntimeDir, lockName)}
	}
	if xdg := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(xdg) {
		return lockPlace{path: filepath.Join(xdg, "credmon-token", lockName), create: true, mode: 0o700, private: true}
	}
	dir := filepath.Join(tmpDir, fmt.Sprintf("credmon-token-%d", uid))
	return lockPlace{path: filepath.Join(dir, lockName), create: true, mode: 0o700, private: true}
}

// dirOwner is defaultLock's ownerOf: the owner of the directory dir.
func dirOwner(dir string) (int, bool) {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// prepare makes p's directory if it is missing and checks it.
func (p lockPlace) prepare(uid int) error {
	if !p.create {
		return nil
	}
	dir := filepath.Dir(p.path)
	switch err := os.Mkdir(dir, p.mode); {
	case err == nil:
		// Exactly mode, whatever the umask.
		if err := os.Chmod(dir, p.mode); err != nil {
			return fmt.Errorf("setting the mode of lock directory %s: %w", dir, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("creating lock directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking lock directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("lock directory %s is not a directory (%s)", dir, fi.Mode().Type())
	}
	if !p.private {
		return nil
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	if owner != uid || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("refusing lock directory %s: it must belong to uid %d with mode 0700 (it has owner %d, mode %04o)",
			dir, uid, owner, fi.Mode().Perm())
	}
	return nil
}

// defaultLockPath returns the default lock file, its directory made.
func defaultLockPath() (string, error) {
	uid := os.Geteuid()
	p := defaultLock(os.Getenv, uid, os.TempDir(), dirOwner)
	if err := p.prepare(uid); err != nil {
		return "", err
	}
	return p.path, nil
}

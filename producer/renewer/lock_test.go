package renewer

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDefaultLock(t *testing.T) {
	const tmp = "/tmp"
	noDir := func(string) (int, bool) { return 0, false }
	ownedBy := func(uid int) func(string) (int, bool) {
		return func(dir string) (int, bool) { return uid, dir == serviceRuntimeDir }
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		uid     int
		ownerOf func(string) (int, bool)
		want    lockPlace
	}{
		{"systemd RuntimeDirectory", map[string]string{"RUNTIME_DIRECTORY": "/run/credmon-token", "XDG_RUNTIME_DIR": "/run/user/0"}, 0, noDir,
			lockPlace{path: "/run/credmon-token/renew.lock"}},
		{"several RuntimeDirectory entries", map[string]string{"RUNTIME_DIRECTORY": "/run/a:/run/b"}, 1000, noDir,
			lockPlace{path: "/run/a/renew.lock"}},
		{"root by hand: the unit's directory", map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, 0, noDir,
			lockPlace{path: "/run/credmon-token/renew.lock", create: true, mode: 0o755}},
		{"the service user by hand", map[string]string{"XDG_RUNTIME_DIR": "/run/user/990"}, 990, ownedBy(990),
			lockPlace{path: "/run/credmon-token/renew.lock"}},
		{"another user: not the service's directory", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, 1000, ownedBy(990),
			lockPlace{path: "/run/user/1000/credmon-token/renew.lock", create: true, mode: 0o700, private: true}},
		{"user without XDG_RUNTIME_DIR", nil, 1000, noDir,
			lockPlace{path: "/tmp/credmon-token-1000/renew.lock", create: true, mode: 0o700, private: true}},
		{"relative XDG_RUNTIME_DIR is ignored", map[string]string{"XDG_RUNTIME_DIR": "run/user/1000"}, 1000, noDir,
			lockPlace{path: "/tmp/credmon-token-1000/renew.lock", create: true, mode: 0o700, private: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := defaultLock(func(k string) string { return tc.env[k] }, tc.uid, tmp, tc.ownerOf)
			if got != tc.want {
				t.Errorf("defaultLock = %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestLockPlacePrepare(t *testing.T) {
	uid := os.Geteuid()
	base := t.TempDir()
	private := func(dir string) lockPlace {
		return lockPlace{path: filepath.Join(base, dir, lockName), create: true, mode: 0o700, private: true}
	}

	p := private("fresh")
	old := syscall.Umask(0o077)
	err := p.prepare(uid)
	syscall.Umask(old)
	if err != nil {
		t.Fatalf("prepare(new private directory) = %v", err)
	}
	if fi, err := os.Stat(filepath.Dir(p.path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("private lock directory: %v, %v; want mode 0700", fi.Mode().Perm(), err)
	}
	if err := p.prepare(uid); err != nil {
		t.Errorf("prepare(existing private directory) = %v", err)
	}

	// A directory others may write to, one of someone else's, a symlink:
	// refused before any lock file is made in them.
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	if err := private("open").prepare(uid); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("prepare(mode 0777 directory) = %v; want a refusal", err)
	}
	if err := private("fresh").prepare(uid + 1); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("prepare(another user's directory) = %v; want a refusal", err)
	}
	if err := os.Symlink(filepath.Dir(p.path), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	if err := private("link").prepare(uid); err == nil {
		t.Error("prepare(symlink to a directory) succeeded")
	}

	// The shared place (root's /run/credmon-token) is made 0755 whatever
	// the umask, and not held to privacy.
	shared := lockPlace{path: filepath.Join(base, "shared", lockName), create: true, mode: 0o755}
	old = syscall.Umask(0o077)
	err = shared.prepare(uid)
	syscall.Umask(old)
	if fi, serr := os.Stat(filepath.Dir(shared.path)); err != nil || serr != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("prepare(shared) = %v; mode %v (%v); want 0755", err, fi.Mode().Perm(), serr)
	}
	if l, err := acquireLock(t.Context(), shared.path, 0); err != nil {
		t.Errorf("locking in the prepared directory: %v", err)
	} else {
		l.release()
	}
}

// A lock file root creates in a directory of the service user's (the
// unit's RuntimeDirectory with User=) is the service user's, so that the
// service can still open it; an existing file is never chowned.
func TestLockFileGivenToDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own a directory as another user")
	}
	dir := filepath.Join(t.TempDir(), "svc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 990, 991); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, lockName)
	l, err := acquireLock(t.Context(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.release()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 990 || st.Gid != 991 {
		t.Errorf("lock file owner %d:%d; want the directory's 990:991", st.Uid, st.Gid)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err = acquireLock(t.Context(), other, 0); err != nil {
		t.Fatal(err)
	}
	l.release()
	if fi, _ := os.Stat(other); fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Error("an existing lock file was chowned")
	}
}

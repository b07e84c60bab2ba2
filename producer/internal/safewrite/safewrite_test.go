package safewrite

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func owner(t *testing.T, p string) (int, int, fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := fi.Sys().(*syscall.Stat_t)
	return int(s.Uid), int(s.Gid), fi.Mode()
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	// New file: DefaultMode, our ids.
	if err := Replace(p, []byte("1"), Options{DefaultMode: 0o600, UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	if _, _, m := owner(t, p); m.Perm() != 0o600 {
		t.Errorf("new file mode %v", m)
	}
	// Existing file: its mode and (KeepOwner) owner are kept.
	os.Chmod(p, 0o640)
	if os.Geteuid() == 0 {
		os.Chown(p, 12345, 23456)
	}
	if err := Replace(p, []byte("2"), Options{DefaultMode: 0o600, UID: -1, GID: -1, KeepOwner: true, StrictKeep: true}); err != nil {
		t.Fatal(err)
	}
	uid, gid, m := owner(t, p)
	if m.Perm() != 0o640 || (os.Geteuid() == 0 && (uid != 12345 || gid != 23456)) {
		t.Errorf("kept %d:%d %v; want 12345:23456 0640", uid, gid, m)
	}
	if b, _ := os.ReadFile(p); string(b) != "2" {
		t.Errorf("content %q", b)
	}
	// An explicit mode wins.
	mode := fs.FileMode(0o400)
	if err := Replace(p, []byte("3"), Options{Mode: &mode, UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	if _, _, m := owner(t, p); m.Perm() != 0o400 {
		t.Errorf("explicit mode %v", m)
	}
	// A symlink at the name is replaced, its target untouched.
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("target"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if err := Replace(link, []byte("4"), Options{DefaultMode: 0o600, UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "target" {
		t.Errorf("the link's target was written: %q", b)
	}
	if _, _, m := owner(t, link); !m.IsRegular() {
		t.Errorf("the link was not replaced: %v", m)
	}
	// A directory at the name is an error; no temp file is left.
	os.Mkdir(filepath.Join(dir, "d"), 0o700)
	if err := Replace(filepath.Join(dir, "d"), []byte("x"), Options{UID: -1, GID: -1}); err == nil {
		t.Error("replaced a directory")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if len(e.Name()) > 0 && e.Name()[0] == '.' {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

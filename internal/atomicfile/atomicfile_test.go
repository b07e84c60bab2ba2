package atomicfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/atomicfile"
)

func open(t *testing.T) (*atomicfile.Dir, string) {
	t.Helper()
	p := t.TempDir()
	d, err := atomicfile.OpenDir(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, p
}

func TestWriteFileModeAndContent(t *testing.T) {
	d, p := open(t)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, perm := range []fs.FileMode{0o600, 0o400, 0o644} {
		st, err := d.WriteFile("a.use", []byte("x"), perm)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(p, "a.use"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != perm {
			t.Errorf("mode = %v; want %v", fi.Mode().Perm(), perm)
		}
		if st.ID() != mustStat(t, d, "a.use").ID() {
			t.Error("returned Stat does not identify the file now in place")
		}
	}
	assertNoTemps(t, p)
}

func mustStat(t *testing.T, d *atomicfile.Dir, name string) atomicfile.Stat {
	t.Helper()
	st, err := d.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if atomicfile.IsTemp(e.Name()) {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestNoSymlinkFollowing(t *testing.T) {
	d, p := open(t)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(p, "link.use")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ReadFile("link.use", 100); err == nil {
		t.Error("ReadFile followed a symlink")
	}
	// Replacing a symlink replaces the link itself, never its target.
	if _, err := d.WriteFile("link.use", []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "outside" {
		t.Errorf("symlink target was written: %q", b)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(p, "userlink")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenDir("userlink"); err == nil {
		t.Error("OpenDir followed a symlinked directory")
	}
	for _, bad := range []string{"../x", "a/b", "..", ".", ""} {
		if _, err := d.WriteFile(bad, nil, 0o600); err == nil {
			t.Errorf("WriteFile(%q) accepted a path", bad)
		}
	}
}

func TestReadFileRefusesFIFOAndLimits(t *testing.T) {
	d, p := open(t)
	if err := syscall.Mkfifo(filepath.Join(p, "f.top"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ReadFile("f.top", 100); !errors.Is(err, atomicfile.ErrNotRegular) {
		t.Errorf("ReadFile(fifo) = %v; want ErrNotRegular (and no hang)", err)
	}
	if err := os.WriteFile(filepath.Join(p, "big"), bytes.Repeat([]byte("x"), 101), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ReadFile("big", 100); !errors.Is(err, atomicfile.ErrTooLarge) {
		t.Errorf("ReadFile(big) = %v; want ErrTooLarge", err)
	}
}

func TestRenameFailureLeavesTargetAndNoTemp(t *testing.T) {
	d, p := open(t)
	// A directory where the file should go: rename(2) fails with EISDIR.
	if err := os.Mkdir(filepath.Join(p, "x.use"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteFile("x.use", []byte("data"), 0o600); err == nil {
		t.Fatal("WriteFile over a directory succeeded")
	}
	assertNoTemps(t, p)
}

func TestWriteIntoRemovedDirectory(t *testing.T) {
	_, p := open(t)
	sub := filepath.Join(p, "alice")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	d, err := atomicfile.OpenDir(sub)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteFile("a.use", []byte("x"), 0o600); err == nil {
		t.Error("WriteFile into a removed directory succeeded")
	}
	if _, err := os.Stat(sub); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("directory reappeared: %v", err)
	}
}

// TestReadersNeverSeePartialFiles races readers against writers of
// different sizes: every read must be one complete version.
func TestReadersNeverSeePartialFiles(t *testing.T) {
	d, p := open(t)
	versions := [][]byte{bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 3), bytes.Repeat([]byte("c"), 200<<10)}
	if _, err := d.WriteFile("t.use", versions[0], 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 300; i++ {
			if _, err := d.WriteFile("t.use", versions[i%len(versions)], 0o600); err != nil {
				t.Error(err)
				return
			}
		}
		close(stop)
	}()
	reads := 0
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
		}
		b, err := os.ReadFile(filepath.Join(p, "t.use"))
		if err != nil {
			t.Fatal(err)
		}
		reads++
		ok := false
		for _, v := range versions {
			ok = ok || bytes.Equal(b, v)
		}
		if !ok {
			t.Fatalf("read a partial file of %d bytes starting %q", len(b), b[:min(len(b), 8)])
		}
	}
	wg.Wait()
	assertNoTemps(t, p)
	if reads == 0 {
		t.Fatal("no reads happened")
	}
}

func TestCheckWritable(t *testing.T) {
	d, p := open(t)
	if err := d.CheckWritable(); err != nil {
		t.Fatal(err)
	}
	assertNoTemps(t, p)
	if os.Geteuid() == 0 {
		return // root writes anywhere; the failure path needs an unprivileged uid
	}
	if err := os.Chmod(p, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(p, 0o700)
	if err := d.CheckWritable(); err == nil || !strings.Contains(err.Error(), "create") {
		t.Errorf("CheckWritable on read-only dir = %v", err)
	}
}

// CommitUnsynced replaces like Commit (new content at the name, no temp
// left, the identity Prepare promised) and refuses a second commit.
func TestCommitUnsynced(t *testing.T) {
	d, p := open(t)
	if _, err := d.WriteFile("x.use", []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	pend, err := d.Prepare("x.use", []byte("new"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := pend.CommitUnsynced(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "x.use")); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	st, err := d.Stat("x.use")
	if err != nil || st.ID() != pend.Stat().ID() {
		t.Errorf("identity after commit %v (%v); Prepare promised %v", st.ID(), err, pend.Stat().ID())
	}
	if err := pend.CommitUnsynced(); err == nil {
		t.Error("a second commit succeeded")
	}
	entries, _ := os.ReadDir(p)
	if len(entries) != 1 {
		t.Errorf("entries %v; want only x.use", entries)
	}
}

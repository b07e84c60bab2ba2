package atomicfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/atomicfile"
)

func lstat(t *testing.T, p string) (fs.FileMode, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode(), fi.Sys().(*syscall.Stat_t)
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The zero Options refuse a symlink at the name: the link stays, its
// target is neither written nor replaced, no temp file is left.
func TestReplaceRefusesSymlinkByDefault(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{victim, filepath.Join(dir, "dangling")} {
		link := filepath.Join(dir, "token")
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		err := atomicfile.Replace(link, []byte("new"), atomicfile.Options{})
		if !errors.Is(err, atomicfile.ErrSymlink) {
			t.Fatalf("Replace(symlink to %s) = %v; want ErrSymlink", target, err)
		}
		if m, _ := lstat(t, link); m&fs.ModeSymlink == 0 {
			t.Errorf("link replaced by a %v; want it left in place", m)
		}
		if _, err := os.Lstat(filepath.Join(dir, "dangling")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a dangling link's target was created: %v", err)
		}
		assertNoTemps(t, dir)
	}
	if got := readString(t, victim); got != "precious" {
		t.Errorf("symlink target = %q; want it untouched", got)
	}
}

// ReplaceSymlink replaces the link itself with a regular file of the
// default mode; the target keeps its content.
func TestReplaceSymlinkRuleReplacesLinkNotTarget(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "token")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Replace(link, []byte("new"), atomicfile.Options{Symlink: atomicfile.ReplaceSymlink, KeepMode: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ := lstat(t, link); !m.IsRegular() || m.Perm() != 0o600 {
		t.Errorf("name is a %v; want a regular 0600 file (a link's mode is not kept)", m)
	}
	if got := readString(t, link); got != "new" {
		t.Errorf("content = %q", got)
	}
	if got := readString(t, victim); got != "precious" {
		t.Errorf("symlink target = %q; want it untouched", got)
	}
	assertNoTemps(t, dir)
}

// Directories, FIFOs and the like are never replaced, whatever the
// symlink rule.
func TestReplaceRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "p"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"d": "directory", "p": "named pipe"} {
		for _, rule := range []atomicfile.SymlinkRule{atomicfile.RefuseSymlink, atomicfile.ReplaceSymlink} {
			err := atomicfile.Replace(filepath.Join(dir, name), []byte("x"), atomicfile.Options{Symlink: rule})
			if !errors.Is(err, atomicfile.ErrNotRegular) || !bytes.Contains([]byte(err.Error()), []byte(want)) {
				t.Errorf("Replace(%s, rule %d) = %v; want ErrNotRegular naming a %s", name, rule, err, want)
			}
		}
		if m, _ := lstat(t, filepath.Join(dir, name)); m.IsRegular() {
			t.Errorf("%s was replaced", name)
		}
	}
	assertNoTemps(t, dir)
}

// Mode is exact whatever the umask; zero means 0600; KeepMode keeps an
// existing file's bits; non-permission bits are refused.
func TestReplaceMode(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	steps := []struct {
		o    atomicfile.Options
		want fs.FileMode
	}{
		{atomicfile.Options{}, 0o600},
		{atomicfile.Options{Mode: 0o644}, 0o644}, // wider than the umask allows
		{atomicfile.Options{Mode: 0o400, KeepMode: true}, 0o644},
		{atomicfile.Options{Mode: 0o400}, 0o400},
	}
	for i, s := range steps {
		if err := atomicfile.Replace(p, []byte{byte('0' + i)}, s.o); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if m, _ := lstat(t, p); m != s.want {
			t.Errorf("step %d: mode %v; want %v", i, m, s.want)
		}
	}
	if err := atomicfile.Replace(p, nil, atomicfile.Options{Mode: fs.ModeSetuid | 0o600}); err == nil {
		t.Error("a setuid mode was accepted")
	}
	syscall.Umask(0)
	if err := atomicfile.Replace(filepath.Join(dir, "g"), nil, atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := lstat(t, filepath.Join(dir, "g")); m != 0o600 {
		t.Errorf("default mode under umask 0 = %v; want 0600", m)
	}
	assertNoTemps(t, dir)
}

// Owner is set; KeepOwner takes the replaced file's ids; an Owner that
// cannot be set is an error that leaves the old file and no temp.
func TestReplaceOwner(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if os.Geteuid() != 0 {
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := atomicfile.Replace(p, []byte("new"), atomicfile.Options{Owner: &atomicfile.Owner{UID: os.Geteuid() + 1, GID: -1}})
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("chown to another uid without privilege = %v; want EPERM", err)
		}
		if got := readString(t, p); got != "old" {
			t.Errorf("content = %q; want the old file", got)
		}
		assertNoTemps(t, dir)
		t.Skip("the rest needs root")
	}
	if err := atomicfile.Replace(p, []byte("1"), atomicfile.Options{Owner: &atomicfile.Owner{UID: 12345, GID: 23456}}); err != nil {
		t.Fatal(err)
	}
	if _, st := lstat(t, p); st.Uid != 12345 || st.Gid != 23456 {
		t.Errorf("owner %d:%d; want 12345:23456", st.Uid, st.Gid)
	}
	// KeepOwner keeps both; a set Owner field wins over it.
	if err := atomicfile.Replace(p, []byte("2"), atomicfile.Options{KeepOwner: true, StrictOwner: true}); err != nil {
		t.Fatal(err)
	}
	if _, st := lstat(t, p); st.Uid != 12345 || st.Gid != 23456 {
		t.Errorf("KeepOwner: owner %d:%d; want 12345:23456", st.Uid, st.Gid)
	}
	if err := atomicfile.Replace(p, []byte("3"), atomicfile.Options{KeepOwner: true, Owner: &atomicfile.Owner{UID: -1, GID: 777}}); err != nil {
		t.Fatal(err)
	}
	if _, st := lstat(t, p); st.Uid != 12345 || st.Gid != 777 {
		t.Errorf("KeepOwner with Owner.GID: owner %d:%d; want 12345:777", st.Uid, st.Gid)
	}
	// Without KeepOwner the new file is the process's.
	if err := atomicfile.Replace(p, []byte("4"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, st := lstat(t, p); int(st.Uid) != os.Geteuid() {
		t.Errorf("owner %d; want ours", st.Uid)
	}
}

// A write that fails after the temp file exists (here: the file size
// limit) leaves the old file and no temp file.
func TestReplaceFailedWriteLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := atomicfile.Replace(p, []byte("old"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	small := lim
	small.Cur = 1024
	// Go ignores SIGXFSZ, so the write fails with EFBIG instead.
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.Replace(p, bytes.Repeat([]byte("x"), 4096), atomicfile.Options{})
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("Replace beyond RLIMIT_FSIZE = %v; want EFBIG", err)
	}
	if got := readString(t, p); got != "old" {
		t.Errorf("content = %q; want the old file", got)
	}
	assertNoTemps(t, dir)
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries; want only f", len(ents))
	}
}

// NoReplace creates a free name and leaves anything at a taken one,
// including a dangling symlink, whose target must not be created.
func TestReplaceNoReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key.pem")
	o := atomicfile.Options{NoReplace: true, Mode: 0o644}
	if err := atomicfile.Replace(p, []byte("first"), o); err != nil {
		t.Fatal(err)
	}
	if m, _ := lstat(t, p); m != 0o644 {
		t.Errorf("mode %v; want 0644", m)
	}
	if err := atomicfile.Replace(p, []byte("second"), o); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NoReplace over a file = %v; want ErrExist", err)
	}
	if got := readString(t, p); got != "first" {
		t.Errorf("content = %q; want the first", got)
	}
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Replace(link, []byte("x"), o); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NoReplace over a dangling link = %v; want ErrExist", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
	assertNoTemps(t, dir)
}

// NoReplace racers: exactly one creates the file, the rest see ErrExist,
// and the file holds the winner's data whole.
func TestReplaceNoReplaceRace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key.pem")
	const n = 8
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = atomicfile.Replace(p, bytes.Repeat([]byte{byte('a' + i)}, 8<<10), atomicfile.Options{NoReplace: true})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("racers %d and %d both created the file", winner, i)
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer created the file")
	}
	if got := readString(t, p); got != string(bytes.Repeat([]byte{byte('a' + winner)}, 8<<10)) {
		t.Errorf("file holds %d bytes starting %q, not racer %d's data", len(got), got[:min(len(got), 4)], winner)
	}
	assertNoTemps(t, dir)
}

// SkipDirSync still replaces atomically: new content at the name, no temp.
func TestReplaceSkipDirSync(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, c := range []string{"a", "b"} {
		if err := atomicfile.Replace(p, []byte(c), atomicfile.Options{SkipDirSync: true}); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, p); got != c {
			t.Errorf("content = %q; want %q", got, c)
		}
	}
	assertNoTemps(t, dir)
}

// A directory reached through a symlink is fine (only the final name is
// guarded); a missing directory is ErrNotExist.
func TestReplaceDirectoryPath(t *testing.T) {
	real := t.TempDir()
	via := filepath.Join(t.TempDir(), "via")
	if err := os.Symlink(real, via); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Replace(filepath.Join(via, "f"), []byte("x"), atomicfile.Options{}); err != nil {
		t.Fatalf("Replace through a symlinked directory: %v", err)
	}
	if got := readString(t, filepath.Join(real, "f")); got != "x" {
		t.Errorf("content = %q", got)
	}
	if err := atomicfile.Replace(filepath.Join(real, "nodir", "f"), nil, atomicfile.Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Replace in a missing directory = %v; want ErrNotExist", err)
	}
}

// TestReplaceReadersNeverSeePartialFiles races readers against Replace
// with contents of different sizes: every read is one whole version,
// never a partial or missing file.
func TestReplaceReadersNeverSeePartialFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t")
	versions := [][]byte{bytes.Repeat([]byte("a"), 64<<10), []byte("b"), bytes.Repeat([]byte("c"), 200<<10)}
	if err := atomicfile.Replace(p, versions[0], atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(stop)
		for i := range 300 {
			if err := atomicfile.Replace(p, versions[i%len(versions)], atomicfile.Options{SkipDirSync: i%2 == 0}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	reads := 0
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		reads++
		if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) && !bytes.Equal(b, versions[2]) {
			t.Fatalf("read a partial file of %d bytes starting %q", len(b), b[:min(len(b), 8)])
		}
	}
	wg.Wait()
	assertNoTemps(t, dir)
}

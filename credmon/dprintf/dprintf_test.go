package dprintf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestOpenCreatesFileAppending(t *testing.T) {
	path := logPath(t)
	if err := os.WriteFile(path, []byte("11/22/26 10:00:00 earlier run\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openFile(t, Options{Path: path, Name: "credmon"})
	l.Logger().Info("started")
	want := []string{"11/22/26 10:00:00 earlier run", "11/23/26 11:05:01 started"}
	if got := lines(t, path); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines = %q; want %q", got, want)
	}

	fresh := logPath(t)
	openFile(t, Options{Path: fresh})
	st, err := os.Stat(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("new log mode = %v; want no group/other bits", perm)
	}
}

// TestLogNeverOpenToOthersNorThroughSymlink protects the log's user names
// and issuer text, and every file on the machine: the daemon runs as root
// in a log directory owned by the condor user. An old 0644 log is narrowed
// to 0600, and a symlink planted at the log's name is refused, its target
// untouched.
func TestLogNeverOpenToOthersNorThroughSymlink(t *testing.T) {
	old := logPath(t)
	if err := os.WriteFile(old, []byte("old line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	openFile(t, Options{Path: old})
	if st, err := os.Stat(old); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("an existing 0644 log: %v, %v; want 0600", st.Mode(), err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := logPath(t)
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if l, err := Open(Options{Path: link}); err == nil {
		l.Close()
		t.Fatal("a symlinked log was opened")
	} else if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error %q does not say why", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the link's target changed: %q", b)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		is   error
	}{
		{"missing directory", Options{Path: filepath.Join(dir, "nope", "CredMonOAuthLog")}, fs.ErrNotExist},
		{"parent is a file", Options{Path: filepath.Join(notDir, "CredMonOAuthLog")}, syscall.ENOTDIR},
		{"path is a directory", Options{Path: dir}, syscall.EISDIR},
		{"negative MaxBytes", Options{Path: filepath.Join(dir, "log"), MaxBytes: -1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Open(tt.opts)
			if err == nil {
				l.Close()
				t.Fatalf("Open(%+v) = nil error; want an error (the daemon exits %d)", tt.opts, ExitLogError)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open(%+v) = %v; want errors.Is %v", tt.opts, err, tt.is)
			}
			if tt.is != nil && !strings.Contains(err.Error(), tt.opts.Path) {
				t.Errorf("Open error %q does not name the path %s", err, tt.opts.Path)
			}
		})
	}
}

func TestStderrMode(t *testing.T) {
	for _, path := range []string{"", "-"} {
		l, err := Open(Options{Path: path, Now: fixedNow, MaxBytes: 1})
		if err != nil {
			t.Fatalf("Open(Path=%q) = %v", path, err)
		}
		buf := &syncBuffer{}
		l.fallback = buf
		l.Logger().Info("one")
		l.Logger().Info("two") // MaxBytes does not apply to stderr
		if err := l.Reopen(); err != nil {
			t.Errorf("Reopen on stderr = %v; want nil", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close on stderr = %v; want nil", err)
		}
		if got, want := buf.String(), "11/23/26 11:05:01 one\n11/23/26 11:05:01 two\n"; got != want {
			t.Errorf("Path=%q output = %q; want %q", path, got, want)
		}
	}
}

func TestConcurrentLinesIntact(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path, Name: "credmon"})
	const goroutines, perG = 16, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			lg := l.Logger().Named(fmt.Sprintf("g%d", g)).With("user", fmt.Sprintf("user %d", g))
			for i := range perG {
				lg.Info("Successfully refreshed mytok tokens", "i", i, "pad", strings.Repeat("x", 100+i))
			}
		})
	}
	wg.Wait()
	got := lines(t, path)
	if len(got) != goroutines*perG {
		t.Fatalf("got %d lines; want %d", len(got), goroutines*perG)
	}
	seen := map[string]bool{}
	for _, line := range got {
		var g, i int
		var pad string
		n, err := fmt.Sscanf(line, "11/23/26 11:05:01 G%d: Successfully refreshed mytok tokens user=\"user %d\" i=%d pad=%s", &g, &g, &i, &pad)
		if err != nil || n != 4 || pad != strings.Repeat("x", 100+i) || !ornithologyLine.MatchString(line) {
			t.Fatalf("mangled line %q (n=%d, err=%v)", line, n, err)
		}
		if seen[line] {
			t.Fatalf("duplicate line %q", line)
		}
		seen[line] = true
	}
}

func TestRotationAtBoundary(t *testing.T) {
	path := logPath(t)
	// "11/23/26 11:05:01 " + "x"*n + "\n" is 19+n bytes; two 50-byte lines
	// fill MaxBytes exactly.
	const maxBytes = 100
	line := strings.Repeat("x", 50-19)
	l := openFile(t, Options{Path: path, MaxBytes: maxBytes})
	g := l.Logger()
	g.Info(line)
	g.Info(line)
	if st, _ := os.Stat(path); st.Size() != maxBytes {
		t.Fatalf("size after two lines = %d; want %d", st.Size(), maxBytes)
	}
	if _, err := os.Stat(path + ".old"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s.old exists before the file reached MaxBytes at a write (err=%v)", path, err)
	}
	g.Info("third") // size == MaxBytes: dprintf rotates before this write
	wantOld := []string{
		"11/23/26 11:05:01 " + line,
		"11/23/26 11:05:01 " + line,
		"11/23/26 11:05:01 MaxLog = 100 bytes, length = 100",
		`11/23/26 11:05:01 Saving log file to "` + path + `.old"`,
	}
	wantNew := []string{
		"11/23/26 11:05:01 Now in new log file " + path,
		"11/23/26 11:05:01 third",
	}
	if got := lines(t, path+".old"); strings.Join(got, "\n") != strings.Join(wantOld, "\n") {
		t.Errorf("%s.old = %q; want %q", path, got, wantOld)
	}
	if got := lines(t, path); strings.Join(got, "\n") != strings.Join(wantNew, "\n") {
		t.Errorf("%s = %q; want %q", path, got, wantNew)
	}
}

func TestRotationOneBelowBoundary(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path, MaxBytes: 101})
	g := l.Logger()
	line := strings.Repeat("x", 50-19)
	g.Info(line)
	g.Info(line) // 100 bytes < 101
	g.Info(line) // no rotation before this write; file is now 150 bytes
	if _, err := os.Stat(path + ".old"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rotated below MaxBytes (err=%v)", err)
	}
	g.Info("next")
	if got := lines(t, path); len(got) != 2 || got[1] != "11/23/26 11:05:01 next" {
		t.Errorf("after rotation %s = %q", path, got)
	}
}

func TestRotationOldIsReplaced(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path, MaxBytes: 1})
	g := l.Logger()
	for _, m := range []string{"a", "b", "c"} {
		g.Info(m)
	}
	// each write rotates the previous one away; MaxNum 1 keeps only .old
	old := lines(t, path+".old")
	if old[1] != "11/23/26 11:05:01 b" {
		t.Errorf("%s.old = %q; want the run containing b", path, old)
	}
	if got := rotatedFiles(t, path); strings.Join(got, ",") != "CredMonOAuthLog.old" {
		t.Errorf("rotated files = %v; want only .old", got)
	}
}

func TestRotationMaxNum(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path, MaxBytes: 1, MaxNum: 3, Now: tickingClock()})
	g := l.Logger()
	for i := range 6 {
		g.Info(fmt.Sprintf("line %d", i))
	}
	// Rotations happened before lines 1..5, at 11:05:02..11:05:06 (the
	// clock ticks once per line). cleanUpOldLogFiles keeps 3 rotated files:
	// the two newest timestamped ones, plus .old holding the next oldest.
	want := []string{"CredMonOAuthLog.20261123T110505", "CredMonOAuthLog.20261123T110506", "CredMonOAuthLog.old"}
	if got := rotatedFiles(t, path); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("rotated files = %v; want %v", got, want)
	}
	if old := lines(t, path+".old"); !strings.HasSuffix(old[1], "line 2") {
		t.Errorf(".old = %q; want the file holding line 2", old)
	}
	if cur := lines(t, path); !strings.HasSuffix(cur[len(cur)-1], "line 5") {
		t.Errorf("current log = %q; want it to end with line 5", cur)
	}
}

func TestConcurrentRotationKeepsEveryLine(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path, MaxBytes: 2000, MaxNum: 1000, Now: tickingClock()})
	const goroutines, perG = 8, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				l.Logger().Info(fmt.Sprintf("g%d-%d %s", g, i, strings.Repeat("y", 40)))
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, name := range append(rotatedFiles(t, path), filepath.Base(path)) {
		for _, line := range lines(t, filepath.Join(filepath.Dir(path), name)) {
			m := ornithologyLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: mangled line %q", name, line)
			}
			if f := strings.Fields(m[3]); len(f) == 2 && f[1] == strings.Repeat("y", 40) {
				seen[f[0]]++
			}
		}
	}
	if len(seen) != goroutines*perG {
		t.Errorf("found %d distinct payload lines across rotated files; want %d", len(seen), goroutines*perG)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("line %s appears %d times", k, n)
		}
	}
}

func TestReopenAfterExternalRename(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path})
	g := l.Logger()
	g.Info("before")
	if err := os.Rename(path, path+".1"); err != nil { // logrotate without copytruncate
		t.Fatal(err)
	}
	g.Info("after rename")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	g.Info("after remove")
	if got := lines(t, path+".1"); len(got) != 1 || got[0] != "11/23/26 11:05:01 before" {
		t.Errorf("%s.1 = %q; want only the line before the rename", path, got)
	}
	if got := lines(t, path); len(got) != 1 || got[0] != "11/23/26 11:05:01 after remove" {
		t.Errorf("%s = %q; want only the line after the remove", path, got)
	}
}

func TestReopen(t *testing.T) {
	path := logPath(t)
	l := openFile(t, Options{Path: path})
	l.Logger().Info("one")
	if err := l.Reopen(); err != nil {
		t.Fatalf("Reopen() = %v", err)
	}
	l.Logger().Info("two")
	if got := lines(t, path); len(got) != 2 {
		t.Errorf("lines after Reopen = %q; want 2", got)
	}
	dir := filepath.Dir(path)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err == nil {
		t.Errorf("Reopen() with the directory gone = nil; want an error")
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
	if err := l.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen() after Close = %v; want ErrClosed", err)
	}
}

func TestWriteFailureReportsOnceAndFallsBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "CredMonOAuthLog")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var reported []error
	l, err := Open(Options{Path: path, Now: fixedNow, OnError: func(err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stderr := &syncBuffer{}
	l.fallback = stderr
	if err := os.RemoveAll(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	l.Logger().Info("one") // reopen fails; the unlinked descriptor still takes the line
	l.Logger().Info("two")
	if len(reported) != 1 {
		t.Fatalf("OnError called %d times (%v); want once per failure run", len(reported), reported)
	}
	if !errors.Is(reported[0], fs.ErrNotExist) {
		t.Errorf("reported error = %v; want ErrNotExist", reported[0])
	}
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l.Logger().Info("three") // recovers: the path is recreated
	if got := lines(t, path); len(got) != 1 || got[0] != "11/23/26 11:05:01 three" {
		t.Errorf("%s after recovery = %q", path, got)
	}
	if len(reported) != 1 {
		t.Errorf("OnError called again after recovery: %v", reported)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Logger().Info("after close")
	if got, want := stderr.String(), "11/23/26 11:05:01 after close\n"; got != want {
		t.Errorf("stderr after Close = %q; want %q", got, want)
	}
}

func TestRotatedSuffix(t *testing.T) {
	tests := map[string]bool{
		"old": true, "20261123T110501": true,
		"Old": false, "20261123T11050": false, "20261123X110501": false, "2026112aT110501": false, "1": false,
	}
	for s, want := range tests {
		if got := isRotatedSuffix(s); got != want {
			t.Errorf("isRotatedSuffix(%q) = %v; want %v", s, got, want)
		}
	}
}

// rotatedFiles lists the base names of path's rotated siblings, sorted.
func rotatedFiles(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), filepath.Base(path)+".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func BenchmarkInfo(b *testing.B) {
	l := openFile(b, Options{Path: logPath(b), Name: "credmon"})
	g := l.Logger().Named("oauth").With("user", "alice", "provider", "mytok")
	for b.Loop() {
		g.Info("Successfully refreshed mytok tokens", "remaining", 3600)
	}
}

func TestRotationRenameFailure(t *testing.T) {
	path := logPath(t)
	// rename(2) of a file onto a non-empty directory fails, even for root.
	if err := os.MkdirAll(filepath.Join(path+".old", "blocker"), 0o755); err != nil {
		t.Fatal(err)
	}
	var reported []error
	l := openFile(t, Options{Path: path, MaxBytes: 1, OnError: func(err error) { reported = append(reported, err) }})
	g := l.Logger()
	for _, m := range []string{"a", "b", "c"} {
		g.Info(m)
	}
	want := []string{
		"11/23/26 11:05:01 a",
		"11/23/26 11:05:01 MaxLog = 1 bytes, length = 20",
		`11/23/26 11:05:01 Saving log file to "` + path + `.old"`,
		"11/23/26 11:05:01 WARNING: Failed to rotate old log into file " + path + ".old!",
		"11/23/26 11:05:01 b",
		"11/23/26 11:05:01 c", // retried silently while failing
	}
	if got := lines(t, path); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines = %q; want %q", got, want)
	}
	if len(reported) != 1 {
		t.Fatalf("OnError called %d times; want once per failure run", len(reported))
	}
	if err := os.RemoveAll(path + ".old"); err != nil {
		t.Fatal(err)
	}
	g.Info("d")
	if got := lines(t, path); strings.Join(got, "\n") != "11/23/26 11:05:01 Now in new log file "+path+"\n11/23/26 11:05:01 d" {
		t.Errorf("after recovery %s = %q", path, got)
	}
	if got := lines(t, path+".old"); got[len(got)-1] != `11/23/26 11:05:01 Saving log file to "`+path+`.old"` {
		t.Errorf("%s.old ends with %q; want the Saving notice", path, got[len(got)-1])
	}
}

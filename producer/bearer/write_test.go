package bearer_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/credmon/credmon/producer/bearer"
)

const wtok = "eyJh.eyJi.c2ln"

var leave = bearer.WriteOptions{UID: -1, GID: -1}

// entries lists dir, so tests can check no temporary file is left.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func statOf(t *testing.T, p string) (os.FileMode, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode(), fi.Sys().(*syscall.Stat_t)
}

func TestWriteFileModes(t *testing.T) {
	old := syscall.Umask(0o077) // the mode must not depend on the umask
	defer syscall.Umask(old)
	tests := []struct {
		name     string
		opts     bearer.WriteOptions
		wantMode os.FileMode
		want     string
	}{
		{"default 0600 with newline", bearer.WriteOptions{UID: -1, GID: -1, Newline: true}, 0o600, wtok + "\n"},
		{"no newline", leave, 0o600, wtok},
		{"0640 despite umask 077", bearer.WriteOptions{Mode: 0o640, UID: -1, GID: -1}, 0o640, wtok},
		{"0400", bearer.WriteOptions{Mode: 0o400, UID: -1, GID: -1}, 0o400, wtok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "bt_u1000")
			for range 2 { // create, then replace
				if err := bearer.WriteFile(p, wtok, tt.opts); err != nil {
					t.Fatalf("WriteFile() error = %v", err)
				}
				got, err := os.ReadFile(p)
				if err != nil || string(got) != tt.want {
					t.Fatalf("content = %q, %v; want %q", got, err, tt.want)
				}
				if m, _ := statOf(t, p); m != tt.wantMode {
					t.Errorf("mode = %v; want %v", m, tt.wantMode)
				}
				if names := entries(t, dir); len(names) != 1 {
					t.Errorf("dir holds %q; want only bt_u1000", names)
				}
			}
			if tok, err := bearer.ReadTokenFile(p); err != nil || tok != wtok {
				t.Errorf("ReadTokenFile() = %q, %v; want %q", tok, err, wtok)
			}
		})
	}
}

func TestWriteFileRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the target path
		token   string
		opts    bearer.WriteOptions
		wantErr error
		errText string
	}{
		{
			name:    "empty token",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "f") },
			token:   "",
			opts:    leave,
			wantErr: bearer.ErrEmptyToken,
		},
		{
			name:    "token with a newline",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "f") },
			token:   wtok + "\n",
			opts:    leave,
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:    "group-writable mode",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "f") },
			token:   wtok,
			opts:    bearer.WriteOptions{Mode: 0o660, UID: -1, GID: -1},
			errText: "group/other-writable",
		},
		{
			name:    "non-permission mode bits",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "f") },
			token:   wtok,
			opts:    bearer.WriteOptions{Mode: os.ModeSetuid | 0o600, UID: -1, GID: -1},
			errText: "other than permissions",
		},
		{
			name:    "directory missing",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "nodir", "f") },
			token:   wtok,
			opts:    leave,
			wantErr: os.ErrNotExist,
		},
		{
			name: "directory at the path",
			setup: func(t *testing.T, d string) string {
				p := filepath.Join(d, "f")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			},
			token:   wtok,
			opts:    leave,
			errText: "not a regular file",
		},
		{
			name: "FIFO at the path",
			setup: func(t *testing.T, d string) string {
				p := filepath.Join(d, "f")
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			token:   wtok,
			opts:    leave,
			errText: "named pipe",
		},
		{
			name: "dangling symlink at the path",
			setup: func(t *testing.T, d string) string {
				p := filepath.Join(d, "f")
				if err := os.Symlink(filepath.Join(d, "would-be-created"), p); err != nil {
					t.Fatal(err)
				}
				return p
			},
			token:   wtok,
			opts:    leave,
			errText: "symlink",
		},
		{
			name: "file owned by another uid (running as root)",
			setup: func(t *testing.T, d string) string {
				mustRoot(t)
				p := writeRaw(t, d, "f", "old", 0o600)
				if err := os.Chown(p, 12345, 12345); err != nil {
					t.Fatal(err)
				}
				return p
			},
			token:   wtok,
			opts:    leave,
			errText: "owned by uid 12345",
		},
		{
			name: "file owned by another uid than the one asked for",
			setup: func(t *testing.T, d string) string {
				mustRoot(t)
				p := writeRaw(t, d, "f", "old", 0o600)
				if err := os.Chown(p, 12345, 12345); err != nil {
					t.Fatal(err)
				}
				return p
			},
			token:   wtok,
			opts:    bearer.WriteOptions{UID: 23456, GID: -1},
			errText: "owned by uid 12345, not uid 23456",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := tt.setup(t, dir)
			before := entries(t, dir)
			var oldContent []byte
			if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
				oldContent, _ = os.ReadFile(p)
			}
			err := bearer.WriteFile(p, tt.token, tt.opts)
			if err == nil {
				t.Fatalf("WriteFile(%s) = nil; want an error", p)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("WriteFile() error = %v; want errors.Is %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("WriteFile() error = %v; want it to say %q", err, tt.errText)
			}
			if after := entries(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("dir changed from %q to %q; want untouched, no temporary file", before, after)
			}
			if oldContent != nil {
				if got, _ := os.ReadFile(p); string(got) != string(oldContent) {
					t.Errorf("content = %q; want the old %q", got, oldContent)
				}
			}
		})
	}
}

func TestWriteFileSymlinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := writeRaw(t, dir, "victim", "precious", 0o600)
	link := filepath.Join(dir, "bt_u1000")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	err := bearer.WriteFile(link, wtok, leave)
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("WriteFile(symlink) = %v; want a symlink refusal", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Errorf("target content = %q; want it untouched", got)
	}
	if m, _ := statOf(t, link); m&os.ModeSymlink == 0 {
		t.Errorf("link mode = %v; want the symlink left in place", m)
	}
}

func TestWriteFileChown(t *testing.T) {
	mustRoot(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "bt_u12345")
	opts := bearer.WriteOptions{UID: 12345, GID: 12346}
	for i := range 2 { // create; then replace a file that 12345 owns
		if err := bearer.WriteFile(p, wtok, opts); err != nil {
			t.Fatalf("WriteFile() #%d error = %v", i, err)
		}
		if _, st := statOf(t, p); st.Uid != 12345 || st.Gid != 12346 {
			t.Errorf("owner = %d:%d; want 12345:12346", st.Uid, st.Gid)
		}
	}
	// As that user, the file passes ReadTokenFile's owner check.
	if tok, err := bearer.ReadTokenFileAs(p, 12345); err != nil || tok != wtok {
		t.Errorf("ReadTokenFile as 12345 = %q, %v; want %q", tok, err, wtok)
	}
}

// TestWriteFileAtomic replaces a large token many times while readers
// loop: every read must see one whole token, never a partial or missing
// file (htgettoken's unlink-then-rename would give ENOENT here).
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bt_u1000")
	toks := []string{strings.Repeat("A", 48<<10), strings.Repeat("B", 32<<10) + "." + strings.Repeat("b", 100)}
	opts := bearer.WriteOptions{UID: -1, GID: -1, Newline: true}
	if err := bearer.WriteFile(p, toks[0], opts); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	reads := 0
	var bad []string
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for {
				select {
				case <-done:
					mu.Lock()
					reads += n
					mu.Unlock()
					return
				default:
				}
				n++
				b, err := os.ReadFile(p)
				if err != nil || (string(b) != toks[0]+"\n" && string(b) != toks[1]+"\n") {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("os.ReadFile: %d bytes, err %v", len(b), err))
					mu.Unlock()
				}
				if tok, err := bearer.ReadTokenFile(p); err != nil || (tok != toks[0] && tok != toks[1]) {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("ReadTokenFile: %d bytes, err %v", len(tok), err))
					mu.Unlock()
				}
			}
		}()
	}
	const writes = 100
	for i := range writes {
		if err := bearer.WriteFile(p, toks[i%2], opts); err != nil {
			close(done)
			wg.Wait()
			t.Fatalf("WriteFile() #%d error = %v", i, err)
		}
	}
	close(done)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of %d reads saw a bad file, e.g. %s", len(bad), reads, bad[0])
	}
	t.Logf("%d writes, %d concurrent reads, all whole", writes, reads)
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("dir holds %q; want only bt_u1000", names)
	}
}

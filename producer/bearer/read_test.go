package bearer_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/producer/bearer"
)

func TestReadTokenFile(t *testing.T) {
	const tok = "eyJh.eyJi.c2ln"
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the path to read
		euid    *int                                  // nil: the real one
		want    string
		wantErr error  // errors.Is target, if any
		errText string // substring of the error, if an error is wanted
	}{
		{
			name:  "trailing newline stripped",
			setup: func(t *testing.T, d string) string { return writeRaw(t, d, "f", tok+"\n", 0o600) },
			want:  tok,
		},
		{
			name:  "all C99 isspace stripped",
			setup: func(t *testing.T, d string) string { return writeRaw(t, d, "f", " \t\n\v\f\r"+tok+"\r\n \t", 0o600) },
			want:  tok,
		},
		{
			name:  "padding allowed",
			setup: func(t *testing.T, d string) string { return writeRaw(t, d, "f", "abc+/~_-.==", 0o600) },
			want:  "abc+/~_-.==",
		},
		{
			name:  "group/other-readable is allowed (only writable is refused)",
			setup: func(t *testing.T, d string) string { return writeRaw(t, d, "f", tok, 0o644) },
			want:  tok,
		},
		{
			name:    "empty",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", "", 0o600) },
			wantErr: bearer.ErrEmptyToken,
		},
		{
			name:    "whitespace only",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", " \n\t", 0o600) },
			wantErr: bearer.ErrEmptyToken,
		},
		{
			name:    "inner space is invalid",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", "abc def", 0o600) },
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:    "two lines are invalid",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", tok+"\n"+tok+"\n", 0o600) },
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:    "padding only is invalid",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", "==", 0o600) },
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:    "padding in the middle is invalid",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", "ab=c", 0o600) },
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:    "missing",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "nope") },
			wantErr: fs.ErrNotExist,
		},
		{
			name:    "group-writable",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", tok, 0o620) },
			errText: "group/other-writable",
		},
		{
			name:    "other-writable",
			setup:   func(t *testing.T, d string) string { return writeRaw(t, d, "f", tok, 0o602) },
			errText: "group/other-writable",
		},
		{
			name:    "directory",
			setup:   func(t *testing.T, d string) string { return d },
			errText: "not a regular file (directory)",
		},
		{
			name: "FIFO (must not block)",
			setup: func(t *testing.T, d string) string {
				p := filepath.Join(d, "fifo")
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			errText: "not a regular file (named pipe)",
		},
		{
			name: "socket",
			setup: func(t *testing.T, d string) string {
				p := filepath.Join(d, "sock")
				l, err := net.Listen("unix", p)
				if err != nil {
					t.Skip(err)
				}
				t.Cleanup(func() { l.Close() })
				return p
			},
			errText: "not a regular file (socket)",
		},
		{
			name:    "character device",
			setup:   func(t *testing.T, d string) string { return "/dev/null" },
			errText: "not a regular file (character device)",
		},
		{
			name: "too large",
			setup: func(t *testing.T, d string) string {
				return writeRaw(t, d, "f", strings.Repeat("a", bearer.MaxTokenFileBytes+1), 0o600)
			},
			errText: "larger than",
		},
		{
			name: "exactly the limit",
			setup: func(t *testing.T, d string) string {
				return writeRaw(t, d, "f", strings.Repeat("a", bearer.MaxTokenFileBytes), 0o600)
			},
			want: strings.Repeat("a", bearer.MaxTokenFileBytes),
		},
		{
			name: "symlink to a good file is followed",
			setup: func(t *testing.T, d string) string {
				target := writeRaw(t, d, "target", tok, 0o600)
				link := filepath.Join(d, "link")
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			want: tok,
		},
		{
			name: "symlink to a group-writable file is refused",
			setup: func(t *testing.T, d string) string {
				target := writeRaw(t, d, "target", tok, 0o660)
				link := filepath.Join(d, "link")
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			errText: "group/other-writable",
		},
		{
			name: "owned by another user (reader uid 1000)",
			setup: func(t *testing.T, d string) string {
				mustRoot(t)
				p := writeRaw(t, d, "f", tok, 0o644)
				if err := os.Chown(p, 12345, 12345); err != nil {
					t.Fatal(err)
				}
				return p
			},
			euid:    asUID(1000),
			errText: "owned by uid 12345",
		},
		{
			name: "symlink to a file planted by another user (reader uid 1000)",
			setup: func(t *testing.T, d string) string {
				mustRoot(t)
				p := writeRaw(t, d, "planted", tok, 0o644)
				if err := os.Chown(p, 12345, 12345); err != nil {
					t.Fatal(err)
				}
				link := filepath.Join(d, "bt_u1000")
				if err := os.Symlink(p, link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			euid:    asUID(1000),
			errText: "owned by uid 12345",
		},
		{
			name: "owned by the reader",
			setup: func(t *testing.T, d string) string {
				mustRoot(t)
				p := writeRaw(t, d, "f", tok, 0o600)
				if err := os.Chown(p, 1000, 1000); err != nil {
					t.Fatal(err)
				}
				return p
			},
			euid: asUID(1000),
			want: tok,
		},
		{
			name:  "owned by root, read by uid 1000",
			setup: func(t *testing.T, d string) string { mustRoot(t); return writeRaw(t, d, "f", tok, 0o644) },
			euid:  asUID(1000),
			want:  tok,
		},
		{
			name: "root may read anyone's file",
			setup: func(t *testing.T, d string) string {
				mustRoot(t)
				p := writeRaw(t, d, "f", tok, 0o600)
				if err := os.Chown(p, 12345, 12345); err != nil {
					t.Fatal(err)
				}
				return p
			},
			euid: asUID(0),
			want: tok,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			euid := os.Geteuid()
			if tt.euid != nil {
				euid = *tt.euid
			}
			p := tt.setup(t, t.TempDir())
			type result struct {
				tok string
				err error
			}
			ch := make(chan result, 1)
			go func() {
				tok, err := bearer.ReadTokenFileAs(p, euid)
				ch <- result{tok, err}
			}()
			var r result
			select {
			case r = <-ch:
			case <-time.After(10 * time.Second):
				t.Fatalf("ReadTokenFile(%s) blocked", p)
			}
			if tt.wantErr == nil && tt.errText == "" {
				if r.err != nil || r.tok != tt.want {
					t.Errorf("ReadTokenFile(%s) = %.40q, %v; want %.40q, nil", p, r.tok, r.err, tt.want)
				}
				return
			}
			if r.err == nil {
				t.Fatalf("ReadTokenFile(%s) = %.40q, nil; want an error", p, r.tok)
			}
			if tt.wantErr != nil && !errors.Is(r.err, tt.wantErr) {
				t.Errorf("ReadTokenFile(%s) error = %v; want errors.Is %v", p, r.err, tt.wantErr)
			}
			if !strings.Contains(r.err.Error(), tt.errText) {
				t.Errorf("ReadTokenFile(%s) error = %v; want it to say %q", p, r.err, tt.errText)
			}
			if !strings.Contains(r.err.Error(), p) {
				t.Errorf("ReadTokenFile(%s) error = %v; want it to name the file", p, r.err)
			}
		})
	}
}

func asUID(uid int) *int { return &uid }

// ReadInfo reads and decodes; NoFollow refuses a symlink at the name that
// the default (BTD's "the contents of the file") follows.
func TestReadInfoNoFollow(t *testing.T) {
	dir := t.TempDir()
	real := writeRaw(t, dir, "real", mint(t, igwnClaims(t0.Add(time.Hour)))+"\n", 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	info, err := bearer.ReadInfo(link, bearer.ReadOptions{})
	if err != nil || !info.HasExpiry || !info.Expiry.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ReadInfo(link) = %+v, %v; want the target's token", info, err)
	}
	if _, err := bearer.ReadInfo(link, bearer.ReadOptions{NoFollow: true}); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("ReadInfo(link, NoFollow) = %v; want a symlink refusal", err)
	}
	if _, err := bearer.ReadInfo(real, bearer.ReadOptions{NoFollow: true}); err != nil {
		t.Errorf("ReadInfo(real, NoFollow) = %v", err)
	}
	opaque := writeRaw(t, dir, "opaque", "not-a-jwt", 0o600)
	if _, err := bearer.ReadInfo(opaque, bearer.ReadOptions{}); err == nil || !strings.Contains(err.Error(), opaque) {
		t.Errorf("ReadInfo(opaque) = %v; want a decoding error naming the file", err)
	}
}

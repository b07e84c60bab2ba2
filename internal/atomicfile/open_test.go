package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/atomicfile"
)

// TestOpenRegular: a regular file opens and its fstat is returned; a
// symlink is refused unless FollowSymlink, which then checks the target;
// a FIFO, a directory and a symlink to a FIFO are refused without blocking,
// each error naming the path.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}

	for _, follow := range []bool{false, true} {
		b, st, err := atomicfile.ReadRegular(file, 64, atomicfile.OpenOptions{FollowSymlink: follow})
		if err != nil || string(b) != "s3cret\n" || st.Mode.Perm() != 0o640 || !st.IsRegular() {
			t.Errorf("follow=%v: ReadRegular(file) = %q, %v, %v", follow, b, st.Mode, err)
		}
	}
	if b, st, err := atomicfile.ReadRegular(link, 64, atomicfile.OpenOptions{FollowSymlink: true}); err != nil || string(b) != "s3cret\n" || !st.IsRegular() {
		t.Errorf("followed symlink: %q, %v", b, err)
	}
	if _, _, err := atomicfile.ReadRegular(file, 3, atomicfile.OpenOptions{}); !errors.Is(err, atomicfile.ErrTooLarge) {
		t.Errorf("over the limit: %v; want ErrTooLarge", err)
	}
	for _, tc := range []struct {
		path   string
		follow bool
		want   string
	}{
		{link, false, "symlink"},
		{fifo, false, "named pipe"},
		{fifo, true, "named pipe"},
		{fifoLink, true, "named pipe"},
		{dir, false, "directory"},
	} {
		f, _, err := atomicfile.OpenRegular(tc.path, atomicfile.OpenOptions{FollowSymlink: tc.follow})
		if err == nil {
			f.Close()
			t.Errorf("OpenRegular(%s, follow=%v) succeeded", tc.path, tc.follow)
			continue
		}
		if !errors.Is(err, atomicfile.ErrNotRegular) || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenRegular(%s, follow=%v) = %v; want ErrNotRegular naming the path and %q", tc.path, tc.follow, err, tc.want)
		}
	}
	if _, _, err := atomicfile.OpenRegular(filepath.Join(dir, "missing"), atomicfile.OpenOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v; want ErrNotExist", err)
	}
}

// TestReadRegularSizes reads files around the buffer fstat sizes and the
// bound: every byte, and ErrTooLarge only past max.
func TestReadRegularSizes(t *testing.T) {
	dir := t.TempDir()
	const max = 4096
	p := filepath.Join(dir, "f")
	for _, n := range []int{0, 1, 511, 512, 513, max - 1, max, max + 1, 3 * max} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte('a' + i%26)
		}
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, st, err := atomicfile.ReadRegular(p, max, atomicfile.OpenOptions{})
		if n > max {
			if !errors.Is(err, atomicfile.ErrTooLarge) {
				t.Errorf("%d bytes: err = %v; want ErrTooLarge", n, err)
			}
			continue
		}
		if err != nil || string(got) != string(want) || st.Size != int64(n) || st.Ctime.IsZero() {
			t.Errorf("%d bytes: read %d bytes (size %d, ctime %v), %v", n, len(got), st.Size, st.Ctime, err)
		}
	}
	if _, _, err := atomicfile.ReadRegular(filepath.Join(dir, "none"), max, atomicfile.OpenOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v; want ErrNotExist", err)
	}
}

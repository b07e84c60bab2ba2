package web

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadRegular covers the /key visit's file read: sizes around the
// bound, and what is not a regular file (a FIFO must not block).
func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	const max = 4096
	for _, n := range []int{0, 1, 511, 512, 513, max - 1, max} {
		p := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte{'x'}, n)
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, ctime, err := readRegular(p, max)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: read %d bytes, %v", n, len(got), err)
		}
		if st, _ := os.Stat(p); ctime.IsZero() || ctime.After(st.ModTime().Add(1e9)) {
			t.Errorf("%d bytes: ctime %v, mtime %v", n, ctime, st.ModTime())
		}
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, max+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRegular(big, max); err == nil {
		t.Error("a file over the bound was read")
	}
	if err := os.Symlink(big, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRegular(filepath.Join(dir, "link"), max); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("symlink: %v; want ELOOP", err)
	}
	if _, _, err := readRegular(dir, max); !errors.Is(err, errNotRegular) {
		t.Errorf("directory: %v; want errNotRegular", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRegular(fifo, max); !errors.Is(err, errNotRegular) {
		t.Errorf("fifo: %v; want errNotRegular", err)
	}
	if _, _, err := readRegular(filepath.Join(dir, "none"), max); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v; want ErrNotExist", err)
	}
}

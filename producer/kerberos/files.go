package kerberos

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// readSmallFile reads a regular file of at most maxFileSize bytes.
func readSmallFile(path string) ([]byte, error) {
	b, _, err := readFile(path)
	return b, err
}

// readFile opens path, following a symlink as MIT Kerberos does, and reads
// it. The mode it returns is the opened file's (fstat), so a check on it
// is a check on the bytes actually read, not on a name that could be
// swapped between a stat and an open.
func readFile(path string) ([]byte, os.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi.Mode(), fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxFileSize {
		return nil, fi.Mode(), fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(f, maxFileSize+1)); err != nil {
		return nil, fi.Mode(), err
	}
	if buf.Len() > maxFileSize {
		return nil, fi.Mode(), fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return buf.Bytes(), fi.Mode(), nil
}

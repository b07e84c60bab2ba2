package oidcagent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// EnvPassword is the variable oidc-agent's --pw-env reads by default
// (settings.h OIDC_PASSWORD_ENV_NAME).
const EnvPassword = "OIDC_ENCRYPTION_PW"

// ErrNoPassword means a password source holds no password: an unset
// variable, an empty file or an fd at EOF. oidc-agent then falls back to
// prompting.
var ErrNoPassword = errors.New("oidcagent: no password")

// maxPasswordLen bounds what the password readers accept.
const maxPasswordLen = 64 << 10

// PasswordFromFile returns the first line of the file at path without its
// line feed, like oidc-agent's --pw-file (file_io.c getLineFromFile) and
// therefore osg-token-renewer's password_file. Verified against oidc-add
// 4.2.6: "pw\n", "pw\nmore\n" and "pw" (no newline) all mean "pw"; a
// carriage return is kept ("pw\r\n" means "pw\r"); "\n" means the empty
// password; an empty file is ErrNoPassword.
func PasswordFromFile(path string) ([]byte, error) {
	line, err := FirstLine(path)
	switch {
	case errors.Is(err, ErrEmptyFile):
		return nil, fmt.Errorf("%w: %s is empty", ErrNoPassword, path)
	case err != nil:
		return nil, fmt.Errorf("oidcagent: reading password: %w", err)
	}
	return line, nil
}

// ErrEmptyFile is FirstLine's error for a file that holds nothing.
var ErrEmptyFile = errors.New("the file is empty")

// FirstLine returns the first line of the file at path without its line
// feed, as PasswordFromFile reads a password, for the other secrets read
// the same way (osg-token-renewer's client_secret_file). Its errors name
// path but not what the file is for: the caller says that (which secret,
// which configuration key). An empty file is ErrEmptyFile.
func FirstLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(io.LimitReader(f, maxPasswordLen+1))
	line, err := r.ReadBytes('\n')
	switch {
	case err == io.EOF && len(line) == 0:
		return nil, fmt.Errorf("%s: %w", path, ErrEmptyFile)
	case err == io.EOF && len(line) > maxPasswordLen:
		return nil, fmt.Errorf("first line of %s is longer than %d bytes", path, maxPasswordLen)
	case err != nil && err != io.EOF:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return bytes.TrimSuffix(line, []byte("\n")), nil
}

// PasswordFromFD reads fd to EOF and returns what it read minus one
// trailing line feed. That is what osg-token-renewer-setup gets by passing
// an inherited fd to oidc-gen as --pw-cmd="cat <&9" (oidc-agent 4.2.6
// --pw-cmd keeps all output but one trailing "\n": "pw\n\n" means "pw\n").
// Nothing read is ErrNoPassword. fd itself stays open: it is duplicated,
// and the duplicate is read and closed.
func PasswordFromFD(fd int) ([]byte, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("oidcagent: reading password from fd %d: %w", fd, err)
	}
	f := os.NewFile(uintptr(dup), fmt.Sprintf("fd %d", fd))
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordLen+1))
	if err != nil {
		return nil, fmt.Errorf("oidcagent: reading password from fd %d: %w", fd, err)
	}
	if len(data) > maxPasswordLen {
		return nil, fmt.Errorf("oidcagent: reading password: fd %d holds more than %d bytes", fd, maxPasswordLen)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: fd %d is empty", ErrNoPassword, fd)
	}
	return bytes.TrimSuffix(data, []byte("\n")), nil
}

// PasswordFromEnv returns the value of the variable name (EnvPassword when
// name is empty) exactly as set, like oidc-agent's --pw-env: no newline is
// stripped. An unset variable is ErrNoPassword; a set but empty one is the
// empty password.
func PasswordFromEnv(name string) ([]byte, error) {
	if name == "" {
		name = EnvPassword
	}
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoPassword, name)
	}
	return []byte(v), nil
}

package oidcagent_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/credmon/credmon/producer/oidcagent"
)

// TestPasswordFromFile uses the cases run against oidc-add --pw-file of
// oidc-agent 4.2.6: the content, and the password that opened an account
// encrypted with "testpw".
func TestPasswordFromFile(t *testing.T) {
	tests := []struct {
		content, want string
	}{
		{"testpw", "testpw"},             // no newline: oidc-add accepted "testpw"
		{"testpw\n", "testpw"},           // accepted
		{"testpw\nextra\n", "testpw"},    // accepted: first line only
		{"testpw\n\n", "testpw"},         // accepted
		{"testpw\r\n", "testpw\r"},       // refused by oidc-add: \r is kept
		{"testpwX", "testpwX"},           // refused: the last byte is not dropped
		{"\n", ""},                       // the empty password
		{" spaced pw \n", " spaced pw "}, // no trimming
	}
	dir := t.TempDir()
	for _, tc := range tests {
		p := filepath.Join(dir, "pw")
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := oidcagent.PasswordFromFile(p)
		if err != nil || string(got) != tc.want {
			t.Errorf("PasswordFromFile(%q) = %q, %v; want %q", tc.content, got, err, tc.want)
		}
	}
	p := filepath.Join(dir, "empty")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := oidcagent.PasswordFromFile(p); !errors.Is(err, oidcagent.ErrNoPassword) {
		t.Errorf("PasswordFromFile(empty file) error = %v; want ErrNoPassword", err)
	}
	if _, err := oidcagent.PasswordFromFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("PasswordFromFile(missing file) succeeded")
	}
}

// TestPasswordFromFD uses the --pw-cmd cases run against oidc-add 4.2.6:
// printf testpw, 'testpw\n' opened the account; 'testpw\n\n' and
// 'testpw\nextra\n' did not.
func TestPasswordFromFD(t *testing.T) {
	tests := []struct {
		content, want string
	}{
		{"testpw", "testpw"},
		{"testpw\n", "testpw"},
		{"testpw\n\n", "testpw\n"},
		{"testpw\nextra\n", "testpw\nextra"},
	}
	for _, tc := range tests {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteString(tc.content); err != nil {
			t.Fatal(err)
		}
		w.Close()
		got, err := oidcagent.PasswordFromFD(int(r.Fd()))
		if err != nil || string(got) != tc.want {
			t.Errorf("PasswordFromFD(%q) = %q, %v; want %q", tc.content, got, err, tc.want)
		}
		if _, err := unix.FcntlInt(r.Fd(), unix.F_GETFD, 0); err != nil {
			t.Errorf("fd closed by PasswordFromFD: %v", err)
		}
		r.Close()
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	if _, err := oidcagent.PasswordFromFD(int(r.Fd())); !errors.Is(err, oidcagent.ErrNoPassword) {
		t.Errorf("PasswordFromFD(empty) error = %v; want ErrNoPassword", err)
	}
	if _, err := oidcagent.PasswordFromFD(-1); err == nil {
		t.Error("PasswordFromFD(-1) succeeded")
	}
}

// TestPasswordFromEnv: oidc-add 4.2.6 --pw-env took the value verbatim
// ("testpw\n" did not open an account encrypted with "testpw").
func TestPasswordFromEnv(t *testing.T) {
	t.Setenv(oidcagent.EnvPassword, "testpw\n")
	got, err := oidcagent.PasswordFromEnv("")
	if err != nil || string(got) != "testpw\n" {
		t.Errorf("PasswordFromEnv(\"\") = %q, %v; want the value of OIDC_ENCRYPTION_PW verbatim", got, err)
	}
	t.Setenv("CREDMON_TEST_PW", "")
	if got, err := oidcagent.PasswordFromEnv("CREDMON_TEST_PW"); err != nil || len(got) != 0 {
		t.Errorf("PasswordFromEnv(empty variable) = %q, %v; want the empty password", got, err)
	}
	if _, err := oidcagent.PasswordFromEnv("CREDMON_TEST_PW_UNSET_XYZ"); !errors.Is(err, oidcagent.ErrNoPassword) {
		t.Errorf("PasswordFromEnv(unset) error = %v; want ErrNoPassword", err)
	}
}

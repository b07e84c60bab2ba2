package knobs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/atomicfile"
)

// TestSecretFileProblem: the rule both readers apply. 0600 and 0640 owned
// by root or the reader pass; anything others can touch, a group-writable
// file and one owned by another unprivileged user fail, naming the path
// and the command that fixes it.
func TestSecretFileProblem(t *testing.T) {
	const path = "/etc/condor/.secrets/s"
	for _, tc := range []struct {
		perm      fs.FileMode
		uid, euid uint32
		want      string // "" = no problem
	}{
		{0o600, 0, 0, ""},
		{0o640, 0, 998, ""}, // root:condor 0640, read by credmon-web
		{0o600, 998, 998, ""},
		{0o400, 0, 0, ""},
		{0o644, 0, 0, "chmod o-rwx " + path},
		{0o602, 0, 0, "chmod o-rwx " + path},
		{0o601, 0, 0, "chmod o-rwx " + path},
		{0o660, 0, 0, "chmod g-w " + path},
		{0o600, 1234, 0, "chown root " + path},
		{0o600, 1234, 998, "uid 1234"},
	} {
		err := secretFileProblem(path, atomicfile.Stat{Mode: tc.perm, Uid: tc.uid}, int(tc.euid))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%04o uid %d read by %d: %v; want accepted", tc.perm, tc.uid, tc.euid, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%04o uid %d read by %d: %v; want an error saying %q", tc.perm, tc.uid, tc.euid, err, tc.want)
		}
	}
}

// TestSecretFileSymlinks: a symlink (a secrets manager's mount) is
// followed and its target judged, by both readers.
func TestSecretFileSymlinks(t *testing.T) {
	dir := t.TempDir()
	mount := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(mount, name)
		if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, name)
		if err := os.Symlink(p, link); err != nil {
			t.Fatal(err)
		}
		return link
	}
	private, open := write("private", 0o640), write("open", 0o644)
	if s, err := ReadSecretFile("K", private); err != nil || s != "s3cret" {
		t.Errorf("ReadSecretFile(link to a 0640 file) = %q, %v", s, err)
	}
	if _, err := ReadSecretFile("K", open); err == nil || !strings.Contains(err.Error(), "K = "+open+": ") || !strings.Contains(err.Error(), "chmod o-rwx") {
		t.Errorf("ReadSecretFile(link to a 0644 file) error %v; want refused with the knob, the path and the fix", err)
	}
	if s, err := ReadClientSecret(open); err != nil || s != "s3cret" {
		t.Errorf("ReadClientSecret(link to a 0644 file) = %q, %v; want read (warned about only)", s, err)
	}
}

// TestClientSecretWarning: the OAuth2 providers' secret files are read
// whatever their mode, and warned about: the warning names the knob, the
// path and the fix; a private file, or one that cannot be opened, gets
// none. A FIFO is refused by ReadClientSecret without hanging.
func TestClientSecretWarning(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	open, private := write("open", 0o644), write("private", 0o600)
	if s, err := ReadClientSecret(open); err != nil || s != "s3cret" {
		t.Errorf("ReadClientSecret(0644) = %q, %v; want it read", s, err)
	}
	w := ClientSecretWarning("IDP_CLIENT_SECRET_FILE", open)
	for _, want := range []string{"IDP_CLIENT_SECRET_FILE = " + open, "mode 0644", "chmod o-rwx " + open} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q; want it to say %q", w, want)
		}
	}
	if strings.Contains(w, "s3cret") {
		t.Error("the warning quotes the secret")
	}
	if w := ClientSecretWarning("K", private); w != "" {
		t.Errorf("warning for a 0600 file: %q", w)
	}
	if w := ClientSecretWarning("K", filepath.Join(dir, "missing")); w != "" {
		t.Errorf("warning for a missing file: %q", w)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadClientSecret(fifo); err == nil || !strings.Contains(err.Error(), fifo) {
		t.Errorf("ReadClientSecret(FIFO) error %v; want refused naming the path", err)
	}

	var sw SecretWarner
	var got []string
	warn := func(msg string) { got = append(got, msg) }
	read := func(knob, path string) {
		t.Helper()
		if _, err := sw.Read(knob, path, warn); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		read("A_CLIENT_SECRET_FILE", open)
		read("B_CLIENT_SECRET_FILE", private)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "A_CLIENT_SECRET_FILE = "+open+": ") {
		t.Errorf("SecretWarner reported %q; want one warning, for A", got)
	}
	// A different problem with the same file is reported too.
	if err := os.Chmod(open, 0o660); err != nil {
		t.Fatal(err)
	}
	read("A_CLIENT_SECRET_FILE", open)
	if len(got) != 2 || !strings.Contains(got[1], "chmod g-w") {
		t.Errorf("after chmod 0660, SecretWarner reported %q; want a second warning saying chmod g-w", got)
	}
}

package localissuer_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/credmon/credmon/credmon/localissuer"
)

// TestLoadPrivateKeyRefusesKeyOpenToOthers: whoever can read the signing key
// mints tokens for any user, and whoever can write it makes the issuer sign
// with a key they know. A key readable or writable by "other", or writable
// by its group, is refused with the file, its mode and the fix; a
// group-readable key is used with a warning (a condor group may be
// deliberate). A world-readable key used to be used without a word.
func TestLoadPrivateKeyRefusesKeyOpenToOthers(t *testing.T) {
	ec, _ := goKeys(t)
	pemBytes := pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ec))(t))
	for _, tt := range []struct {
		mode   fs.FileMode
		refuse bool
		warn   bool
	}{
		{0o600, false, false},
		{0o400, false, false},
		{0o700, false, false},
		{0o601, false, false}, // execute only: lets nobody read the key
		{0o640, false, true},
		{0o440, false, true},
		{0o644, true, false},
		{0o604, true, false},
		{0o602, true, false},
		{0o666, true, false},
		{0o620, true, false},
		{0o660, true, false},
	} {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "key.pem", pemBytes)
			if err := os.Chmod(p, tt.mode); err != nil { // WriteFile's mode is subject to the umask
				t.Fatal(err)
			}
			k, err := localissuer.LoadPrivateKey(p, localissuer.AlgES256, "local")
			mode := fmt.Sprintf("mode %04o", tt.mode)
			if tt.refuse {
				if !errors.Is(err, localissuer.ErrKeyFileMode) {
					t.Fatalf("LoadPrivateKey(%04o) = %v, %v; want ErrKeyFileMode", tt.mode, k, err)
				}
				for _, want := range []string{p, mode, "chmod 0600 " + p} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadPrivateKey(%04o): %v", tt.mode, err)
			}
			if !tt.warn {
				eq(t, "ModeWarning", k.ModeWarning, "")
				return
			}
			for _, want := range []string{p, mode, "chmod 0600 " + p} {
				if !strings.Contains(k.ModeWarning, want) {
					t.Errorf("ModeWarning %q does not contain %q", k.ModeWarning, want)
				}
			}
		})
	}
}

// TestLoadPrivateKeyChecksTheFileNotTheLink: the mode that counts is the
// key file's (fstat of what was opened), not a symlink's 0777.
func TestLoadPrivateKeyChecksTheFileNotTheLink(t *testing.T) {
	dir := t.TempDir()
	ec, _ := goKeys(t)
	p := writeFile(t, dir, "key.pem", pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ec))(t)))
	link := filepath.Join(dir, "scitokens-private.pem")
	if err := os.Symlink("key.pem", link); err != nil {
		t.Fatal(err)
	}
	k, err := localissuer.LoadPrivateKey(link, localissuer.AlgES256, "local")
	if err != nil || k.ModeWarning != "" {
		t.Fatalf("LoadPrivateKey(symlink to a 0600 key) = %v, %v; want the key, no warning", k, err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := localissuer.LoadPrivateKey(link, localissuer.AlgES256, "local"); !errors.Is(err, localissuer.ErrKeyFileMode) {
		t.Fatalf("LoadPrivateKey(symlink to a 0644 key) error = %v; want ErrKeyFileMode", err)
	}
}

// TestLoadPrivateKeyRefusesFIFOWithoutBlocking: a FIFO at the key path is
// refused at once instead of waiting for a writer forever.
func TestLoadPrivateKeyRefusesFIFOWithoutBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := localissuer.LoadPrivateKey(p, localissuer.AlgES256, "local")
	if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), p) {
		t.Fatalf("LoadPrivateKey(FIFO) error = %v; want one saying it is not a regular file", err)
	}
}

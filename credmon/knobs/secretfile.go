package knobs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/credmon/credmon/internal/atomicfile"
)

// maxSecretFile bounds what is read of a client secret file.
const maxSecretFile = 64 << 10

// errEmptySecret is readSecret's error for a file without a secret.
var errEmptySecret = errors.New("the client secret file is empty")

// What a careful admin expects of a client secret file, and the two rules
// that follow from it.
//
// The daemon reads the secret files as root; the login web app reads the
// OAuth2 providers' ones as the condor user, so a file 0640 root:condor is
// the usual setup and is accepted everywhere. Secrets under /etc/condor
// are often symlinks into a secrets manager's mount: a symlink is followed
// and its target checked (a FIFO, directory or device is refused). What a
// careful admin does not expect is a client secret every local user can
// read (anyone could get tokens as the site's client) or replace, nor one
// owned by some other unprivileged user, who controls it. So:
//
//   - The client-credentials and Pelican types, new here, REFUSE such a
//     file (ReadSecretFile): there is no existing setup to keep working, and
//     every error names the knob, the path and the fix.
//   - The OAuth2 providers' <P>_CLIENT_SECRET_FILE is read as credd and the
//     Python credmon and web app read it, with no owner or mode check
//     (ReadClientSecret), and only WARNED about (ClientSecretWarning, logged
//     by the daemon and credmon-web at start and reported by credmon check):
//     a site moving from the Python credmon with a 0644 secret file must not
//     have every user's refreshes stop on upgrade; the warning says how to
//     fix the file.

// secretFileProblem returns what makes the secret file at path, as st
// describes it, unsafe for a reader with effective uid euid: a mode that
// lets others read or write it, or its group write it, or an owner who is
// neither root nor the reader. The error names path and the command that
// fixes it; nil means the file is private.
func secretFileProblem(path string, st atomicfile.Stat, euid int) error {
	perm := st.Mode.Perm()
	switch {
	case perm&0o007 != 0:
		return fmt.Errorf("mode %04o lets every local user read or replace the client secret; run chmod o-rwx %s", perm, path)
	case perm&0o020 != 0:
		return fmt.Errorf("mode %04o lets the file's group replace the client secret; run chmod g-w %s", perm, path)
	case st.Uid != 0 && int(st.Uid) != euid:
		return fmt.Errorf("owned by uid %d, neither root nor this process's user (uid %d), who can replace the client secret; run chown root %s", st.Uid, euid, path)
	}
	return nil
}

// openSecret opens the client secret file at path: a regular file, a
// symlink followed and its target checked.
func openSecret(path string) (*os.File, atomicfile.Stat, error) {
	return atomicfile.OpenRegular(path, atomicfile.OpenOptions{FollowSymlink: true})
}

// readSecret reads the first line of f, cut at the first control byte
// (<= 0x1F) as credd cuts it. Its errors never quote the content.
func readSecret(f *os.File) (string, error) {
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile))
	if err != nil {
		return "", err
	}
	for i, c := range b {
		if c <= 0x1f {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return "", errEmptySecret
	}
	return string(b), nil
}

// ReadSecretFile reads a client secret file of the client-credentials and
// Pelican types: the first line, cut at the first control byte, as
// ReadClientSecret (credd's rule) does. Unlike ReadClientSecret, it REFUSES
// a file that is not private (see the rules above): it must be a regular
// file (a symlink is followed and its target checked), owned by root or
// this process's user, neither readable nor writable by others nor
// writable by its group. 0600 and 0640 root:condor are accepted. Every
// error names knob, the knob that names the file, and path, and says how
// to fix it; none quotes the file's content.
func ReadSecretFile(knob, path string) (string, error) {
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("%s = %s: %w", knob, path, err)
	}
	f, st, err := openSecret(path)
	if err != nil {
		return fail(fmt.Errorf("cannot open the client secret file: %w", err))
	}
	defer f.Close()
	if err := secretFileProblem(path, st, os.Geteuid()); err != nil {
		return fail(err)
	}
	secret, err := readSecret(f)
	if err != nil {
		return fail(err)
	}
	return secret, nil
}

// ReadClientSecret reads an OAuth2 provider's <P>_CLIENT_SECRET_FILE as
// credd does: the first line, cut at the first control byte (<= 0x1F). A
// symlink is followed; a FIFO, directory or device is refused. It does NOT
// refuse a file other users can read (see the rules above: it is read as
// credd and the Python credmon read it); ClientSecretWarning says what is
// wrong with it, and SecretWarner.Read reads and warns. Errors name path,
// never the content.
func ReadClientSecret(path string) (string, error) {
	secret, _, err := readClientSecret(path)
	return secret, err
}

// readClientSecret is ReadClientSecret, also returning what is unsafe
// about the file it read (secretFileProblem of its fstat), so that the
// warning costs no second open.
func readClientSecret(path string) (secret string, problem, err error) {
	f, st, err := openSecret(path)
	if err != nil {
		return "", nil, fmt.Errorf("reading the client secret file: %w", err)
	}
	defer f.Close()
	secret, err = readSecret(f)
	if errors.Is(err, errEmptySecret) {
		return "", nil, fmt.Errorf("the client secret file %s is empty", path)
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading the client secret file %s: %w", path, err)
	}
	return secret, secretFileProblem(path, st, os.Geteuid()), nil
}

// ClientSecretWarning returns what makes the OAuth2 client secret file at
// path unsafe for a reader with this process's effective uid (the rules
// above), or "" when it is private or cannot be opened (reading it reports
// that). The message names knob, path and the fix.
func ClientSecretWarning(knob, path string) string {
	f, st, err := openSecret(path)
	if err != nil {
		return ""
	}
	f.Close()
	return secretWarning(knob, path, secretFileProblem(path, st, os.Geteuid()))
}

// secretWarning is the warning for problem with knob's file path; "" for
// none.
func secretWarning(knob, path string, problem error) string {
	if problem == nil {
		return ""
	}
	return fmt.Sprintf("%s = %s: %v (read anyway, as credd reads it)", knob, path, problem)
}

// SecretWarner reads OAuth2 client secret files and reports each distinct
// ClientSecretWarning once per process: the daemon and credmon-web read the
// file each time they need the secret (a provider may be configured by
// <P>_CLIENT_ID alone, so its file is known only when a token of it is
// refreshed or logged in to), and log a problem the first time it is seen.
// The zero value is ready.
type SecretWarner struct{ seen sync.Map }

// Read is ReadClientSecret(path), calling warn with the file's
// ClientSecretWarning when it has one not reported before; the warning
// comes from the same open as the secret.
func (s *SecretWarner) Read(knob, path string, warn func(msg string)) (string, error) {
	secret, problem, err := readClientSecret(path)
	if err != nil {
		return "", err
	}
	if msg := secretWarning(knob, path, problem); msg != "" {
		if _, seen := s.seen.LoadOrStore(msg, struct{}{}); !seen {
			warn(msg)
		}
	}
	return secret, nil
}

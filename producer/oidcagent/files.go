package oidcagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/credmon/credmon/internal/atomicfile"
)

// EnvConfigDir names the variable that, when set to an existing directory,
// is oidc-agent's directory (settings.h OIDC_CONFIG_DIR_ENV_NAME).
const EnvConfigDir = "OIDC_CONFIG_DIR"

// IssuerConfigFile is the per-user issuer list oidc-agent keeps in its
// directory and creates, empty, with the directory.
const IssuerConfigFile = "issuer.config"

// ErrNoConfigDir means none of oidc-agent's candidate directories exists.
var ErrNoConfigDir = errors.New("oidcagent: no oidc-agent directory")

// maxAccountFileSize bounds what Load reads. Account files are 1–3 KiB
// (one with a dynamically registered client is the largest).
const maxAccountFileSize = 1 << 20

// configDirCandidates returns the directories oidc-agent considers, in its
// order (oidc_file_io.c getPossibleOidcDirLocations): $OIDC_CONFIG_DIR if
// set, then $HOME/.config/oidc-agent, then $HOME/.oidc-agent. oidc-agent
// resolves ~ with $HOME, so without HOME only the first can apply.
func configDirCandidates() []string {
	var c []string
	if d := os.Getenv(EnvConfigDir); d != "" {
		c = append(c, filepath.Clean(d))
	}
	if home := os.Getenv("HOME"); home != "" {
		c = append(c, filepath.Join(home, ".config", "oidc-agent"), filepath.Join(home, ".oidc-agent"))
	}
	return c
}

// FindConfigDir returns the first candidate directory that exists
// (oidc_file_io.c getOidcDir), the one oidc-agent reads accounts from. Note
// that an $OIDC_CONFIG_DIR that does not exist is skipped, not an error:
// oidc-agent 4.2.6 then silently uses ~/.config/oidc-agent or ~/.oidc-agent
// (verified). A directory that cannot be opened for lack of permission is
// skipped too, as oidc-agent does; a candidate that is not a directory is
// an error (oidc-agent exits).
func FindConfigDir() (string, error) {
	cands := configDirCandidates()
	for _, d := range cands {
		ok, err := dirExists(d)
		if err != nil {
			return "", err
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: none of %s exists", ErrNoConfigDir, strings.Join(cands, ", "))
}

// CreateConfigDir returns FindConfigDir's directory if there is one, and
// otherwise creates the first candidate whose parent exists, as oidc-gen
// does (oidc_file_io.c createOidcDir): so ~/.config/oidc-agent when
// ~/.config exists, else ~/.oidc-agent. Unlike oidc-gen (mode 0777 minus
// umask) it creates the directory with mode 0700; like it, it puts an empty
// issuer.config in it.
func CreateConfigDir() (string, error) {
	if d, err := FindConfigDir(); err == nil || !errors.Is(err, ErrNoConfigDir) {
		return d, err
	}
	for _, d := range configDirCandidates() {
		ok, err := dirExists(filepath.Dir(d))
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", fmt.Errorf("oidcagent: creating %s: %w", d, err)
		}
		f, err := os.OpenFile(filepath.Join(d, IssuerConfigFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("oidcagent: creating %s: %w", filepath.Join(d, IssuerConfigFile), err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("oidcagent: creating %s: %w", filepath.Join(d, IssuerConfigFile), err)
		}
		return d, nil
	}
	return "", fmt.Errorf("%w: no parent directory of %s exists", ErrNoConfigDir, strings.Join(configDirCandidates(), ", "))
}

// dirExists is file_io.c dirExists: opendir succeeds → true; ENOENT or
// EACCES → false; anything else (ENOTDIR, ...) → error.
func dirExists(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return false, nil
		}
		return false, fmt.Errorf("oidcagent: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("oidcagent: %w", err)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("oidcagent: %s is not a directory", path)
	}
	return true, nil
}

// ValidName checks an account short name for use as a file name in the
// oidc-agent directory. Beyond what a file name needs (not empty, ".", ".."
// and no "/" or NUL), it refuses names oidc-agent does not list as accounts
// (fileUtils.c getAccountConfigFileList / isAccountConfigFile): hidden
// ".…" names — which also keeps them apart from Save's temporary files — and
// names ending in ".config" or containing ".clientconfig".
func ValidName(name string) error {
	var why string
	switch {
	case name == "":
		why = "empty"
	case name == "." || name == "..":
		why = "not a file name"
	case strings.ContainsAny(name, "/\x00"):
		why = `contains "/" or NUL`
	case strings.HasPrefix(name, "."):
		why = "starts with a dot (oidc-agent ignores hidden files)"
	case strings.HasSuffix(name, ".config") || strings.Contains(name, ".clientconfig"):
		why = "is reserved for oidc-agent's own configuration files"
	default:
		return nil
	}
	return fmt.Errorf("oidcagent: invalid account name %q: %s", name, why)
}

// Load reads, decrypts and parses the account file dir/name. Unlike
// oidc-agent, it refuses a symlink at dir/name (O_NOFOLLOW) and anything
// but a regular file (atomicfile.OpenRegular): credmon-token and the
// renewer may run as root over a service user's oidc-agent directory, and
// a link planted there must not make them open, with their privileges, a
// file its owner could not read (or a FIFO that hangs them).
// The error names the path and wraps atomicfile.ErrNotRegular. Other
// errors wrap ErrBadPassword, ErrCorrupt, ErrUnsupported or the fs error
// (fs.ErrNotExist for a missing account).
func Load(dir, name string, password []byte) (*Account, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	data, _, err := atomicfile.ReadRegular(path, maxAccountFileSize, atomicfile.OpenOptions{})
	if errors.Is(err, atomicfile.ErrTooLarge) {
		err = fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, maxAccountFileSize)
	}
	if err != nil {
		return nil, fmt.Errorf("oidcagent: reading account %s: %w", path, err)
	}
	plain, err := Decrypt(data, password)
	if err != nil {
		return nil, fmt.Errorf("decrypting account %s: %w", path, err)
	}
	defer clear(plain)
	a, err := ParseAccount(plain)
	if err != nil {
		return nil, fmt.Errorf("parsing account %s: %w", path, err)
	}
	return a, nil
}

// Save encrypts acct with password and atomically replaces dir/name with
// it: a temporary file in dir, written, fsynced and renamed over the old
// file, then dir fsynced, so a reader (oidc-agent, another credmon-token)
// sees the old file or the new one, never a partial one, and a crash keeps
// one of them. The new file keeps the old one's permission bits and owner
// (changing the owner needs the privilege to do so); a new file gets mode
// 0600. A symlink at dir/name is replaced, never followed. acct's name must
// be name, since oidc-agent loads the account under the name inside it.
//
// oidc-agent itself rewrites files in place with fopen("w") (file_io.c
// writeFile), so a concurrent oidc-agent can still see our file half
// written only while it is writing its own.
func Save(dir, name string, acct *Account, password []byte) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if n := acct.Name(); n != name {
		return fmt.Errorf("oidcagent: account name %q does not match the file name %q", n, name)
	}
	plain, err := acct.MarshalJSON()
	if err != nil {
		return err
	}
	defer clear(plain)
	data, err := Encrypt(plain, password)
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, name, data)
}

// writeFileAtomic replaces dir/name with data, keeping an existing file's
// mode and owner (a new file gets 0600); see Save.
func writeFileAtomic(dir, name string, data []byte) error {
	// A symlink at the name is replaced: the account file's place is
	// oidc-agent's directory, and Save must not write where a link points.
	// The owner is kept strictly: an account file given to another user
	// must not silently become ours.
	err := atomicfile.Replace(filepath.Join(dir, name), data, atomicfile.Options{
		Mode: 0o600, KeepMode: true, KeepOwner: true, StrictOwner: true, Symlink: atomicfile.ReplaceSymlink})
	if err != nil {
		return fmt.Errorf("oidcagent: %w", err)
	}
	return nil
}

package bearer

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DefaultMode is the mode of a written token file when WriteOptions.Mode
// is zero: htgettoken's (mkstemp) and igwn-robot-get's 0600.
const DefaultMode os.FileMode = 0o600

// WriteOptions controls WriteFile.
type WriteOptions struct {
	// Mode is the file's permission bits; zero means DefaultMode.
	// Group/other-writable modes are refused: ReadTokenFile would refuse
	// the result.
	Mode os.FileMode
	// UID and GID, when ≥ 0, are set on the file before the token is
	// written (needs privilege); -1 leaves them as created. A zero
	// WriteOptions therefore sets uid and gid 0; callers normally pass -1.
	UID, GID int
	// Newline appends "\n" after the token, as htgettoken does; readers
	// strip it (BTD).
	Newline bool
}

// WriteFile replaces the token file at path atomically, the way
// htgettoken's writeTokenSafely does but without its window
// where the file does not exist, and safely in a shared /tmp:
//
//  1. path is checked with lstat: a symlink is refused (it is neither
//     followed nor replaced: a symlink in /tmp may point at a victim file,
//     and one made on purpose should be replaced by setting
//     BEARER_TOKEN_FILE to its target); so is anything but a regular file,
//     and a file owned by a uid other than the one the token is for
//     (opts.UID if ≥ 0, else the effective uid), as someone else may have
//     planted it to read the token.
//  2. A temporary file ".<name>.<random>.tmp" is created in the same
//     directory with O_CREAT|O_EXCL|O_NOFOLLOW and the final mode (then
//     fchmod'ed, so the umask does not matter), chowned if asked, written,
//     and fsynced.
//  3. It is renamed onto path, which atomically replaces any old file: a
//     concurrent reader sees the old token or the new one, never a partial
//     file and never ENOENT (htgettoken unlinks first).
//  4. The directory is fsynced so the rename survives a crash.
//
// On any error the temporary file is removed and path is left as it was.
// The directory must exist. token must be a non-empty RFC 6750 b64token.
func WriteFile(path, token string, opts WriteOptions) error {
	if token == "" {
		return ErrEmptyToken
	}
	if i := invalidAt(token); i >= 0 {
		return fmt.Errorf("%w: byte %d is %q", ErrInvalidToken, i, token[i])
	}
	mode := opts.Mode
	if mode == 0 {
		mode = DefaultMode
	}
	if mode&^fs.ModePerm != 0 {
		return fmt.Errorf("writing %s: mode %v has bits other than permissions", path, mode)
	}
	if mode&0o022 != 0 {
		return fmt.Errorf("writing %s: mode %04o is group/other-writable", path, mode)
	}
	owner := opts.UID
	if owner < 0 {
		owner = os.Geteuid()
	}
	if err := checkReplace(path, owner); err != nil {
		return err
	}

	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, tmp, err := createTemp(dir, base, mode)
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// fchmod: O_CREAT's mode is masked by the umask.
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("setting mode of %s: %w", tmp, err)
	}
	if opts.UID >= 0 || opts.GID >= 0 {
		// Before writing, as Vault Agent's file sink does, so the token
		// never sits in a file owned by the wrong user.
		if err := f.Chown(opts.UID, opts.GID); err != nil {
			return fmt.Errorf("setting owner of %s: %w", tmp, err)
		}
	}
	data := token
	if opts.Newline {
		data += "\n"
	}
	if _, err := f.WriteString(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	// The check in checkReplace and the rename are not one step; in a
	// sticky directory such as /tmp the kernel refuses (EPERM) to let a
	// non-root user rename over another user's file created in between.
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		ok = true // already cleaned up
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// checkReplace refuses to replace path unless it is absent or a regular
// file owned by owner.
func checkReplace(path string, owner int) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	m := fi.Mode()
	if m&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return fmt.Errorf("refusing to write %s: it is a symlink (to %q), which is neither followed nor replaced; set BEARER_TOKEN_FILE or -o to the real file: %w", path, target, fs.ErrPermission)
	}
	if !m.IsRegular() {
		return fmt.Errorf("refusing to write %s: it is a %s, not a regular file", path, fileKind(m))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != owner {
		// Wraps fs.ErrPermission: callers map it to "file permission
		// error", which is what the operator has to fix.
		return fmt.Errorf("refusing to replace %s: owned by uid %d, not uid %d; someone else may have created it to read the token (remove it if it is stale): %w", path, st.Uid, owner, fs.ErrPermission)
	}
	return nil
}

// createTemp creates ".<base>.<random>.tmp" in dir, exclusively and
// without following a symlink, with mode perm.
func createTemp(dir, base string, perm os.FileMode) (*os.File, string, error) {
	var b [8]byte
	for range 10 {
		rand.Read(b[:])
		name := filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("no free temporary name in %s", dir)
}

// syncDir fsyncs a directory so a rename in it is durable. File systems
// that cannot fsync a directory (EINVAL) are tolerated.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

package bearer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/credmon/credmon/internal/atomicfile"
)

// defaultMode is the mode of a written token file when WriteOptions.Mode
// is zero: htgettoken's (mkstemp) and igwn-robot-get's 0600.
const defaultMode os.FileMode = 0o600

// WriteOptions controls WriteFile.
type WriteOptions struct {
	// Mode is the file's permission bits; zero means defaultMode.
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
// where the file does not exist, and safely in a shared /tmp. The
// replacement is atomicfile.Replace's (temporary file created with
// O_EXCL|O_NOFOLLOW, chowned if asked before the token is written, mode
// set with fchmod so the umask does not matter, fsync, rename, directory
// fsync): a concurrent reader sees the old token or the new one, never a
// partial file and never ENOENT (htgettoken unlinks first). What is
// bearer's own:
//
//   - A symlink at path is refused (atomicfile.RefuseSymlink): it is
//     neither followed nor replaced, since a symlink in /tmp may point at
//     a victim file, and one made on purpose should be replaced by
//     setting BEARER_TOKEN_FILE to its target. So is anything but a
//     regular file.
//   - A file owned by a uid other than the one the token is for (opts.UID
//     if ≥ 0, else the effective uid) is refused, as someone else may have
//     planted it to read the token.
//   - Group/other-writable modes are refused, since ReadTokenFile would
//     refuse the result.
//
// On any error path is left as it was and no temporary file remains. The
// directory must exist. token must be a non-empty RFC 6750 b64token.
func WriteFile(path, token string, opts WriteOptions) error {
	if token == "" {
		return ErrEmptyToken
	}
	if i := invalidAt(token); i >= 0 {
		return fmt.Errorf("%w: byte %d is %q", ErrInvalidToken, i, token[i])
	}
	mode := opts.Mode
	if mode == 0 {
		mode = defaultMode
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
	if err := checkOwner(path, owner); err != nil {
		return err
	}
	data := token
	if opts.Newline {
		data += "\n"
	}
	o := atomicfile.Options{Mode: mode, Symlink: atomicfile.RefuseSymlink}
	if opts.UID >= 0 || opts.GID >= 0 {
		// Set before writing, as Vault Agent's file sink does, so the
		// token never sits in a file owned by the wrong user.
		o.Owner = &atomicfile.Owner{UID: opts.UID, GID: opts.GID}
	}
	// The check in checkOwner and the rename are not one step; in a
	// sticky directory such as /tmp the kernel refuses (EPERM) to let a
	// non-root user rename over another user's file created in between.
	err := atomicfile.Replace(path, []byte(data), o)
	if errors.Is(err, atomicfile.ErrSymlink) {
		// Wraps fs.ErrPermission: callers map it to "file permission
		// error", which is what the operator has to fix.
		return fmt.Errorf("%w; set BEARER_TOKEN_FILE or -o to the real file: %w", err, fs.ErrPermission)
	}
	return err
}

// checkOwner refuses to replace a regular file at path that is not owned
// by owner. Symlinks and other non-regular files are atomicfile.Replace's
// to refuse.
func checkOwner(path string, owner int) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != owner {
		return fmt.Errorf("refusing to replace %s: owned by uid %d, not uid %d; someone else may have created it to read the token (remove it if it is stale): %w", path, st.Uid, owner, fs.ErrPermission)
	}
	return nil
}

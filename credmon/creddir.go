package credmon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/atomicfile"
)

// credDirMode is the mode the Python credmon and condor_master create the
// credential directory with (root:condor 02770, setgid).
const credDirMode = 0o2770

// PrepareCredDir resolves the credential directory the way the Python
// credmon's get_cred_dir does: create it (02770) if missing, then refuse it
// when any "other" permission bit is set or when this process lacks rwx
// access. It also proves writability with a temp file.
//
// A configured path that is (or runs through) a symbolic link is resolved
// once, here, as the Python credmon's os.path calls follow it: sites link
// /var/lib/condor/oauth_credentials to another volume. The checks apply to
// the real directory, and the returned Dir's Path is the resolved path
// (the caller logs it when it differs). Nothing inside the directory is
// ever followed: every later access is relative to the open descriptor
// with O_NOFOLLOW (package atomicfile).
func PrepareCredDir(path string) (*atomicfile.Dir, error) {
	if path == "" {
		return nil, errors.New("no credential directory: set SEC_CREDENTIAL_DIRECTORY_OAUTH or pass --cred-dir")
	}
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(path, credDirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating credential directory: %w", err)
		}
		// Mkdir is subject to the umask; the setgid bit and group rwx matter.
		if err := os.Chmod(path, credDirMode|fs.ModeSetgid); err != nil {
			return nil, fmt.Errorf("setting mode of credential directory: %w", err)
		}
		_, err = os.Lstat(path)
	}
	if err != nil {
		return nil, fmt.Errorf("checking credential directory: %w", err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("resolving credential directory %s: %w", path, err)
	}
	fi, err := os.Lstat(real)
	if err != nil {
		return nil, fmt.Errorf("checking credential directory %s: %w", real, err)
	}
	path = real
	if fi.Mode()&fs.ModeSymlink != 0 {
		// Replaced by a link since we resolved it: refuse rather than chase.
		return nil, fmt.Errorf("credential directory %s changed into a symbolic link while starting", path)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("credential directory %s is not a directory", path)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return nil, fmt.Errorf("credential directory %s has mode %04o: it must not be accessible by others (chmod o-rwx)", path, perm)
	}
	if err := unix.Access(path, unix.R_OK|unix.W_OK|unix.X_OK); err != nil {
		return nil, fmt.Errorf("credential directory %s is not readable, writable and searchable by uid %d: %w", path, os.Geteuid(), err)
	}
	d, err := atomicfile.OpenDir(path)
	if err != nil {
		return nil, err
	}
	if err := d.CheckWritable(); err != nil {
		d.Close()
		return nil, fmt.Errorf("credential directory %s: write check: %w", path, err)
	}
	return d, nil
}

// writePid writes the pid file credd reads to signal us: decimal, no
// newline, mode 0644 so the condor user (credd's euid) can read it.
func writePid(d *atomicfile.Dir, pid int) error {
	_, err := d.WriteFile(credfile.PidFile, []byte(strconv.Itoa(pid)), 0o644)
	return err
}

// removePid removes the pid file when it still names pid, so credd stops
// signalling a dead process (observed on 25.14: credd keeps using a stale
// pid file forever).
func removePid(d *atomicfile.Dir, pid int) error {
	b, _, err := d.ReadFile(credfile.PidFile, 255)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if string(b) != strconv.Itoa(pid) {
		return nil // a newer credmon owns it
	}
	return d.Remove(credfile.PidFile)
}

// markIncomplete deletes CREDMON_COMPLETE (start of the daemon's life).
func markIncomplete(d *atomicfile.Dir) error { return d.Remove(credfile.CompleteFile) }

// markComplete touches CREDMON_COMPLETE after a full pass.
func markComplete(d *atomicfile.Dir) error { return d.Touch(credfile.CompleteFile, 0o644) }

// staleKeyFile reports whether a root entry is a credd key file old enough
// to delete: exactly 64 lowercase hex, a regular file, ctime older than 12 h
// (OCM cleanup_key_files).
func staleKeyFile(name string, st atomicfile.Stat, now time.Time, lifetime time.Duration) bool {
	return credfile.IsKeyFile(name) && st.IsRegular() && now.Sub(st.Ctime) > lifetime
}

// staleTemp reports whether one of our temp files is older than maxAge.
// At start-up every temp file is stale (maxAge 0): only one credmon owns the
// directory, so they are leftovers of a killed predecessor. Later, an hour
// is far longer than any write takes, even on a hung NFS server.
func staleTemp(name string, st atomicfile.Stat, now time.Time, maxAge time.Duration) bool {
	return atomicfile.IsTemp(name) && st.IsRegular() && now.Sub(st.Mtime) >= maxAge
}

// TempMaxAge is how old a temp file must be to be removed after start-up.
const TempMaxAge = time.Hour

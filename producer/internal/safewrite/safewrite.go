package safewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Options say what the new file looks like.
type Options struct {
	// Mode is the new file's permission bits. nil keeps an existing regular
	// file's bits, and uses DefaultMode for a new file.
	Mode        *fs.FileMode
	DefaultMode fs.FileMode
	// UID and GID set the new file's owner and group; -1 leaves each to
	// KeepOwner (or to the process's ids).
	UID, GID int
	// KeepOwner gives the new file the owner and group of the regular file
	// it replaces, where UID/GID do not say otherwise. With StrictKeep a
	// failure to do so is an error; without it it is best effort (the group
	// alone is tried too), as an in-place rewrite never changes them.
	KeepOwner, StrictKeep bool
}

// Replace writes data to path; see the package comment.
func Replace(path string, data []byte, o Options) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm := o.DefaultMode
	keepUID, keepGID := -1, -1
	switch st, lerr := os.Lstat(path); {
	case lerr == nil && st.Mode().IsRegular():
		perm = st.Mode().Perm()
		if s, ok := st.Sys().(*syscall.Stat_t); ok && o.KeepOwner {
			keepUID, keepGID = int(s.Uid), int(s.Gid)
		}
	case lerr == nil && st.Mode()&fs.ModeSymlink != 0:
		// Replaced by the rename, not followed; the new file gets defaults.
	case lerr == nil:
		return fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	case !errors.Is(lerr, fs.ErrNotExist):
		return lerr
	}
	if o.Mode != nil {
		perm = *o.Mode
	}
	wantUID, wantGID := o.UID, o.GID
	if wantUID < 0 {
		wantUID = keepUID
	}
	if wantGID < 0 {
		wantGID = keepGID
	}

	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if wantUID >= 0 || wantGID >= 0 {
		st, serr := f.Stat()
		if serr != nil {
			return serr
		}
		// Compared with the temporary file, not our ids: a setgid
		// directory already gives it the directory's group.
		s, _ := st.Sys().(*syscall.Stat_t)
		if s == nil || (wantUID >= 0 && int(s.Uid) != wantUID) || (wantGID >= 0 && int(s.Gid) != wantGID) {
			cerr := f.Chown(wantUID, wantGID)
			explicit := o.UID >= 0 || o.GID >= 0
			switch {
			case cerr == nil:
			case explicit || o.StrictKeep:
				return fmt.Errorf("setting owner %d:%d of %s: %w", wantUID, wantGID, path, cerr)
			default:
				_ = f.Chown(-1, wantGID) // best effort: the group at least
			}
		}
	}
	// After Chown, which may clear set-id bits.
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("%s was replaced, but syncing its directory failed: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

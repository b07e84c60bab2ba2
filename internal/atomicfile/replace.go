package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// DefaultMode is the mode of a file Replace writes when Options.Mode is
// zero: readable and writable by its owner only, as every credential is.
const DefaultMode fs.FileMode = 0o600

// ErrSymlink is returned by Replace when the name is a symbolic link and
// Options.Symlink is RefuseSymlink.
var ErrSymlink = errors.New("atomicfile: name is a symbolic link")

// SymlinkRule says what Replace does with a symbolic link at the name. A
// link is never followed (the new file is never written to where it
// points): the choice is only between leaving it in place with an error
// and replacing the link itself.
type SymlinkRule int

const (
	// RefuseSymlink (the default) leaves a symlink at the name in place
	// and fails with ErrSymlink. For files in directories other users may
	// write to (a bearer token in a shared /tmp): a link there may have been
	// planted to make us clobber it, or made on purpose by someone who
	// expects the write to reach its target, and an error is the only
	// answer that surprises neither; the admin points the program at the
	// real file instead.
	RefuseSymlink SymlinkRule = iota
	// ReplaceSymlink replaces a symlink at the name with the new regular
	// file, leaving its target untouched. For files the program owns by
	// configuration (renewer token files, oidc-agent account files, state
	// files): the name is where the file must be, and refusing would let a
	// planted link stop the service. Between the check and the rename a
	// link can appear; with RefuseSymlink that link is then replaced, never
	// followed, so the race costs the refusal, not the target.
	ReplaceSymlink
)

// Owner names the owner and group of a new file; -1 leaves one unset.
type Owner struct{ UID, GID int }

// Options say what file Replace writes. The zero value is the safe
// default: mode 0600, owned by the process, a symlink at the name refused,
// file and directory fsynced.
type Options struct {
	// Mode is the new file's permission bits (only those: anything else
	// is an error); zero means DefaultMode. It is set with fchmod, so the
	// umask neither narrows nor widens it.
	Mode fs.FileMode
	// KeepMode gives the new file the permission bits of the regular file
	// it replaces; Mode then applies only to a new file (or one that
	// replaces a symlink). An in-place rewrite would keep them.
	KeepMode bool
	// Owner, when set, is given to the new file before data is written
	// (needs the privilege to chown); failing to do so is an error. A -1
	// field is left to KeepOwner or to what creating a file gives (the
	// process's uid; its gid, or the directory's when it is setgid).
	Owner *Owner
	// KeepOwner gives the new file the owner and group of the regular file
	// it replaces where Owner does not set them. Without StrictOwner this
	// is best effort (the group alone is tried when both cannot be had):
	// an unprivileged process keeps what it can, as an in-place rewrite
	// would keep both. With StrictOwner failing is an error.
	KeepOwner, StrictOwner bool
	// Symlink is the rule for a symbolic link at the name; see SymlinkRule.
	// Anything else that is not a regular file (a directory, FIFO, socket,
	// device) is always refused with ErrNotRegular.
	Symlink SymlinkRule
	// NoReplace publishes the file only if the name is free: anything at
	// the name, even a dangling symlink, makes Replace return an error
	// wrapping fs.ErrExist and leaves it alone. The file then appears with
	// link(2), or renameat2(RENAME_NOREPLACE) where the file system has no
	// hard links, never by a rename that could replace a racing writer's
	// file. For files that must never change once made (signing keys).
	NoReplace bool
	// SkipDirSync leaves out the directory fsync after the rename: readers
	// still never see a partial file (the file's data is fsynced before it
	// gets the name), but after a power failure the name may point at the
	// previous version. Only for files that can be made again from durable
	// ones. The file's own fsync is never skipped: without it a crash can
	// leave an empty file at the name (caddy#6481).
	SkipDirSync bool
}

// Replace makes path name a regular file holding exactly data: a temp
// file next to it (O_EXCL|O_NOFOLLOW), chowned, written, chmodded and
// fsynced, renamed over path, then the directory fsynced. A reader opening
// path sees the old content or the new, never a partial file and never no
// file. On error path is unchanged and no temp file is left, except that
// an error from the directory fsync comes after the rename: the new file
// is in place, only its durability is in doubt.
//
// The directory part of path is resolved normally (symlinks in it are the
// admin's choice); the final name is never followed. See Options for what
// happens to an existing file and its mode and owner.
func Replace(path string, data []byte, o Options) error {
	if o.Mode&^fs.ModePerm != 0 {
		return fmt.Errorf("writing %s: mode %v has bits other than permissions", path, o.Mode)
	}
	dirPath, name := filepath.Split(path)
	if dirPath == "" {
		dirPath = "."
	}
	if err := checkName(name); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Only the final name is guarded; the directory may be reached
	// through a symlink (a /tmp or /var that is one).
	fd, err := unix.Open(dirPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dirPath, Err: err}
	}
	d := &Dir{fd: fd, path: filepath.Clean(dirPath)}
	defer d.Close()
	return d.replace(name, data, o)
}

func (d *Dir) replace(name string, data []byte, o Options) error {
	perm := o.Mode
	if perm == 0 {
		perm = DefaultMode
	}
	keep := Owner{UID: -1, GID: -1}
	switch st, err := d.Stat(name); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case o.NoReplace:
		return &fs.PathError{Op: "create", Path: d.join(name), Err: fs.ErrExist}
	case st.Mode&fs.ModeSymlink != 0:
		if o.Symlink != ReplaceSymlink {
			target, _ := os.Readlink(d.join(name))
			return fmt.Errorf("refusing to replace %s: it is a symlink (to %q), which is neither followed nor replaced: %w", d.join(name), target, ErrSymlink)
		}
	case !st.IsRegular():
		return fmt.Errorf("refusing to replace %s: it is a %s, not a regular file: %w", d.join(name), Kind(st.Mode), ErrNotRegular)
	default:
		if o.KeepMode {
			perm = st.Mode.Perm()
		}
		if o.KeepOwner {
			keep = Owner{UID: int(st.Uid), GID: int(st.Gid)}
		}
	}
	want, explicit := keep, false
	if o.Owner != nil {
		if o.Owner.UID >= 0 {
			want.UID, explicit = o.Owner.UID, true
		}
		if o.Owner.GID >= 0 {
			want.GID, explicit = o.Owner.GID, true
		}
	}
	var chown func(*os.File, Stat) error
	if want.UID >= 0 || want.GID >= 0 {
		chown = func(f *os.File, tmp Stat) error {
			// Compared with the temp file, not our ids: a setgid
			// directory already gives it the directory's group.
			if (want.UID < 0 || int(tmp.Uid) == want.UID) && (want.GID < 0 || int(tmp.Gid) == want.GID) {
				return nil
			}
			err := f.Chown(want.UID, want.GID)
			switch {
			case err == nil:
				return nil
			case explicit || o.StrictOwner:
				return fmt.Errorf("setting owner %d:%d of %s: %w", want.UID, want.GID, d.join(name), err)
			default:
				_ = f.Chown(-1, want.GID) // best effort: the group at least
				return nil
			}
		}
	}
	p, err := d.prepare(name, data, perm, chown)
	if err != nil {
		return err
	}
	if o.NoReplace {
		return p.publishNew(!o.SkipDirSync)
	}
	return p.commit(!o.SkipDirSync)
}

// publishNew gives the temp file the name unless something has it, then
// removes the temp name.
func (p *Pending) publishNew(syncDir bool) error {
	if p.done {
		return errors.New("atomicfile: replacement already committed or aborted")
	}
	p.done = true
	err := unix.Linkat(p.d.fd, p.tmp, p.d.fd, p.name, 0)
	if err == unix.EPERM || err == unix.EOPNOTSUPP {
		// No hard links here (some FUSE file systems): the same
		// no-overwrite guarantee from the rename itself.
		err = unix.Renameat2(p.d.fd, p.tmp, p.d.fd, p.name, unix.RENAME_NOREPLACE)
	}
	if err != nil {
		_ = unix.Unlinkat(p.d.fd, p.tmp, 0)
		return &fs.PathError{Op: "create", Path: p.d.join(p.name), Err: err}
	}
	if err := unix.Unlinkat(p.d.fd, p.tmp, 0); err != nil && err != unix.ENOENT {
		// The name must not stay a second link to a file a crash could
		// leave a temp name on; undo the publication.
		_ = unix.Unlinkat(p.d.fd, p.name, 0)
		return &fs.PathError{Op: "remove", Path: p.d.join(p.tmp), Err: err}
	}
	if !syncDir {
		return nil
	}
	return p.d.sync()
}

// Kind names the type of a non-regular file for error messages (the
// writer's and the token readers' refusals use the same words).
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "irregular file"
	}
}

package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TempPrefix and TempSuffix frame every temp file this package creates.
const (
	TempPrefix = ".credmon-"
	TempSuffix = ".tmp"
)

// ErrNotRegular is returned when a name exists but is not a regular file
// (a symlink, directory, FIFO, ...). Such entries are never read.
var ErrNotRegular = errors.New("atomicfile: not a regular file")

// ErrTooLarge is returned by ReadFile when the file exceeds the limit.
var ErrTooLarge = errors.New("atomicfile: file too large")

// Stat is the subset of stat(2) the daemon uses.
type Stat struct {
	Dev, Ino uint64
	Mode     fs.FileMode // permission bits and type as in io/fs
	Uid, Gid uint32
	Size     int64
	Mtime    time.Time
	Ctime    time.Time
}

// ID identifies one version of a file: a rename-replaced file gets a new
// inode, an in-place edit a new size or mtime, a chmod a new ctime.
type ID struct {
	Dev, Ino uint64
	Size     int64
	Mtime    int64
}

// ID returns the file version identity (ctime is left out: chmod/chown do
// not change content, so they must not trigger work).
func (s Stat) ID() ID {
	return ID{Dev: s.Dev, Ino: s.Ino, Size: s.Size, Mtime: s.Mtime.UnixNano()}
}

// IsZero reports whether id is the zero ID (no file).
func (id ID) IsZero() bool { return id == ID{} }

// IsRegular reports whether the entry is a regular file.
func (s Stat) IsRegular() bool { return s.Mode.IsRegular() }

// IsDir reports whether the entry is a directory.
func (s Stat) IsDir() bool { return s.Mode.IsDir() }

func fromUnix(st *unix.Stat_t) Stat {
	mode := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if st.Mode&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return Stat{
		Dev: st.Dev, Ino: st.Ino, Mode: mode, Uid: st.Uid, Gid: st.Gid, Size: st.Size,
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
		Ctime: time.Unix(st.Ctim.Sec, st.Ctim.Nsec),
	}
}

// Dir is an open directory. It is safe for concurrent use; Close it once.
type Dir struct {
	fd   int
	path string
}

// OpenDir opens path as a directory. The last component must not be a
// symlink.
func OpenDir(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{fd: fd, path: path}, nil
}

// OpenDir opens the subdirectory name of d without following a symlink.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return &Dir{fd: fd, path: d.join(name)}, nil
}

// Path returns the directory's path as opened (for messages).
func (d *Dir) Path() string { return d.path }

// Close closes the directory.
func (d *Dir) Close() error { return unix.Close(d.fd) }

func (d *Dir) join(name string) string { return d.path + "/" + name }

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) {
		return fmt.Errorf("atomicfile: invalid name %q", name)
	}
	return nil
}

// Stat returns the entry's status without following a symlink.
func (d *Dir) Stat(name string) (Stat, error) {
	if err := checkName(name); err != nil {
		return Stat{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Stat{}, &fs.PathError{Op: "stat", Path: d.join(name), Err: err}
	}
	return fromUnix(&st), nil
}

// StatPath returns the status of dir/name inside d without following a
// symlink in name. dir must be a direct subdirectory name; it is resolved
// by the kernel (used only to compare file identities, never to read).
func (d *Dir) StatPath(dir, name string) (Stat, error) {
	if err := checkName(dir); err != nil {
		return Stat{}, err
	}
	if err := checkName(name); err != nil {
		return Stat{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, dir+"/"+name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Stat{}, &fs.PathError{Op: "stat", Path: d.join(dir + "/" + name), Err: err}
	}
	return fromUnix(&st), nil
}

// Self returns the status of the directory itself.
func (d *Dir) Self() (Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return Stat{}, &fs.PathError{Op: "stat", Path: d.path, Err: err}
	}
	return fromUnix(&st), nil
}

// Entry is a directory entry.
type Entry struct {
	Name string
	Type fs.FileMode // type bits only; may be ModeIrregular when unknown
}

// ReadDir lists the directory (no "." or ".."), in directory order.
func (d *Dir) ReadDir() ([]Entry, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	des, err := f.ReadDir(-1)
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		out = append(out, Entry{Name: de.Name(), Type: de.Type()})
	}
	return out, err
}

// ReadFile reads a regular file of at most max bytes without following a
// symlink, and returns its status as seen by fstat on the open file. It fails
// when the file changes (size or mtime) while it is read, as HTCondor's
// read_secure_file does.
func (d *Dir) ReadFile(name string, max int64) ([]byte, Stat, error) {
	if err := checkName(name); err != nil {
		return nil, Stat{}, err
	}
	// O_NONBLOCK: a FIFO planted in the directory must not hang the scan.
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ELOOP {
			err = ErrNotRegular
		}
		return nil, Stat{}, &fs.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	f := os.NewFile(uintptr(fd), d.join(name))
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, Stat{}, &fs.PathError{Op: "stat", Path: d.join(name), Err: err}
	}
	s := fromUnix(&st)
	if !s.IsRegular() {
		return nil, s, &fs.PathError{Op: "read", Path: d.join(name), Err: ErrNotRegular}
	}
	if s.Size > max {
		return nil, s, &fs.PathError{Op: "read", Path: d.join(name), Err: ErrTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, s, &fs.PathError{Op: "read", Path: d.join(name), Err: err}
	}
	if int64(len(data)) > max {
		return nil, s, &fs.PathError{Op: "read", Path: d.join(name), Err: ErrTooLarge}
	}
	var after unix.Stat_t
	if err := unix.Fstat(fd, &after); err == nil && (after.Size != st.Size || after.Mtim != st.Mtim) {
		return nil, s, &fs.PathError{Op: "read", Path: d.join(name), Err: errors.New("file changed while being read")}
	}
	return data, s, nil
}

// WriteFile atomically replaces name with data at mode perm (owned by the
// calling process): temp file, fsync, rename, directory fsync. It returns the
// status of the file now at name. On error the temp file is removed and name
// is unchanged.
func (d *Dir) WriteFile(name string, data []byte, perm fs.FileMode) (Stat, error) {
	p, err := d.Prepare(name, data, perm)
	if err != nil {
		return Stat{}, err
	}
	return p.Stat(), p.Commit()
}

// Pending is a replacement written and synced to a temp file but not yet
// renamed into place: its identity is known before anyone can see it.
type Pending struct {
	d         *Dir
	tmp, name string
	st        Stat
	done      bool
}

// Prepare writes data to a temp file next to name, with mode perm, and
// fsyncs it. Commit puts it in place; Abort removes it.
func (d *Dir) Prepare(name string, data []byte, perm fs.FileMode) (*Pending, error) {
	return d.prepare(name, data, perm, nil)
}

// prepare is Prepare; chown, when set, runs on the empty temp file (given
// its status) before anything is written to it, so data never sits in a
// file owned by the wrong user.
func (d *Dir) prepare(name string, data []byte, perm fs.FileMode, chown func(*os.File, Stat) error) (*Pending, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	// Created 0600 whatever perm says: until fchmod, only we can read it.
	tmp, fd, err := d.createTemp(0o600)
	if err != nil {
		return nil, err
	}
	p := &Pending{d: d, tmp: tmp, name: name}
	f := os.NewFile(uintptr(fd), d.join(tmp))
	fail := func(err error) (*Pending, error) {
		f.Close()
		p.Abort()
		return nil, err
	}
	var st unix.Stat_t
	if chown != nil {
		if err := unix.Fstat(fd, &st); err != nil {
			return fail(&fs.PathError{Op: "stat", Path: d.join(tmp), Err: err})
		}
		if err := chown(f, fromUnix(&st)); err != nil {
			return fail(err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("writing %s: %w", d.join(tmp), err))
	}
	// fchmod, after any chown (which may clear set-id bits): the umask
	// must not narrow or widen the mode we promise.
	if err := f.Chmod(perm); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", d.join(tmp), err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("syncing %s: %w", d.join(tmp), err))
	}
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(&fs.PathError{Op: "stat", Path: d.join(tmp), Err: err})
	}
	p.st = fromUnix(&st)
	if err := f.Close(); err != nil {
		p.Abort()
		return nil, fmt.Errorf("closing %s: %w", d.join(tmp), err)
	}
	return p, nil
}

// Stat is the status the file will have at its name (rename keeps it).
func (p *Pending) Stat() Stat { return p.st }

// Commit renames the temp file over the name and fsyncs the directory. If
// the rename fails the temp file is removed and the name is unchanged.
func (p *Pending) Commit() error { return p.commit(true) }

// CommitUnsynced renames the temp file over the name without fsyncing the
// directory: readers see the new file at once and it is never partial (its
// data was synced by Prepare), but after a power failure the name may still
// point at the previous version. For derived files that can be made again
// from durable ones (a .use from its .top), where the directory fsync would
// be a quarter of the kernel time of a refresh for no recoverable loss.
func (p *Pending) CommitUnsynced() error { return p.commit(false) }

func (p *Pending) commit(syncDir bool) error {
	if p.done {
		return errors.New("atomicfile: replacement already committed or aborted")
	}
	p.done = true
	if err := unix.Renameat(p.d.fd, p.tmp, p.d.fd, p.name); err != nil {
		_ = unix.Unlinkat(p.d.fd, p.tmp, 0)
		return &fs.PathError{Op: "rename", Path: p.d.join(p.name), Err: err}
	}
	if !syncDir {
		return nil
	}
	return p.d.sync()
}

// sync makes the renames and links in d durable. A file system that
// cannot fsync a directory (EINVAL, ENOTSUP: some FUSE and network file
// systems) offers nothing more to wait for, and failing would only hide
// that the new file is in place.
func (d *Dir) sync() error {
	if err := unix.Fsync(d.fd); err != nil && err != unix.EINVAL && err != unix.ENOTSUP {
		// The rename happened; only its durability is in doubt.
		return fmt.Errorf("syncing directory %s: %w", d.path, err)
	}
	return nil
}

// Abort removes the temp file; the name is unchanged.
func (p *Pending) Abort() {
	if !p.done {
		p.done = true
		_ = unix.Unlinkat(p.d.fd, p.tmp, 0)
	}
}

func (d *Dir) createTemp(perm fs.FileMode) (string, int, error) {
	var rnd [8]byte
	for range 16 {
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", -1, err
		}
		name := TempPrefix + hex.EncodeToString(rnd[:]) + TempSuffix
		fd, err := unix.Openat(d.fd, name,
			unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return "", -1, &fs.PathError{Op: "create", Path: d.join(name), Err: err}
		}
		return name, fd, nil
	}
	return "", -1, fmt.Errorf("creating temp file in %s: too many collisions", d.path)
}

// Touch creates or replaces name as an empty file of mode perm, atomically.
func (d *Dir) Touch(name string, perm fs.FileMode) error {
	_, err := d.WriteFile(name, nil, perm)
	return err
}

// Mkdir creates the subdirectory name of d with mode perm (before umask);
// one that exists already is not an error (OpenDir then checks it is a
// directory and not a symlink).
func (d *Dir) Mkdir(name string, perm fs.FileMode) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := unix.Mkdirat(d.fd, name, uint32(perm.Perm())); err != nil && err != unix.EEXIST {
		return &fs.PathError{Op: "mkdir", Path: d.join(name), Err: err}
	}
	return nil
}

// Remove unlinks name (not a directory). A missing name is not an error.
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := unix.Unlinkat(d.fd, name, 0); err != nil && err != unix.ENOENT {
		return &fs.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// IsTemp reports whether name is a temp file created by this package.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, TempPrefix) && strings.HasSuffix(name, TempSuffix)
}

// CheckWritable proves the directory can take a replacement by creating and
// removing a temp file, so a daemon that cannot write fails at start-up and
// not an hour later (Vault agent's file-sink write check).
func (d *Dir) CheckWritable() error {
	tmp, fd, err := d.createTemp(0o600)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return d.Remove(tmp)
}

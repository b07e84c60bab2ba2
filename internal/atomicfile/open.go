package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// OpenOptions say how OpenRegular treats the path. The zero value is the
// safe default: a symlink at the path is refused.
type OpenOptions struct {
	// FollowSymlink opens what a symlink at the path points to, and checks
	// that target. For files an admin names in a configuration that may
	// live in a secrets manager's mount (/etc/condor/... → /run/secrets/...).
	// Without it a symlink at the path is refused (O_NOFOLLOW, ELOOP): for
	// files in directories a user controls, read by a privileged program.
	FollowSymlink bool
}

// OpenRegular opens path read-only for a program that reads a secret: the
// file must be a regular file (a FIFO, device or directory is refused
// without blocking: O_NONBLOCK, O_NOCTTY), and with the zero OpenOptions not
// a symlink. It returns the open file and its status as fstat sees it on the
// open descriptor, so that any owner or mode check judges the file that is
// read, not a name that may since have been swapped. Errors are
// *fs.PathError naming path; a refused symlink or non-regular file wraps
// ErrNotRegular and says what was found.
func OpenRegular(path string, o OpenOptions) (*os.File, Stat, error) {
	fd, s, err := openRegular(path, o)
	if err != nil {
		return nil, s, err
	}
	// Back to blocking reads: O_NONBLOCK only guarded the open.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, s, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), s, nil
}

// openRegular is OpenRegular's open and checks, on a bare descriptor.
func openRegular(path string, o OpenOptions) (int, Stat, error) {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	if !o.FollowSymlink {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openRetry(path, flags)
	if err != nil {
		if errors.Is(err, unix.ELOOP) && !o.FollowSymlink {
			err = fmt.Errorf("%w (a symlink; name the file itself)", ErrNotRegular)
		}
		return -1, Stat{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, Stat{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	s := fromUnix(&st)
	if !s.IsRegular() {
		unix.Close(fd)
		return -1, s, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, Kind(s.Mode))}
	}
	return fd, s, nil
}

// ReadRegular reads at most limit bytes of the regular file at path, opened
// as OpenRegular opens it. A larger file is ErrTooLarge.
//
// It is the system calls the job needs and no more (open, fstat, one read
// into a buffer sized by fstat, close), without an *os.File's poller
// registration and finalizer or io.ReadAll's growing buffer: credmon-web
// reads a key file with it on every /key visit.
func ReadRegular(path string, limit int64, o OpenOptions) ([]byte, Stat, error) {
	fd, s, err := openRegular(path, o)
	if err != nil {
		return nil, s, err
	}
	defer unix.Close(fd)
	// One byte more than fstat says, so that a file that grew meanwhile
	// shows it; limit bounds the buffer whatever the size.
	b := make([]byte, 0, max(min(s.Size, limit), 0)+1)
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return nil, s, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, s, &fs.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return b, s, nil
		}
		b = b[:len(b)+n]
		if len(b) < cap(b) {
			// A short read of a regular file is its end.
			return b, s, nil
		}
	}
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

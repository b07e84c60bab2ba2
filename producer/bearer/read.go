package bearer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/credmon/credmon/internal/atomicfile"
)

// MaxTokenFileBytes bounds how much of a token file is read. A token must
// fit in an HTTP Authorization header, and common servers cap a header
// line at 8 KiB (Apache LimitRequestFieldSize 8190, nginx
// large_client_header_buffers 8k); WLCG access tokens are 1–2 KiB. 64 KiB
// leaves room for unusual issuers while refusing to slurp a wrong file.
const MaxTokenFileBytes = 64 << 10

var (
	// ErrEmptyToken means the content was empty after stripping
	// whitespace; BTD says discovery then moves on to the next step.
	ErrEmptyToken = errors.New("credmon: bearer token is empty")
	// ErrInvalidToken means the content is not an RFC 6750 §2.1 b64token;
	// BTD says discovery SHOULD then stop with an error.
	ErrInvalidToken = errors.New("credmon: bearer token is not an RFC 6750 b64token")
)

// btdSpace is C99 isspace in the "C" locale, the whitespace BTD strips.
const btdSpace = " \f\n\r\t\v"

// parseContent strips BTD whitespace and checks the RFC 6750 §2.1 syntax:
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
// Every JWT (three base64url segments joined by ".") matches it.
func parseContent(b []byte) (string, error) {
	s := strings.Trim(string(b), btdSpace)
	if s == "" {
		return "", ErrEmptyToken
	}
	if i := invalidAt(s); i >= 0 {
		return "", fmt.Errorf("%w: byte %d is %q", ErrInvalidToken, i, s[i])
	}
	return s, nil
}

// invalidAt returns the index of the first byte of s that breaks the
// b64token syntax, or -1.
func invalidAt(s string) int {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return 0 // only padding
	}
	for i := 0; i < end; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return i
		}
	}
	return -1
}

// ReadTokenFile reads a bearer token file as BTD says: the content with
// leading and trailing whitespace stripped, which must be an RFC 6750
// b64token (ErrInvalidToken otherwise; ErrEmptyToken for an empty file).
//
// Symlinks are followed, like any BTD consumer reading "the contents of"
// the file, but the file reached must be safe to trust, else it is refused
// with the reason:
//
//   - a regular file: a FIFO, device, socket or directory is refused
//     without blocking (it is opened O_NONBLOCK and checked with fstat);
//   - not group- or other-writable: someone else could swap the token;
//   - owned by the caller's effective uid or by root, unless the caller is
//     root: a file planted by another user in a shared /tmp would
//     otherwise be used (and, by credmon-token get, kept as "fresh");
//   - at most MaxTokenFileBytes long.
//
// A missing file gives an error wrapping fs.ErrNotExist.
func ReadTokenFile(path string) (string, error) {
	return readTokenFile(path, os.Geteuid(), ReadOptions{})
}

// ReadOptions say how ReadInfo reads a token file.
type ReadOptions struct {
	// NoFollow refuses a symlink at path (its final component) instead of
	// reading its target. For a producer that replaces a symlink at its
	// output rather than writing through it (credmon-token renew): the
	// file it judges must be the file it would replace, or a link to a
	// fresh token elsewhere would be kept forever.
	NoFollow bool
}

// ReadInfo reads the token file at path as ReadTokenFile does (with
// o.NoFollow, a symlink at path is refused too) and decodes it with
// Inspect. It is the one reader behind credmon-token get, renew and
// status, so that Satisfies judges the same token in all three.
func ReadInfo(path string, o ReadOptions) (*Info, error) {
	tok, err := readTokenFile(path, os.Geteuid(), o)
	if err != nil {
		return nil, err
	}
	info, err := Inspect(tok)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// readTokenFile is ReadTokenFile for a given effective uid, for tests.
func readTokenFile(path string, euid int, o ReadOptions) (string, error) {
	stat, flags := os.Stat, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY
	if o.NoFollow {
		stat, flags = os.Lstat, flags|syscall.O_NOFOLLOW
	}
	// Stat first so that a device node is refused without being opened.
	if fi, err := stat(path); err != nil {
		return "", err
	} else if err := checkTokenFile(path, fi, euid); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			// A symlink swapped in after the lstat.
			return "", fmt.Errorf("refusing %s: not a regular file (symlink)", path)
		}
		return "", err
	}
	defer f.Close()
	// Check again what was opened: the name may have been swapped.
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if err := checkTokenFile(path, fi, euid); err != nil {
		return "", err
	}
	buf := make([]byte, 0, min(fi.Size()+1, MaxTokenFileBytes+1))
	buf, err = readAtMost(f, buf, MaxTokenFileBytes+1)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(buf) > MaxTokenFileBytes {
		return "", fmt.Errorf("refusing %s: larger than %d bytes, not a bearer token", path, MaxTokenFileBytes)
	}
	tok, err := parseContent(buf)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}

// readAtMost appends up to n bytes of r to buf.
func readAtMost(r io.Reader, buf []byte, n int64) ([]byte, error) {
	lr := io.LimitReader(r, n)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// checkTokenFile applies ReadTokenFile's refusals to fi.
func checkTokenFile(path string, fi os.FileInfo, euid int) error {
	m := fi.Mode()
	if !m.IsRegular() {
		return fmt.Errorf("refusing %s: not a regular file (%s)", path, atomicfile.Kind(m))
	}
	if m.Perm()&0o022 != 0 {
		return fmt.Errorf("refusing %s: mode %04o is group/other-writable, so anyone in the group could replace the token (chmod go-w %s)", path, m.Perm(), path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if euid != 0 && int(st.Uid) != euid && st.Uid != 0 {
			return fmt.Errorf("refusing %s: owned by uid %d, not by this user (uid %d) or root; someone else may have planted it", path, st.Uid, euid)
		}
	}
	return nil
}

package dprintf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ExitLogError is the exit status of a daemon that cannot write its log:
// DPRINTF_ERROR in src/condor_includes/exit.h. condor_master logs
// "exited with status 44" and the Python credmon exits with it when its log
// file cannot be opened (credmon/utils/utils.py setup_logging).
const ExitLogError = 44

const (
	// DefaultTimeFormat is DEBUG_TIME_FORMAT's default in
	// src/condor_utils/param_info.in (and formatTimeHeader in dprintf.cpp).
	DefaultTimeFormat = "%m/%d/%y %H:%M:%S"

	// DefaultMaxBytes is MAX_DEFAULT_LOG's built-in value (10 Mb, def_max_log
	// in dprintf_config.cpp). Options.MaxBytes has no default (0 = never
	// rotate); the configuration layer uses this when neither
	// MAX_<NAME>_LOG nor MAX_DEFAULT_LOG is set.
	DefaultMaxBytes int64 = 10 << 20

	// DefaultMaxNum is MAX_NUM_<NAME>_LOG's default (maxLogNum = 1 in
	// dprintf_config.cpp): keep one rotated file, X.old.
	DefaultMaxNum = 1
)

// ErrClosed is returned by Reopen after Close.
var ErrClosed = errors.New("dprintf: log closed")

// Options configures Open. The zero value logs to stderr at Info level.
type Options struct {
	// Path is the log file; "" or "-" means stderr (the credmon's -v), which
	// is never rotated or reopened.
	Path string
	// MaxBytes is MAX_<NAME>_LOG: rotate before a write once the file is at
	// least this long. 0 never rotates.
	MaxBytes int64
	// MaxNum is MAX_NUM_<NAME>_LOG, the number of rotated files kept;
	// values below 1 mean DefaultMaxNum.
	MaxNum int
	// Debug enables Debug and Trace lines (D_FULLDEBUG in <NAME>_DEBUG, or
	// the credmon's --debug).
	Debug bool
	// Name is the root logger's name, e.g. "credmon". The root logger has no
	// prefix; Named sub-loggers print the upper-cased last name component.
	Name string
	// Now returns the time stamped on each line, formatted in its own
	// location. Default time.Now (local time).
	Now func() time.Time
	// TimeFormat is DEBUG_TIME_FORMAT, a strftime(3) format. Enclosing
	// double quotes are stripped as dprintf_config does. Default
	// DefaultTimeFormat.
	TimeFormat string
	// OnError, if set, is called (without locks held, on the logging
	// goroutine) when writing, rotating or reopening starts failing. It is
	// not called again until a write succeeds. See the package doc.
	OnError func(error)
}

// Log is an open HTCondor-style daemon log. It is safe for concurrent use.
type Log struct {
	path     string // "" for stderr
	maxBytes int64
	maxNum   int
	rootName string
	now      func() time.Time
	format   string
	onError  func(error)
	level    atomic.Int32 // hclog.Level shared by every logger from Logger()

	mu            sync.Mutex
	f             *os.File
	fi            os.FileInfo // of f, to notice the path being replaced
	fallback      io.Writer   // stderr; the destination in stderr mode
	closed        bool
	failing       bool  // a failure was reported and no write has succeeded since
	rotateFailing bool  // the last rotation's rename failed (notices already written)
	hdrSec        int64 // second of hdr
	hdrLoc        *time.Location
	hdr           []byte // cached "<time> " for hdrSec
	line          []byte // reused line buffer
}

// Open opens (appending, creating with mode 0600; see openLog) the log
// described by opts. An error here is what a daemon turns into exit status
// ExitLogError.
func Open(opts Options) (*Log, error) {
	l := &Log{
		maxBytes: opts.MaxBytes,
		maxNum:   opts.MaxNum,
		rootName: opts.Name,
		now:      opts.Now,
		format:   stripQuotes(opts.TimeFormat),
		onError:  opts.OnError,
		fallback: os.Stderr,
	}
	if l.maxNum < 1 {
		l.maxNum = DefaultMaxNum
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.format == "" {
		l.format = DefaultTimeFormat
	}
	if l.maxBytes < 0 {
		return nil, fmt.Errorf("dprintf: negative MaxBytes %d", l.maxBytes)
	}
	level := hclog.Info
	if opts.Debug {
		level = hclog.Trace
	}
	l.level.Store(int32(level))
	if opts.Path == "" || opts.Path == "-" {
		return l, nil
	}
	l.path = opts.Path
	f, fi, err := openLog(l.path)
	if err != nil {
		return nil, err
	}
	l.f, l.fi = f, fi
	return l, nil
}

// openLog opens path for appending (O_CLOEXEC is implied by os.OpenFile,
// like dprintf's "N" mode flag). Unlike dprintf it creates the file 0600
// and never follows a symlink at path: the daemon runs as root, the log
// directory usually belongs to the condor user, and the log holds user
// names and issuer text. A planted symlink would make root append to any
// file; an existing log we own that is open to group or other (an older
// version created it 0644) is narrowed to 0600.
func openLog(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, fmt.Errorf("opening log %s: it is a symbolic link, which is not followed; point the log knob at the file itself", path)
		}
		return nil, nil, fmt.Errorf("opening log %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("opening log %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("opening log %s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
			if err := f.Chmod(fi.Mode().Perm() &^ 0o077); err == nil {
				fi, _ = f.Stat()
			}
		}
	}
	return f, fi, nil
}

// stripQuotes mirrors dprintf_config's handling of a quoted
// DEBUG_TIME_FORMAT: drop the leading quote and cut at the next one.
func stripQuotes(s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	s = s[1:]
	if i := strings.IndexByte(s, '"'); i >= 0 {
		s = s[:i]
	}
	return s
}

// SetTimeFormat replaces the time-stamp format (DEBUG_TIME_FORMAT after a
// reconfig), with Options.TimeFormat's rules: quotes stripped, "" meaning
// DefaultTimeFormat. Lines written afterwards use it.
func (l *Log) SetTimeFormat(f string) {
	f = stripQuotes(f)
	if f == "" {
		f = DefaultTimeFormat
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.format = f
	l.hdr = nil // the cached header was made with the old format
}

// Logger returns an hclog.Logger named Options.Name that writes to l. All
// loggers derived from it share one level (SetLevel on any changes all).
func (l *Log) Logger() hclog.Logger {
	return l.newLogger(l.rootName, nil)
}

// Accept implements hclog.SinkAdapter, so l can also be registered on an
// existing hclog.InterceptLogger. Lines below l's level are dropped.
func (l *Log) Accept(name string, level hclog.Level, msg string, args ...any) {
	if !l.enabled(level) {
		return
	}
	l.writeBody(render(level, prefixFor(l.rootName, name), msg, nil, args))
}

var _ hclog.SinkAdapter = (*Log)(nil)

func (l *Log) enabled(level hclog.Level) bool {
	return level != hclog.Off && level >= hclog.Level(l.level.Load())
}

// Reopen closes and reopens the log file by name (for SIGHUP after an
// external rotation). On failure the old file stays in use. It is a no-op
// for stderr.
func (l *Log) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.path == "" {
		return nil
	}
	return l.reopenLocked()
}

func (l *Log) reopenLocked() error {
	f, fi, err := openLog(l.path)
	if err != nil {
		return err
	}
	old := l.f
	l.f, l.fi = f, fi
	if old != nil {
		if err := old.Close(); err != nil {
			return fmt.Errorf("closing old log %s: %w", l.path, err)
		}
	}
	return nil
}

// Close closes the log file. Lines logged afterwards go to stderr. Closing
// twice is a no-op.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// writeBody stamps body (a rendered line without time or newline) and
// writes it with one write call, rotating or reopening first if needed.
func (l *Log) writeBody(body []byte) {
	var errs []error
	l.mu.Lock()
	now := l.now()
	out := l.fallback
	if !l.closed && l.f != nil {
		if err := l.prepareLocked(now); err != nil {
			errs = append(errs, err)
		}
		out = l.f
	}
	line := l.lineLocked(now, body)
	if _, err := out.Write(line); err != nil {
		errs = append(errs, fmt.Errorf("writing log %s: %w", l.path, err))
		_, _ = l.fallback.Write(line) // nowhere left to report to
	}
	report := false
	if len(errs) == 0 {
		l.failing = false
	} else if !l.failing {
		l.failing, report = true, true
	}
	onError := l.onError
	l.mu.Unlock()
	if report && onError != nil {
		onError(errors.Join(errs...))
	}
}

// lineLocked returns "<time> <body>\n" in l.line.
func (l *Log) lineLocked(now time.Time, body []byte) []byte {
	if sec := now.Unix(); l.hdr == nil || sec != l.hdrSec || now.Location() != l.hdrLoc {
		l.hdr = append(appendStrftime(l.hdr[:0], l.format, now), ' ')
		l.hdrSec, l.hdrLoc = sec, now.Location()
	}
	l.line = append(append(append(l.line[:0], l.hdr...), body...), '\n')
	return l.line
}

// writeNoticeLocked writes one of dprintf's own rotation notices to the
// current file.
func (l *Log) writeNoticeLocked(now time.Time, msg string) error {
	_, err := l.f.Write(l.lineLocked(now, []byte(msg)))
	return err
}

// prepareLocked makes l.f the file currently at l.path (reopening if the
// path was removed or replaced) and rotates it if it is full.
func (l *Log) prepareLocked(now time.Time) error {
	st, err := os.Stat(l.path)
	if err != nil || !os.SameFile(st, l.fi) {
		if rerr := l.reopenLocked(); rerr != nil {
			return rerr // keep appending to the old descriptor
		}
		st = l.fi
	}
	if l.maxBytes > 0 && st.Size() >= l.maxBytes {
		return l.rotateLocked(now, st.Size())
	}
	return nil
}

// rotateLocked is preserve_log_file: notices into the old file, rename it
// to X.old or X.<timestamp>, open a new X, clean up old files.
func (l *Log) rotateLocked(now time.Time, length int64) error {
	suffix := "old"
	if l.maxNum > 1 {
		suffix = now.Format(rotateStampLayout)
	}
	old := l.path + "." + suffix
	// dprintf writes the two notices and then renames. Renaming first
	// gives the same file contents (the descriptor follows the file) and
	// lets a rename that keeps failing, retried on every write as dprintf
	// does, leave its notices and warning just once.
	var errs []error
	renameErr := os.Rename(l.path, old)
	if renameErr == nil || !l.rotateFailing {
		if err := l.writeNoticeLocked(now, fmt.Sprintf("MaxLog = %d bytes, length = %d", l.maxBytes, length)); err != nil {
			errs = append(errs, err)
		}
		if err := l.writeNoticeLocked(now, `Saving log file to "`+old+`"`); err != nil {
			errs = append(errs, err)
		}
	}
	if renameErr != nil {
		// Keep appending to the same file.
		if !l.rotateFailing {
			_ = l.writeNoticeLocked(now, "WARNING: Failed to rotate old log into file "+old+"!") // reported below
		}
		l.rotateFailing = true
		return errors.Join(append(errs, fmt.Errorf("rotating log: %w", renameErr))...)
	}
	l.rotateFailing = false
	if err := l.reopenLocked(); err != nil {
		// l.f still points at the renamed file; the next write retries.
		return errors.Join(append(errs, err)...)
	}
	if err := l.writeNoticeLocked(now, "Now in new log file "+l.path); err != nil {
		errs = append(errs, err)
	}
	if l.maxNum > 1 {
		if err := cleanUpOldLogs(l.path, l.maxNum); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// rotateStampLayout is createTimestampString's "%Y%m%dT%H%M%S".
const rotateStampLayout = "20060102T150405"

// isRotatedSuffix reports whether s is "old" or a 15-character rotation
// timestamp (isOldString / isTimestampString in log_rotate.cpp).
func isRotatedSuffix(s string) bool {
	if s == "old" {
		return true
	}
	if len(s) != len(rotateStampLayout) || s[8] != 'T' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// cleanUpOldLogs is cleanUpOldLogFiles: while more than maxNum rotated
// files exist, rename the oldest (lexically smallest, so timestamps before
// "old") over X.old; give up after min(initial count, 10) attempts.
func cleanUpOldLogs(path string, maxNum int) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	oldPath := path + ".old"
	var errs []error
	for attempts, initial := 0, -1; ; attempts++ {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("cleaning up rotated logs: %w", err)
		}
		var names []string
		for _, e := range entries {
			if s, ok := strings.CutPrefix(e.Name(), base+"."); ok && isRotatedSuffix(s) {
				names = append(names, e.Name())
			}
		}
		if initial < 0 {
			initial = len(names)
		}
		if len(names) <= maxNum || attempts >= min(initial, 10) {
			return errors.Join(errs...)
		}
		sort.Strings(names)
		oldest := filepath.Join(dir, names[0])
		if oldest == filepath.Clean(oldPath) {
			return errors.Join(errs...)
		}
		if err := os.Rename(oldest, oldPath); err != nil {
			errs = append(errs, fmt.Errorf("cleaning up rotated log %s: %w", oldest, err))
		}
	}
}

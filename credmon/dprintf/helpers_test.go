package dprintf

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ornithologyLine is RE_MESSAGE from HTCondor's
// src/condor_tests/ornithology/daemons.py, the parser its test suite applies
// to every daemon log line.
var ornithologyLine = regexp.MustCompile(`^(?P<timestamp>\d{2}\/\d{2}\/\d{2}\s\d{2}:\d{2}:\d{2})\s(?P<tags>(?:\([^()]+\)\s+)*)(?P<msg>.*)$`)

// testZone keeps expected timestamps independent of the machine's TZ.
var testZone = time.FixedZone("CET", 3600)

// t0 is 11/23/26 11:05:01 in testZone.
var t0 = time.Date(2026, 11, 23, 11, 5, 1, 0, testZone)

func fixedNow() time.Time { return t0 }

// tickingClock returns a clock that advances one second per call, so every
// line (and every rotation) gets its own timestamp. Safe for concurrent use.
func tickingClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

// syncBuffer is a goroutine-safe bytes.Buffer for stderr-mode logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openBuffer opens a stderr-mode Log whose output goes to a buffer.
func openBuffer(t testing.TB, opts Options) (*Log, *syncBuffer) {
	t.Helper()
	opts.Path = ""
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v) = %v", opts, err)
	}
	buf := &syncBuffer{}
	l.fallback = buf
	return l, buf
}

// openFile opens a file Log at dir/name and closes it at cleanup.
func openFile(t testing.TB, opts Options) *Log {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v) = %v", opts, err)
	}
	l.fallback = failWriter{t}
	t.Cleanup(func() { l.Close() })
	return l
}

// failWriter fails the test if anything falls back to stderr.
type failWriter struct{ t testing.TB }

func (w failWriter) Write(p []byte) (int, error) {
	w.t.Errorf("unexpected fallback write: %q", p)
	return len(p), nil
}

// lines returns the lines of file path (without newlines).
func lines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return splitLines(t, string(data))
}

func splitLines(t testing.TB, s string) []string {
	t.Helper()
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		t.Fatalf("output does not end in a newline: %q", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func logPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "CredMonOAuthLog")
}

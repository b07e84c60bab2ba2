package oidcprovider

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for one writer goroutine (a daemon's
// output, a logger) and concurrent readers (the test).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

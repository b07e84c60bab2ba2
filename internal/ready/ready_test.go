package ready

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/ready/mastertest"
)

func masterFor(t *testing.T, fm *mastertest.Master) *Master {
	t.Helper()
	env := map[string]string{EnvInherit: fm.Inherit(), EnvPrivateInherit: fm.PrivateInherit()}
	m, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var self = ReadyAd{PID: os.Getpid(), Name: "CREDMON_OAUTH", State: "Ready"}

func TestSetReadyAccepted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sharedPort bool
		chunk      int
	}{
		{"direct", false, 0},
		{"shared port", true, 0},
		// The master joins frames until the end flag; a split ad uses IV
		// counter+1 and header-only AAD after the first frame.
		{"shared port, split frames", true, 7},
		{"direct, split frames", false, 50},
		// No resume reply: both reply-side digests are 32 zero bytes.
		{"no resume response", true, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fm := mastertest.Start(t, mastertest.Options{SharedPort: tc.sharedPort,
				KnownPID: func(pid int) bool { return pid == os.Getpid() }})
			m := masterFor(t, fm)
			m.chunk = tc.chunk
			m.noResumeResponse = tc.chunk < 0
			if got := m.Addr.SharedPortID() != ""; got != tc.sharedPort {
				t.Fatalf("sock= parsed %v; want %v", got, tc.sharedPort)
			}
			if err := m.SetReady(context.Background(), self); err != nil {
				t.Fatalf("SetReady: %v (master rejected %q)", err, fm.Rejected())
			}
			// SetReady returns after the master closed, i.e. after it
			// recorded the ad.
			got := fm.Accepted()
			if len(got) != 1 || got[0] != (mastertest.Ready{PID: os.Getpid(), Name: "CREDMON_OAUTH", State: "Ready"}) {
				t.Errorf("accepted %+v", got)
			}
			if s := fm.State(os.Getpid()); s != "Ready" {
				t.Errorf("CREDMON_OAUTH_State = %q; want Ready", s)
			}
			if r := fm.Rejected(); len(r) != 0 {
				t.Errorf("rejected %q", r)
			}
		})
	}
}

func TestSetReadyRefused(t *testing.T) {
	t.Run("wrong session id", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{SharedPort: true})
		m := masterFor(t, fm)
		m.Session.ID = "family:" + strings.Repeat("0", 48)
		err := m.SetReady(context.Background(), self)
		if !errors.Is(err, ErrNoSession) || !strings.Contains(err.Error(), "SID_NOT_FOUND") {
			t.Errorf("SetReady = %v; want SID_NOT_FOUND", err)
		}
		assertRejected(t, fm, "attempt to open invalid session")
	})
	t.Run("wrong key", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{})
		m := masterFor(t, fm)
		m.Session.Key = strings.Repeat("0", 64)
		// The master closes without a word, as the real one does: the
		// client cannot tell, the master's log can.
		m.SetReady(context.Background(), self)
		assertRejected(t, fm, "IO: Failed to unwrap the packet")
	})
	t.Run("tampered ciphertext", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{SharedPort: true})
		m := masterFor(t, fm)
		m.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return &tamper{Conn: c, at: 3}, err
		}
		m.SetReady(context.Background(), self)
		assertRejected(t, fm, "IO: Failed to unwrap the packet")
	})
	t.Run("unknown pid", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{KnownPID: func(int) bool { return false }})
		if err := masterFor(t, fm).SetReady(context.Background(), self); err != nil {
			t.Errorf("SetReady: %v", err)
		}
		assertRejected(t, fm, "Cant find daemon CREDMON_OAUTH")
	})
	t.Run("master hangs up", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{Mode: mastertest.Hangup})
		if err := masterFor(t, fm).SetReady(context.Background(), self); err == nil {
			t.Error("SetReady succeeded against a master that closed at once")
		}
	})
	t.Run("master says nothing", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{Mode: mastertest.Silent, SharedPort: true})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- masterFor(t, fm).SetReady(ctx, self) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("SetReady = %v; want the context's deadline", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("SetReady hung past its context")
		}
	})
	t.Run("the timeout bounds it without a ctx deadline", func(t *testing.T) {
		fm := mastertest.Start(t, mastertest.Options{Mode: mastertest.Silent})
		m := masterFor(t, fm)
		m.Timeout = 100 * time.Millisecond
		if err := m.SetReady(context.Background(), self); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SetReady = %v; want a deadline error", err)
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		host, port, _ := net.SplitHostPort(addr)
		sin, err := ParseSinful("<" + host + ":" + port + ">")
		if err != nil {
			t.Fatal(err)
		}
		m := &Master{Addr: sin, Session: Session{ID: katSid, Key: katKey}}
		if err := m.SetReady(context.Background(), self); err == nil || strings.Contains(err.Error(), katKey) {
			t.Errorf("SetReady = %v", err)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		m := &Master{Session: Session{ID: katSid, Key: katKey, Expires: time.Unix(100, 0)}}
		if err := m.SetReady(context.Background(), self); !errors.Is(err, ErrNoSession) {
			t.Errorf("SetReady = %v; want ErrNoSession", err)
		}
	})
}

func assertRejected(t *testing.T, fm *mastertest.Master, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		ch := fm.Changed()
		r := fm.Rejected()
		if len(r) > 0 {
			if len(r) != 1 || !strings.Contains(r[0], want) {
				t.Errorf("rejected %q; want one %q", r, want)
			}
			if a := fm.Accepted(); len(a) != 0 {
				t.Errorf("accepted %+v", a)
			}
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the master never rejected (%q expected)", want)
		}
	}
}

// tamper flips a bit in the at'th write: with a shared-port address the
// third is the encrypted ad (request, DC_AUTHENTICATE, ad).
type tamper struct {
	net.Conn
	mu sync.Mutex
	n  int
	at int
}

func (c *tamper) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n++
	if c.n == c.at {
		p = append([]byte(nil), p...)
		p[len(p)-20] ^= 1 // inside the ciphertext
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// notifySocket is a systemd notification socket of the test's own: every
// datagram is a message; WATCHDOG=1 pings are counted apart, since they
// come at any time.
type notifySocket struct {
	t        *testing.T
	msgs     chan string
	watchdog chan struct{}
}

func listenNotify(t *testing.T, name string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifySocket{t: t, msgs: make(chan string, 64), watchdog: make(chan struct{}, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			if m := string(buf[:k]); m == "WATCHDOG=1\n" {
				select {
				case n.watchdog <- struct{}{}:
				default:
				}
			} else {
				n.msgs <- m
			}
		}
	}()
	return n
}

// next waits for the next message other than a watchdog ping.
func (n *notifySocket) next(p *started) string {
	n.t.Helper()
	select {
	case m, ok := <-n.msgs:
		if !ok {
			n.t.Fatal("notification socket closed")
		}
		return m
	case <-time.After(60 * time.Second): // a failure bound only
		n.t.Fatalf("no notification; stderr:\n%s", p.err.String())
	}
	return ""
}

// renew --watch under systemd's Type=notify (its notification socket is
// the test's, an abstract one as systemd's own): READY=1 only once the
// token due at start is written, RELOADING=1 with MONOTONIC_USEC on SIGHUP
// and READY=1 when the new config.ini is applied, WATCHDOG=1 pings when
// WATCHDOG_USEC is set, STOPPING=1 on SIGTERM, then exit 0.
func TestRenewWatchNotify(t *testing.T) {
	r := robotWith(t, &oidcprovider.ProviderOptions{})
	r.storeAccount("robot", "nora", oidcprovider.ClientIDBasic)
	tok := filepath.Join(r.base, "n.token")
	ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n[token n]\naccount = robot\ntoken_path = %s\n", r.pwFile, tok))
	name := fmt.Sprintf("@credmon-token-notify-%d-%d", os.Getpid(), time.Now().UnixNano())
	sock := listenNotify(t, name)
	// 200 ms: a ping every 100 ms.
	r.env = append(r.env, "NOTIFY_SOCKET="+name, "WATCHDOG_USEC=200000")
	p := r.start(r.renewArgs(ini, "--watch")...)

	m := sock.next(p)
	if !strings.HasPrefix(m, "READY=1\n") || !strings.Contains(m, "STATUS=watching 1 tokens") {
		t.Fatalf("first message %q; want READY=1 with a status", m)
	}
	if _, err := os.Stat(tok); err != nil {
		t.Errorf("READY=1 before the first round wrote the token: %v", err)
	}
	select {
	case <-sock.watchdog:
	case <-time.After(60 * time.Second):
		t.Errorf("no WATCHDOG=1 with WATCHDOG_USEC set")
	}

	// A reload that adds a token.
	tok2 := filepath.Join(r.base, "m.token")
	r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n[token n]\naccount = robot\ntoken_path = %s\n"+
		"[token m]\naccount = robot\ntoken_path = %s\n", r.pwFile, tok, tok2))
	p.cmd.Process.Signal(syscall.SIGHUP)
	m = sock.next(p)
	lines := strings.Split(strings.TrimSuffix(m, "\n"), "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("after SIGHUP %q; want RELOADING=1 and MONOTONIC_USEC", m)
	}
	if m = sock.next(p); !strings.HasPrefix(m, "READY=1\n") || !strings.Contains(m, "watching 2 tokens") {
		t.Errorf("after the reload %q; want READY=1 watching 2 tokens", m)
	}
	if _, err := os.Stat(tok2); err != nil {
		t.Errorf("READY=1 after the reload before the new token was written: %v", err)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if m = sock.next(p); m != "STOPPING=1\n" {
		t.Errorf("after SIGTERM %q; want STOPPING=1", m)
	}
	if code, errOut := p.wait(); code != 0 {
		t.Errorf("exit %d after SIGTERM: %s", code, errOut)
	}
}

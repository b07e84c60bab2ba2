// Package mastertest is a test peer: a condor_master stand-in that accepts
// DC_SET_READY the way the real one does (spec cedar-dc-set-ready.md §9.2),
// playing both the shared-port daemon and the master on a loopback port.
//
// It shares no code with internal/ready on purpose: its framing, digests and
// AES-GCM are written again from the spec, so a mistake in the client is not
// mirrored here (the known-answer tests in internal/ready pin both to the
// spec's Appendix B). It checks everything the real master checks, and
// more: the shared-port request, the session id, every resume-ad
// attribute, the AES-GCM key, IV and AAD, the command and the ready ad.
// Anything wrong is recorded as a rejection with the master's own log
// wording where it has one ("attempt to open invalid session", "IO: Failed
// to unwrap the packet", "Cant find daemon"), and the connection is closed,
// as the master does.
//
// Tests and nothing else import it (internal/archtest keeps it out of
// cmd/*).
package mastertest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/internal/testpeer"
)

// Mode is how the master answers.
type Mode int

const (
	// Accept behaves like a master that knows the session.
	Accept Mode = iota
	// SIDNotFound answers the resume with ReturnCode "SID_NOT_FOUND".
	SIDNotFound
	// Silent reads the DC_AUTHENTICATE message and then never answers
	// nor closes (a hung master).
	Silent
	// Hangup closes every connection at once (a refusing master).
	Hangup
)

// Options configure a Master. Zero values pick what a 25.x master with
// security:recommended hands a credmon.
type Options struct {
	SharedPort bool   // address with sock= (and a shared-port request first)
	SessionID  string // default family:<48 hex>
	Key        string // default 64 hex
	// SessionInfo is the claim id's [...] part without the brackets.
	SessionInfo string
	Mode        Mode
	// KnownPID, if set, says whether the master forked that pid; an
	// unknown pid is logged and ignored, as ready_command_handler does.
	KnownPID func(pid int) bool
}

// Ready is one DC_SET_READY the master accepted.
type Ready struct {
	PID         int
	Name, State string
}

// Master is the emulator. Its methods are safe from any goroutine.
type Master struct {
	t      testpeer.TB
	opts   Options
	ln     net.Listener
	sockID string

	mu       sync.Mutex
	ready    []Ready
	rejected []string
	conns    int
	states   map[int]string
	changed  chan struct{}
}

// Start listens on 127.0.0.1 and serves until the test ends.
func Start(t testpeer.TB, o Options) *Master {
	t.Helper()
	if o.SessionID == "" {
		o.SessionID = "family:" + randHex(24)
	}
	if o.Key == "" {
		o.Key = randHex(32)
	}
	if o.SessionInfo == "" {
		o.SessionInfo = `Encryption="YES";Integrity="YES";CryptoMethods="BLOWFISH";CryptoMethodsList="AES.BLOWFISH.3DES";ShortVersion="25.14.0";`
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Master{t: t, opts: o, ln: ln, states: map[int]string{}, changed: make(chan struct{})}
	if o.SharedPort {
		m.sockID = "master_4000_" + randHex(2)
	}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	open := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			open[c] = true
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { cmu.Lock(); delete(open, c); cmu.Unlock() }()
				m.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for c := range open {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return m
}

// Sinful is the master's command address as CONDOR_INHERIT carries it.
func (m *Master) Sinful() string {
	a := m.ln.Addr().(*net.TCPAddr)
	if m.sockID == "" {
		return fmt.Sprintf("<127.0.0.1:%d?addrs=127.0.0.1-%d&alias=localhost&noUDP>", a.Port, a.Port)
	}
	return fmt.Sprintf("<127.0.0.1:%d?addrs=127.0.0.1-%d&alias=localhost&noUDP&sock=%s>", a.Port, a.Port, m.sockID)
}

// Inherit is the CONDOR_INHERIT value a non-DC child gets.
func (m *Master) Inherit() string { return fmt.Sprintf("4000 %s 0 0", m.Sinful()) }

// PrivateInherit is the CONDOR_PRIVATE_INHERIT value with the family key.
func (m *Master) PrivateInherit() string {
	return fmt.Sprintf(" FamilySessionKey:%s#[%s]%s", m.opts.SessionID, m.opts.SessionInfo, m.opts.Key)
}

// SessionKey is the family session key, for tests that check it leaks
// nowhere.
func (m *Master) SessionKey() string { return m.opts.Key }

// Env is both variables as NAME=value, for exec.Cmd.Env.
func (m *Master) Env() []string {
	return []string{"CONDOR_INHERIT=" + m.Inherit(), "CONDOR_PRIVATE_INHERIT=" + m.PrivateInherit()}
}

// Accepted is every ready ad accepted so far, in order.
func (m *Master) Accepted() []Ready {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Ready(nil), m.ready...)
}

// Rejected is why each refused connection was refused, in order.
func (m *Master) Rejected() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.rejected...)
}

// State is the ready state recorded for a pid, what condor_who -quick
// shows as <NAME>_State ("" when none).
func (m *Master) State(pid int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[pid]
}

// Connections counts the connections accepted.
func (m *Master) Connections() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns
}

// Changed is closed at the next accepted ad, rejection or connection: a
// waiter re-checks and calls Changed again.
func (m *Master) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

func (m *Master) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *Master) reject(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	m.mu.Lock()
	m.rejected = append(m.rejected, err.Error())
	m.notifyLocked()
	m.mu.Unlock()
	m.t.Logf("mastertest: rejected: %v", err)
	return err
}

func (m *Master) serve(c net.Conn) {
	defer c.Close()
	m.mu.Lock()
	m.conns++
	m.notifyLocked()
	m.mu.Unlock()
	if m.opts.Mode == Hangup {
		return
	}
	// The master's payload wait and handler timeouts are far longer; this
	// only bounds a broken test.
	c.SetDeadline(time.Now().Add(60 * time.Second))
	sv := &server{c: c}
	if m.sockID != "" {
		if err := m.sharedPort(sv); err != nil {
			return
		}
	}
	sv.hashing = true
	ad, err := m.resume(sv)
	if err != nil {
		return
	}
	if m.opts.Mode == Silent {
		io.Copy(io.Discard, c) // until the client gives up
		return
	}
	reply := putAd(nil, []string{`ReturnCode = "AUTHORIZED"`,
		`RemoteVersion = "$CondorVersion: 25.14.0 2026-08-21 BuildID: 0 $"`,
		`Nonce = "` + base64.StdEncoding.EncodeToString(randBytes(33)) + `"`})
	if m.opts.Mode == SIDNotFound || ad["Sid"] != `"`+m.opts.SessionID+`"` {
		if ad["ResumeResponse"] == "true" {
			sv.write(putAd(nil, []string{`ReturnCode = "SID_NOT_FOUND"`}))
		}
		m.reject("DC_AUTHENTICATE: attempt to open invalid session %s", ad["Sid"])
		return
	}
	if ad["ResumeResponse"] == "true" {
		if err := sv.write(reply); err != nil {
			m.reject("writing the resume reply: %v", err)
			return
		}
	}
	key, _ := hkdf.Key(sha256.New, []byte(m.opts.Key), []byte("htcondor"), "keygen", 32)
	pt, err := sv.readEncrypted(key)
	if err != nil {
		m.reject("IO: Failed to unwrap the packet: %v", err)
		return
	}
	r, err := readyAd(pt)
	if err != nil {
		m.reject("Failed to receive ready command (60043) on TCP: aborting: %v", err)
		return
	}
	m.t.Logf("mastertest: Got ready command (60043) from %s pid=%d", r.Name, r.PID)
	if m.opts.KnownPID != nil && !m.opts.KnownPID(r.PID) {
		m.reject("Cant find daemon %s to set ready state '%s'", r.Name, r.State)
		return
	}
	m.mu.Lock()
	m.ready = append(m.ready, r)
	m.states[r.PID] = r.State
	m.notifyLocked()
	m.mu.Unlock()
	// finalize(): nothing to send; close.
}

// sharedPort checks the SHARED_PORT_CONNECT request (§2.3, §9.2.1).
func (m *Master) sharedPort(sv *server) error {
	hdr, msg, err := sv.readFrames()
	if err != nil {
		return m.reject("shared-port request: %v", err)
	}
	if len(hdr) != 1 {
		return m.reject("shared-port request in %d frames; want 1", len(hdr))
	}
	r := &reader{b: msg}
	cmd := r.int()
	id := r.cstring()
	name := r.cstring()
	deadline := r.int()
	more := r.int()
	switch {
	case r.err != nil:
		return m.reject("shared-port request: %v", r.err)
	case len(r.b) != 0:
		return m.reject("shared-port request: %d bytes left over", len(r.b))
	case cmd != 75:
		return m.reject("shared-port request: command %d; want 75", cmd)
	case id != m.sockID:
		return m.reject("SharedPortServer: no endpoint %q", id)
	case strings.Contains(name, "sock="+m.sockID):
		return m.reject("shared-port request: client name %q is our own address", name)
	case deadline < -1:
		return m.reject("shared-port request: deadline %d", deadline)
	case more != 0:
		return m.reject("shared-port request: more_args %d", more)
	}
	return nil
}

var (
	versionRE = regexp.MustCompile(`^"\$CondorVersion: \d+\.\d+\.\d+ .* \$"$`)
	literalRE = regexp.MustCompile(`^(-?[0-9]+|-?[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?|true|false|"[^"\\]*")$`)
)

// resume reads and checks DC_AUTHENTICATE and its resume ad (§9.2.2).
func (m *Master) resume(sv *server) (map[string]string, error) {
	_, msg, err := sv.readFrames()
	if err != nil {
		return nil, m.reject("DC_AUTHENTICATE: %v", err)
	}
	r := &reader{b: msg}
	cmd := r.int()
	if cmd != 60010 {
		return nil, m.reject("command %d; want DC_AUTHENTICATE (60010)", cmd)
	}
	n := r.int()
	if n < 0 || n > 100 {
		return nil, m.reject("DC_AUTHENTICATE ad with %d attributes", n)
	}
	ad := map[string]string{}
	for i := int64(0); i < n; i++ {
		line := r.cstring()
		name, val, ok := strings.Cut(line, " = ")
		if !ok || !literalRE.MatchString(val) {
			return nil, m.reject("DC_AUTHENTICATE ad: %q is not Name = literal", line)
		}
		ad[name] = val
	}
	my, target := r.cstring(), r.cstring()
	switch {
	case r.err != nil:
		return nil, m.reject("DC_AUTHENTICATE ad: %v", r.err)
	case my != "" || target != "":
		return nil, m.reject("DC_AUTHENTICATE ad: MyType/TargetType %q/%q", my, target)
	case len(r.b) != 0:
		return nil, m.reject("DC_AUTHENTICATE: %d bytes before end of message", len(r.b))
	case ad["Command"] != "60043":
		return nil, m.reject("Command %s; want 60043 (DC_SET_READY)", ad["Command"])
	case ad["UseSession"] != `"YES"`:
		return nil, m.reject("UseSession %s; want \"YES\"", ad["UseSession"])
	case ad["CryptoMethods"] != `"AES"`:
		return nil, m.reject("CryptoMethods %s; want \"AES\"", ad["CryptoMethods"])
	case ad["ResumeResponse"] != "true" && ad["ResumeResponse"] != "false":
		return nil, m.reject("ResumeResponse %q", ad["ResumeResponse"])
	case !versionRE.MatchString(ad["RemoteVersion"]):
		return nil, m.reject("RemoteVersion %s", ad["RemoteVersion"])
	case ad["Cookie"] != "" || ad["NewSession"] != "":
		return nil, m.reject("resume ad with Cookie or NewSession")
	}
	if v, ok := ad["Nonce"]; ok {
		b, err := base64.StdEncoding.DecodeString(strings.Trim(v, `"`))
		if err != nil || len(b) != 33 {
			return nil, m.reject("Nonce %s is not base64 of 33 bytes", v)
		}
	}
	return ad, nil
}

// readyAd parses the decrypted DC_SET_READY message (§4.7, §9.2.4).
func readyAd(pt []byte) (Ready, error) {
	r := &reader{b: pt}
	if n := r.int(); n != 3 {
		return Ready{}, fmt.Errorf("%d attributes; want 3", n)
	}
	var out Ready
	seen := map[string]bool{}
	for range 3 {
		line := r.lstring()
		name, val, ok := strings.Cut(line, " = ")
		if !ok || !literalRE.MatchString(val) {
			return Ready{}, fmt.Errorf("%q is not Name = literal", line)
		}
		seen[name] = true
		switch name {
		case "DaemonPID":
			pid, err := strconv.Atoi(val)
			if err != nil {
				return Ready{}, fmt.Errorf("DaemonPID %s is not an integer", val)
			}
			out.PID = pid
		case "DaemonName", "DaemonState":
			if !strings.HasPrefix(val, `"`) {
				return Ready{}, fmt.Errorf("%s %s is not a string", name, val)
			}
			if name == "DaemonName" {
				out.Name = strings.Trim(val, `"`)
			} else {
				out.State = strings.Trim(val, `"`)
			}
		default:
			return Ready{}, fmt.Errorf("unexpected attribute %s", name)
		}
	}
	my, target := r.lstring(), r.lstring()
	switch {
	case r.err != nil:
		return Ready{}, r.err
	case len(r.b) != 0:
		return Ready{}, fmt.Errorf("%d bytes left before end of message", len(r.b))
	case my != "" || target != "":
		return Ready{}, fmt.Errorf("MyType/TargetType %q/%q", my, target)
	case len(seen) != 3:
		return Ready{}, errors.New("missing DaemonPID, DaemonName or DaemonState")
	}
	return out, nil
}

// server is the master's end of the connection.
type server struct {
	c              net.Conn
	hashing        bool
	sendMD, recvMD []byte // concatenated transcript; hashed when frozen
	sentAny        bool
	recvAny        bool
}

func (sv *server) readFrames() (hdrs [][]byte, msg []byte, err error) {
	for {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(sv.c, hdr); err != nil {
			return nil, nil, err
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if hdr[0] > 10 || n == 0 || n > 1<<20 {
			return nil, nil, fmt.Errorf("bad frame header %x (end flag 0..10, length 1..1 MiB)", hdr)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(sv.c, p); err != nil {
			return nil, nil, err
		}
		if sv.hashing {
			sv.recvMD = append(append(sv.recvMD, hdr...), p...)
			sv.recvAny = true
		}
		hdrs = append(hdrs, hdr)
		msg = append(msg, p...)
		if hdr[0] != 0 {
			return hdrs, msg, nil
		}
	}
}

func (sv *server) write(msg []byte) error {
	hdr := binary.BigEndian.AppendUint32([]byte{1}, uint32(len(msg)))
	if sv.hashing {
		sv.sendMD = append(append(sv.sendMD, hdr...), msg...)
		sv.sentAny = true
	}
	_, err := sv.c.Write(append(hdr, msg...))
	return err
}

func digest(any bool, b []byte) []byte {
	if !any {
		return make([]byte, 32) // a direction with no plaintext frame: zeros
	}
	d := sha256.Sum256(b)
	return d[:]
}

// readEncrypted reads one AES-GCM message (§4.6): frame k uses the base IV
// from frame 0 with k added to its first word; frame 0's AAD binds the
// transcript (our recv digest, then our send digest, then the header).
func (sv *server) readEncrypted(key []byte) ([]byte, error) {
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCMWithNonceSize(block, 16)
	recvD, sendD := digest(sv.recvAny, sv.recvMD), digest(sv.sentAny, sv.sendMD)
	var base []byte
	var out []byte
	for k := uint32(0); ; k++ {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(sv.c, hdr); err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		min := uint32(16)
		if k == 0 {
			min = 32
		}
		if hdr[0] > 10 || n < min || n > 1<<20 {
			return nil, fmt.Errorf("bad encrypted frame header %x", hdr)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(sv.c, p); err != nil {
			return nil, err
		}
		aad := hdr
		if k == 0 {
			base, p = p[:16], p[16:]
			aad = append(append(append([]byte(nil), recvD...), sendD...), hdr...)
		}
		iv := append([]byte(nil), base...)
		binary.BigEndian.PutUint32(iv, binary.BigEndian.Uint32(iv)+k)
		pt, err := gcm.Open(nil, iv, p, aad)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %v", k, err)
		}
		out = append(out, pt...)
		if hdr[0] != 0 {
			return out, nil
		}
	}
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) int() int64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail("short integer")
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) cstring() string {
	i := -1
	if r.err == nil {
		i = strings.IndexByte(string(r.b), 0)
	}
	if i < 0 {
		r.fail("unterminated string")
		return ""
	}
	s := string(r.b[:i])
	r.b = r.b[i+1:]
	return s
}

// lstring reads an encrypted-channel string: length (counting the NUL),
// bytes, NUL.
func (r *reader) lstring() string {
	n := r.int()
	if r.err != nil || n < 1 || n > 10_000_000 || int64(len(r.b)) < n || r.b[n-1] != 0 {
		r.fail("bad length-prefixed string")
		return ""
	}
	s := string(r.b[:n-1])
	if strings.IndexByte(s, 0) >= 0 {
		r.fail("NUL inside a length-prefixed string")
	}
	r.b = r.b[n:]
	return s
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = errors.New(msg)
	}
}

func putAd(b []byte, attrs []string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(attrs)))
	for _, a := range attrs {
		b = append(append(b, a...), 0)
	}
	return append(b, 0, 0)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

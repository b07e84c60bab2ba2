package ready

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one SetReady exchange when the context has no
// earlier deadline; it is C++'s per-operation CEDAR timeout
// (DEFAULT_CEDAR_TIMEOUT).
const DefaultTimeout = 20 * time.Second

// RemoteVersion is the version we claim in the resume ad: a 25.0 peer
// (≥ 9.9.0, in the $CondorVersion: X.Y.Z ... $ form the master parses).
const RemoteVersion = "$CondorVersion: 25.0.0 2025-01-01 BuildID: 0 $"

// Master is the parent condor_master as CONDOR_INHERIT and
// CONDOR_PRIVATE_INHERIT describe it.
type Master struct {
	PID     int     // the master's pid (informational)
	Addr    Sinful  // its command address
	Session Session // the inherited family session

	// ClientName is the name the shared-port daemon logs for us; FromEnv
	// sets CREDMON_OAUTH. It must not be a sinful.
	ClientName string
	// Dial opens the TCP connection; nil is a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now tells the time (session expiry, deadlines); nil is time.Now.
	Now func() time.Time
	// Rand supplies the nonce and the AES-GCM base IV; nil is crypto/rand.
	Rand io.Reader
	// Timeout bounds one exchange when ctx has no earlier deadline; 0 is
	// DefaultTimeout.
	Timeout time.Duration

	chunk int // frame payload size; tests make it small to split messages
	// noResumeResponse sends ResumeResponse = false: the master then
	// answers nothing and both reply-side digests are zeros (§4.5). Tests
	// use it to check that path; C++ and we ask for the reply.
	noResumeResponse bool
}

// ReadyAd is the DC_SET_READY payload. The master finds the daemon by PID
// (the pid it forked); Name is for its log; State is what condor_who shows
// as <NAME>_State.
type ReadyAd struct {
	PID   int
	Name  string
	State string
}

// FromEnv reads the master's address and the family session from the
// environment (pass os.Getenv). ErrNoInherit: not started by a master;
// an error wrapping ErrNoSession: started by one, but it gave us no usable
// session. Neither error ever contains the session key.
func FromEnv(env func(string) string) (*Master, error) {
	inherit := env(EnvInherit)
	if strings.TrimSpace(inherit) == "" {
		return nil, ErrNoInherit
	}
	ppid, addr, err := parseInherit(inherit)
	if err != nil {
		return nil, err
	}
	sess, err := parsePrivateInherit(env(EnvPrivateInherit), time.Now())
	if err != nil {
		return nil, err
	}
	return &Master{PID: ppid, Addr: addr, Session: sess, ClientName: "CREDMON_OAUTH"}, nil
}

func (m *Master) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// SetReady sends DC_SET_READY over a resumed family session (doc.go has
// the exchange). It returns once the master closed the connection, which
// it does after running its handler, or with an error when ctx ends, the
// timeout passes, the session is refused or the master closes early. The
// master never says whether it knew the pid: nil means "delivered".
func (m *Master) SetReady(ctx context.Context, ad ReadyAd) error {
	if ad.PID <= 0 || !safeLiteral(ad.Name) || !safeLiteral(ad.State) || ad.Name == "" {
		return fmt.Errorf("DC_SET_READY: bad ad (pid %d, name %q, state %q)", ad.PID, clip(ad.Name), clip(ad.State))
	}
	if !m.Session.Expires.IsZero() && !m.now().Before(m.Session.Expires) {
		return fmt.Errorf("%w: the family session expired", ErrNoSession)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	eps, err := m.Addr.endpoints()
	if err != nil {
		return err
	}
	conn, err := m.dial(ctx, eps)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Every read and write below ends when ctx does.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err = m.exchange(ctx, conn, ad)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("DC_SET_READY to %s: %w (%v)", m.Addr, context.Cause(ctx), err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's deadline is ctx's and may fire first.
		return fmt.Errorf("DC_SET_READY to %s: %w (%v)", m.Addr, context.DeadlineExceeded, err)
	}
	if err != nil {
		return fmt.Errorf("DC_SET_READY to %s: %w", m.Addr, err)
	}
	return nil
}

func (m *Master) dial(ctx context.Context, eps []string) (net.Conn, error) {
	dial := m.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	var errs []error
	for _, ep := range eps {
		c, err := dial(ctx, "tcp", ep)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("connecting to the master at %s: %w", m.Addr, errors.Join(errs...))
}

func (m *Master) exchange(ctx context.Context, conn net.Conn, ad ReadyAd) error {
	rnd := m.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	chunk := m.chunk
	if chunk <= 0 {
		chunk = defaultChunk
	}
	s := &stream{rw: conn, chunk: defaultChunk}
	if id := m.Addr.SharedPortID(); id != "" {
		deadline := int64(-1)
		if dl, ok := ctx.Deadline(); ok {
			deadline = max(int64(time.Until(dl).Seconds()), 0)
		}
		// Not hashed: C++ resets the digests after it (resetHeaderMD).
		if err := s.writeMessage(sharedPortMsg(id, m.ClientName, deadline)); err != nil {
			return fmt.Errorf("shared-port request: %w", err)
		}
	}
	s.hashing = true
	s.chunk = chunk // the shared-port server wants its request in one frame
	var nonce [33]byte
	if _, err := io.ReadFull(rnd, nonce[:]); err != nil {
		return err
	}
	if err := s.writeMessage(resumeMsg(m.Session.ID, nonce[:], !m.noResumeResponse)); err != nil {
		return fmt.Errorf("sending DC_AUTHENTICATE: %w", err)
	}
	if !m.noResumeResponse {
		if err := readResumeReply(s, m.Session); err != nil {
			return err
		}
	}
	key, err := aesKey(m.Session.Key)
	if err != nil {
		return err
	}
	var iv [ivSize]byte
	if _, err := io.ReadFull(rnd, iv[:]); err != nil {
		return err
	}
	if err := s.encrypt(key, iv); err != nil {
		return err
	}
	if err := s.writeMessage(readyMsg(ad)); err != nil {
		return fmt.Errorf("sending the ready ad: %w", err)
	}
	// The master sends nothing back; it closes once its handler ran. Wait
	// for that, so "delivered" means the master read the whole message.
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	n, err := io.Copy(io.Discard, io.LimitReader(conn, maxPayload))
	if err != nil {
		return fmt.Errorf("waiting for the master to close: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("the master answered DC_SET_READY with %d unexpected bytes", n)
	}
	return nil
}

// readResumeReply reads the master's plaintext answer to the resume
// (SecManStartCommand::authenticate_inner, the resumed-session branch).
func readResumeReply(s *stream, sess Session) error {
	reply, err := s.readMessage()
	if err != nil {
		return fmt.Errorf("reading the session resume reply: %w", err)
	}
	rad, err := plainAd(reply)
	if err != nil {
		return fmt.Errorf("session resume reply: %w", err)
	}
	switch rc := strings.Trim(rad["returncode"], `"`); rc {
	case "", "AUTHORIZED":
		return nil
	case "SID_NOT_FOUND":
		return fmt.Errorf("%w: the master does not know %s (SID_NOT_FOUND)", ErrNoSession, sess)
	default:
		return fmt.Errorf("the master refused to resume %s: ReturnCode %s", sess, clip(rc))
	}
}

// sharedPortMsg is SHARED_PORT_CONNECT (SharedPortClient::sendSharedPortID).
func sharedPortMsg(id, name string, deadline int64) []byte {
	b := putInt(nil, sharedPortConnect)
	b = putString(b, id, false)
	b = putString(b, name, false)
	b = putInt(b, deadline)
	return putInt(b, 0) // more_args
}

// resumeMsg is DC_AUTHENTICATE with the resume ad
// (SecManStartCommand::sendAuthInfo_inner, the have-session branch).
func resumeMsg(sid string, nonce []byte, resumeResponse bool) []byte {
	b := putInt(nil, dcAuthenticate)
	return putAd(b, []string{
		"Command = " + strconv.Itoa(dcSetReady),
		`UseSession = "YES"`,
		`Sid = "` + sid + `"`,
		`CryptoMethods = "AES"`,
		`Nonce = "` + base64.StdEncoding.EncodeToString(nonce) + `"`,
		"ResumeResponse = " + strconv.FormatBool(resumeResponse),
		`RemoteVersion = "` + RemoteVersion + `"`,
	}, false)
}

// readyMsg is the DC_SET_READY ClassAd, encrypted-mode strings.
func readyMsg(ad ReadyAd) []byte {
	return putAd(nil, []string{
		"DaemonPID = " + strconv.Itoa(ad.PID),
		`DaemonName = "` + ad.Name + `"`,
		`DaemonState = "` + ad.State + `"`,
	}, true)
}

package vault

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/redact"
	"github.com/credmon/credmon/internal/tokenclient"
)

// Timeouts of htgettoken and condor_credmon_vault, which a site's Vault is
// known to answer within.
const (
	// DefaultConnectTimeout bounds one TCP connect to one address; the
	// next address is tried after it.
	DefaultConnectTimeout = 2 * time.Second
	// DefaultReadTimeout bounds every wait for data from Vault (the
	// response's first byte, and each later read), as urllib3's read
	// timeout does, so a Vault that stops answering mid-body is caught too.
	DefaultReadTimeout = 10 * time.Second
	// DefaultRequestTimeout bounds one whole request, so a server dripping
	// a byte every few seconds cannot hold a caller for ever.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultPort is Vault's and the only one condor_credmon_vault accepts.
	DefaultPort = "8200"
)

// MaxResponseBytes bounds every Vault response read, as it bounds the token
// endpoint's (Vault's answers are a few KiB).
const MaxResponseBytes = tokenclient.MaxResponseBytes

// Config says where Vault is and how to reach it.
type Config struct {
	// Address is Vault's base URL, https://host[:port]; see ParseAddress.
	Address string
	// CAFile and CAPath are a PEM bundle and a directory of PEM
	// certificates (e.g. /etc/grid-security/certificates) to trust instead
	// of the system roots; both may be set.
	CAFile, CAPath string
	// ConnectTimeout, ReadTimeout and RequestTimeout replace the defaults
	// when positive.
	ConnectTimeout, ReadTimeout, RequestTimeout time.Duration
	// UserAgent, if set, is sent as the User-Agent header.
	UserAgent string
	// Resolver looks up Vault's addresses; nil means net.DefaultResolver.
	Resolver interface {
		LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	}
	// Now returns the current time; nil means time.Now. It stamps
	// Auth.Received, DeviceAuth.Received and TokenInfo.Received.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer. Tests inject
	// one that moves a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Dial, if set, replaces the TCP connect to one resolved address
	// (ip:port); the connect timeout still applies through ctx. Tests use
	// it to reach a test server on another port than Vault's 8200, which
	// a credd-stored vault_url must name.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client talks to one Vault server. It holds no per-request state and is
// safe for concurrent use.
type Client struct {
	base      *url.URL
	hc        *http.Client
	userAgent string
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

// ParseAddress normalises a Vault address as htgettoken does: a bare host
// gets https:// and port 8200. Only https is accepted (the Vault token
// travels in every request); a path other than "/" is refused, since the
// API lives under /v1.
func ParseAddress(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return nil, &tokenclient.PermanentError{Err: fmt.Errorf("invalid Vault address %q", redact.Text(raw, redact.DescriptionLen))}
	}
	if u.Scheme != "https" {
		return nil, &tokenclient.PermanentError{Err: fmt.Errorf("the Vault address %s is not https", redact.Text(u.Redacted(), redact.DescriptionLen))}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, &tokenclient.PermanentError{Err: fmt.Errorf("the Vault address %q must be https://host[:port] only", redact.Text(u.Host, redact.DescriptionLen))}
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), DefaultPort)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

// SplitURL splits a full Vault API URL, the vault_url of a credd-stored
// .top, into the address and the API path below /v1/, with
// condor_credmon_vault's rules: https, port 8200, path under /v1/. The
// query is dropped (its parameters are the caller's to set).
func SplitURL(raw string) (address, path string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
		return "", "", &tokenclient.PermanentError{Err: errors.New("vault_url is not an https URL")}
	}
	if u.Port() != DefaultPort {
		return "", "", &tokenclient.PermanentError{Err: fmt.Errorf("vault_url port is %q; Vault's is %s", redact.Text(u.Port(), 16), DefaultPort)}
	}
	p, ok := strings.CutPrefix(u.Path, "/v1/")
	if !ok || p == "" || strings.Contains(p, "..") {
		return "", "", &tokenclient.PermanentError{Err: errors.New("vault_url path is not under /v1/")}
	}
	return "https://" + u.Host, p, nil
}

// New builds a Client for cfg: IPv4-first dialing with the connect
// timeout, a read timeout on every read, the CA bundle, no redirects.
func New(cfg Config) (*Client, error) {
	base, err := ParseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" || cfg.CAPath != "" {
		pool, err := loadCAs(cfg.CAFile, cfg.CAPath)
		if err != nil {
			return nil, &tokenclient.PermanentError{Err: err}
		}
		tlsConf.RootCAs = pool
	}
	d := &dialer{
		connect:  positive(cfg.ConnectTimeout, DefaultConnectTimeout),
		read:     positive(cfg.ReadTimeout, DefaultReadTimeout),
		resolver: cfg.Resolver,
		dial:     cfg.Dial,
	}
	if d.resolver == nil {
		d.resolver = net.DefaultResolver
	}
	tr := &http.Transport{
		DialContext:         d.dialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: d.read,
		// Shorter than the read timeout: an idle pooled connection is
		// closed by the transport (safely) before its pending read's
		// deadline could close it under a request being sent.
		IdleConnTimeout:     d.read / 2,
		MaxIdleConnsPerHost: 16,
		ForceAttemptHTTP2:   false,
	}
	c := &Client{
		base: base,
		hc: &http.Client{
			Transport: tr,
			Timeout:   positive(cfg.RequestTimeout, DefaultRequestTimeout),
			// Never follow a redirect: Go drops Authorization on a
			// redirect to another host, but not X-Vault-Token, so following
			// one would send the Vault token wherever Location points. A
			// standby node that redirects instead of forwarding is
			// reported, and the address should name the active node or
			// the load balancer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		userAgent: cfg.UserAgent,
		now:       cfg.Now,
		sleep:     cfg.Sleep,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = tokenclient.SleepContext
	}
	return c, nil
}

// Address is the normalised base URL (https://host:port).
func (c *Client) Address() string { return c.base.String() }

func positive(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// maxCAFileBytes bounds one CA file read (a full system bundle is ~250 KiB).
const maxCAFileBytes = 4 << 20

// loadCAs builds a pool from a PEM bundle and every regular file of a
// directory that holds PEM certificates (grid-security directories also
// hold signing policies and CRLs, which are skipped).
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	add := func(path string) (bool, error) {
		b, err := readBounded(path)
		if err != nil {
			return false, err
		}
		return pool.AppendCertsFromPEM(b), nil
	}
	if file != "" {
		ok, err := add(file)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
		}
		n++
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("reading CA directory: %w", err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			if ok, err := add(filepath.Join(dir, e.Name())); err == nil && ok {
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("CA directory %s holds no PEM certificate", dir)
		}
	}
	return pool, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCAFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxCAFileBytes)
	}
	return b, nil
}

// dialer connects to Vault IPv4-first. htgettoken and condor_credmon_vault
// resolve every address and use an IPv4 one when there is any, trying the
// next on a connect timeout: sites commonly publish an AAAA record for a
// Vault whose IPv6 path is broken, and Go's default (RFC 6724 order, IPv6
// first, with a 300 ms fallback race per attempt) would then depend on the
// resolver's order and start a second connection on every slow handshake.
// Reaching Vault the way the site's other clients do means a Vault that
// works for htgettoken works for us.
type dialer struct {
	connect, read time.Duration
	resolver      interface {
		LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	}
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (d *dialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []net.IPAddr
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IPAddr{{IP: ip}}
	} else if ips, err = d.resolver.LookupIPAddr(ctx, host); err != nil {
		return nil, err
	}
	ips = ipv4First(ips)
	if len(ips) == 0 {
		return nil, fmt.Errorf("no address for %s", host)
	}
	var first error
	for _, ip := range ips {
		nd := net.Dialer{Timeout: d.connect}
		dial := nd.DialContext
		if d.dial != nil {
			dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				ctx, cancel := context.WithTimeout(ctx, d.connect)
				defer cancel()
				return d.dial(ctx, network, addr)
			}
		}
		conn, err := dial(ctx, "tcp", net.JoinHostPort(ip.String(), port))
		if err == nil {
			return &readDeadlineConn{Conn: conn, timeout: d.read}, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// ipv4First orders IPv4 addresses before IPv6 ones, keeping the
// resolver's order within each family.
func ipv4First(ips []net.IPAddr) []net.IPAddr {
	out := make([]net.IPAddr, 0, len(ips))
	for _, ip := range ips {
		if ip.IP.To4() != nil {
			out = append(out, ip)
		}
	}
	for _, ip := range ips {
		if ip.IP.To4() == nil {
			out = append(out, ip)
		}
	}
	return out
}

// readDeadlineConn gives every read its own deadline (urllib3's read
// timeout): the transport's response-header timeout would miss a server
// that stalls in the body. A write re-arms the read deadline, which also
// moves the deadline of the read the transport keeps pending on a pooled
// connection, so a reused connection gets the full timeout.
type readDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *readDeadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *readDeadlineConn) Write(p []byte) (int, error) {
	dl := time.Now().Add(c.timeout)
	_ = c.Conn.SetWriteDeadline(dl)
	_ = c.Conn.SetReadDeadline(dl)
	return c.Conn.Write(p)
}

// response is a bounded, already-read Vault answer.
type response struct {
	status     int
	retryAfter string
	location   string
	body       []byte
}

// request is one Vault API call.
type request struct {
	method string
	path   string // below /v1/
	query  url.Values
	token  string // X-Vault-Token, "" for none
	body   any    // JSON-encoded when not nil
	header http.Header
	// secrets are what the request carries besides the token (a refresh
	// token, a SPNEGO token): blanked from every error text.
	secrets []string
}

// do is the one request function: https to the client's address, the
// Vault token in X-Vault-Token, a JSON body, no redirects, a bounded
// response, and every error scrubbed of the request's secrets. A non-2xx
// answer is an *Error; a 2xx answer is returned for the caller to parse.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	secrets := append([]string{r.token}, r.secrets...)
	u := *c.base
	u.Path = "/v1/" + strings.TrimPrefix(r.path, "/")
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, &tokenclient.PermanentError{Err: fmt.Errorf("encoding request to %s: %w", r.path, err)}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, &tokenclient.PermanentError{Err: redact.Error(err, redact.DescriptionLen, secrets...)}
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	// Vault's CSRF guard for browsers; the official client sends it too.
	req.Header.Set("X-Vault-Request", "true")
	if r.token != "" {
		req.Header.Set("X-Vault-Token", r.token)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(err, r.method, r.path, secrets)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, transportError(err, r.method, r.path, secrets)
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("vault: %s %s: response exceeds %d bytes", r.method, r.path, MaxResponseBytes)
	}
	out := &response{status: resp.StatusCode, body: b, location: resp.Header.Get("Location")}
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); len(v) <= maxRetryAfterLen {
		out.retryAfter = v
	}
	if out.status/100 != 2 {
		return nil, newError(r.method, r.path, out, secrets)
	}
	return out, nil
}

// maxRetryAfterLen drops a Retry-After longer than any valid one.
const maxRetryAfterLen = 64

// transportError is a network failure without the URL (its query could
// name a credential path's parameters) and scrubbed; net.Error's Timeout
// and errors.Is(context.DeadlineExceeded) still work through it.
func transportError(err error, method, path string, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &netError{op: method + " " + path, err: redact.Error(err, redact.DescriptionLen, secrets...)}
}

// netError is a request that got no answer: always transient.
type netError struct {
	op  string
	err error
}

func (e *netError) Error() string { return "vault: " + e.op + ": " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// Timeout reports whether the request timed out.
func (e *netError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// quoteSeconds renders d as Vault's duration string ("3600s").
func quoteSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

package oidcprovider

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Mode is what a FaultProxy does with a request. Use the package's Mode
// values (Pass, Hang, Status500, Down, BadJSON) and constructors (Slow,
// ErrorJSON); the zero Mode is Pass.
type Mode struct {
	kind   modeKind
	delay  time.Duration
	code   string
	param  string
	status int
	gate   <-chan struct{}
}

type modeKind int

const (
	modePass modeKind = iota
	modeHang
	modeStatus500
	modeSlow
	modeDown
	modeBadJSON
	modeErrorJSON
	modeErrorJSONIfParam
	modeThrottle
	modeGate
	modeEcho
)

// The fixed modes. They are variables only because Go has no struct
// constants; treat them as constants.
var (
	// Pass forwards the request to the target unchanged.
	Pass = Mode{kind: modePass}
	// Hang reads the request and never answers; the handler returns when
	// the client gives up (closes the connection or cancels) or the proxy
	// is closed. It is the "issuer accepts TCP but never replies" case that
	// the Python credmon cannot survive (requests has no default timeout).
	Hang = Mode{kind: modeHang}
	// Status500 answers 500 with a small HTML body, as a crashed backend
	// behind a load balancer does: no JSON and no access_token.
	Status500 = Mode{kind: modeStatus500}
	// Down resets the connection after reading the request (hijack, then
	// close with SO_LINGER 0), so the client sees "connection reset by
	// peer" or EOF, never an HTTP response.
	Down = Mode{kind: modeDown}
	// BadJSON answers 200 application/json with a truncated JSON body, as a
	// proxy cutting the response short would.
	BadJSON = Mode{kind: modeBadJSON}
)

// Slow waits d (or until the client gives up or the proxy closes) and then
// forwards the request.
func Slow(d time.Duration) Mode { return Mode{kind: modeSlow, delay: d} }

// ErrorJSON answers 400 with the OAuth error body {"error":"<code>"}, e.g.
// ErrorJSON("invalid_grant") or ErrorJSON("temporarily_unavailable"),
// without contacting the target.
func ErrorJSON(code string) Mode { return Mode{kind: modeErrorJSON, code: code} }

// ErrorJSONIfParam answers like ErrorJSON(code) when the request's form
// body has the parameter param, and forwards the request unchanged
// otherwise: an issuer that refuses a parameter (say "resource" with
// invalid_target, or "scope" with invalid_scope) before looking at the
// grant, while the same request without it works.
func ErrorJSONIfParam(code, param string) Mode {
	return Mode{kind: modeErrorJSONIfParam, code: code, param: param}
}

// Throttle answers status (429 or 503) with the header Retry-After:
// retryAfter (delta-seconds or an HTTP-date; "" for none) and the OAuth
// error body {"error":"temporarily_unavailable"}, without contacting the
// target: an issuer that is rate limiting or in maintenance.
func Throttle(status int, retryAfter string) Mode {
	return Mode{kind: modeThrottle, status: status, code: retryAfter}
}

// Gate holds each request until release is closed (or the client gives up
// or the proxy closes), then forwards it: a request a test knows is on the
// wire for as long as it needs, whatever the machine's speed.
func Gate(release <-chan struct{}) Mode { return Mode{kind: modeGate, gate: release} }

// Echo answers status with the whole request (form body and Authorization
// header) echoed into error, error_description and error_uri, without
// contacting the target: the issuer that puts the refresh token and the
// client secret it was sent into its error, and so into a careless log.
func Echo(status int) Mode { return Mode{kind: modeEcho, status: status} }

// String names the mode for logs and test failures.
func (m Mode) String() string {
	switch m.kind {
	case modePass:
		return "Pass"
	case modeHang:
		return "Hang"
	case modeStatus500:
		return "Status500"
	case modeSlow:
		return fmt.Sprintf("Slow(%v)", m.delay)
	case modeDown:
		return "Down"
	case modeBadJSON:
		return "BadJSON"
	case modeErrorJSON:
		return fmt.Sprintf("ErrorJSON(%q)", m.code)
	case modeErrorJSONIfParam:
		return fmt.Sprintf("ErrorJSONIfParam(%q, %q)", m.code, m.param)
	case modeThrottle:
		return fmt.Sprintf("Throttle(%d, %q)", m.status, m.code)
	case modeGate:
		return "Gate"
	case modeEcho:
		return fmt.Sprintf("Echo(%d)", m.status)
	}
	return fmt.Sprintf("Mode(%d)", int(m.kind))
}

// badJSONBody is a token response cut off mid-string.
const badJSONBody = `{"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSIs`

// status500Body mimics a proxy's error page.
const status500Body = "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>\n"

// FaultProxy is a loopback HTTP reverse proxy in front of a target (the
// OIDC provider) whose behaviour can be changed while requests flow. All
// methods are safe for concurrent use.
type FaultProxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:<port>. Replace the
	// provider's base URL with it to route a client through the proxy:
	// FaultProxy.URL + "/token".
	URL string

	srv       *httptest.Server
	transport *http.Transport
	rp        *httputil.ReverseProxy
	closing   chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	mode      Mode
	pathModes map[string]Mode
	counts    map[string]int
	params    map[string][][]string
}

// NewFaultProxy starts a proxy to target (a base URL such as
// Provider.Issuer) in mode Pass. It is closed when the test ends.
func NewFaultProxy(t TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Fatalf("NewFaultProxy: bad target URL %q: %v", target, err)
	}
	p := &FaultProxy{
		closing:   make(chan struct{}),
		pathModes: map[string]Mode{},
		counts:    map[string]int{},
		params:    map[string][][]string{},
		transport: &http.Transport{IdleConnTimeout: 2 * time.Second, MaxIdleConnsPerHost: 64},
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
		},
		Transport: p.transport,
		// The default logs to stderr; failures are visible to the client
		// as 502 anyway.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.Close)
	return p
}

// SetMode sets the mode for all paths that have no SetPathMode override.
func (p *FaultProxy) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
}

// SetPathMode sets the mode for requests whose URL path is exactly path
// (e.g. "/token"), overriding SetMode for it, so that only the token
// endpoint fails while discovery keeps working.
func (p *FaultProxy) SetPathMode(path string, m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pathModes[path] = m
}

// ClearPathModes removes all SetPathMode overrides.
func (p *FaultProxy) ClearPathModes() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.pathModes)
}

// ModeFor returns the mode a request for path would get now.
func (p *FaultProxy) ModeFor(path string) Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m, ok := p.pathModes[path]; ok {
		return m
	}
	return p.mode
}

// Count returns how many requests for path have arrived, in any mode.
func (p *FaultProxy) Count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[path]
}

// Counts returns a copy of the per-path request counters.
func (p *FaultProxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		c[k] = v
	}
	return c
}

// Total returns how many requests have arrived on all paths.
func (p *FaultProxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.counts {
		n += v
	}
	return n
}

// ResetCounts zeroes the counters and forgets the recorded parameters.
func (p *FaultProxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
	clear(p.params)
}

// Params returns, for each form-encoded POST for path in arrival order
// (whatever the mode), the sorted names of its form parameters. Only names
// are kept, never values, which hold refresh tokens and client secrets.
func (p *FaultProxy) Params(path string) [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]string, len(p.params[path]))
	for i, names := range p.params[path] {
		out[i] = slices.Clone(names)
	}
	return out
}

// Close stops the proxy: hung and delayed requests are released (their
// clients see the connection close), then the server shuts down and waits
// for its handlers, so no goroutine outlives Close. It is safe to call more
// than once.
func (p *FaultProxy) Close() {
	p.closeOnce.Do(func() {
		// Release handlers first: httptest.Server.Close waits for
		// outstanding requests, and a Hang handler waits for this.
		close(p.closing)
		p.srv.Close()
		p.transport.CloseIdleConnections()
	})
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	var form url.Values
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// Read the body to record its parameter names, then hand the same
		// bytes on to whichever mode handles the request.
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			form, _ = url.ParseQuery(string(body))
		}
	}
	p.mu.Lock()
	p.counts[r.URL.Path]++
	if form != nil {
		names := slices.Sorted(maps.Keys(form))
		p.params[r.URL.Path] = append(p.params[r.URL.Path], names)
	}
	m, ok := p.pathModes[r.URL.Path]
	if !ok {
		m = p.mode
	}
	p.mu.Unlock()

	switch m.kind {
	case modePass:
		p.rp.ServeHTTP(w, r)
	case modeHang:
		// Drain the body so the client finishes sending and waits for a
		// response, as it would with a real hung server.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-p.closing:
		}
		p.hangUp(w)
	case modeGate:
		select {
		case <-m.gate:
			p.rp.ServeHTTP(w, r)
		case <-r.Context().Done():
		case <-p.closing:
			p.hangUp(w)
		}
	case modeSlow:
		t := time.NewTimer(m.delay)
		defer t.Stop()
		select {
		case <-t.C:
			p.rp.ServeHTTP(w, r)
		case <-r.Context().Done():
		case <-p.closing:
			p.hangUp(w)
		}
	case modeStatus500:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, status500Body)
	case modeDown:
		io.Copy(io.Discard, r.Body)
		p.hangUp(w)
	case modeBadJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, badJSONBody)
	case modeErrorJSONIfParam:
		if !form.Has(m.param) {
			p.rp.ServeHTTP(w, r)
			return
		}
		writeErrorJSON(w, m.code)
	case modeErrorJSON:
		writeErrorJSON(w, m.code)
	case modeEcho:
		body, _ := io.ReadAll(r.Body)
		echo := string(body) + " Authorization: " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(m.status)
		fmt.Fprintf(w, `{"error":%q,"error_description":%q,"error_uri":%q}`, "invalid_request "+echo, "cannot process "+echo, "https://idp.example/"+echo)
	case modeThrottle:
		if m.code != "" {
			w.Header().Set("Retry-After", m.code)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(m.status)
		io.WriteString(w, `{"error":"temporarily_unavailable"}`)
	}
}

func writeErrorJSON(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "{\"error\":%q}", code)
}

// hangUp closes the client connection without a response. SO_LINGER 0 makes
// the close a TCP RST, so the client fails at once instead of waiting.
func (p *FaultProxy) hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("credtest: FaultProxy needs a Hijacker (HTTP/1.x)")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return // the connection is already gone
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}

package oidcprovider

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Static clients registered by server.mjs. Both confidential clients share
// ClientSecret and differ in their registered token_endpoint_auth_method.
// oidc-provider only enforces that difference with
// ProviderOptions.StrictClientAuth; by default either client may use Basic
// or form authentication.
const (
	// ClientIDBasic authenticates with HTTP Basic (client_secret_basic).
	ClientIDBasic = "credmon"
	// ClientIDPost authenticates with client_id/client_secret form fields
	// (client_secret_post), which is what HTCondor's Python credmon sends
	// (requests-oauthlib refresh_token with client_id and client_secret).
	ClientIDPost = "credmon-post"
	// ClientIDPublic is a public client (token_endpoint_auth_method none)
	// allowed only the device_code and refresh_token grants.
	ClientIDPublic = "public-device"
	// ClientSecret is the secret of ClientIDBasic and ClientIDPost.
	ClientSecret = "credmon-secret"
)

// DefaultAudience is the audience (RFC 8707 resource) that server.mjs adds
// to every grant and picks for access tokens when a request names none: the
// WLCG "any" audience.
const DefaultAudience = "https://wlcg.cern.ch/jwt/v1/any"

// DefaultReadyTimeout bounds how long StartOIDCProvider waits for discovery
// to answer. The provider is ready in 0.4–1.3 s; 30 s covers a machine under
// heavy load (startup was measured at a load average of 5–8).
const DefaultReadyTimeout = 30 * time.Second

// outputLimit caps the captured provider output; when exceeded, the oldest
// half is dropped, since the end of the log is what explains a failure.
const outputLimit = 4 << 20

// ProviderOptions configure the provider process. The zero value is the
// server.mjs default: 600 s RS256 JWT access tokens with rotated refresh
// tokens.
type ProviderOptions struct {
	// AccessTokenTTL is the lifetime of issued access tokens (AT_TTL, whole
	// seconds, at least 1). Zero means 600 s.
	AccessTokenTTL time.Duration
	// NoRotate stops refresh-token rotation (NO_ROTATE): the refresh grant
	// then returns the same refresh token.
	NoRotate bool
	// DefaultAudience replaces DefaultAudience (DEFAULT_AUD).
	DefaultAudience string
	// AccessTokenAlg is the access-token signing algorithm (AT_ALG), "RS256"
	// (default) or "ES256".
	AccessTokenAlg string
	// FreshGrant makes every authorization create a new grant instead of
	// reusing the session's (FRESH_GRANT).
	FreshGrant bool
	// StoreSize caps the in-memory store's entries (STORE_SIZE); zero means
	// one million. oidc-provider's own dev adapter caps at 1000, which makes
	// tokens vanish in load tests.
	StoreSize int
	// StrictClientAuth rejects a client that authenticates with a method
	// other than its registered one (STRICT_CLIENT_AUTH, a credtest
	// addition to server.mjs). By default oidc-provider accepts
	// client_secret_basic and client_secret_post interchangeably from any
	// secret-based client, so ClientIDBasic and ClientIDPost behave alike.
	StrictClientAuth bool
	// DebugRequests logs every POST and its response (DEBUG_REQ) to the
	// captured output shown when the test fails.
	DebugRequests bool
	// RefreshDelay holds every refresh_token grant this long before the
	// provider processes it (REFRESH_DELAY_MS, whole milliseconds): the round
	// trip to a remote IdP, which costs a client time but not CPU. Other
	// grants (and so CloneRefreshTokens) are not delayed.
	RefreshDelay time.Duration
	// Env holds extra NAME=value entries for the node process.
	Env []string
	// ReadyTimeout replaces DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Provider is a running oidc-provider process on 127.0.0.1. The URL fields
// come from its discovery document and stay the same across Restart.
type Provider struct {
	// Issuer is the issuer URL, http://127.0.0.1:<port>, without a
	// trailing slash; it is the iss of every token.
	Issuer string
	// TokenURL is the token endpoint.
	TokenURL string
	// DeviceAuthorizationURL is the RFC 8628 device authorization endpoint.
	DeviceAuthorizationURL string
	// RevocationURL is the RFC 7009 revocation endpoint.
	RevocationURL string
	// IntrospectionURL is the RFC 7662 introspection endpoint.
	IntrospectionURL string
	// RegistrationURL is the RFC 7591 dynamic client registration endpoint.
	RegistrationURL string
	// JWKSURL is where the signing keys are published.
	JWKSURL string
	// Dir is the directory server.mjs runs in.
	Dir string

	opts      ProviderOptions
	node      string
	port      int
	transport *http.Transport
	client    *http.Client
	out       *tailBuffer

	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd has been waited for
	startedIn time.Duration
	keys      map[string]crypto.PublicKey // JWKS cache, by kid
}

// StartOIDCProvider starts server.mjs on a free loopback port and waits until
// its discovery document answers. The process (and its process group) is
// killed when the test ends; its output is logged only if the test failed.
//
// If node or the npm packages are unavailable the test is skipped, or fails
// when CREDMON_REQUIRE_OIDC=1.
func StartOIDCProvider(t TB, opts ProviderOptions) *Provider {
	t.Helper()
	p, err := LaunchOIDCProvider(opts)
	if errors.Is(err, ErrUnavailable) {
		unavailable(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Registered first so that it runs last, after the process is gone and
	// its output complete.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("oidc-provider output (%s):\n%s", p.Issuer, p.out.String())
		}
	})
	t.Cleanup(p.Stop)
	return p
}

// ErrUnavailable is returned by LaunchOIDCProvider when node or the npm
// packages cannot be had.
var ErrUnavailable = errors.New("credtest: oidc-provider unavailable")

// LaunchOIDCProvider is StartOIDCProvider for programs that are not tests
// (make demo): the caller must Stop the provider.
func LaunchOIDCProvider(opts ProviderOptions) (*Provider, error) {
	dir, err := EnsureOIDCProviderInstalled()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node is not on PATH: %v", ErrUnavailable, err)
	}
	p := &Provider{
		Dir:  dir,
		opts: opts,
		node: node,
		out:  &tailBuffer{},
		transport: &http.Transport{
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			// Node closes idle keep-alive connections after 5 s
			// (server.keepAliveTimeout). A POST sent on a connection Node is
			// closing fails with EOF and is not retried (POST is not
			// replayable), so drop idle connections well before that.
			IdleConnTimeout: 2 * time.Second,
		},
	}
	p.client = &http.Client{Transport: p.transport, Timeout: 30 * time.Second}

	// The port is picked by binding :0 and releasing it, so another process
	// can take it before node binds; retry with a new port when that
	// happens.
	for attempt := 0; ; attempt++ {
		p.port, err = freePort()
		if err != nil {
			return nil, fmt.Errorf("picking a port for oidc-provider: %w", err)
		}
		err = p.start()
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(p.out.String(), "EADDRINUSE") {
			continue
		}
		p.Stop()
		return nil, fmt.Errorf("starting oidc-provider: %w\noutput:\n%s", err, p.out.String())
	}
	if err := p.discover(); err != nil {
		p.Stop()
		return nil, fmt.Errorf("oidc-provider discovery: %w", err)
	}
	return p, nil
}

// unavailable skips the test, or fails it under CREDMON_REQUIRE_OIDC=1.
func unavailable(t TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequireOIDC) == "1" {
		t.Fatalf("%s (fatal because %s=1)", msg, EnvRequireOIDC)
	}
	t.Skipf("%s (set %s=1 to fail instead of skipping)", msg, EnvRequireOIDC)
}

// Stop kills the provider's process group and waits for it to exit. It is
// safe to call more than once.
func (p *Provider) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *Provider) stopLocked() {
	if p.cmd == nil {
		return
	}
	// Negative pid: the whole process group, in case node ever forks.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
	p.transport.CloseIdleConnections()
}

// Restart kills the provider and starts a new process on the same port with
// the same options. All state lives in the process's memory, so everything
// issued before is forgotten: refresh tokens, grants, sessions, DCR clients,
// and the signing keys (new ones are generated). Tokens issued before the
// restart therefore fail with invalid_grant or fail signature checks; that is
// what an issuer that lost its database looks like.
func (p *Provider) Restart(t TB) {
	t.Helper()
	p.mu.Lock()
	p.stopLocked()
	p.keys = nil
	p.mu.Unlock()
	p.out.Write([]byte("--- credtest: restart ---\n"))
	if err := p.start(); err != nil {
		t.Fatalf("restarting oidc-provider on port %d: %v\noutput:\n%s", p.port, err, p.out.String())
	}
}

// Pid returns the process id of the running node process, or 0 when stopped.
func (p *Provider) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// StartupDuration is the wall time of the last start or restart, from
// spawning node until discovery answered.
func (p *Provider) StartupDuration() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startedIn
}

// Output returns what the provider process has printed so far.
func (p *Provider) Output() string { return p.out.String() }

// HTTPClient returns the client the helpers use to talk to the provider.
// Its transport keeps connections to the provider alive.
func (p *Provider) HTTPClient() *http.Client { return p.client }

// start spawns node on p.port and waits until discovery answers.
func (p *Provider) start() error {
	t0 := time.Now()
	cmd := exec.Command(p.node, "server.mjs")
	cmd.Dir = p.Dir
	cmd.Env = p.env()
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// Own process group so that Stop can kill everything node starts;
	// Pdeathsig so that a test binary killed by a timeout does not leave
	// providers running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("spawning node: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	timeout := p.opts.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	deadline := time.Now().Add(timeout)
	url := p.baseURL() + "/.well-known/openid-configuration"
	for {
		select {
		case <-exited:
			p.Stop()
			return fmt.Errorf("node exited before it was ready: %v", cmd.ProcessState)
		default:
		}
		resp, err := p.client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.mu.Lock()
				p.startedIn = time.Since(t0)
				p.mu.Unlock()
				return nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("discovery did not answer within %v (last error: %v)", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *Provider) baseURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// serverEnvNames are the variables server.mjs reads. They are removed from
// the inherited environment so that, say, NO_ROTATE=1 in a developer's shell
// cannot change what a test gets.
var serverEnvNames = []string{"PORT", "HOST", "ISSUER", "AT_TTL", "NO_ROTATE", "DEFAULT_AUD", "AT_ALG", "FRESH_GRANT", "STORE_SIZE", "DEBUG_REQ", "STRICT_CLIENT_AUTH", "REFRESH_DELAY_MS"}

func (p *Provider) env() []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, n := range serverEnvNames {
			if strings.HasPrefix(kv, n+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	o := p.opts
	env = append(env, "PORT="+strconv.Itoa(p.port), "HOST=127.0.0.1")
	if o.AccessTokenTTL > 0 {
		secs := int(o.AccessTokenTTL.Round(time.Second) / time.Second)
		env = append(env, "AT_TTL="+strconv.Itoa(max(secs, 1)))
	}
	// server.mjs tests these for truthiness: any non-empty value, even "0",
	// switches them on, so they are set only when wanted.
	if o.NoRotate {
		env = append(env, "NO_ROTATE=1")
	}
	if o.FreshGrant {
		env = append(env, "FRESH_GRANT=1")
	}
	if o.StrictClientAuth {
		env = append(env, "STRICT_CLIENT_AUTH=1")
	}
	if o.DebugRequests {
		env = append(env, "DEBUG_REQ=1")
	}
	if o.DefaultAudience != "" {
		env = append(env, "DEFAULT_AUD="+o.DefaultAudience)
	}
	if o.AccessTokenAlg != "" {
		env = append(env, "AT_ALG="+o.AccessTokenAlg)
	}
	if o.StoreSize > 0 {
		env = append(env, "STORE_SIZE="+strconv.Itoa(o.StoreSize))
	}
	if o.RefreshDelay > 0 {
		env = append(env, "REFRESH_DELAY_MS="+strconv.FormatInt(max(o.RefreshDelay.Milliseconds(), 1), 10))
	}
	return append(env, o.Env...)
}

// discover fills the URL fields from the discovery document.
func (p *Provider) discover() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL()+"/.well-known/openid-configuration", nil)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var d struct {
		Issuer        string `json:"issuer"`
		Token         string `json:"token_endpoint"`
		Device        string `json:"device_authorization_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
		Introspection string `json:"introspection_endpoint"`
		Registration  string `json:"registration_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return fmt.Errorf("decoding discovery document: %w", err)
	}
	if d.Issuer == "" || d.Token == "" || d.Device == "" || d.JWKS == "" {
		return errors.New("discovery document lacks issuer, token, device or jwks endpoint")
	}
	p.Issuer, p.TokenURL, p.DeviceAuthorizationURL = d.Issuer, d.Token, d.Device
	p.RevocationURL, p.IntrospectionURL, p.RegistrationURL, p.JWKSURL = d.Revocation, d.Introspection, d.Registration, d.JWKS
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer is a concurrency-safe buffer that keeps the most recent output.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > outputLimit {
		keep := b.buf.Bytes()[b.buf.Len()/2:]
		rest := append([]byte("[... earlier output dropped ...]\n"), keep...)
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

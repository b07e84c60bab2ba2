package vault_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/internal/vaulttest"
)

type env struct {
	p     *oidcprovider.Provider
	s     *vaulttest.Server
	clock *vaulttest.Clock
}

func start(t *testing.T, opts vaulttest.Options) env {
	t.Helper()
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	clock := vaulttest.NewClock(time.Now())
	opts.Provider, opts.Now = p, clock.Now
	return env{p: p, s: vaulttest.Start(t, opts), clock: clock}
}

// client is a internal/vault client for the server, trusting its CA file.
// sleep, if not nil, replaces waiting.
func (e env) client(t *testing.T, sleep func(ctx context.Context, d time.Duration) error) *vault.Client {
	t.Helper()
	c, err := vault.New(vault.Config{Address: e.s.Address, CAFile: e.s.CAFile, Now: e.clock.Now, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeviceLoginThenCredsAndSTS(t *testing.T) {
	e := start(t, vaulttest.Options{})
	ctx := context.Background()
	var (
		sleeps []time.Duration
		da     *vault.DeviceAuth
	)
	// The user approves while the client waits before its third poll;
	// the first poll is answered slow_down, the second
	// authorization_pending.
	c := e.client(t, func(ctx context.Context, d time.Duration) error {
		sleeps = append(sleeps, d)
		if len(sleeps) == 3 {
			return e.p.ApproveDevice(ctx, da.AuthURL, "", "alice")
		}
		return nil
	})
	e.s.SlowDown(1)
	da, err := c.OIDCAuthURL(ctx, vault.OIDCMount(e.s.Issuer()), e.s.Role(), "")
	if err != nil {
		t.Fatal(err)
	}
	if da.UserCode == "" || da.PollInterval != vaulttest.DefaultPollInterval {
		t.Fatalf("device auth %+v; want a user code and the server's %v interval", da, vaulttest.DefaultPollInterval)
	}
	login, err := c.OIDCPoll(ctx, da, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{3 * time.Second, 6 * time.Second, 6 * time.Second}; !slices.Equal(sleeps, want) {
		t.Fatalf("waits before polls = %v; want %v (slow_down doubles the interval)", sleeps, want)
	}
	credkey, rt := login.Metadata["credkey"], login.Metadata["oauth2_refresh_token"]
	if credkey != "alice" || rt == "" || login.LeaseDuration != vaulttest.DefaultLoginTTL || login.Expiry().IsZero() {
		t.Fatalf("login: credkey %q, refresh token %v, lease %v; want alice's login of %v", credkey, rt != "", login.LeaseDuration, vaulttest.DefaultLoginTTL)
	}
	creds := vault.CredsPath(e.s.Issuer(), credkey, e.s.Role())
	if err := c.StoreRefreshToken(ctx, login.ClientToken, creds, e.s.Issuer(), rt); err != nil {
		t.Fatal(err)
	}

	// htgettoken keeps a 7-day child of the login token on disk.
	child, err := c.CreateToken(ctx, login.ClientToken, 7*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if child.Renewable || child.LeaseDuration != 7*24*time.Hour {
		t.Fatalf("child token renewable %v lease %v; want non-renewable 168h", child.Renewable, child.LeaseDuration)
	}
	info, err := c.LookupSelf(ctx, child.ClientToken)
	if err != nil || info.TTL != 7*24*time.Hour {
		t.Fatalf("lookup-self: %+v %v; want ttl 168h", info, err)
	}

	b, err := c.Token(ctx, child.ClientToken, creds, vault.TokenRequest{MinLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if claims := e.p.VerifyAccessToken(t, b.AccessToken); claims["sub"] != "alice" || b.Expiry.IsZero() || b.Type != "Bearer" {
		t.Fatalf("creds token sub %v expiry %v type %q", claims["sub"], b.Expiry, b.Type)
	}
	x, err := c.Token(ctx, child.ClientToken, vault.STSPath(e.s.Issuer(), credkey, e.s.Role()), vault.TokenRequest{
		MinLifetime: time.Minute, Scopes: []string{"storage.read:/alice", "compute.read"}, Audiences: []string{"https://se.example.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	xc := e.p.VerifyAccessToken(t, x.AccessToken)
	aud, _ := xc.GetAudience()
	if !slices.Contains(aud, "https://se.example.org") || !strings.Contains(fmt.Sprint(xc["scope"]), "storage.read:/alice") {
		t.Fatalf("exchanged token aud %v scope %v; want the requested ones", aud, xc["scope"])
	}
}

func TestKerberosLoginReadsItsOwnCredential(t *testing.T) {
	const hdr = "Negotiate dGhpcyBpcyBhIHRlc3Q="
	e := start(t, vaulttest.Options{KerberosVerifier: func(h string) (string, error) {
		if h != hdr {
			return "", errors.New("bad token")
		}
		// A credkey with digits, as real robots' are: redaction blanks it
		// in messages, and the class must not depend on the message.
		return "aframe-1-scitoken/robot/ldas-pcdev12.example.org@EXAMPLE.ORG", nil
	}})
	c := e.client(t, nil)
	ctx := context.Background()
	mount := vault.KerberosMount(e.s.Issuer(), e.s.Role())
	_, err := c.KerberosLogin(ctx, mount, func(context.Context) (string, error) { return "Negotiate Ym9ndXM=", nil })
	if vault.Classify(err) != tokenclient.Permanent || strings.Contains(err.Error(), "Ym9ndXM") {
		t.Fatalf("refused login: %v (class %v); want Permanent without the SPNEGO token", err, vault.Classify(err))
	}
	a, err := c.KerberosLogin(ctx, mount, func(context.Context) (string, error) { return hdr, nil })
	if err != nil {
		t.Fatal(err)
	}
	// Nothing stored yet for the robot: a human must log in with OIDC.
	_, err = c.Token(ctx, a.ClientToken, vault.CredsPath(e.s.Issuer(), "aframe-1-scitoken/robot/ldas-pcdev12.example.org", e.s.Role()), vault.TokenRequest{MinLifetime: time.Hour})
	if !errors.Is(err, vault.ErrNoCredential) || vault.Classify(err) != tokenclient.NeedsLogin {
		t.Fatalf("empty credential: %v (class %v); want ErrNoCredential, NeedsLogin", err, vault.Classify(err))
	}
}

// storedCredential logs alice in with a token made by the server and
// stores a refresh token, returning the token and the creds path.
func (e env) storedCredential(t *testing.T, c *vault.Client, ttl time.Duration, rt string) (string, string) {
	t.Helper()
	path := vault.CredsPath(e.s.Issuer(), "alice", e.s.Role())
	e.s.AddPolicy("alice", vaulttest.Rule{Path: path, Capabilities: []string{"create", "update", "read"}})
	tok := e.s.MintToken(vaulttest.TokenSpec{Policies: []string{"alice"}, TTL: ttl})
	if rt == "" {
		rt = e.p.NewRefreshToken(t, oidcprovider.GrantRequest{User: "alice"}).RefreshToken
	}
	if err := c.StoreRefreshToken(context.Background(), tok, path, e.s.Issuer(), rt); err != nil {
		t.Fatal(err)
	}
	return tok, path
}

func TestExpiredVaultTokenNeedsLogin(t *testing.T) {
	e := start(t, vaulttest.Options{})
	c := e.client(t, nil)
	tok, path := e.storedCredential(t, c, time.Hour, "")
	e.clock.Advance(time.Hour)
	_, err := c.Token(context.Background(), tok, path, vault.TokenRequest{MinLifetime: time.Minute})
	if vault.Classify(err) != tokenclient.NeedsLogin || !errors.Is(err, vault.ErrInvalidToken) {
		t.Fatalf("expired token: %v (class %v); want NeedsLogin, ErrInvalidToken", err, vault.Classify(err))
	}
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q has the Vault token or a line break", err)
	}
	if want := "vault: GET " + path + ": permission denied; invalid token (HTTP 403)"; err.Error() != want {
		t.Fatalf("error = %q; want %q", err, want)
	}
}

func TestRevokedVaultTokenIsPermissionDenied(t *testing.T) {
	e := start(t, vaulttest.Options{})
	c := e.client(t, nil)
	ctx := context.Background()
	tok, path := e.storedCredential(t, c, 24*time.Hour, "")
	if _, err := c.Token(ctx, tok, path, vault.TokenRequest{MinLifetime: time.Minute}); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	if err := c.RevokeSelf(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err := c.Token(ctx, tok, path, vault.TokenRequest{MinLifetime: time.Minute})
	if !errors.Is(err, vault.ErrPermissionDenied) || vault.Classify(err) != tokenclient.NeedsLogin {
		t.Fatalf("revoked token: %v (class %v); want ErrPermissionDenied, NeedsLogin", err, vault.Classify(err))
	}

	// A live token whose policy lacks the path: permission denied too,
	// but the token is fine and nothing a login changes.
	other := e.s.MintToken(vaulttest.TokenSpec{TTL: time.Hour})
	_, err = c.Token(ctx, other, path, vault.TokenRequest{})
	if !errors.Is(err, vault.ErrPermissionDenied) || errors.Is(err, vault.ErrInvalidToken) || vault.Classify(err) != tokenclient.Permanent {
		t.Fatalf("policy denial: %v (class %v); want ErrPermissionDenied only, Permanent", err, vault.Classify(err))
	}
}

func TestDeadRefreshTokenInVaultNeedsLogin(t *testing.T) {
	e := start(t, vaulttest.Options{})
	c := e.client(t, nil)
	tok, path := e.storedCredential(t, c, time.Hour, "no-such-refresh-token")
	_, err := c.Token(context.Background(), tok, path, vault.TokenRequest{})
	if vault.Classify(err) != tokenclient.NeedsLogin || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("dead refresh token: %v (class %v); want NeedsLogin naming invalid_grant", err, vault.Classify(err))
	}
}

func TestRateLimitIsTransientWithRetryAfter(t *testing.T) {
	e := start(t, vaulttest.Options{})
	c := e.client(t, nil)
	tok := e.s.MintToken(vaulttest.TokenSpec{TTL: time.Hour})
	e.s.Throttle(1, "7")
	_, err := c.LookupSelf(context.Background(), tok)
	d, ok := vault.RetryAfter(err, e.clock.Now())
	if !errors.Is(err, vault.ErrRateLimited) || vault.Classify(err) != tokenclient.Transient || !ok || d != 7*time.Second {
		t.Fatalf("429: %v (class %v), Retry-After %v %v; want ErrRateLimited, Transient, 7s", err, vault.Classify(err), d, ok)
	}
	if _, err := c.LookupSelf(context.Background(), tok); err != nil {
		t.Fatalf("after the quota: %v", err)
	}
}

// tlsServer is an httptest TLS server whose handler is h, and a client
// for it with the given read timeout.
func tlsServer(t *testing.T, h http.HandlerFunc, read time.Duration) (*httptest.Server, *vault.Client) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := vault.New(vault.Config{Address: srv.URL, CAFile: ca, ReadTimeout: read})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestHangingVaultIsBoundedByTheReadTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(w http.ResponseWriter)
	}{
		{"no answer", func(http.ResponseWriter) {}},
		{"stalled body", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"data": {"ttl": `)
			w.(http.Flusher).Flush()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			_, c := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
				tc.write(w)
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}, 300*time.Millisecond)
			t.Cleanup(func() { close(release) }) // runs before the server's Close
			_, err := c.LookupSelf(context.Background(), "hvs.hang")
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || vault.Classify(err) != tokenclient.Transient {
				t.Fatalf("hanging server: %v; want a transient timeout", err)
			}
		})
	}
}

func TestErrorBodiesAreScrubbedOfTokens(t *testing.T) {
	const (
		vt = "hvs.CAESIJ0aX7q2d3Vh4mN8pQ1rS6tU9vW0xY3zA5bC7dE9fG1h"
		rt = "rt-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG"
	)
	_, c := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg := fmt.Sprintf("2 errors occurred:\n\t* token %s is odd\n\t* refresh_token=%s\n\n", r.Header.Get("X-Vault-Token"), body["refresh_token"])
		json.NewEncoder(w).Encode(map[string]any{"errors": []string{msg, "plain \x1b[31mcolour"}})
	}, 0)
	err := c.StoreRefreshToken(context.Background(), vt, "secret/oauth/creds/x/y:z", "x", rt)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, bad := range []string{vt, rt, "\n", "\t", "\x1b", "errors occurred"} {
		if strings.Contains(msg, bad) {
			t.Fatalf("error %q contains %q", msg, bad)
		}
	}
	if want := "vault: POST secret/oauth/creds/x/y:z: token [redacted] is odd; refresh_token=[redacted]; plain [31mcolour (HTTP 400)"; msg != want {
		t.Fatalf("error = %q; want %q", msg, want)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	other := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	t.Cleanup(other.Close)
	_, c := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}, 0)
	_, err := c.LookupSelf(context.Background(), "hvs.secret")
	if vault.Classify(err) != tokenclient.Permanent || !strings.Contains(err.Error(), "not followed") {
		t.Fatalf("redirect: %v; want a Permanent error saying it was not followed", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Fatal("the redirect was followed with the Vault token")
	}
}

// stubResolver answers every name with the given addresses.
type stubResolver []net.IPAddr

func (r stubResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) { return r, nil }

// TestIPv4First: the name resolves to ::1 first and 127.0.0.1 second; on
// ::1 a listener accepts and never speaks TLS. Dialing ::1 first would
// end in a timeout; IPv4-first reaches the Vault on 127.0.0.1.
func TestIPv4First(t *testing.T) {
	e := start(t, vaulttest.Options{})
	port := e.s.URL[strings.LastIndexByte(e.s.URL, ':')+1:]
	l, err := net.Listen("tcp6", "[::1]:"+port)
	if err != nil {
		t.Skipf("no IPv6 loopback on port %s: %v", port, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, conn)
		}
	}()
	tok := e.s.MintToken(vaulttest.TokenSpec{TTL: time.Hour})
	c, err := vault.New(vault.Config{
		Address: "https://localhost:" + port, CAFile: e.s.CAFile, ReadTimeout: 2 * time.Second,
		Resolver: stubResolver{{IP: net.IPv6loopback}, {IP: net.IPv4(127, 0, 0, 1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupSelf(context.Background(), tok); err != nil {
		t.Fatalf("lookup through localhost with ::1 resolved first: %v", err)
	}
}

func TestParseAddressAndSplitURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"vault.example.org", "https://vault.example.org:8200"},
		{"https://vault.example.org", "https://vault.example.org:8200"},
		{"https://vault.example.org:8443/", "https://vault.example.org:8443"},
		{"[::1]", "https://[::1]:8200"},
		{"http://vault.example.org", ""},
		{"https://vault.example.org/v1", ""},
		{"https://user:pw@vault.example.org", ""},
		{"https://", ""},
	} {
		u, err := vault.ParseAddress(tc.in)
		got := ""
		if err == nil {
			got = u.String()
		} else if !vault.IsPermanent(err) {
			t.Errorf("ParseAddress(%q) error %v is not permanent", tc.in, err)
		}
		if got != tc.want {
			t.Errorf("ParseAddress(%q) = %q (%v); want %q", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, addr, path string }{
		{"https://vault.example.org:8200/v1/secret/oauth/creds/igwn/alice:default?x=1", "https://vault.example.org:8200", "secret/oauth/creds/igwn/alice:default"},
		{"https://vault.example.org/v1/secret/oauth/creds/igwn/alice:default", "", ""},
		{"https://vault.example.org:8200/secret/oauth/creds/igwn/alice:default", "", ""},
		{"http://vault.example.org:8200/v1/secret", "", ""},
		{"https://vault.example.org:8200/v1/../sys/seal", "", ""},
	} {
		addr, path, err := vault.SplitURL(tc.in)
		if addr != tc.addr || path != tc.path || (tc.addr == "") != (err != nil) {
			t.Errorf("SplitURL(%q) = %q, %q, %v; want %q, %q", tc.in, addr, path, err, tc.addr, tc.path)
		}
	}
}

// TestCondorRequestShape: a credd-stored vault_url read as
// condor_credmon_vault reads it: GET with X-Vault-Token, minimum_seconds,
// scopes, and audience on a creds path but audiences on an sts path.
func TestCondorRequestShape(t *testing.T) {
	type seen struct {
		method, path, token string
		query               map[string][]string
	}
	var (
		mu  sync.Mutex
		got []seen
	)
	_, c := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Get("X-Vault-Token"), r.URL.Query()})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"request_id":"x","data":{"access_token":"eyJ.a.b","type":"Bearer","expire_time":"2030-01-02T03:04:05Z"}}`)
	}, 0)
	req := vault.TokenRequest{MinLifetime: 2400 * time.Second, Scopes: []string{"storage.read:/a", "compute.read"}, Audiences: []string{"https://se.example.org"}}
	for _, kind := range []string{"creds", "sts"} {
		_, path, err := vault.SplitURL("https://vault.example.org:8200/v1/secret/oauth/" + kind + "/igwn/alice:default")
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Token(context.Background(), "hvs.stored", path, req)
		if err != nil || b.AccessToken != "eyJ.a.b" || !b.Expiry.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("%s: %+v %v", kind, b, err)
		}
	}
	audKey := map[string]string{"creds": "audience", "sts": "audiences"}
	mu.Lock()
	defer mu.Unlock()
	for i, kind := range []string{"creds", "sts"} {
		g := got[i]
		want := map[string][]string{"minimum_seconds": {"2400"}, "scopes": {"storage.read:/a,compute.read"}, audKey[kind]: {"https://se.example.org"}}
		if g.method != http.MethodGet || g.path != "/v1/secret/oauth/"+kind+"/igwn/alice:default" || g.token != "hvs.stored" || fmt.Sprint(g.query) != fmt.Sprint(want) {
			t.Errorf("%s request = %+v; want GET with X-Vault-Token and query %v", kind, g, want)
		}
	}
}

func TestClassesOfVaultAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		path   string
		want   tokenclient.Class
	}{
		{"sealed or down", http.StatusServiceUnavailable, `{"errors":["Vault is sealed"]}`, "auth/token/lookup-self", tokenclient.Transient},
		{"internal error", http.StatusInternalServerError, `{"errors":["1 error occurred:\n\t* oops\n\n"]}`, "auth/token/lookup-self", tokenclient.Transient},
		{"standby not caught up", http.StatusPreconditionFailed, `{"errors":[]}`, "auth/token/lookup-self", tokenclient.Transient},
		{"bad request", http.StatusBadRequest, `{"errors":["missing client token"]}`, "auth/token/lookup-self", tokenclient.Permanent},
		{"token expired (minimum_seconds too long)", http.StatusBadRequest, `{"errors":["token expired"]}`, "secret/oauth/creds/i/a:r", tokenclient.Permanent},
		{"no route", http.StatusNotFound, `{"errors":["no handler for route"]}`, "auth/token/lookup-self", tokenclient.Permanent},
		{"no credential", http.StatusNotFound, `{"errors":[]}`, "secret/oauth/creds/i/a:r", tokenclient.NeedsLogin},
		{"not JSON on 200", http.StatusOK, `<html>proxy</html>`, "secret/oauth/creds/i/a:r", tokenclient.Transient},
		{"no access token on 200", http.StatusOK, `{"data":{}}`, "secret/oauth/creds/i/a:r", tokenclient.Transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}, 0)
			var err error
			if strings.HasPrefix(tc.path, "secret/") {
				_, err = c.Token(context.Background(), "hvs.t", tc.path, vault.TokenRequest{})
			} else {
				_, err = c.LookupSelf(context.Background(), "hvs.t")
			}
			if err == nil || vault.Classify(err) != tc.want || errors.Is(err, vault.ErrPermissionDenied) {
				t.Fatalf("HTTP %d %s: %v (class %v); want %v", tc.status, tc.body, err, vault.Classify(err), tc.want)
			}
		})
	}
}

// TestCAFileAndDirectory: the server's CA is trusted from a file or from
// a directory among files that are not certificates, and not otherwise.
func TestCAFileAndDirectory(t *testing.T) {
	e := start(t, vaulttest.Options{})
	tok := e.s.MintToken(vaulttest.TokenSpec{TTL: time.Hour})
	dir := t.TempDir()
	for name, content := range map[string][]byte{"5f1a2b3c.0": e.s.CertPEM, "5f1a2b3c.signing_policy": []byte("access_id_CA X509 '/CN=x'\n"), "README": []byte("not a cert")} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	if _, err := vault.New(vault.Config{Address: e.s.Address, CAPath: empty}); !vault.IsPermanent(err) {
		t.Fatalf("a CA directory without certificates: %v; want a permanent error", err)
	}
	for _, cfg := range []vault.Config{
		{Address: e.s.Address, CAFile: e.s.CAFile},
		{Address: e.s.Address, CAPath: dir},
		{Address: e.s.Address, CAFile: e.s.CAFile, CAPath: dir},
	} {
		c, err := vault.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.LookupSelf(context.Background(), tok); err != nil {
			t.Errorf("with CAFile %q CAPath %q: %v", cfg.CAFile, cfg.CAPath, err)
		}
	}
	other := httptest.NewTLSServer(http.NotFoundHandler()) // a CA that is not the server's
	other.Close()
	otherCA := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := vault.New(vault.Config{Address: e.s.Address, CAFile: otherCA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupSelf(context.Background(), tok); err == nil || strings.Contains(err.Error(), tok) {
		t.Fatalf("trusting another CA: %v; want a certificate error without the token", err)
	}
}

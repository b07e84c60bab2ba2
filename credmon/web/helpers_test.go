package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/web"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
)

// fixture is a credential directory, the app serving it on a loopback
// port (as http://localhost:<port>, another site than the IdP's
// 127.0.0.1, so SameSite rules apply as in production), and its log.
type fixture struct {
	t       testing.TB
	credDir string
	srv     *web.Server
	ts      *httptest.Server
	base    string // http://localhost:<port>
	logs    *oidcprovider.Buffer
	idp     *oidcprovider.Provider
}

type fixtureOptions struct {
	idp    bool
	config func(*web.Config)
	// wrap, if set, wraps the app's handler (the benchmark's timer).
	wrap func(http.Handler) http.Handler
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{t: t, logs: &oidcprovider.Buffer{}}
	root := t.TempDir()
	f.credDir = filepath.Join(root, "oauth_credentials")
	if err := os.Mkdir(f.credDir, 0o2770); err != nil {
		t.Fatal(err)
	}
	if o.idp {
		f.idp = oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{AccessTokenTTL: 60 * time.Second})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.base = "http://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	cfg := web.Config{
		CredDir: f.credDir, Prefix: f.base, AllowInsecure: true,
		Logf: func(format string, args ...any) { fmt.Fprintf(f.logs, format+"\n", args...) },
	}
	if o.config != nil {
		o.config(&cfg)
	}
	f.srv, err = web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = f.srv
	if o.wrap != nil {
		h = o.wrap(f.srv)
	}
	f.ts = httptest.NewUnstartedServer(h)
	f.ts.Listener.Close()
	f.ts.Listener = ln
	f.ts.Start()
	t.Cleanup(f.ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("web app log:\n%s", f.logs.String())
		}
	})
	return f
}

// ad is one service of a key file, as credd's check_creds_continue writes
// it (sPrintAdWithSecrets, spec §3.5).
type ad struct {
	Provider, Handle, LocalUser, Scopes, Audience string
	ClientID, ClientSecret                        string
	ReturnURL, AuthorizationURL, TokenURL         string
}

func (a ad) String() string {
	var b strings.Builder
	for _, kv := range [][2]string{{"Provider", a.Provider}, {"Handle", a.Handle}, {"LocalUser", a.LocalUser},
		{"Scopes", a.Scopes}, {"Audience", a.Audience}, {"ClientId", a.ClientID}, {"ClientSecret", a.ClientSecret},
		{"ReturnUrl", a.ReturnURL}, {"AuthorizationUrl", a.AuthorizationURL}, {"TokenUrl", a.TokenURL}} {
		fmt.Fprintf(&b, "%s = %q\n", kv[0], kv[1])
	}
	return b.String()
}

// writeKeyFile writes a key file as credd does (0640) and returns the key.
func (f *fixture) writeKeyFile(ads ...ad) string {
	f.t.Helper()
	var parts []string
	for _, a := range ads {
		parts = append(parts, a.String())
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := hex.EncodeToString(b)
	if err := os.WriteFile(filepath.Join(f.credDir, key), []byte(strings.Join(parts, "\n")), 0o640); err != nil {
		f.t.Fatal(err)
	}
	return key
}

// client registers an OAuth2 client at the IdP for service svc, whose
// redirect URI is the app's /return/<svc>, and returns the ad credd would
// write for it.
func (f *fixture) client(svc, user, scopes, audience string) ad {
	f.t.Helper()
	ret := f.base + "/return/" + svc
	c := &tokenclient.Client{AllowInsecure: true}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg, err := c.Register(ctx, f.idp.RegistrationURL, tokenclient.RegistrationRequest{
		ClientName: "credmon-web test " + svc, GrantTypes: []string{"authorization_code", "refresh_token"},
		RedirectURIs: []string{ret}, TokenEndpointAuthMethod: "client_secret_post", ApplicationType: "web",
	})
	if err != nil {
		f.t.Fatalf("registering a client: %v", err)
	}
	return ad{Provider: svc, LocalUser: user, Scopes: scopes, Audience: audience,
		ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, ReturnURL: ret,
		AuthorizationURL: f.idp.Issuer + "/auth", TokenURL: f.idp.TokenURL}
}

func (f *fixture) keyExists(key string) bool {
	_, err := os.Stat(filepath.Join(f.credDir, key))
	return err == nil
}

func (f *fixture) path(user, file string) string { return filepath.Join(f.credDir, user, file) }

// get fetches path from the app without following redirects.
func (f *fixture) get(path string, hdr ...string) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// csrfOf returns the CSRF token of the session page, failing without one.
func csrfOf(t testing.TB, page string) string {
	t.Helper()
	const field = `name="csrf" value="`
	i := strings.Index(page, field)
	if i < 0 {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	csrf, _, _ := strings.Cut(page[i+len(field):], `"`)
	return csrf
}

// postLogin presses service's button as a browser's form would: form
// posted to /login/<service>, with the session cookie c unless nil. The
// redirect is not followed.
func (f *fixture) postLogin(service string, form url.Values, c *http.Cookie) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/login/"+service, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		req.AddCookie(c)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

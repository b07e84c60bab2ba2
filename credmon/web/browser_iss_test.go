package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/web"
	"github.com/credmon/credmon/internal/browsertest"
)

// attackerIssuer is the iss of a mix-up attack's answer: another
// authorization server's.
const attackerIssuer = "https://idp.attacker.example"

// issTamper sits between the browser and the app and changes the iss of
// the IdP's answers on /return/ as mode says ("": as sent, "forge":
// attackerIssuer, "drop": none), recording what the IdP sent.
type issTamper struct {
	mu   sync.Mutex
	mode string
	sent [][]string // the iss values of each answer, before tampering
}

func (m *issTamper) set(mode string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mode, m.sent = mode, nil
}

func (m *issTamper) lastSent() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		return nil
	}
	return m.sent[len(m.sent)-1]
}

func (m *issTamper) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/return/") {
			h.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		m.mu.Lock()
		m.sent = append(m.sent, q["iss"])
		switch m.mode {
		case "forge":
			q.Set("iss", attackerIssuer)
		case "drop":
			q.Del("iss")
		}
		m.mu.Unlock()
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = q.Encode()
		h.ServeHTTP(w, r2)
	})
}

// tokenCounter counts the app's requests to a token endpoint: a refused
// answer must not cost one.
type tokenCounter struct {
	mu       sync.Mutex
	tokenURL string
	n        int
}

func (c *tokenCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.RawQuery = ""
	c.mu.Lock()
	if u.String() == c.tokenURL {
		c.n++
	}
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *tokenCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// issFixture is a fixture whose service "webidp" is configured with
// <SVC>_ISSUER only (the key file carries no endpoints, as credd writes it
// then: discovery finds them, and the issuer the answer must name), and
// whose "plainidp" has the endpoints in the key file and no issuer.
func issFixture(t *testing.T) (*fixture, *issTamper, *tokenCounter) {
	tamper := &issTamper{}
	tokens := &tokenCounter{}
	var f *fixture
	f = newFixture(t, fixtureOptions{idp: true, wrap: tamper.wrap, config: func(c *web.Config) {
		c.HTTPClient = &http.Client{Transport: tokens}
		c.Provider = func(svc string) (*web.ProviderConfig, error) {
			if svc != "webidp" {
				return nil, nil
			}
			return &web.ProviderConfig{Issuer: f.idp.Issuer, AuthStyle: oauth2.AuthStyleInParams}, nil
		}
	}})
	tokens.tokenURL = f.idp.TokenURL
	return f, tamper, tokens
}

func noFiles(t *testing.T, f *fixture, name string) {
	t.Helper()
	for _, suf := range []string{".top", ".use", ".meta"} {
		if _, err := os.Lstat(f.path(testUser, name+suf)); err == nil {
			t.Errorf("%s%s was written for a refused answer", name, suf)
		}
	}
}

// TestBrowserIssuerIdentification: RFC 9207. The IdP (oidc-provider)
// advertises authorization_response_iss_parameter_supported and sends iss;
// an answer naming another issuer, or none, is refused before any token
// request, with nothing written and the link still usable; the real answer
// logs in; a service configured without an issuer accepts an answer
// without iss.
func TestBrowserIssuerIdentification(t *testing.T) {
	b := browsertest.New(t)
	f, tamper, tokens := issFixture(t)
	webidp := f.client("webidp", testUser, testScopes, testAud)
	webidp.AuthorizationURL, webidp.TokenURL = "", ""
	plain := f.client("plainidp", testUser, "openid,offline_access,compute.read", "")
	key := f.writeKeyFile(webidp, plain)

	login := func(service string) browsertest.Page {
		t.Helper()
		pages := b.Run(t, steps(
			one(browsertest.Step{Goto: f.base + "/key/" + key}),
			one(browsertest.Step{Click: "role=button[name='Log in to " + service + "']"}),
			loginAtIdP("alice"),
		)...)
		nav := navigations(pages)
		return nav[len(nav)-1]
	}

	for _, tc := range []struct{ mode, log string }{
		{"forge", `iss "` + attackerIssuer + `" is not ` + f.idp.Issuer},
		{"drop", "has no iss, which issuer " + f.idp.Issuer + "'s metadata says it always sends"},
	} {
		tamper.set(tc.mode)
		p := login("webidp")
		if sent := tamper.lastSent(); !slices.Equal(sent, []string{f.idp.Issuer}) {
			t.Fatalf("%s: the IdP sent iss %q; want [%s] (is RFC 9207 on at the test IdP?)", tc.mode, sent, f.idp.Issuer)
		}
		wantPage(t, p, 400, "does not belong to your login", "Nothing was stored", "press the service's button again")
		if strings.Contains(p.Text, attackerIssuer) {
			t.Errorf("%s: the page quotes the forged iss", tc.mode)
		}
		if n := tokens.count(); n != 0 {
			t.Errorf("%s: %d token requests for a refused answer; want none", tc.mode, n)
		}
		noFiles(t, f, "webidp")
		if !f.keyExists(key) {
			t.Fatalf("%s: a refused answer removed the key file", tc.mode)
		}
		if !strings.Contains(f.logs.String(), tc.log) {
			t.Errorf("%s: the log does not say %q:\n%s", tc.mode, tc.log, f.logs.String())
		}
		if t.Failed() {
			return // the service may be done: the next login has no button
		}
	}

	// The IdP's own answer, iss as sent: one token request, the files.
	tamper.set("")
	wantPage(t, login("webidp"), 200, "Log in to your services", "1 of 2 still to do")
	if n := tokens.count(); n != 1 {
		t.Errorf("%d token requests for one login; want 1", n)
	}
	meta, _ := readJSON(t, f.path(testUser, "webidp.meta"))
	if meta["token_url"] != f.idp.TokenURL {
		t.Errorf(".meta token_url = %v; want the discovered %s", meta["token_url"], f.idp.TokenURL)
	}
	use, _ := readJSON(t, f.path(testUser, "webidp.use"))
	checkTokenFor(t, "webidp token", f.idp.VerifyAccessToken(t, use["access_token"].(string)))

	// No issuer configured, endpoints given: nothing to compare iss with,
	// and an answer without it is what a pre-RFC 9207 server sends.
	tamper.set("drop")
	wantPage(t, login("plainidp"), 200, "All done", "webidp", "plainidp")
	if _, err := os.Stat(f.path(testUser, "plainidp.top")); err != nil {
		t.Error(err)
	}
	if f.keyExists(key) {
		t.Error("the key file is still there after both services were done")
	}
}

// startLogin presses a service's button of an open session (HTTP, no
// browser) and returns the state of the authorization request it sent
// the browser to.
func startLogin(t *testing.T, f *fixture, c *http.Cookie, service string) string {
	t.Helper()
	resp := f.postLogin(service, url.Values{"csrf": {csrfOf(t, body(t, f.get("/", "Cookie", c.String())))}}, c)
	u, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || u.Query().Get("state") == "" {
		t.Fatalf("login %s: %d to %q", service, resp.StatusCode, resp.Header.Get("Location"))
	}
	return u.Query().Get("state")
}

// TestReturnIssChecks: the answers a browser test cannot make the IdP
// send. An error answer is believed only from the issuer the login went
// to (RFC 9207 §2.4: an error answer may come from the attacker's
// server); iss is compared exactly, so a trailing slash, another case or
// two values are refused; and each refusal uses the state up.
func TestReturnIssChecks(t *testing.T) {
	f, _, tokens := issFixture(t)
	a := f.client("webidp", testUser, testScopes, testAud)
	a.AuthorizationURL, a.TokenURL = "", ""
	key := f.writeKeyFile(a)
	c := visit(t, f, key)
	ret := func(q url.Values) (int, string) {
		r := f.get("/return/webidp?"+q.Encode(), "Cookie", c.String())
		return r.StatusCode, body(t, r)
	}

	for _, iss := range [][]string{{attackerIssuer}, {f.idp.Issuer + "/"}, {strings.ToUpper(f.idp.Issuer)}, {""},
		{f.idp.Issuer, attackerIssuer}, {f.idp.Issuer, f.idp.Issuer}, nil} {
		state := startLogin(t, f, c, "webidp")
		q := url.Values{"state": {state}, "error": {"access_denied"}}
		if iss != nil {
			q["iss"] = iss
		}
		if status, page := ret(q); status != http.StatusBadRequest || !strings.Contains(page, "does not belong to your login") {
			t.Errorf("error answer with iss %q: %d; want 400, the answer refused:\n%s", iss, status, page)
		}
		q = url.Values{"state": {state}, "code": {"a-code"}, "iss": {f.idp.Issuer}}
		if status, _ := ret(q); status != http.StatusBadRequest {
			t.Errorf("the state of a refused answer (iss %q) was good again: %d", iss, status)
		}
	}
	if strings.Contains(f.logs.String(), "refused: access_denied") {
		t.Errorf("an error answer from the wrong issuer was believed:\n%s", f.logs.String())
	}

	// From the right issuer, the error answer is the IdP's refusal.
	state := startLogin(t, f, c, "webidp")
	if status, page := ret(url.Values{"state": {state}, "error": {"access_denied"}, "iss": {f.idp.Issuer}}); status != http.StatusForbidden ||
		!strings.Contains(page, "refused the login") {
		t.Errorf("error answer from the issuer: %d; want 403 refused:\n%s", status, page)
	}
	// The issuer is the one the request went to, recorded with it: an
	// answer from another is refused as such even once the key file (and
	// with it the service's configuration) is gone.
	state = startLogin(t, f, c, "webidp")
	if err := os.Remove(filepath.Join(f.credDir, key)); err != nil {
		t.Fatal(err)
	}
	if status, page := ret(url.Values{"state": {state}, "error": {"access_denied"}, "iss": {attackerIssuer}}); status != http.StatusBadRequest ||
		!strings.Contains(page, "does not belong to your login") {
		t.Errorf("answer from another issuer after the key file went: %d; want 400, the answer refused:\n%s", status, page)
	}
	if n := tokens.count(); n != 0 {
		t.Errorf("%d token requests; want none", n)
	}
	noFiles(t, f, "webidp")
}

package web_test

import (
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest/daemontest"
	"github.com/credmon/credmon/credmon/web"
	"github.com/credmon/credmon/internal/browsertest"
)

// EnvScreenshots names a directory to save a PNG of every page the browser
// tests see (docs/ holds the committed ones: make web-screenshots).
const EnvScreenshots = "CREDMON_WEB_SCREENSHOTS"

const (
	testUser = "alice"
	testAud  = "https://storage.example.org"
	// Scopes as a submit file writes them (comma separated, spaces
	// allowed; .top records them without spaces).
	testScopes = "openid, offline_access, storage.read:/home/alice, compute.read"
)

// shot returns a screenshot step when CREDMON_WEB_SCREENSHOTS is set.
func shot(name string) []browsertest.Step {
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		// Relative to the repository root, where make runs.
		_, src, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(src), "..", "..", dir)
	}
	return []browsertest.Step{{Screenshot: filepath.Join(dir, "credmon-web-"+name+".png")}}
}

func steps(parts ...[]browsertest.Step) []browsertest.Step {
	var out []browsertest.Step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(s browsertest.Step) []browsertest.Step { return []browsertest.Step{s} }

// loginAtIdP is what a user does at the test IdP: its login form, then its
// consent page (the app asks for offline_access, so prompt=consent).
func loginAtIdP(login string) []browsertest.Step {
	return steps(
		one(browsertest.Step{Fill: "input[name=login]", Value: login}),
		one(browsertest.Step{Fill: "input[name=password]", Value: "any"}),
		shot("idp-login"),
		one(browsertest.Step{Click: "button:has-text('Sign-in')"}),
		consentAtIdP(),
	)
}

func consentAtIdP() []browsertest.Step {
	return one(browsertest.Step{Click: "button:has-text('Continue')"})
}

// navigations keeps the results of the steps that load a page (goto,
// click), whatever screenshots were taken in between.
func navigations(pages []browsertest.Page) []browsertest.Page {
	var out []browsertest.Page
	for _, p := range pages {
		if p.URL != "" {
			out = append(out, p)
		}
	}
	return out
}

func wantPage(t *testing.T, p browsertest.Page, status int, title string, text ...string) {
	t.Helper()
	if p.Status != status || !strings.Contains(p.Title, title) {
		t.Errorf("page %s: status %d, title %q; want %d, %q\n%s", p.URL, p.Status, p.Title, status, title, p.Text)
	}
	for _, s := range text {
		if !strings.Contains(p.Text, s) {
			t.Errorf("page %s lacks %q:\n%s", p.URL, s, p.Text)
		}
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func readJSON(t *testing.T, path string) (map[string]any, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v: %q", path, err, b)
	}
	if strings.Contains(string(b), "\n") {
		t.Errorf("%s is not one line: %q", path, b)
	}
	return m, b
}

// jwtClaims decodes a JWT's payload (the IdP's signature is checked by
// VerifyAccessToken where it matters).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func checkTokenFor(t *testing.T, what string, claims map[string]any) {
	t.Helper()
	aud := claims["aud"]
	if aud != testAud && !(func() bool { l, ok := aud.([]any); return ok && slices.Contains(l, any(testAud)) })() {
		t.Errorf("%s: aud = %v; want %s", what, aud, testAud)
	}
	sc, _ := claims["scope"].(string)
	for _, s := range []string{"storage.read:/home/alice", "compute.read"} {
		if !slices.Contains(strings.Fields(sc), s) {
			t.Errorf("%s: scope %q lacks %s", what, sc, s)
		}
	}
}

// TestBrowserLoginThenDaemonRefreshes is the whole path: credd's key file,
// the URL in a real browser, login and consent at the real IdP, the three
// files as the spec says, the key file gone, the used link refused, and
// the credmon daemon refreshing the token with the requested audience and
// scopes.
func TestBrowserLoginThenDaemonRefreshes(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, fixtureOptions{idp: true})
	a := f.client("webidp", testUser, testScopes, testAud)
	key := f.writeKeyFile(a)

	pages := b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		shot("services"),
		one(browsertest.Step{Cookies: true}),
		one(browsertest.Step{Click: "role=button[name='Log in to webidp']"}),
		loginAtIdP("alice"),
		shot("done"),
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		shot("used-key"),
	)...)
	wantPage(t, pages[0], 200, "Log in to your services", "webidp", "1 of 1 still to do", "storage.read:/home/alice", testAud)
	if strings.Contains(pages[0].URL, key) {
		t.Errorf("the key stays in the address bar: %s", pages[0].URL)
	}
	var cookies []browsertest.Cookie
	for _, p := range pages {
		if p.Cookies != nil {
			cookies = p.Cookies
		}
	}
	found := false
	for _, c := range cookies {
		if c.Name == "credmon_web" {
			found = true
			if !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" {
				t.Errorf("session cookie %+v: want HttpOnly, Secure, SameSite=Lax", c)
			}
			if strings.Contains(c.Value, key) {
				t.Error("the session cookie carries the key")
			}
		}
	}
	if !found {
		t.Errorf("no session cookie among %+v", cookies)
	}
	nav := navigations(pages)
	done := nav[len(nav)-2]
	wantPage(t, done, 200, "All done", "Every service is logged in", "webidp")
	wantPage(t, nav[len(nav)-1], 404, "not valid", "run condor_submit again")
	if f.keyExists(key) {
		t.Error("the key file is still there after every service was done")
	}

	// The files (spec §3.1–3.3): 0400, owned by the app's user, one line.
	for _, suf := range []string{".top", ".use", ".meta"} {
		if m := mode(t, f.path(testUser, "webidp"+suf)); m != 0o400 {
			t.Errorf("webidp%s mode %v; want -r--------", suf, m)
		}
	}
	top, topRaw := readJSON(t, f.path(testUser, "webidp.top"))
	if top["scopes"] != strings.ReplaceAll(testScopes, " ", "") || top["audience"] != testAud {
		t.Errorf(".top = %s; want scopes and audience without spaces", topRaw)
	}
	rt, _ := top["refresh_token"].(string)
	if rt == "" {
		t.Fatalf(".top has no refresh token: %s", topRaw)
	}
	if !strings.HasPrefix(string(topRaw), `{"refresh_token": "`) {
		t.Errorf(".top is not in the Python app's json.dump spelling: %s", topRaw)
	}
	meta, _ := readJSON(t, f.path(testUser, "webidp.meta"))
	if meta["client_id"] != a.ClientID || meta["client_secret"] != a.ClientSecret || meta["token_url"] != a.TokenURL || meta["use_refresh_token"] != true {
		t.Errorf(".meta = %v", meta)
	}
	use, _ := readJSON(t, f.path(testUser, "webidp.use"))
	if _, ok := use["refresh_token"]; ok {
		t.Error(".use carries the refresh token")
	}
	if _, ok := use["scope"].([]any); !ok {
		t.Errorf(".use scope = %T; want a list (oauthlib's shape)", use["scope"])
	}
	at1, _ := use["access_token"].(string)
	checkTokenFor(t, "first token", f.idp.VerifyAccessToken(t, at1))

	// The daemon takes over: the 60 s token is shorter than
	// SEC_CREDENTIAL_REFRESH + margin, so it is refreshed at once.
	logs := runDaemon(t, f, func() bool {
		top2, _ := readJSON(t, f.path(testUser, "webidp.top"))
		return top2["refresh_token"] != rt
	})
	top2, top2Raw := readJSON(t, f.path(testUser, "webidp.top"))
	if top2["scopes"] != top["scopes"] || top2["audience"] != top["audience"] {
		t.Errorf("the daemon's .top lost scopes or audience: %s", top2Raw)
	}
	use2, _ := readJSON(t, f.path(testUser, "webidp.use"))
	at2, _ := use2["access_token"].(string)
	if at2 == at1 {
		t.Error("the daemon did not write a new access token")
	}
	checkTokenFor(t, "refreshed token", jwtClaims(t, at2))
	checkTokenFor(t, "refreshed token (verified)", f.idp.VerifyAccessToken(t, at2))

	for _, secret := range []string{key, rt, at1, a.ClientSecret, top2["refresh_token"].(string), at2} {
		if strings.Contains(f.logs.String(), secret) || strings.Contains(logs, secret) {
			t.Errorf("a secret (%.6s…) is in a log", secret)
		}
		for _, p := range pages {
			if strings.Contains(p.Text, secret) || strings.Contains(p.URL, secret) && p.URL != f.base+"/key/"+key {
				t.Errorf("a secret (%.6s…) is on page %s", secret, p.URL)
			}
		}
	}
}

// runDaemon runs the credmon daemon in-process on the fixture's directory
// until cond holds, and returns its log.
func runDaemon(t *testing.T, f *fixture, cond func() bool) string {
	t.Helper()
	d := daemontest.Start(t, daemontest.Options{CredDir: f.credDir, Config: "CREDMON_OAUTH_MIN_REFRESH_INTERVAL = 1\n" +
		"CREDMON_OAUTH_MIN_BACKOFF = 1\nCREDMON_OAUTH_MAX_BACKOFF = 2\n" +
		// A web-app provider: .meta carries the client; CLIENT_ID names
		// the provider as OAuth2.
		"WEBIDP_CLIENT_ID = from-meta\nOTHERIDP_CLIENT_ID = from-meta\n"})
	daemontest.WaitFor(t, "the daemon to refresh the token", cond)
	d.Stop()
	return d.Log.String()
}

// TestBrowserTwoServicesOneKey: one key file, two services; the page
// counts down, the key file stays until the second is done.
func TestBrowserTwoServicesOneKey(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, fixtureOptions{idp: true})
	a1 := f.client("webidp", testUser, testScopes, testAud)
	a2 := f.client("otheridp", testUser, "openid,offline_access,compute.read", "")
	key := f.writeKeyFile(a1, a2)

	pages := b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		one(browsertest.Step{Click: "role=button[name='Log in to otheridp']"}),
		loginAtIdP("alice"),
		shot("one-of-two"),
	)...)
	nav := navigations(pages)
	last := nav[len(nav)-1]
	wantPage(t, last, 200, "Log in to your services", "1 of 2 still to do", "Done: a credential is stored.")
	if !f.keyExists(key) {
		t.Fatal("the key file was removed with a service still to do")
	}
	if _, err := os.Stat(f.path(testUser, "otheridp.top")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.path(testUser, "webidp.top")); err == nil {
		t.Fatal("webidp.top written before its login")
	}
	top, raw := readJSON(t, f.path(testUser, "otheridp.top"))
	if _, ok := top["audience"]; ok || top["scopes"] != "openid,offline_access,compute.read" {
		t.Errorf("otheridp.top = %s; want scopes and no audience (none requested)", raw)
	}

	// A second browser session on the same key does the other service
	// (the IdP session is new too: login and consent again).
	pages = b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		one(browsertest.Step{Click: "role=button[name='Log in to webidp']"}),
		loginAtIdP("alice"),
	)...)
	wantPage(t, pages[len(pages)-1], 200, "All done", "webidp", "otheridp")
	if f.keyExists(key) {
		t.Error("the key file is still there after both services were done")
	}
	use, _ := readJSON(t, f.path(testUser, "webidp.use"))
	checkTokenFor(t, "webidp token", f.idp.VerifyAccessToken(t, use["access_token"].(string)))
}

// TestBrowserForgedState: an answer whose state this session did not
// issue, or that comes to a browser without a session, stores nothing.
func TestBrowserForgedState(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, fixtureOptions{idp: true})
	key := f.writeKeyFile(f.client("webidp", testUser, testScopes, testAud))

	pages := b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		// An attacker's link carrying their own code and a made-up state.
		one(browsertest.Step{Goto: f.base + "/return/webidp?code=attackers-code&state=forged-state"}),
		shot("state-mismatch"),
		// No session at all (cookies gone).
		one(browsertest.Step{NewContext: true}),
		one(browsertest.Step{Goto: f.base + "/return/webidp?code=attackers-code&state=forged-state"}),
		shot("no-session"),
	)...)
	nav := navigations(pages)
	wantPage(t, nav[1], 400, "does not belong to your login", "Nothing was stored", "press the service's button again")
	wantPage(t, nav[2], 400, "session has ended", "Open the link condor_submit printed again")
	for _, p := range pages {
		if strings.Contains(p.Text, "forged-state") || strings.Contains(p.Text, "attackers-code") {
			t.Errorf("page %s echoes the request", p.URL)
		}
	}
	if _, err := os.Stat(filepath.Join(f.credDir, testUser)); err == nil {
		t.Error("a forged answer made the user directory")
	}
	if !f.keyExists(key) {
		t.Error("a forged answer removed the key file")
	}
	// A real state, replayed: the first answer uses it up.
	pages = b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		one(browsertest.Step{Click: "role=button[name='Log in to webidp']"}),
		loginAtIdP("alice"),
	)...)
	wantPage(t, pages[len(pages)-1], 200, "All done")
}

// TestBrowserDeniedConsent: the user cancels at the IdP; the IdP sends
// access_denied back, the page says so, nothing is stored, and the link
// still works for another try.
func TestBrowserDeniedConsent(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, fixtureOptions{idp: true})
	key := f.writeKeyFile(f.client("webidp", testUser, testScopes, testAud))

	pages := b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		one(browsertest.Step{Click: "role=button[name='Log in to webidp']"}),
		one(browsertest.Step{Fill: "input[name=login]", Value: "alice"}),
		one(browsertest.Step{Fill: "input[name=password]", Value: "any"}),
		one(browsertest.Step{Click: "button:has-text('Sign-in')"}),
		// The consent page's "[ Cancel ]".
		one(browsertest.Step{Click: "a:has-text('Cancel')"}),
		shot("refused"),
	)...)
	nav := navigations(pages)
	wantPage(t, nav[len(nav)-1], 403, "refused the login", "No credential was stored", "Open the link condor_submit printed again")
	if _, err := os.Stat(f.path(testUser, "webidp.top")); err == nil {
		t.Error("a refused login stored a .top")
	}
	if !f.keyExists(key) {
		t.Error("a refused login removed the key file")
	}
	if !strings.Contains(f.logs.String(), "refused: access_denied") {
		t.Errorf("the log does not say the IdP refused:\n%s", f.logs.String())
	}
}

// TestBrowserUnknownAndExpiredKey: the error pages for a key that never
// was, and for one older than 12 hours.
func TestBrowserUnknownAndExpiredKey(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, fixtureOptions{config: func(c *web.Config) {
		c.Now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	}})
	key := f.writeKeyFile(ad{Provider: "webidp", LocalUser: testUser, ClientID: "c", ReturnURL: f.base + "/return/webidp",
		AuthorizationURL: "https://idp.example/auth", TokenURL: "https://idp.example/token"})
	pages := b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		shot("expired-key"),
		one(browsertest.Step{Goto: f.base + "/key/" + strings.Repeat("0", 64)}),
		shot("unknown-key"),
	)...)
	nav := navigations(pages)
	wantPage(t, nav[0], 410, "expired", "Run condor_submit again")
	wantPage(t, nav[1], 404, "not valid", "run condor_submit again")
}

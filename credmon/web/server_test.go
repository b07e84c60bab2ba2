package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/web"
)

func testAd(f *fixture) ad {
	return ad{Provider: "box", LocalUser: "alice", Scopes: "read, write", Audience: "https://a.example",
		ClientID: "cid", ClientSecret: `s3cr"et\x`, ReturnURL: f.base + "/return/box",
		AuthorizationURL: "https://idp.example/authorize?tenant=1", TokenURL: "https://idp.example/token"}
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// visit opens a key and returns the session cookie.
func visit(t *testing.T, f *fixture, key string) *http.Cookie {
	t.Helper()
	r := f.get("/key/" + key)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("/key: %d to %q; want 303 to /", r.StatusCode, r.Header.Get("Location"))
	}
	for _, c := range r.Cookies() {
		if c.Name == "credmon_web" {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie %v: want Secure, HttpOnly, SameSite=Lax", c)
			}
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestPageHeadersAndCSRF(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	key := f.writeKeyFile(testAd(f))
	c := visit(t, f, key)
	r := f.get("/", "Cookie", c.String())
	page := body(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("/: %d\n%s", r.StatusCode, page)
	}
	for h, want := range map[string]string{"Content-Security-Policy": "default-src 'none'", "Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if !strings.Contains(r.Header.Get(h), want) {
			t.Errorf("%s = %q; want %q", h, r.Header.Get(h), want)
		}
	}
	if strings.Contains(page, key) || strings.Contains(page, "s3cr") || strings.Contains(page, "<script") {
		t.Errorf("the page shows the key, the secret, or a script:\n%s", page)
	}
	if !strings.Contains(page, `lang="en"`) || !strings.Contains(page, `name="csrf"`) {
		t.Errorf("page lacks lang or the CSRF field:\n%s", page)
	}

	post := func(form url.Values, cookie bool) *http.Response {
		if cookie {
			return f.postLogin("box", form, c)
		}
		return f.postLogin("box", form, nil)
	}
	if r := post(url.Values{"csrf": {"wrong"}}, true); r.StatusCode != http.StatusForbidden {
		t.Errorf("wrong CSRF token: %d; want 403", r.StatusCode)
	}
	if r := post(url.Values{}, false); r.StatusCode != http.StatusBadRequest {
		t.Errorf("no session: %d; want 400", r.StatusCode)
	}
	r = post(url.Values{"csrf": {csrfOf(t, page)}}, true)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d; want 303", r.StatusCode)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "idp.example" || q.Get("tenant") != "1" || q.Get("response_type") != "code" || q.Get("client_id") != "cid" ||
		q.Get("redirect_uri") != f.base+"/return/box" || q.Get("scope") != "read write" || q.Get("resource") != "https://a.example" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 43 {
		t.Errorf("authorization URL %s", u)
	}
	if strings.Contains(u.String(), "s3cr") || strings.Contains(u.String(), key) {
		t.Error("the authorization URL carries the secret or the key")
	}
	if q.Get("prompt") != "" {
		t.Errorf("prompt = %q without offline_access", q.Get("prompt"))
	}

	// GET /login is not a way in (state-changing requests are POSTs).
	if r := f.get("/login/box", "Cookie", c.String()); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /login: %d; want 405", r.StatusCode)
	}
	if strings.Contains(f.logs.String(), key) || strings.Contains(f.logs.String(), "s3cr") || strings.Contains(f.logs.String(), q.Get("state")) {
		t.Errorf("the log has the key, the secret or the state:\n%s", f.logs.String())
	}
}

func TestReturnWithoutStateOrWithError(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := visit(t, f, f.writeKeyFile(testAd(f)))
	for _, q := range []string{"", "?state=x&code=y", "?error=access_denied&state=x"} {
		r := f.get("/return/box"+q, "Cookie", c.String())
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, r), "does not belong") {
			t.Errorf("/return/box%s: %d; want 400 state mismatch", q, r.StatusCode)
		}
	}
}

func TestKeyErrors(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, k := range []string{"abc", strings.Repeat("A", 64), strings.Repeat("0", 64), strings.Repeat("0", 63) + "/"} {
		if r := f.get("/key/" + k); r.StatusCode != http.StatusNotFound {
			t.Errorf("/key/%s: %d; want 404", k, r.StatusCode)
		}
	}
	// A symlink named like a key is not followed.
	target := filepath.Join(t.TempDir(), "ads")
	os.WriteFile(target, []byte(testAd(f).String()), 0o600)
	link := strings.Repeat("1", 64)
	if err := os.Symlink(target, filepath.Join(f.credDir, link)); err != nil {
		t.Fatal(err)
	}
	if r := f.get("/key/" + link); r.StatusCode != http.StatusNotFound {
		t.Errorf("symlinked key: %d; want 404", r.StatusCode)
	}
	bad := strings.Repeat("2", 64)
	os.WriteFile(filepath.Join(f.credDir, bad), []byte("Provider = \"../etc\"\nLocalUser = \"alice\"\n"), 0o640)
	r := f.get("/key/" + bad)
	if page := body(t, r); r.StatusCode != http.StatusInternalServerError || strings.Contains(page, "../etc") {
		t.Errorf("bad key file: %d\n%s", r.StatusCode, page)
	}
}

func TestParseKeyFile(t *testing.T) {
	good := "Provider = \"box\"\nHandle = \"h1\"\nLocalUser = \"alice\"\nScopes = \"a, b\"\nAudience = \"\"\n" +
		"ClientId = \"c\"\nClientSecret = \"x\\\\y\"\nReturnUrl = \"https://ap/return/box\"\n" +
		"AuthorizationUrl = \"https://idp/auth\"\nTokenUrl = \"https://idp/token\"\n\n" +
		"Provider = \"gdrive\"\nLocalUser = \"alice\"\n"
	svcs, err := web.ParseKeyFile([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 2 || svcs[0].Name() != "box_h1" || svcs[0].ScopesRaw != "a,b" || len(svcs[0].Scopes) != 2 ||
		svcs[0].ClientSecret != `x\\y` || svcs[1].Name() != "gdrive" || svcs[0].AudienceRaw != "" {
		t.Errorf("got %+v", svcs)
	}
	for name, src := range map[string]string{
		"empty":       "",
		"no user":     "Provider = \"box\"\n",
		"bad handle":  "Provider = \"box\"\nLocalUser = \"a\"\nHandle = \"a/b\"\n",
		"two users":   "Provider = \"box\"\nLocalUser = \"a\"\n\nProvider = \"x\"\nLocalUser = \"b\"\n",
		"twice":       "Provider = \"box\"\nLocalUser = \"a\"\n\nProvider = \"box\"\nLocalUser = \"a\"\n",
		"bad url":     "Provider = \"box\"\nLocalUser = \"a\"\nTokenUrl = \"file:///etc/passwd\"\n",
		"syntax":      "Provider = \"box\nLocalUser = \"a\"\n",
		"secret leak": "Provider = \"box\"\nLocalUser = \"a\"\nClientSecret = \"TOPSECRET\" TOPSECRET\n",
	} {
		_, err := web.ParseKeyFile([]byte(src))
		if !errors.Is(err, web.ErrBadKeyFile) {
			t.Errorf("%s: err = %v; want ErrBadKeyFile", name, err)
		} else if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
}

func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte("Provider = \"box\"\nLocalUser = \"alice\"\nReturnUrl = \"https://ap/return/box\"\n\nProvider = \"x\"\nLocalUser = \"alice\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		svcs, err := web.ParseKeyFile(b)
		if err != nil {
			return
		}
		for _, s := range svcs {
			if strings.ContainsAny(s.Name(), "/\x00") || strings.HasPrefix(s.Name(), ".") || strings.ContainsAny(s.LocalUser, "/\x00") {
				t.Fatalf("unsafe name accepted: %q / %q", s.Name(), s.LocalUser)
			}
		}
	})
}

func TestTrustedProxy(t *testing.T) {
	f := newFixture(t, fixtureOptions{config: func(c *web.Config) {
		c.Prefix = "https://ap.example.org/creds"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}})
	key := f.writeKeyFile(testAd(f))
	r := f.get("/creds/key/"+key, "X-Forwarded-For", "203.0.113.9, 198.51.100.4", "X-Forwarded-Proto", "https")
	if r.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind a trusted TLS-terminating proxy")
	}
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/creds/" {
		t.Fatalf("under the prefix: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	// A proxy that strips the prefix works too.
	if r := f.get("/key/" + key); r.StatusCode != http.StatusSeeOther {
		t.Errorf("stripped prefix: %d", r.StatusCode)
	}
	if !strings.Contains(f.logs.String(), "198.51.100.4 key") || strings.Contains(f.logs.String(), "203.0.113.9") {
		t.Errorf("log should name the right-most untrusted hop only:\n%s", f.logs.String())
	}

	g := newFixture(t, fixtureOptions{}) // no trusted proxy: headers ignored
	g.get("/key/"+strings.Repeat("0", 64), "X-Forwarded-For", "198.51.100.4")
	if strings.Contains(g.logs.String(), "198.51.100.4") {
		t.Errorf("an untrusted X-Forwarded-For was believed:\n%s", g.logs.String())
	}
}

func TestIssuerDocuments(t *testing.T) {
	dir := t.TempDir()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub := filepath.Join(dir, "issuer.pub")
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	oidc, jwks, err := web.IssuerDocuments([]*knobs.Local{{Name: "scitokens", PublicKey: pub, KeyID: "k1", Algorithm: "ES256", Issuer: "https://ap.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{config: func(c *web.Config) { c.OpenIDConfiguration, c.JWKS = oidc, jwks }})
	r := f.get("/.well-known/openid-configuration")
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal([]byte(body(t, r)), &doc); err != nil || doc.Issuer != "https://ap.example.org" || doc.JWKSURI != "https://ap.example.org"+web.JWKSPath {
		t.Errorf("openid-configuration: %+v, %v", doc, err)
	}
	for _, p := range []string{web.JWKSPath, "/.well-known/jwks.json"} {
		r := f.get(p)
		var set struct{ Keys []map[string]string }
		if err := json.Unmarshal([]byte(body(t, r)), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["kid"] != "k1" ||
			set.Keys[0]["crv"] != "P-256" || set.Keys[0]["d"] != "" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %+v, %v", p, set, err)
		}
	}
	if r := newFixture(t, fixtureOptions{}).get("/.well-known/openid-configuration"); r.StatusCode != http.StatusNotFound {
		t.Errorf("no local issuer: %d; want 404", r.StatusCode)
	}
}

func TestExpiredKey(t *testing.T) {
	f := newFixture(t, fixtureOptions{config: func(c *web.Config) {
		c.Now = func() time.Time { return time.Now().Add(knobs.KeyFileLifetime + time.Minute) }
	}})
	if r := f.get("/key/" + f.writeKeyFile(testAd(f))); r.StatusCode != http.StatusGone || !strings.Contains(body(t, r), "Run condor_submit again") {
		t.Errorf("expired key: %d; want 410 with what to do", r.StatusCode)
	}
}

func TestNoLogInjection(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.get("/return/x%0Aforged%20line")
	if strings.Contains(f.logs.String(), "\nforged") {
		t.Errorf("a path segment started a log line:\n%s", f.logs.String())
	}
}

// TestOpenClientSecretFileWarnedOnce: a key file without the client secret
// makes the app read <SVC>_CLIENT_SECRET_FILE; one every user can read is
// still read (as credd reads it) and logged once, with the knob, the path
// and the fix, never the secret.
func TestOpenClientSecretFileWarnedOnce(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "box.secret")
	if err := os.WriteFile(secret, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{config: func(c *web.Config) {
		c.Provider = func(string) (*web.ProviderConfig, error) {
			return &web.ProviderConfig{ClientSecretFile: secret}, nil
		}
	}})
	login := func() {
		t.Helper()
		a := testAd(f)
		a.ClientSecret = ""
		c := visit(t, f, f.writeKeyFile(a))
		resp := f.postLogin("box", url.Values{"csrf": {csrfOf(t, body(t, f.get("/", "Cookie", c.String())))}}, c)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login with the secret from the file: %d; want 303", resp.StatusCode)
		}
	}
	login()
	login()
	want := "box_CLIENT_SECRET_FILE = " + secret + ": mode 0644 lets every local user read or replace the client secret; run chmod o-rwx " + secret
	if n := strings.Count(f.logs.String(), want); n != 1 {
		t.Errorf("the warning %q is logged %d times; want once:\n%s", want, n, f.logs.String())
	}
	if strings.Contains(f.logs.String(), "s3cret-from-file") {
		t.Error("the log quotes the secret")
	}
}

package credmon_test

// End-to-end tests of the client-credentials and Pelican types (issue 13):
// the real OIDC provider (its client_credentials and RFC 8693 grants),
// the credd emulator's CREDD_CHECK_CREDS and store, real files.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
)

const robotsAud = "https://robots.example.org"

// clientConfig configures two client-credentials providers: robots
// through the fault proxy (TOKEN_URL), disco by OIDC discovery at the
// provider itself (ISSUER), both templating the user into the scope.
const clientConfig = `
CLIENT_CREDMON_PROVIDER_NAMES = robots, disco
CLIENT_CREDMON_CLIENT_ID = credmon-post
CLIENT_CREDMON_CLIENT_SECRET_FILE = $(CREDTEST_SECRET_FILE)
CLIENT_CREDMON_AUTHZ_TEMPLATE = storage.read:/user/{username} compute.read
CLIENT_CREDMON_TOKEN_AUDIENCE = ` + robotsAud + `
CLIENT_CREDMON_ROBOTS_TOKEN_URL = $(CREDTEST_PROXY_URL)/token
CLIENT_CREDMON_disco_ISSUER = $(CREDTEST_ISSUER)
CLIENT_CREDMON_disco_AUTHZ_TEMPLATE = storage.modify:/home/{username}
`

func clientEnv(t *testing.T, extra string) (*env, *atomic.Int64) {
	t.Helper()
	offset := new(atomic.Int64)
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	return newEnv(t, envOptions{now: now, infoLog: true, config: clientConfig + extra,
		provider: oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour}}), offset
}

// useToken reads a JSON .use and returns its access token, checking it
// is one line with exactly the keys want.
func (e *env) useToken(user, name string, want ...string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.path(user, name+".use"))
	if err != nil {
		e.t.Fatal(err)
	}
	if strings.Contains(string(b), "\n") {
		e.t.Errorf("%s/%s.use is not one line: %q", user, name, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s/%s.use is not JSON: %v", user, name, err)
	}
	if len(m) != len(want) {
		e.t.Errorf("%s/%s.use has keys %v; want %v", user, name, keysOf(m), want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			e.t.Errorf("%s/%s.use has no %q", user, name, k)
		}
	}
	at, _ := m["access_token"].(string)
	return at
}

func keysOf(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	return k
}

func hasScopes(claims map[string]any, want ...string) bool {
	s, _ := claims["scope"].(string)
	have := strings.Fields(s)
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

func audIs(claims map[string]any, aud string) bool {
	a := fmt.Sprint(claims["aud"])
	return a == aud || a == "["+aud+"]"
}

// TestClientCredentialsOnCheckCreds: condor_submit's CREDD_CHECK_CREDS for
// client-credentials services is answered with .use files from a
// client_credentials grant, each asking for the audience and the scopes
// templated for the user; a .use is kept fresh from the token's expiry on
// the daemon's clock.
func TestClientCredentialsOnCheckCreds(t *testing.T) {
	e, offset := clientEnv(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.credd.CheckLocalCreds(ctx, "alice", "robots", "disco"); err != nil {
		t.Fatalf("CREDD_CHECK_CREDS: %v", err)
	}
	e.waitFor("both results handled", func() bool { return e.mon.Stats().Refreshes >= 2 })
	tok := e.useToken("alice", "robots", "access_token", "expires_in")
	c := e.idp.VerifyAccessToken(t, tok)
	if !audIs(c, robotsAud) {
		t.Errorf("robots aud = %v; want %s", c["aud"], robotsAud)
	}
	if !hasScopes(c, "storage.read:/user/alice", "compute.read") {
		t.Errorf("robots scope = %v; want the template for alice", c["scope"])
	}
	if c["client_id"] != oidcprovider.ClientIDPost {
		t.Errorf("client_id = %v", c["client_id"])
	}
	dc := e.idp.VerifyAccessToken(t, e.useToken("alice", "disco", "access_token", "expires_in"))
	if !hasScopes(dc, "storage.modify:/home/alice") || hasScopes(dc, "storage.read:/user/alice") {
		t.Errorf("disco scope = %v; want its own template for alice", dc["scope"])
	}
	// ClientCredmon's request fields (the proxy records their names).
	if p := e.proxy.Params("/token"); len(p) == 0 || strings.Join(p[0], " ") != "audience client_id client_secret grant_type scope" {
		t.Errorf("token request parameters through the proxy: %v", p)
	}
	assertMode(t, e.path("alice", "robots.use"), 0o600)
	e.waitLog("Successfully refreshed robots tokens for user alice")
	assertNoSecrets(t, e.logs.String(), tok, oidcprovider.ClientSecret)
	if strings.Contains(e.logs.String(), "does not implement") {
		t.Error("the daemon still says it does not implement client credentials")
	}

	// Nothing is due before the tokens' refresh point; past it (half of
	// the provider's hour) both are fetched again.
	n := e.mon.Stats().Refreshes
	e.pass()
	if got := e.mon.Stats().Refreshes; got != n {
		t.Errorf("%d refreshes on a pass with fresh tokens", got-n)
	}
	offset.Add(int64(35 * time.Minute))
	e.pass()
	e.waitFor("both fetched again", func() bool { return e.mon.Stats().Refreshes >= n+2 })
	if again := e.useToken("alice", "robots", "access_token", "expires_in"); again == tok {
		t.Error("robots.use still holds the first token")
	}
}

// TestClientIssuerDownOthersUnaffected: a client-credentials provider
// whose token endpoint fails backs off and recovers on its own; another
// provider's tokens are served meanwhile.
func TestClientIssuerDownOthersUnaffected(t *testing.T) {
	e, _ := clientEnv(t, "")
	e.proxy.SetMode(oidcprovider.Status500)
	if err := e.credd.StoreLocal("erin", "robots"); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreLocal("erin", "disco"); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("erin/disco.use", func() bool { return e.exists("erin", "disco.use") })
	e.waitLog("Failed to refresh robots tokens for user erin; will retry")
	if e.exists("erin", "robots.use") {
		t.Fatal("a .use from a failing issuer")
	}
	e.proxy.SetMode(oidcprovider.Pass)
	e.waitFor("erin/robots.use after recovery", func() bool { return e.exists("erin", "robots.use") })
	e.idp.VerifyAccessToken(t, e.useToken("erin", "robots", "access_token", "expires_in"))
}

// TestClientBadSecretFileNamesKnob: a client secret file others can read
// is refused before any request, with an error naming the knob; fixing
// its mode and storing again gets the token.
func TestClientBadSecretFileNamesKnob(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "robots.secret")
	if err := os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _ := clientEnv(t, "CLIENT_CREDMON_ROBOTS_CLIENT_SECRET_FILE = "+secret+"\n")
	if err := e.credd.StoreLocal("gus", "robots"); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitLog("Failed to refresh robots tokens for user gus; not retrying")
	logs := e.logs.String()
	if !strings.Contains(logs, "CLIENT_CREDMON_ROBOTS_CLIENT_SECRET_FILE = "+secret+": mode 0644") {
		t.Errorf("the error does not name the knob and the mode:\n%s", logs)
	}
	if e.proxy.Total() != 0 {
		t.Errorf("%d requests sent with a refused secret file", e.proxy.Total())
	}
	assertNoSecrets(t, logs, oidcprovider.ClientSecret)
	if err := os.Chmod(secret, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreLocal("gus", "robots"); err != nil { // a new .top: new input
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("gus/robots.use", func() bool { return e.exists("gus", "robots.use") })
}

// pelicanConfig: osdf exchanges at the proxy's token endpoint
// (<S>_PELICAN_TOKEN_URL), disco finds it from the subject token's issuer.
const pelicanConfig = `
PELICAN_CREDMON_PROVIDER_NAMES = osdf, pdisco
osdf_PELICAN_CLIENT_ID = credmon-post
osdf_PELICAN_CLIENT_SECRET_FILE = $(CREDTEST_SECRET_FILE)
osdf_PELICAN_TOKEN_URL = $(CREDTEST_PROXY_URL)/token
pdisco_PELICAN_CLIENT_ID = credmon-post
pdisco_PELICAN_CLIENT_SECRET_FILE = $(CREDTEST_SECRET_FILE)
`

const pelicanAud = "https://osdf.example.org"

func pelicanEnv(t *testing.T, extra string) (*env, *atomic.Int64) {
	t.Helper()
	offset := new(atomic.Int64)
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	return newEnv(t, envOptions{now: now, infoLog: true, config: pelicanConfig + extra,
		provider: oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour}}), offset
}

// storeSubject stores what the Pelican storer leaves: a subject token
// with the scope and audience to ask for. It returns the subject token.
func (e *env) storeSubject(user, name, scope string) string {
	e.t.Helper()
	g := e.grant("storage.read:/ compute.read", "")
	b, _ := json.Marshal(map[string]string{"access_token": g.AccessToken, "scope": scope, "audience": pelicanAud})
	if err := e.credd.StoreTop(user, name, b); err != nil {
		e.t.Fatal(err)
	}
	return g.AccessToken
}

// TestPelicanExchangeThenRefresh: a subject token in the .top is
// exchanged (RFC 8693) for the service's own grant, whose .top is on disk
// by the time the .use appears; at the refresh point the refresh grant
// rotates the refresh token, persisted before the new .use.
func TestPelicanExchangeThenRefresh(t *testing.T) {
	e, offset := pelicanEnv(t, "")
	subject := e.storeSubject("alice", "osdf", "offline_access storage.read:/data")
	e.mon.Rescan()
	e.waitFor("alice/osdf.use", func() bool { return e.exists("alice", "osdf.use") })
	// The .top as it is when the .use appears: written first, it already
	// holds the exchanged grant.
	top := e.readJSON("alice", "osdf.top")
	rt1, _ := top["refresh_token"].(string)
	if rt1 == "" || top["access_token"] != nil {
		t.Fatalf(".top when the .use appeared has keys %v; want the exchanged grant", keysOf(top))
	}
	if top["token_url"] != e.proxy.URL+"/token" || top["scope"] != "offline_access storage.read:/data" || top["audience"] != pelicanAud {
		t.Errorf("exchanged .top = %v", top)
	}
	if top["iss"] != e.idp.Issuer {
		t.Errorf(".top iss = %v; want the subject token's issuer %s", top["iss"], e.idp.Issuer)
	}
	e.waitFor("the result handled", func() bool { return e.mon.Stats().Refreshes >= 1 })
	at1 := e.useToken("alice", "osdf", "access_token", "token_type", "expires_in")
	c := e.idp.VerifyAccessToken(t, at1)
	if !audIs(c, pelicanAud) || !hasScopes(c, "storage.read:/data") {
		t.Errorf("exchanged token aud %v scope %v", c["aud"], c["scope"])
	}
	if p := e.proxy.Params("/token"); len(p) == 0 || strings.Join(p[0], " ") != "audience client_id client_secret grant_type scope subject_token subject_token_type" {
		t.Errorf("first request's parameters: %v", p)
	}
	assertMode(t, e.path("alice", "osdf.top"), 0o600)
	assertNoSecrets(t, e.logs.String(), subject, rt1, at1, oidcprovider.ClientSecret)

	// Past the refresh point: the refresh grant, with rotation. The .top
	// is read the moment the new .use is seen: written first, it must
	// already hold the rotated refresh token.
	n := e.mon.Stats().Refreshes
	offset.Add(int64(35 * time.Minute))
	e.pass()
	e.waitFor("a new .use", func() bool {
		b, err := os.ReadFile(e.path("alice", "osdf.use"))
		return err == nil && !strings.Contains(string(b), at1)
	})
	top = e.readJSON("alice", "osdf.top")
	rt2, _ := top["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("the rotated refresh token is not in the .top")
	}
	if top["scope"] != "offline_access storage.read:/data" || top["audience"] != pelicanAud || top["iss"] != e.idp.Issuer {
		t.Errorf(".top after rotation lost keys: %v", top)
	}
	e.waitFor("the result handled", func() bool { return e.mon.Stats().Refreshes > n })
	at2 := e.useToken("alice", "osdf", "access_token", "token_type", "expires_in")
	if at2 == at1 {
		t.Error(".use not replaced")
	}
	e.idp.VerifyAccessToken(t, at2)
	// The old refresh token is spent: only the persisted one works.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, status, err := e.idp.Refresh(ctx, oidcprovider.ClientIDPost, oidcprovider.ClientSecret, rt1, nil); err == nil && status == 200 {
		t.Error("the first refresh token still works: no rotation happened")
	}
}

// TestPelicanDiscoveryAndNewSubject: without <S>_PELICAN_TOKEN_URL the
// token endpoint is discovered from the subject token's issuer; a new
// subject token stored over the exchanged .top is exchanged again at once.
func TestPelicanDiscoveryAndNewSubject(t *testing.T) {
	e, _ := pelicanEnv(t, "")
	e.storeSubject("bob", "pdisco", "offline_access storage.read:/a")
	// A handle uses its service's knobs, as PelicanCredmon's _provider_for.
	e.storeSubject("bob", "pdisco_narrow", "offline_access storage.read:/a/b")
	e.mon.Rescan()
	e.waitFor("bob/pdisco.use", func() bool { return e.exists("bob", "pdisco.use") && e.exists("bob", "pdisco_narrow.use") })
	e.waitFor("the results handled", func() bool { return e.mon.Stats().Refreshes >= 2 })
	if c := e.idp.VerifyAccessToken(t, e.useToken("bob", "pdisco_narrow", "access_token", "token_type", "expires_in")); !hasScopes(c, "storage.read:/a/b") {
		t.Errorf("handle scope = %v", c["scope"])
	}
	top := e.readJSON("bob", "pdisco.top")
	if top["token_url"] != e.idp.TokenURL {
		t.Errorf("token_url = %v; want the discovered %s", top["token_url"], e.idp.TokenURL)
	}
	first := e.useToken("bob", "pdisco", "access_token", "token_type", "expires_in")

	n := e.mon.Stats().Refreshes
	e.storeSubject("bob", "pdisco", "offline_access storage.read:/b")
	e.mon.Rescan()
	e.waitFor("the new subject exchanged", func() bool { return e.mon.Stats().Refreshes > n })
	second := e.useToken("bob", "pdisco", "access_token", "token_type", "expires_in")
	if second == first {
		t.Fatal("the .use was not replaced after a new subject token")
	}
	if c := e.idp.VerifyAccessToken(t, second); !hasScopes(c, "storage.read:/b") {
		t.Errorf("scope after the new subject = %v", c["scope"])
	}
	if top := e.readJSON("bob", "pdisco.top"); top["scope"] != "offline_access storage.read:/b" || top["access_token"] != nil {
		t.Errorf(".top after the new exchange = %v", top)
	}
}

// TestPelicanIssuerDownAndBadSecret: a Pelican service whose issuer
// fails backs off while another service's token is served; one whose
// secret file is missing fails at once with the knob named.
func TestPelicanIssuerDownAndBadSecret(t *testing.T) {
	e, _ := pelicanEnv(t, "broken_PELICAN_CLIENT_ID = credmon-post\nbroken_PELICAN_CLIENT_SECRET_FILE = /nonexistent/secret\nPELICAN_CREDMON_PROVIDER_NAMES = osdf, pdisco, broken\n")
	e.proxy.SetMode(oidcprovider.Down)
	e.storeSubject("carl", "osdf", "offline_access storage.read:/x")
	e.storeSubject("carl", "pdisco", "offline_access storage.read:/y")
	e.storeSubject("carl", "broken", "offline_access storage.read:/z")
	e.mon.Rescan()
	e.waitFor("carl/pdisco.use", func() bool { return e.exists("carl", "pdisco.use") })
	e.waitLog("Failed to refresh osdf tokens for user carl; will retry")
	e.waitLog("broken_PELICAN_CLIENT_SECRET_FILE = /nonexistent/secret: cannot open the client secret file")
	if e.exists("carl", "osdf.use") || e.exists("carl", "broken.use") {
		t.Fatal("a .use from a failing service")
	}
	if top := e.readJSON("carl", "osdf.top"); top["access_token"] == nil {
		t.Error("the subject token was lost after a failed exchange")
	}
	e.proxy.SetMode(oidcprovider.Pass)
	e.waitFor("carl/osdf.use after recovery", func() bool { return e.exists("carl", "osdf.use") })
}

// TestPelicanRefreshOnTheWireFinishesAtStop: a Pelican refresh on the wire
// when the daemon is told to stop finishes, and its rotated refresh token
// is saved (then its .use written): the issuer has spent the old one.
func TestPelicanRefreshOnTheWireFinishesAtStop(t *testing.T) {
	e, offset := pelicanEnv(t, "")
	e.storeSubject("dora", "osdf", "offline_access storage.read:/d")
	e.mon.Rescan()
	e.waitFor("dora/osdf.use", func() bool { return e.exists("dora", "osdf.use") })
	e.waitFor("the result handled", func() bool { return e.mon.Stats().Refreshes >= 1 })
	rt1, _ := e.readJSON("dora", "osdf.top")["refresh_token"].(string)
	at1 := e.useToken("dora", "osdf", "access_token", "token_type", "expires_in")

	e.proxy.SetMode(oidcprovider.Slow(1500 * time.Millisecond))
	sent := e.proxy.Count("/token")
	offset.Add(int64(35 * time.Minute))
	e.mon.Rescan()
	e.waitFor("the refresh on the wire", func() bool { return e.proxy.Count("/token") > sent })
	e.stop()

	rt2, _ := e.readJSON("dora", "osdf.top")["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("the refresh token rotated on the wire at the stop was not saved")
	}
	if e.useToken("dora", "osdf", "access_token", "token_type", "expires_in") == at1 {
		t.Error("the refresh on the wire at the stop did not write its .use")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, status, err := e.idp.Refresh(ctx, oidcprovider.ClientIDPost, oidcprovider.ClientSecret, rt2, nil); status != 200 {
		t.Errorf("the saved refresh token is refused: HTTP %d %v", status, err)
	}
}

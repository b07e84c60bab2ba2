package credmon_test

// End-to-end tests of robot tokens (issue 12): a robot's self-describing
// .top (its own iss, client and grant; docs/htcondor-contract.md#robot-top)
// stored through condor_store_cred add-oauth (the credd emulator's
// AddOAuth, which kicks the daemon as credd does), against the real OIDC
// provider: its RFC 8693 token exchange hands out the second, independent
// refresh token a robot stores, and it rotates refresh tokens.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
)

// robotRefreshToken does what `credmon-token get --condor` does with an
// account on an issuer with token exchange: log in (an access token), then
// exchange it for a second refresh token for scope and audience.
func (e *env) robotRefreshToken(scope, audience string) string {
	e.t.Helper()
	g := e.grant(scope, "")
	c := &tokenclient.Client{TokenURL: e.idp.TokenURL, ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		AuthStyle: oauth2.AuthStyleInParams, AllowInsecure: true}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.Exchange(ctx, tokenclient.ExchangeRequest{SubjectToken: g.AccessToken, SubjectTokenType: tokenclient.TokenTypeAccessToken,
		RequestedTokenType: tokenclient.TokenTypeRefreshToken, Scopes: append(strings.Fields(scope), "offline_access"), Audiences: []string{audience}})
	if err != nil || res.RefreshToken == "" {
		e.t.Fatalf("token exchange: %v (refresh token %v)", err, res != nil && res.RefreshToken != "")
	}
	return res.RefreshToken
}

// robotTop is the self-describing .top a robot stores (no -P).
func robotTop(iss, tokenURL, rt, scope, resource string) map[string]string {
	top := map[string]string{"iss": iss, "token_url": tokenURL, "client_id": oidcprovider.ClientIDPost,
		"client_secret": oidcprovider.ClientSecret, "refresh_token": rt, "scope": scope, "resource": resource}
	if rt == "" {
		delete(top, "refresh_token")
		top["grant_type"] = "client_credentials"
	}
	return top
}

// storeRobot is condor_store_cred add-oauth -s name -i - (with -S/-A when
// scopes/audience are set): credd stores the .top and kicks the daemon.
func (e *env) storeRobot(user, name string, top map[string]string, scopes, audience string) {
	e.t.Helper()
	b, _ := json.Marshal(top)
	if _, err := e.credd.AddOAuth(credtest.OAuthAdd{User: user, Name: name, Blob: b, Scopes: scopes, Audience: audience}); err != nil {
		e.t.Fatal(err)
	}
}

func audOf(t *testing.T, claims map[string]any) string {
	t.Helper()
	switch a := claims["aud"].(type) {
	case string:
		return a
	case []any:
		if len(a) == 1 {
			s, _ := a[0].(string)
			return s
		}
	}
	t.Errorf("aud = %v; want one audience", claims["aud"])
	return ""
}

// countingServer is a second HTTP listener that records every request: a
// place a .top's token_url may point to, which must never be asked.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

const robotAud = "https://storage.robot.example"

// logLines counts the log lines at level (hclog's "[WARN] ", "[ERROR]")
// that contain msg: what an admin sees at the default level (the same
// state again is repeated at debug level only).
func (e *env) logLines(level, msg string) int {
	n := 0
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "["+level) && strings.Contains(l, msg) {
			n++
		}
	}
	return n
}

// TestRobotTopTrustedIssuerRefreshedAndRotated: a robot .top whose iss is
// trusted gets a .use with the requested audience and scope (as the JWT
// says), its rotated refresh token is written back into the .top with
// every other key kept, and the next refresh works from it. A handle
// stored with -S/-A gets credd's audience, not the .top's resource.
func TestRobotTopTrustedIssuerRefreshedAndRotated(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_TRUSTED_ISSUERS = $(CREDTEST_ISSUER)/\n"})
	rt := e.robotRefreshToken("storage.read:/robot compute.read", robotAud)
	top := robotTop(e.idp.Issuer, e.idp.TokenURL, rt, "storage.read:/robot compute.read", robotAud)
	e.storeRobot("rob", "robot", top, "", "")
	e.waitFor("rob/robot.use", func() bool { return e.exists("rob", "robot.use") })
	e.waitFor("the result taken", func() bool { return e.mon.Stats().Refreshes >= 1 })

	use := e.readJSON("rob", "robot.use")
	if _, ok := use["scope"].([]any); !ok || use["expires_at"] == nil || use["refresh_token"] != nil {
		t.Errorf(".use is not in the OAuth2 .use format: %v", use)
	}
	claims := e.idp.VerifyAccessToken(t, use["access_token"].(string))
	if got := audOf(t, claims); got != robotAud {
		t.Errorf("aud = %q; want %q", got, robotAud)
	}
	if s, _ := claims["scope"].(string); !strings.Contains(s, "storage.read:/robot") {
		t.Errorf("scope = %q; want storage.read:/robot", s)
	}
	stored := e.readJSON("rob", "robot.top")
	if stored["refresh_token"] == rt || stored["refresh_token"] == "" {
		t.Fatal("the rotated refresh token was not written into the .top")
	}
	for k, v := range top {
		if k != "refresh_token" && stored[k] != v {
			t.Errorf(".top key %s = %v; want %v kept", k, stored[k], v)
		}
	}
	assertMode(t, e.path("rob", "robot.top"), 0o600)
	assertMode(t, e.path("rob", "robot.use"), 0o600)

	// The second refresh works from the persisted token, and rotates again.
	first := use["access_token"]
	e.refreshAgain("rob", "robot")
	if e.readJSON("rob", "robot.use")["access_token"] == first {
		t.Error("the second refresh wrote the same access token")
	}
	again := e.readJSON("rob", "robot.top")
	if again["refresh_token"] == stored["refresh_token"] {
		t.Error("the second refresh's rotated token was not persisted")
	}
	if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, again["refresh_token"].(string), nil); status != http.StatusOK {
		t.Errorf("the persisted refresh token is refused: HTTP %d", status)
	}

	// A handle: credd's audience (-A) wins over the .top's resource.
	const handleAud = "https://handle.robot.example"
	rt2 := e.robotRefreshToken("compute.read", handleAud)
	e.storeRobot("rob", "robot_h", robotTop(e.idp.Issuer, e.idp.TokenURL, rt2, "compute.read", robotAud), "compute.read", handleAud)
	e.waitFor("rob/robot_h.use", func() bool { return e.exists("rob", "robot_h.use") })
	hc := e.idp.VerifyAccessToken(t, e.readJSON("rob", "robot_h.use")["access_token"].(string))
	if got := audOf(t, hc); got != handleAud {
		t.Errorf("handle aud = %q; want credd's %q", got, handleAud)
	}
	if !e.credd.CredMatches("rob", "robot_h", "compute.read", handleAud) {
		t.Error("credd would report a mismatch for the handle after the rewrite")
	}
	e.waitLog("Successfully refreshed robot tokens for user rob")
	assertNoSecrets(t, e.logs.String(), rt, rt2, stored["refresh_token"].(string), again["refresh_token"].(string), oidcprovider.ClientSecret)
}

// TestRobotTopClientCredentials: a client credentials .top (no refresh
// token) becomes a .use minted by the daemon, for the .top's resource.
func TestRobotTopClientCredentials(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_TRUSTED_ISSUERS = $(CREDTEST_ISSUER)\n"})
	top := robotTop(e.idp.Issuer, e.idp.TokenURL, "", "compute.read", robotAud)
	before, _ := json.Marshal(top)
	e.storeRobot("cc", "robot", top, "", "")
	e.waitFor("cc/robot.use", func() bool { return e.exists("cc", "robot.use") })
	claims := e.idp.VerifyAccessToken(t, e.readJSON("cc", "robot.use")["access_token"].(string))
	if got := audOf(t, claims); got != robotAud {
		t.Errorf("aud = %q; want %q", got, robotAud)
	}
	if b, _ := os.ReadFile(e.path("cc", "robot.top")); string(b) != string(before) {
		t.Errorf("the client credentials .top changed: %s", b)
	}
	e.refreshAgain("cc", "robot")
	assertNoSecrets(t, e.logs.String(), oidcprovider.ClientSecret)
}

// TestRobotTopUntrustedIssuerLeftAlone: with the knob unset (or not
// listing the .top's iss) nothing is sent anywhere: no request reaches the
// issuer (the fault proxy counts them) nor the .top's token_url (a second
// listener), no .use appears, and exactly one line is logged however many
// passes and SIGHUPs follow; a new .top is logged once more. The client
// secret is never logged.
func TestRobotTopUntrustedIssuerLeftAlone(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_TRUSTED_ISSUERS = https://other.example\n"})
	elsewhere, hits := countingServer(t)
	top := robotTop(e.proxy.URL, elsewhere.URL+"/token", "a-refresh-token", "compute.read", "")
	e.storeRobot("eve", "robot", top, "", "")
	const line = "Leaving robot for user eve alone: its .top names issuer " // + the URL, the knob
	e.waitLog(line)
	for i := 0; i < 3; i++ {
		e.pass()
		n := e.mon.Stats().Passes
		if err := e.credd.Kick(); err != nil { // credd's SIGHUP
			t.Fatal(err)
		}
		e.waitFor("the SIGHUP's pass", func() bool { s := e.mon.Stats(); return s.Passes > n && s.Completed >= s.Passes })
	}
	if got := e.logLines("WARN", line); got != 1 {
		t.Errorf("%d lines about the untrusted issuer; want 1", got)
	}
	if !strings.Contains(e.logs.String(), "CREDMON_OAUTH_TRUSTED_ISSUERS does not list") {
		t.Error("the line does not name the knob")
	}
	if e.exists("eve", "robot.use") {
		t.Error("a .use was written for an untrusted issuer")
	}

	// A new .top (the robot stored again): one more line, still nothing sent.
	top["refresh_token"] = "another-refresh-token"
	e.storeRobot("eve", "robot", top, "", "")
	e.waitFor("a second line", func() bool { return e.logLines("WARN", line) == 2 })
	e.pass()
	if got := e.logLines("WARN", line); got != 2 {
		t.Errorf("%d lines after a new .top; want 2", got)
	}
	if n := e.proxy.Total(); n != 0 {
		t.Errorf("%d requests reached the untrusted issuer; want none", n)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the .top's token_url; want none", n)
	}
	assertNoSecrets(t, e.logs.String(), oidcprovider.ClientSecret, "a-refresh-token", "another-refresh-token")
}

// TestRobotTopTokenURLElsewhereNeverPosted: a trusted iss whose .top names
// a token_url on another host: the refresh goes to the endpoint discovery
// at iss names, never to the .top's (a second listener that must see
// nothing), and the difference is logged once at debug level.
func TestRobotTopTokenURLElsewhereNeverPosted(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_TRUSTED_ISSUERS = $(CREDTEST_ISSUER)\n"})
	elsewhere, hits := countingServer(t)
	rt := e.robotRefreshToken("compute.read", robotAud)
	e.storeRobot("mal", "robot", robotTop(e.idp.Issuer, strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+"/token", rt, "compute.read", robotAud), "", "")
	e.waitFor("mal/robot.use", func() bool { return e.exists("mal", "robot.use") })
	e.idp.VerifyAccessToken(t, e.readJSON("mal", "robot.use")["access_token"].(string))
	e.refreshAgain("mal", "robot")
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the .top's token_url; want none", n)
	}
	if got := strings.Count(e.logs.String(), "using the discovered one"); got != 1 {
		t.Errorf("%d debug lines about the token_url; want 1", got)
	}
}

// TestRobotTopBadOneDoesNotStopOthers: an unusable robot .top (an unknown
// grant type) fails alone, with one error line over several passes, while
// a good robot .top and a user-stored OAuth2 .top of other users get their
// .use files.
func TestRobotTopBadOneDoesNotStopOthers(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_TRUSTED_ISSUERS = $(CREDTEST_ISSUER)\n"})
	bad := robotTop(e.idp.Issuer, e.idp.TokenURL, "some-refresh-token", "compute.read", "")
	bad["grant_type"] = "password"
	e.storeRobot("bad", "robot", bad, "", "")
	rt := e.robotRefreshToken("compute.read", robotAud)
	e.storeRobot("good", "robot", robotTop(e.idp.Issuer, e.idp.TokenURL, rt, "compute.read", robotAud), "", "")
	g := e.grant("storage.read:/", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if _, err := e.credd.AddAndWait(context.Background(), "plain", "myidp", blob); err != nil {
		t.Fatalf("the OAuth2 token: %v", err)
	}
	e.waitFor("good/robot.use", func() bool { return e.exists("good", "robot.use") })
	const line = "Cannot refresh robot for user bad: unusable self-describing .top"
	e.waitLog(line)
	e.pass()
	e.pass()
	if got := e.logLines("ERROR", line); got != 1 {
		t.Errorf("%d lines about the bad .top; want 1", got)
	}
	if !strings.Contains(e.logs.String(), `unknown grant_type \"password\"`) && !strings.Contains(e.logs.String(), `unknown grant_type "password"`) {
		t.Error("the error does not say what is wrong")
	}
	if e.exists("bad", "robot.use") {
		t.Error("a .use was written for an unusable .top")
	}
	assertNoSecrets(t, e.logs.String(), "some-refresh-token", oidcprovider.ClientSecret, rt)
}

// TestRobotTopTrustedAfterReload: the knob is reload-aware: an issuer the
// admin adds is serviced after the SIGHUP that reloads the configuration.
func TestRobotTopTrustedAfterReload(t *testing.T) {
	e := newEnv(t, envOptions{reload: true})
	rt := e.robotRefreshToken("compute.read", robotAud)
	e.storeRobot("ron", "robot", robotTop(e.idp.Issuer, e.idp.TokenURL, rt, "compute.read", robotAud), "", "")
	e.waitLog("Leaving robot for user ron alone")
	e.writeConfig("CREDMON_OAUTH_TRUSTED_ISSUERS = $(CREDTEST_ISSUER)\n")
	// The reload is rate-limited: a deferred one runs when the limit ends.
	e.mon.Rescan()
	e.waitFor("ron/robot.use", func() bool { return e.exists("ron", "robot.use") })
	e.idp.VerifyAccessToken(t, e.readJSON("ron", "robot.use")["access_token"].(string))
}

// TestRobotTopUnderOAuth2NameAndBack: a robot .top under a name the
// configuration makes OAuth2 (MYIDP_CLIENT_ID) is a robot token, left
// alone while its issuer is not trusted (the provider's client is not
// used for it); a plain OAuth2 .top stored over it under the same name is
// refreshed with the provider's client again.
func TestRobotTopUnderOAuth2NameAndBack(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant("compute.read", "")
	e.storeRobot("oscar", "myidp", robotTop(e.idp.Issuer, e.idp.TokenURL, g.RefreshToken, "compute.read", ""), "", "")
	e.waitLog("Leaving myidp for user oscar alone")
	e.pass()
	if e.exists("oscar", "myidp.use") || e.proxy.Total() != 0 {
		t.Fatalf("the robot .top was refreshed (%d requests through the provider's client)", e.proxy.Total())
	}
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if _, err := e.credd.AddAndWait(context.Background(), "oscar", "myidp", blob); err != nil {
		t.Fatalf("the OAuth2 .top: %v", err)
	}
	e.idp.VerifyAccessToken(t, e.readJSON("oscar", "myidp.use")["access_token"].(string))
	if e.proxy.Count("/token") == 0 {
		t.Error("the OAuth2 .top was not refreshed through MYIDP_TOKEN_URL")
	}
}

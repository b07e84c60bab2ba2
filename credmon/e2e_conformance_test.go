package credmon_test

// End-to-end tests of conformance points of docs/htcondor-contract.md: requested
// scopes/audience never make a refresh worse than the Python credmon's,
// https-only discovery, token types of other credmons, stale temp files,
// SIGHUP bursts, and credd's store-and-wait and delete-oauth paths.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// hasAny reports whether names (one request's parameter names) include any
// of want.
func hasAny(names []string, want ...string) bool {
	for _, w := range want {
		if slices.Contains(names, w) {
			return true
		}
	}
	return false
}

// refreshAgain makes the token due at once (its .use is gone) and waits
// until the daemon counted one more refresh.
func (e *env) refreshAgain(user, name string) {
	e.t.Helper()
	n := e.mon.Stats().Refreshes
	if err := os.Remove(e.path(user, name+".use")); err != nil {
		e.t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("another refresh", func() bool { return e.mon.Stats().Refreshes > n })
}

// TestRefusedAudienceFallsBackToPythonRequest: the real provider answers
// invalid_target (RFC 8707) for an audience its grant does not hold. The
// daemon asks again at once without scope/audience/resource, exactly the
// Python credmon's request, writes the .use, warns once, and does not send
// the refused parameters on the next refresh. Rotation is off here:
// oidc-provider checks the resource only after it rotated the refresh
// token (see TestRefusedTargetFromProxy for the rotating case).
func TestRefusedAudienceFallsBackToPythonRequest(t *testing.T) {
	e := newEnv(t, envOptions{provider: oidcprovider.ProviderOptions{NoRotate: true}, noStart: true})
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken, "audience": "https://unknown.example.org"})
	if err := e.credd.StoreTop("alice", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitFor("the first refresh", func() bool { return e.mon.Stats().Refreshes >= 1 })
	reqs := e.proxy.Params("/token")
	if len(reqs) != 2 || !hasAny(reqs[0], "resource") || hasAny(reqs[1], "resource", "audience", "scope") {
		t.Fatalf("token requests = %v; want one with resource, refused, then one without scope/audience/resource", reqs)
	}
	claims := e.idp.VerifyAccessToken(t, e.readJSON("alice", "myidp.use")["access_token"].(string))
	if !strings.Contains(jsonString(claims["aud"]), oidcprovider.DefaultAudience) {
		t.Errorf("aud = %v; want the grant's own audience %s", claims["aud"], oidcprovider.DefaultAudience)
	}
	const warning = "Provider myidp refused the requested audience for myidp tokens of user alice (invalid_target); refreshed them without"
	e.waitLog(warning)

	e.refreshAgain("alice", "myidp")
	reqs = e.proxy.Params("/token")
	if len(reqs) != 3 || hasAny(reqs[2], "resource", "audience", "scope") {
		t.Errorf("token requests = %v; the refused parameters were sent again", reqs)
	}
	if n := strings.Count(e.logs.String(), warning); n != 1 {
		t.Errorf("the refusal was logged %d times; want once", n)
	}
	if e.mon.Stats().Failures != 0 {
		t.Errorf("%d failures counted; want none", e.mon.Stats().Failures)
	}
	if top := e.readJSON("alice", "myidp.top"); top["audience"] != "https://unknown.example.org" {
		t.Errorf(".top lost its audience: %v", top)
	}
	assertNoSecrets(t, e.logs.String(), g.RefreshToken, oidcprovider.ClientSecret)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRefusedScopeFallsBackToPythonRequest: a scope the refresh token was
// not granted is invalid_scope at the real provider (checked before the
// refresh token is used, so rotation stays on); the retry without it
// succeeds and the rotated refresh token is persisted.
func TestRefusedScopeFallsBackToPythonRequest(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken, "scopes": "compute.read,storage.read:/secret"})
	if err := e.credd.StoreTop("bob", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitFor("the first refresh", func() bool { return e.mon.Stats().Refreshes >= 1 })
	reqs := e.proxy.Params("/token")
	if len(reqs) != 2 || !hasAny(reqs[0], "scope") || hasAny(reqs[1], "resource", "audience", "scope") {
		t.Fatalf("token requests = %v; want one with scope, refused, then one without", reqs)
	}
	e.waitLog("Provider myidp refused the requested scopes for myidp tokens of user bob (invalid_scope)")
	top := e.readJSON("bob", "myidp.top")
	if top["refresh_token"] == g.RefreshToken {
		t.Error("the rotated refresh token was not persisted")
	}
	if top["scopes"] != "compute.read,storage.read:/secret" {
		t.Errorf(".top lost its scopes: %v", top)
	}
	e.refreshAgain("bob", "myidp")
	if reqs := e.proxy.Params("/token"); len(reqs) != 3 || hasAny(reqs[2], "scope") {
		t.Errorf("token requests = %v; the refused scope was sent again", reqs)
	}
}

// TestRefusedTargetFromProxy: an issuer that refuses any request naming a
// resource (here the fault proxy in front of the rotating provider, so the
// refusal comes before the grant is touched). The fallback is remembered
// until the .top changes: a new login asks for its audience again.
func TestRefusedTargetFromProxy(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.proxy.SetPathMode("/token", oidcprovider.ErrorJSONIfParam("invalid_target", "resource"))
	const aud = "https://storage.example.org"
	g := e.grant("compute.read", aud)
	e.webLogin("carol", "webidp", g, "compute.read", aud)
	e.waitFor("the first refresh", func() bool { return e.mon.Stats().Refreshes >= 1 })
	e.waitLog("Provider webidp refused the requested audience and scopes for webidp tokens of user carol (invalid_target)")
	e.refreshAgain("carol", "webidp")
	reqs := e.proxy.Params("/token")
	if len(reqs) != 3 || !hasAny(reqs[0], "resource") || hasAny(reqs[1], "resource", "audience", "scope") ||
		hasAny(reqs[2], "resource", "audience", "scope") {
		t.Fatalf("token requests = %v; want refused, plain, plain", reqs)
	}

	// A new login (new .top) asks for its scopes and audience again. (A
	// new .top next to a valid .use is refreshed at the .use's half-life,
	// as by the Python credmon; removing the .use makes that now.)
	e.proxy.ClearPathModes()
	e.webLogin("carol", "webidp", e.grant("compute.read", aud), "compute.read", aud)
	e.refreshAgain("carol", "webidp")
	reqs = e.proxy.Params("/token")
	if last := reqs[len(reqs)-1]; !hasAny(last, "resource") || !hasAny(last, "scope") {
		t.Errorf("after a new .top the request was %v; want scope and resource again", last)
	}
	claims := e.idp.VerifyAccessToken(t, e.readJSON("carol", "webidp.use")["access_token"].(string))
	if !strings.Contains(jsonString(claims["aud"]), aud) {
		t.Errorf("aud = %v; want %s", claims["aud"], aud)
	}
}

// TestDiscoveryRefusesInsecureIssuer: without the insecure switch an http://
// issuer is never asked for its discovery document (the token URL's https
// rule applies to discovery too).
func TestDiscoveryRefusesInsecureIssuer(t *testing.T) {
	os.Unsetenv("OAUTHLIB_INSECURE_TRANSPORT")
	e := newEnv(t, envOptions{noStart: true, config: "CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = False\n" +
		"PDISC_CLIENT_ID = " + oidcprovider.ClientIDBasic + "\nPDISC_CLIENT_SECRET_FILE = $(CREDTEST_SECRET_FILE)\nPDISC_ISSUER = $(CREDTEST_PROXY_URL)"})
	if err := e.credd.StoreTop("dora", "pdisc", []byte(`{"refresh_token": "rt"}`)); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitFor("the failure", func() bool { return e.mon.Stats().Failures >= 1 })
	if n := e.proxy.Count("/.well-known/openid-configuration"); n != 0 {
		t.Errorf("%d discovery requests sent to an http:// issuer", n)
	}
	if !strings.Contains(e.logs.String(), "not https") {
		t.Errorf("the refusal does not say why:\n%s", e.logs.String())
	}
}

// TestMisconfiguredTypesWarnOnce: a token of a Pelican service whose
// knobs are missing is left untouched (no request), the service's problem
// is named in one warning at start and the token's own error once; a
// reload that adds an unconfigured client-credentials provider warns
// about it, once, without repeating the Pelican one.
func TestMisconfiguredTypesWarnOnce(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := newEnv(t, envOptions{noStart: true, reload: true, now: now, infoLog: true,
		config: "PELICAN_CREDMON_PROVIDER_NAMES = pelly"})
	top := []byte(`{"refresh_token": "secret"}`)
	if err := e.credd.StoreTop("erin", "pelly", top); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(e.path("erin", "pelly.top"))
	e.start()
	for i := 0; i < 3; i++ {
		e.pass()
	}
	const pelican = "the Pelican service pelly: pelly_PELICAN_CLIENT_ID is not set; pelly_PELICAN_CLIENT_SECRET_FILE is not set; its tokens get no .use until the configuration is fixed"
	if n := strings.Count(e.logs.String(), pelican); n != 1 {
		t.Errorf("Pelican warning logged %d times; want once:\n%s", n, e.logs.String())
	}
	if n := strings.Count(e.logs.String(), "[WARN]"); n != 1 {
		t.Errorf("%d warnings; want only the Pelican one:\n%s", n, e.logs.String())
	}
	after, err := os.Stat(e.path("erin", "pelly.top"))
	if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("the Pelican .top was touched")
	}
	if got, _ := os.ReadFile(e.path("erin", "pelly.top")); !bytes.Equal(got, top) {
		t.Error("the Pelican .top changed")
	}
	if e.exists("erin", "pelly.use") {
		t.Error("a .use was written for a Pelican token of a misconfigured service")
	}
	if n := strings.Count(e.logs.String(), "Cannot refresh pelly for user erin: the Pelican service pelly"); n != 1 {
		t.Errorf("the token's own error logged %d times; want once", n)
	}
	if e.proxy.Total() != 0 {
		t.Errorf("%d requests sent", e.proxy.Total())
	}

	e.writeConfig("PELICAN_CREDMON_PROVIDER_NAMES = pelly\nCLIENT_CREDMON_PROVIDER_NAMES = robots")
	offset.Add(int64(2 * credmon.ReloadInterval)) // past the reload rate limit
	reloads := e.mon.Stats().Reloads
	e.pass()
	e.waitFor("the reload", func() bool { return e.mon.Stats().Reloads > reloads })
	e.pass()
	logs := e.logs.String()
	if n := strings.Count(logs, "client-credentials provider robots: CLIENT_CREDMON_robots_CLIENT_ID (or CLIENT_CREDMON_CLIENT_ID) is not set"); n != 1 {
		t.Errorf("client-credentials warning logged %d times; want once:\n%s", n, logs)
	}
	if n := strings.Count(logs, pelican); n != 1 {
		t.Errorf("Pelican warning repeated after a reload that did not change it (%d times)", n)
	}
}

// TestStaleTempFilesRemovedAtStart: temp files a killed predecessor left
// (the daemon's own ".credmon-*.tmp" names, in the root and in user
// directories) are removed at start; look-alikes are never touched, and a
// fresh temp file (a write in progress) survives later passes.
func TestStaleTempFilesRemovedAtStart(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true, noIdP: true})
	write := func(rel string) string {
		p := filepath.Join(e.dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := []string{write(".credmon-0123456789abcdef.tmp"), write("fred/.credmon-fedcba9876543210.tmp")}
	keep := []string{
		write("fred/nourl.top.tmp"),      // credd's replace_secure_file temp
		write("credmon-0123.tmp"),        // no leading dot
		write(".credmon-0123.tmp.bak"),   // not our suffix
		write("fred/.credmon-notes.txt"), // not our suffix
		write("fred/README"),
	}
	if err := os.Mkdir(filepath.Join(e.dir, ".credmon-dir.tmp"), 0o700); err != nil { // not a regular file
		t.Fatal(err)
	}
	keep = append(keep, filepath.Join(e.dir, ".credmon-dir.tmp"))
	e.start()
	e.waitFor("the first pass", func() bool { s := e.mon.Stats(); return s.Completed >= 1 })
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("stale temp file %s was not removed", p)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed", p)
		}
	}
	// A temp file of a write in progress (fresh) is not stale any more.
	fresh := []string{write(".credmon-aaaaaaaaaaaaaaaa.tmp"), write("fred/.credmon-bbbbbbbbbbbbbbbb.tmp")}
	for i := 0; i < 3; i++ {
		e.pass()
	}
	for _, p := range append(fresh, keep...) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed after start", p)
		}
	}
}

// TestSIGHUPBurstCoalesces: 50 SIGHUPs while the daemon is busy inside a
// pass (held in its configuration read, as a slow condor_config_val would)
// and a refresh is slow at the issuer cause one extra pass and one refresh
// request. Each delivered SIGHUP calls Rescan (cmd/credmon/main.go); the
// kernel and the Go runtime may merge signals before that, so 50 Rescan
// calls are the worst case of a burst of 50.
func TestSIGHUPBurstCoalesces(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	var (
		mu       sync.Mutex
		atReload []int64 // Passes when each configuration read began
		hold     = make(chan struct{})
		entered  = make(chan struct{}, 1)
	)
	var e *env
	e = newEnv(t, envOptions{noStart: true, noWatch: true, reload: true, now: now, reloadHook: func() {
		mu.Lock()
		atReload = append(atReload, e.mon.Stats().Passes)
		first := len(atReload) == 1
		mu.Unlock()
		if first {
			entered <- struct{}{}
			<-hold
		}
	}})
	e.proxy.SetMode(oidcprovider.Slow(1500 * time.Millisecond))
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("gwen", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitFor("the refresh on the wire", func() bool { return e.proxy.Count("/token") >= 1 })

	e.mon.Rescan() // the first SIGHUP: a pass that reads the configuration (held)
	<-entered
	for i := 0; i < 49; i++ {
		e.mon.Rescan()
	}
	// Release the pass just before the reload rate limit would let the
	// extra pass read the configuration, so that the deferred reload comes
	// soon instead of after ReloadInterval.
	offset.Add(int64(credmon.ReloadInterval - 300*time.Millisecond))
	close(hold)
	e.waitFor("the deferred reload", func() bool { mu.Lock(); defer mu.Unlock(); return len(atReload) >= 2 })
	e.waitFor("the refresh", func() bool { return e.mon.Stats().Refreshes >= 1 })
	// A last SIGHUP past the rate limit reads the configuration again; the
	// hook records the passes run before it: the held one and the extra.
	offset.Add(int64(2 * credmon.ReloadInterval))
	e.mon.Rescan()
	e.waitFor("the closing reload", func() bool { mu.Lock(); defer mu.Unlock(); return len(atReload) >= 3 })
	mu.Lock()
	passes := atReload[2] - atReload[0]
	mu.Unlock()
	if passes != 2 {
		t.Errorf("the SIGHUP burst caused %d passes; want the one in progress and one more", passes)
	}
	if n := e.proxy.Count("/token"); n != 1 {
		t.Errorf("%d token requests; want 1", n)
	}
	if s := e.mon.Stats(); s.Refreshes != 1 || s.Failures != 0 {
		t.Errorf("refreshes %d, failures %d; want 1 and 0", s.Refreshes, s.Failures)
	}
}

// TestDeleteOAuthSingleService: credd's delete-oauth with a service
// removes the .top and .use but keeps the .meta (docs/htcondor-contract.md#handshake, step 5). The
// daemon neither recreates them nor complains, and a new .top is refreshed
// with the kept .meta.
func TestDeleteOAuthSingleService(t *testing.T) {
	e := newEnv(t, envOptions{infoLog: true})
	e.webLogin("hank", "webidp", e.grant("compute.read", ""), "", "")
	e.mon.Rescan()
	e.waitFor("the first refresh", func() bool { return e.mon.Stats().Refreshes >= 1 })
	if err := e.credd.Delete("hank", "webidp"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		e.pass()
	}
	if e.exists("hank", "webidp.top") || e.exists("hank", "webidp.use") {
		t.Error("the daemon recreated a deleted .top or .use")
	}
	if !e.exists("hank", "webidp.meta") {
		t.Error(".meta is gone")
	}
	if s := e.mon.Stats(); s.Refreshes != 1 || s.Failures != 0 {
		t.Errorf("refreshes %d, failures %d after the delete; want 1 and 0", s.Refreshes, s.Failures)
	}
	if logs := e.logs.String(); strings.Contains(logs, "[ERROR]") || strings.Contains(logs, "[WARN]") {
		t.Errorf("the delete caused warnings or errors:\n%s", logs)
	}

	// A new login stores a .top again (the web app would rewrite .meta;
	// here the kept one serves): credd's store-and-wait succeeds.
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if _, err := e.credd.AddAndWait(context.Background(), "hank", "webidp", blob); err != nil {
		t.Fatalf("credd STORE_CRED after delete-oauth: %v", err)
	}
	e.waitFor("the second refresh", func() bool { return e.mon.Stats().Refreshes >= 2 })
	e.idp.VerifyAccessToken(t, e.readJSON("hank", "webidp.use")["access_token"].(string))
}

// TestOAuthSuccessLineExact: OAuthCredmon's success sentence, nothing
// appended; the refresh details are a separate debug line.
func TestOAuthSuccessLineExact(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.webLogin("liam", "webidp", e.grant("compute.read", ""), "", "")
	e.mon.Rescan()
	e.waitFor("the refresh", func() bool { return e.mon.Stats().Refreshes >= 1 })
	e.waitLog("refresh details")
	exactSuccessLine(t, e.logs.String(), "oauth", "Successfully refreshed webidp tokens for user liam")
}

// exactSuccessLine checks that logs has an INFO line of component whose
// message starts as want does (its first two words) and that every such
// message is exactly want: the Python credmon's sentences, which
// HTCondor's tests and admins' scripts match whole.
func exactSuccessLine(t *testing.T, logs, component, want string) {
	t.Helper()
	start := strings.Join(strings.Fields(want)[:2], " ")
	var found bool
	for _, line := range strings.Split(logs, "\n") {
		if _, msg, ok := strings.Cut(line, "[INFO]  "+component+": "); ok && strings.HasPrefix(msg, start) {
			found = true
			if msg != want {
				t.Errorf("success line = %q; want exactly %q", msg, want)
			}
		}
	}
	if !found {
		t.Errorf("no %q line:\n%s", start, logs)
	}
}

package credmon_test

// Reliability: what a stop, a lying or skewed issuer, a hung issuer next to
// a healthy one, a rate-limiting issuer and broken local files must not do
// to the daemon. Every test runs against the real OIDC provider process and
// waits on the daemon's own events (files, counters, log lines).

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// webLoginVia is webLogin with the .meta's token URL pointing at tokenURL.
func (e *env) webLoginVia(user, name, tokenURL string, g oidcprovider.Grant) {
	e.t.Helper()
	if err := e.credd.StoreMeta(user, name, credtest.Meta{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		TokenURL: tokenURL, UseRefreshToken: true}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.credd.StoreTop(user, name, []byte(fmt.Sprintf(`{"refresh_token":%q}`, g.RefreshToken))); err != nil {
		e.t.Fatal(err)
	}
}

// TestStopKeepsRotatedRefreshTokensOnTheWire protects every grant across a
// stop (condor_off, condor_restart, systemctl stop, a package upgrade): the
// refreshes already sent when the daemon is told to stop finish, and the
// refresh tokens the issuer rotated in them are saved. Cutting them off
// left the old refresh tokens in .top; the next start replayed them and the
// issuer revoked the grants.
func TestStopKeepsRotatedRefreshTokensOnTheWire(t *testing.T) {
	const users = 12
	e := newEnv(t, envOptions{provider: oidcprovider.ProviderOptions{RefreshDelay: 1500 * time.Millisecond},
		config: "CREDMON_OAUTH_HTTP_TIMEOUT = 60\nCREDMON_OAUTH_WORKERS = 16\n"})
	grants := make([]oidcprovider.Grant, users)
	for i := range grants {
		grants[i] = e.grant("openid offline_access", "")
		e.webLogin(fmt.Sprintf("u%02d", i), "webidp", grants[i], "", "")
	}
	// Every refresh is held by the issuer (RefreshDelay): stop while all
	// of them are on the wire.
	e.waitFor("every refresh on the wire", func() bool { return e.proxy.Count("/token") >= users })
	e.stop()

	for i, g := range grants {
		u := fmt.Sprintf("u%02d", i)
		top := e.readJSON(u, "webidp.top")
		rt, _ := top["refresh_token"].(string)
		if rt == g.RefreshToken {
			t.Errorf("%s: .top still holds the refresh token the issuer rotated on the wire", u)
			continue
		}
		if !e.exists(u, "webidp.use") {
			t.Errorf("%s: the refresh on the wire at the stop did not write its .use", u)
		}
		// The next start would refresh with this one: the issuer must
		// still honour it (a replayed, spent token revokes the grant).
		if _, status, err := e.idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, rt, nil); status != http.StatusOK {
			t.Errorf("%s: the saved refresh token is refused after the stop: HTTP %d %v", u, status, err)
		}
	}
	if !strings.Contains(e.logs.String(), "letting those already sent finish") {
		t.Error("the stop did not say it waits for refreshes on the wire")
	}
}

// TestStopStartsNoNewRefresh: tokens still queued when the stop comes are
// left for the next start; only requests already sent go on.
func TestStopStartsNoNewRefresh(t *testing.T) {
	const users = 6
	e := newEnv(t, envOptions{provider: oidcprovider.ProviderOptions{RefreshDelay: time.Second},
		config: "CREDMON_OAUTH_HTTP_TIMEOUT = 60\nCREDMON_OAUTH_WORKERS = 1\n"})
	for i := 0; i < users; i++ {
		e.webLogin(fmt.Sprintf("u%02d", i), "webidp", e.grant("openid offline_access", ""), "", "")
	}
	e.waitFor("the first refresh on the wire", func() bool { return e.proxy.Count("/token") >= 1 })
	e.stop()
	if n := e.proxy.Count("/token"); n != 1 {
		t.Errorf("%d token requests after a stop with one on the wire and one issuer slot; want 1", n)
	}
	written := 0
	for i := 0; i < users; i++ {
		if e.exists(fmt.Sprintf("u%02d", i), "webidp.use") {
			written++
		}
	}
	if written != 1 {
		t.Errorf("%d .use files after the stop; want the one whose request was on the wire", written)
	}
}

// TestClockSkewedIssuerIsNotRefreshedInALoop protects the issuer and the
// disk from a refresh storm: this machine's clock two hours ahead of the
// issuer's makes every token it returns look expired on arrival. The
// daemon refreshes each at most once per MIN_REFRESH_INTERVAL, counted from
// its own last refresh, and says why once.
func TestClockSkewedIssuerIsNotRefreshedInALoop(t *testing.T) {
	const interval = 10 * time.Second
	skew := func() time.Time { return time.Now().Add(2 * time.Hour) }
	e := newEnv(t, envOptions{now: skew, infoLog: true,
		config: fmt.Sprintf("CREDMON_OAUTH_MIN_REFRESH_INTERVAL = %d\n", int(interval/time.Second))})
	start := time.Now()
	e.webLogin("alice", "webidp", e.grant("openid offline_access", ""), "", "")
	e.waitLog("was already expired when received")
	e.waitFor("a second refresh", func() bool { return e.mon.Stats().Refreshes >= 2 })
	elapsed := time.Since(start)
	// All refreshes happened within elapsed, at least interval apart.
	if n, limit := e.mon.Stats().Refreshes, 1+int64(elapsed/interval); n > limit {
		t.Errorf("%d refreshes in %v with MIN_REFRESH_INTERVAL %v; the floor allows at most %d", n, elapsed, interval, limit)
	}
	if c := strings.Count(e.logs.String(), "was already expired when received"); c != 1 {
		t.Errorf("the reason was logged %d times; want once per token", c)
	}
}

// TestExpiredUseIsRefreshedAtOnce: a .use that has already expired when the
// daemon first sees it (expires_in 0, or a JWT exp in the past) is
// refreshed on the first pass, as the Python credmon does; expires_in 0 is
// not "lifetime unknown".
func TestExpiredUseIsRefreshedAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	past := time.Now().Add(-time.Hour).Unix()
	claims := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"bob","exp":%d,"iat":%d}`, past, past-600)))
	uses := map[string]string{
		"zero": `{"access_token":"at-zero","token_type":"Bearer","expires_in":0}`,
		"jwt":  `{"access_token":"eyJhbGciOiJub25lIn0.` + claims + `.c2ln","token_type":"Bearer"}`,
		"at":   fmt.Sprintf(`{"access_token":"at-at","token_type":"Bearer","expires_at":%d}`, past),
	}
	for user, use := range uses {
		e.webLogin(user, "webidp", e.grant("openid offline_access", ""), "", "")
		if err := os.WriteFile(e.path(user, "webidp.use"), []byte(use), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.start()
	e.waitFor("every expired .use refreshed", func() bool { return e.mon.Stats().Refreshes >= int64(len(uses)) })
	for user := range uses {
		if tok, _ := e.readJSON(user, "webidp.use")["access_token"].(string); strings.HasPrefix(tok, "at-") || strings.Contains(tok, claims) {
			t.Errorf("%s: .use not replaced", user)
		}
	}
}

// TestHungIssuerDoesNotDelayAHealthyOne: issuers are isolated. 30 tokens of
// an issuer that accepts connections and never answers (with a timeout of
// 5 minutes) hold only that issuer's slots; the tokens of a healthy issuer
// stored after them are refreshed at once.
func TestHungIssuerDoesNotDelayAHealthyOne(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_HTTP_TIMEOUT = 300\nCREDMON_OAUTH_WORKERS = 4\n"})
	healthy := oidcprovider.NewFaultProxy(t, e.idp.Issuer)
	e.proxy.SetMode(oidcprovider.Hang)
	// Runs before the daemon's stop (cleanups run last-in first-out): the
	// stop waits for requests on the wire, and these would wait 5 minutes.
	t.Cleanup(e.proxy.Close)
	for i := 0; i < 30; i++ {
		e.webLogin(fmt.Sprintf("hung%02d", i), "webidp", e.grant("openid offline_access", ""), "", "")
	}
	e.waitFor("the hung issuer's slots full", func() bool { return e.proxy.Count("/token") >= 4 })
	for i := 0; i < 4; i++ {
		e.webLoginVia(fmt.Sprintf("ok%d", i), "webidp", healthy.URL+"/token", e.grant("openid offline_access", ""))
	}
	for i := 0; i < 4; i++ {
		u := fmt.Sprintf("ok%d", i)
		e.waitFor(u+"'s .use from the healthy issuer", func() bool { return e.exists(u, "webidp.use") })
	}
	if n := e.proxy.Count("/token"); n > 4 {
		t.Errorf("the hung issuer got %d requests with 4 slots and a 5-minute timeout; want at most 4", n)
	}
}

// TestUnansweringIssuerIsPaused: an issuer whose requests time out again
// and again is paused (circuit breaker) instead of being sent every token
// in turn, and another issuer is served meanwhile.
func TestUnansweringIssuerIsPaused(t *testing.T) {
	const workers = 2
	e := newEnv(t, envOptions{config: fmt.Sprintf("CREDMON_OAUTH_HTTP_TIMEOUT = 1\nCREDMON_OAUTH_WORKERS = %d\nCREDMON_OAUTH_MIN_BACKOFF = 2\nCREDMON_OAUTH_MAX_BACKOFF = 60\n", workers)})
	healthy := oidcprovider.NewFaultProxy(t, e.idp.Issuer)
	e.proxy.SetMode(oidcprovider.Hang)
	t.Cleanup(e.proxy.Close)
	for i := 0; i < 20; i++ {
		e.webLogin(fmt.Sprintf("hung%02d", i), "webidp", e.grant("openid offline_access", ""), "", "")
	}
	e.waitLog("Issuer " + e.proxy.URL + " paused")
	e.webLoginVia("ok", "webidp", healthy.URL+"/token", e.grant("openid offline_access", ""))
	e.waitFor("the healthy issuer's token", func() bool { return e.exists("ok", "webidp.use") })
	// A failed probe pauses it again: the breaker is working, not just
	// tripped once.
	e.waitFor("a second pause (failed probe)", func() bool { return e.mon.Stats().IssuerPauses >= 2 })
	pauses := e.mon.Stats().IssuerPauses
	// Before the first pause at most breakerThreshold failures plus the
	// requests that were waiting for a slot went out; after it, one probe
	// per pause.
	if n, limit := e.proxy.Count("/token"), 3+2*workers+int(pauses); n > limit {
		t.Errorf("the paused issuer got %d requests for 20 tokens after %d pauses; want at most %d", n, pauses, limit)
	}
}

// TestRetryAfterIsHonoured: an issuer answering 429 with Retry-After: 120
// is asked again after 120 s, not after the 2, 4, 8 s of the backoff, and
// its other tokens wait with it.
func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.proxy.SetMode(oidcprovider.Throttle(http.StatusTooManyRequests, "120"))
	e.webLogin("alice", "webidp", e.grant("openid offline_access", ""), "", "")
	e.waitLog("paused for 2m0s: it asked to retry after 2m0s (Retry-After)")
	e.waitLog("retry_in=2m0s")
	if got := e.mon.Stats().IssuerPauses; got != 1 {
		t.Errorf("IssuerPauses = %d; want 1", got)
	}
}

// TestUseDirectoryCostsNoRefresh: a .use that is a directory can never be
// replaced. The daemon says so once and never spends a refresh (which
// would rotate the grant) until someone removes it; then it refreshes.
func TestUseDirectoryCostsNoRefresh(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	e.webLogin("alice", "webidp", e.grant("openid offline_access", ""), "", "")
	if err := os.Mkdir(e.path("alice", "webidp.use"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitLog("Cannot refresh webidp for user alice: webidp.use is a directory; remove it")
	completed := e.mon.Stats().Completed
	e.mon.Rescan()
	e.waitFor("another full pass", func() bool { return e.mon.Stats().Completed > completed })
	if n := e.proxy.Count("/token"); n != 0 {
		t.Errorf("%d token requests for a token whose .use is a directory; want 0", n)
	}
	if err := os.Remove(e.path("alice", "webidp.use")); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the .use written once the directory is gone", func() bool {
		st, err := os.Lstat(e.path("alice", "webidp.use"))
		return err == nil && st.Mode().IsRegular()
	})
}

// TestUnusableLocalFilesAreNotRetried: a .top too large to be a credential
// and a .meta that is a FIFO fail once, permanently, without a request to
// the issuer, until the file is replaced.
func TestUnusableLocalFilesAreNotRetried(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	big := `{"refresh_token":"x","pad":"` + strings.Repeat("a", 2<<20) + `"}`
	if err := e.credd.StoreMeta("big", "webidp", credtest.Meta{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		TokenURL: e.proxy.URL + "/token", UseRefreshToken: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreTop("big", "webidp", []byte(big)); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreTop("fifo", "webidp", []byte(`{"refresh_token":"never-sent"}`)); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(e.path("fifo", "webidp.meta"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitLog("Failed to refresh webidp tokens for user big; not retrying until the credential changes")
	e.waitLog("Cannot refresh webidp for user fifo: webidp.meta is a FIFO; remove it")
	for i := 0; i < 3; i++ {
		completed := e.mon.Stats().Completed
		e.mon.Rescan()
		e.waitFor("another full pass", func() bool { return e.mon.Stats().Completed > completed })
	}
	if got := e.mon.Stats().Failures; got != 1 {
		t.Errorf("%d failures after 3 more passes; want the one permanent failure", got)
	}
	if n := e.proxy.Count("/token"); n != 0 {
		t.Errorf("%d token requests; want 0", n)
	}
	// Replacing the files is what retries them.
	if err := os.Remove(e.path("fifo", "webidp.meta")); err != nil {
		t.Fatal(err)
	}
	e.webLogin("fifo", "webidp", e.grant("openid offline_access", ""), "", "")
	e.webLogin("big", "webidp", e.grant("openid offline_access", ""), "", "")
	e.waitFor("both refreshed after their files were replaced", func() bool {
		return e.exists("fifo", "webidp.use") && e.exists("big", "webidp.use")
	})
}

// TestSameTopReStoredMidRefreshKeepsRotation: a .top stored again with the
// same refresh token while that token's refresh is on the wire (a robot or
// condor_store_cred re-storing the credential, not a new login) gets the
// rotated refresh token; dropping our answer as "superseded" would leave
// the spent one and lose the grant.
func TestSameTopReStoredMidRefreshKeepsRotation(t *testing.T) {
	e := newEnv(t, envOptions{})
	release := make(chan struct{})
	e.proxy.SetMode(oidcprovider.Gate(release))
	g := e.grant("openid offline_access", "")
	e.webLogin("rob", "webidp", g, "", "")
	e.waitFor("the refresh on the wire", func() bool { return e.proxy.Count("/token") >= 1 })
	if err := e.credd.StoreTop("rob", "webidp", []byte(fmt.Sprintf(`{"refresh_token":%q}`, g.RefreshToken))); err != nil {
		t.Fatal(err)
	}
	close(release)
	e.waitFor("rob's .use", func() bool { return e.exists("rob", "webidp.use") })
	rt, _ := e.readJSON("rob", "webidp.top")["refresh_token"].(string)
	if rt == g.RefreshToken {
		t.Fatal("the re-stored .top kept the refresh token the issuer rotated")
	}
	if _, status, err := e.idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, rt, nil); status != http.StatusOK {
		t.Errorf("the saved refresh token is refused: HTTP %d %v", status, err)
	}
}

// TestEchoingIssuerLeaksNothingIntoTheLog: an issuer that echoes the whole
// request into its error (form body, Authorization header) must not get
// the refresh token or the client secret into the daemon's log, for a
// web-app token (.meta, secret in the form) and a configured provider
// (secret file).
func TestEchoingIssuerLeaksNothingIntoTheLog(t *testing.T) {
	e := newEnv(t, envOptions{infoLog: true})
	e.proxy.SetMode(oidcprovider.Echo(http.StatusBadRequest))
	g1, g2 := e.grant("openid offline_access", ""), e.grant("openid offline_access", "")
	e.webLogin("alice", "webidp", g1, "", "")
	if err := e.credd.StoreTop("bob", "myidp", []byte(fmt.Sprintf(`{"refresh_token":%q}`, g2.RefreshToken))); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitLog("Failed to refresh webidp tokens for user alice")
	e.waitLog("Failed to refresh myidp tokens for user bob")
	log := e.logs.String()
	for _, secret := range []string{g1.RefreshToken, g2.RefreshToken, oidcprovider.ClientSecret} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds a secret the issuer echoed (%d bytes)", len(secret))
		}
	}
	if !strings.Contains(log, "cannot process") {
		t.Error("the issuer's description was dropped instead of scrubbed")
	}
}

package credmon_test

// End-to-end tests of the monitor: a real OIDC provider process (behind a
// fault-injecting proxy where a test needs faults), real files in a temp
// credential directory, real fsnotify, and the credd emulator of package
// credtest (HTCondor's credd cannot be installed here; the emulator follows
// docs/htcondor-contract.md#handshake). The daemon runs in this process
// (credtest/daemontest), which forwards the SIGHUPs the emulator sends to
// the pid in the pid file to the running monitor.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/credmon/credtest/daemontest"
	"github.com/credmon/credmon/credmon/internal/clock"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vaulttest"
)

type env struct {
	t     testing.TB
	dir   string
	idp   *oidcprovider.Provider
	proxy *oidcprovider.FaultProxy
	credd *credtest.Credd
	// d is the daemon in this process; mon and logs are its Monitor and Log.
	d    *daemontest.Daemon
	mon  *credmon.Monitor
	logs *oidcprovider.Buffer
	now  func() time.Time
	// cfgFile is the condor_config; with envOptions.reload, rewrite it with
	// writeConfig and Rescan to apply it.
	cfgFile     string
	writeConfig func(extra string)
	base        string
	// vault is the Vault test server (envOptions.vault), reached at
	// https://localhost:8200 through the monitor's VaultDial; vaultDown
	// makes every connection to it fail, as a Vault that is down.
	vault     *vaulttest.Server
	vaultDown atomic.Bool
	// vaultDials counts connections the daemon opened to Vault.
	vaultDials atomic.Int64
}

type envOptions struct {
	config   string // extra config lines
	provider oidcprovider.ProviderOptions
	now      func() time.Time
	noStart  bool
	infoLog  bool // log at Info, the daemon's default level
	noWatch  bool
	noIdP    bool // local-issuer tests: no OIDC provider process
	reload   bool // SIGHUP re-reads cfgFile (rate limit applies)
	// reloadHook, with reload, runs on the monitor's goroutine at the
	// start of every configuration read, e.g. to hold the daemon inside a
	// slow pass.
	reloadHook func()
	// vault starts a Vault test server backed by the provider, on the
	// daemon's clock, and configures the daemon for it: its CA, the
	// provider "igwn" as a Vault one, TRUSTED_VAULT_HOSTS = localhost.
	vault bool
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{t: t, now: o.now}
	issuer, proxyURL := "http://127.0.0.1:1", "http://127.0.0.1:1"
	if !o.noIdP {
		e.idp = oidcprovider.StartOIDCProvider(t, o.provider)
		e.proxy = oidcprovider.NewFaultProxy(t, e.idp.Issuer)
		issuer, proxyURL = e.idp.Issuer, e.proxy.URL
	}
	vaultConf := ""
	var vaultDial func(ctx context.Context, network, addr string) (net.Conn, error)
	if o.vault {
		e.vault = vaulttest.Start(t, vaulttest.Options{Provider: e.idp, Now: o.now})
		vaultConf = fmt.Sprintf("AUTH_SSL_CLIENT_CAFILE = %s\nTRUSTED_VAULT_HOSTS = localhost\nVAULT_CREDMON_PROVIDER_NAMES = igwn\n", e.vault.CAFile)
		port := e.vault.URL[strings.LastIndexByte(e.vault.URL, ':')+1:]
		vaultDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			e.vaultDials.Add(1)
			if e.vaultDown.Load() {
				return nil, errors.New("connection refused (Vault is down)")
			}
			if host, p, err := net.SplitHostPort(addr); err == nil && p == "8200" {
				addr = net.JoinHostPort(host, port)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	base := t.TempDir()
	e.base = base
	e.dir = filepath.Join(base, "oauth_credentials")
	secret := filepath.Join(base, "client_secret")
	if err := os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// After the credential directory and ALLOW_INSECURE_TOKEN_URL, which
	// daemontest writes.
	conf := fmt.Sprintf(`CREDMON_OAUTH_MIN_BACKOFF = 1
CREDMON_OAUTH_MAX_BACKOFF = 2
CREDMON_OAUTH_HTTP_TIMEOUT = 3
# A provider configured for .top files without .meta, through the fault proxy.
MYIDP_CLIENT_ID = %s
MYIDP_CLIENT_SECRET_FILE = %s
MYIDP_TOKEN_URL = %s/token
# One that finds its token endpoint by OIDC discovery, directly.
DISC_CLIENT_ID = %s
DISC_CLIENT_SECRET_FILE = %s
DISC_ISSUER = %s
DISC_TOKEN_AUTH_METHOD = client_secret_basic
# Web-app providers (.meta carries the client): CLIENT_ID must be set.
WEBIDP_CLIENT_ID = %s
# For the tests' own lines: $(CREDTEST_PROXY_URL), $(CREDTEST_ISSUER), $(CREDTEST_SECRET_FILE).
CREDTEST_PROXY_URL = %s
CREDTEST_ISSUER = %s
CREDTEST_SECRET_FILE = %s
`, oidcprovider.ClientIDPost, secret, proxyURL, oidcprovider.ClientIDBasic, secret, issuer, oidcprovider.ClientIDPost, proxyURL, issuer, secret)
	level := hclog.Debug
	if o.infoLog {
		level = hclog.Info
	}
	var clk credmon.Clock
	if o.now != nil {
		clk = clock.Func(o.now)
	}
	e.d = daemontest.New(t, daemontest.Options{CredDir: e.dir, Config: conf + vaultConf + o.config, Level: level, Clock: clk,
		NoWatch: o.noWatch, Reload: o.reload, ReloadHook: o.reloadHook, VaultDial: vaultDial})
	e.mon, e.logs, e.cfgFile = e.d.Monitor, e.d.Log, e.d.ConfigFile
	e.writeConfig = func(extra string) {
		t.Helper()
		e.d.WriteConfig(conf + vaultConf + extra)
	}
	e.credd = credtest.NewCredd(t, e.dir)
	e.credd.NoPidCache = true
	if !o.noStart {
		e.start()
	}
	return e
}

// start runs the daemon and routes this process's SIGHUPs (credd's kicks)
// to it; stop stops it (the test's cleanup does too).
func (e *env) start() { e.t.Helper(); e.d.Start() }
func (e *env) stop()  { e.d.Stop() }

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	daemontest.WaitFor(e.t, what, cond)
}

func (e *env) path(user, file string) string { return filepath.Join(e.dir, user, file) }

func (e *env) readJSON(user, file string) map[string]any {
	e.t.Helper()
	b, err := os.ReadFile(e.path(user, file))
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s/%s is not JSON: %v: %q", user, file, err, b)
	}
	return m
}

func (e *env) exists(user, file string) bool {
	_, err := os.Stat(e.path(user, file))
	return err == nil
}

// webLogin stores what HTCondor's OAuth web app writes after a login:
// .top (refresh token, scopes, audience), .meta; no .use unless withUse.
func (e *env) webLogin(user, name string, g oidcprovider.Grant, scopes, audience string) {
	e.t.Helper()
	top := map[string]string{"refresh_token": g.RefreshToken}
	if scopes != "" {
		top["scopes"] = scopes
	}
	if audience != "" {
		top["audience"] = audience
	}
	b, _ := json.Marshal(top)
	if err := e.credd.StoreMeta(user, name, credtest.Meta{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		TokenURL: e.proxy.URL + "/token", UseRefreshToken: true}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.credd.StoreTop(user, name, b); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) grant(scope, audience string) oidcprovider.Grant {
	return e.idp.NewRefreshToken(e.t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		Scope: scope, Audience: audience})
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s mode = %v; want %v", path, fi.Mode().Perm(), want)
	}
}

func TestWebAppTokenRefreshedWithRotationScopesAndAudience(t *testing.T) {
	e := newEnv(t, envOptions{})
	const aud = "https://storage.example.org"
	g := e.grant("storage.read:/home compute.read", aud)
	e.webLogin("alice", "webidp", g, "storage.read:/home,compute.read", aud)
	e.waitFor("alice/webidp.use", func() bool { return e.exists("alice", "webidp.use") })

	raw, _ := os.ReadFile(e.path("alice", "webidp.use"))
	if bytes.Contains(raw, []byte("\n")) {
		t.Errorf(".use is not a single line: %q", raw)
	}
	use := e.readJSON("alice", "webidp.use")
	if _, ok := use["refresh_token"]; ok {
		t.Error(".use contains refresh_token")
	}
	for _, k := range []string{"access_token", "token_type", "expires_in", "expires_at", "scope"} {
		if _, ok := use[k]; !ok {
			t.Errorf(".use lacks %q: %v", k, use)
		}
	}
	if _, ok := use["scope"].([]any); !ok {
		t.Errorf(".use scope = %T; want a JSON list (oauthlib compatibility)", use["scope"])
	}
	claims := e.idp.VerifyAccessToken(t, use["access_token"].(string))
	if fmt.Sprint(claims["aud"]) != aud && fmt.Sprint(claims["aud"]) != "["+aud+"]" {
		t.Errorf("access token aud = %v; want %s", claims["aud"], aud)
	}
	if s, _ := claims["scope"].(string); !strings.Contains(s, "storage.read:/home") {
		t.Errorf("access token scope = %q; want storage.read:/home", s)
	}

	top := e.readJSON("alice", "webidp.top")
	if top["refresh_token"] == g.RefreshToken {
		t.Error("rotated refresh token was not persisted to .top")
	}
	if top["scopes"] != "storage.read:/home,compute.read" || top["audience"] != aud {
		t.Errorf(".top lost scopes/audience: %v", top)
	}
	if !e.credd.CredMatches("alice", "webidp", "storage.read:/home,compute.read", aud) {
		t.Error("credd would now report a credential mismatch")
	}
	// The old refresh token is spent: only the persisted one works.
	if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, top["refresh_token"].(string), nil); status != 200 {
		t.Errorf("persisted refresh token refused: HTTP %d", status)
	}
	assertMode(t, e.path("alice", "webidp.use"), 0o600)
	assertMode(t, e.path("alice", "webidp.top"), 0o600)
	// Logged after the .use is in place.
	e.waitFor(`"Successfully refreshed webidp tokens for user alice"`, func() bool {
		return strings.Contains(e.logs.String(), "Successfully refreshed webidp tokens for user alice")
	})
	assertNoSecrets(t, e.logs.String(), g.RefreshToken, top["refresh_token"].(string), use["access_token"].(string), oidcprovider.ClientSecret)
}

func assertNoSecrets(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		probe := s
		if len(probe) > 16 {
			probe = probe[len(probe)-16:]
		}
		if strings.Contains(logs, probe) {
			t.Errorf("a secret (…%s) appears in the log", probe[len(probe)-6:])
		}
	}
}

// TestUserStoredTopWithoutMeta: a refresh token stored by the user (or a
// robot) through credd has no .meta; the Python credmon never services it
// and credd's wait times out. We serve it from provider configuration.
func TestUserStoredTopWithoutMeta(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant("storage.read:/", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	took, err := e.credd.AddAndWait(context.Background(), "bob", "myidp", blob)
	if err != nil {
		t.Fatalf("credd AddAndWait: %v (after %v)", err, took)
	}
	use := e.readJSON("bob", "myidp.use")
	e.idp.VerifyAccessToken(t, use["access_token"].(string))
	t.Logf("credd saw bob/myidp.use after %v", took)

	// The same through OIDC discovery and client_secret_basic.
	g2 := e.idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
	blob, _ = json.Marshal(map[string]string{"refresh_token": g2.RefreshToken})
	if _, err := e.credd.AddAndWait(context.Background(), "bob", "disc", blob); err != nil {
		t.Fatalf("discovery provider: %v", err)
	}
	if e.proxy.Count("/.well-known/openid-configuration") != 0 {
		t.Error("discovery went through the wrong issuer")
	}
}

// TestOAuth2OpenSecretFileReadAndWarnedOnce: an OAuth2 provider's client
// secret file every user can read is still read (as credd reads it: sites
// coming from the Python credmon keep working), and warned about once,
// with the knob, the path and the fix, never the secret.
func TestOAuth2OpenSecretFileReadAndWarnedOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	secret := filepath.Join(e.base, "client_secret")
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"bob", "carl"} {
		g := e.grant("storage.read:/", "")
		blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
		if _, err := e.credd.AddAndWait(context.Background(), user, "myidp", blob); err != nil {
			t.Fatalf("%s: credd AddAndWait: %v", user, err)
		}
		e.idp.VerifyAccessToken(t, e.readJSON(user, "myidp.use")["access_token"].(string))
	}
	logs := e.logs.String()
	want := "myidp_CLIENT_SECRET_FILE = " + secret + ": mode 0644 lets every local user read or replace the client secret; run chmod o-rwx " + secret
	if n := strings.Count(logs, want); n != 1 {
		t.Errorf("the warning %q is logged %d times; want once:\n%s", want, n, logs)
	}
	assertNoSecrets(t, logs, oidcprovider.ClientSecret)
}

// TestAudienceModes: credd's -S/-A rewrite (multi-line JSON) with a
// requested audience; each audience mode gets a token for that audience.
func TestAudienceModes(t *testing.T) {
	for _, mode := range []string{"both", "resource", "audience"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, envOptions{config: "MYIDP_REFRESH_AUDIENCE_MODE = " + mode})
			const aud = "https://aud-" + "x.example"
			g := e.grant("storage.read:/data", aud)
			blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
			if err := e.credd.StoreTopWithScopes("carol", "myidp", blob, "storage.read:/data", aud); err != nil {
				t.Fatal(err)
			}
			if err := e.credd.Kick(); err != nil {
				t.Fatal(err)
			}
			e.waitFor(".use", func() bool { return e.exists("carol", "myidp.use") })
			claims := e.idp.VerifyAccessToken(t, e.readJSON("carol", "myidp.use")["access_token"].(string))
			if !strings.Contains(fmt.Sprint(claims["aud"]), aud) {
				t.Errorf("aud = %v; want %s", claims["aud"], aud)
			}
		})
	}
}

// TestRevokedTokenNotRetried: invalid_grant is permanent — the token is not
// retried on later passes (no hammering), the files stay as they were, and
// a new .top starts over.
func TestRevokedTokenNotRetried(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant("compute.read", "")
	e.idp.Revoke(t, oidcprovider.ClientIDPost, oidcprovider.ClientSecret, g.RefreshToken)
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("dave", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("the refresh attempt", func() bool { return e.proxy.Count("/token") >= 1 })
	e.waitFor("the failure to be logged", func() bool { return strings.Contains(e.logs.String(), "not retrying until the credential changes") })
	before := e.proxy.Count("/token")
	for i := 0; i < 5; i++ {
		e.mon.Rescan()
	}
	time.Sleep(300 * time.Millisecond) // give wrong retries a chance to happen
	if got := e.proxy.Count("/token"); got != before {
		t.Errorf("revoked token retried: %d requests after %d", got, before)
	}
	if e.exists("dave", "myidp.use") {
		t.Error("a .use appeared for a revoked token")
	}
	if got, _ := os.ReadFile(e.path("dave", "myidp.top")); !bytes.Equal(got, blob) {
		t.Error(".top changed after a failed refresh")
	}
	if n := strings.Count(e.logs.String(), "Failed to refresh myidp tokens for user dave"); n != 1 {
		t.Errorf("failure logged %d times; want once", n)
	}
	// A new login (new .top) is serviced at once.
	g2 := e.grant("compute.read", "")
	blob, _ = json.Marshal(map[string]string{"refresh_token": g2.RefreshToken})
	if _, err := e.credd.AddAndWait(context.Background(), "dave", "myidp", blob); err != nil {
		t.Fatalf("after re-login: %v", err)
	}
}

// TestIssuerFaultsKeepFilesAndIsolateTokens: 500s, lies and hangs at one
// issuer leave that token's files untouched and do not stop other tokens.
func TestIssuerFaultsKeepFilesAndIsolateTokens(t *testing.T) {
	modes := []oidcprovider.Mode{oidcprovider.Status500, oidcprovider.BadJSON, oidcprovider.Hang, oidcprovider.Down, oidcprovider.ErrorJSON("temporarily_unavailable")}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.proxy.SetMode(mode)
			g := e.grant("compute.read", "")
			blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
			if err := e.credd.StoreTop("erin", "myidp", blob); err != nil {
				t.Fatal(err)
			}
			// Ten healthy tokens of another provider (discovery, direct).
			for i := 0; i < 10; i++ {
				gi := e.idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
				b, _ := json.Marshal(map[string]string{"refresh_token": gi.RefreshToken})
				if err := e.credd.StoreTop(fmt.Sprintf("u%02d", i), "disc", b); err != nil {
					t.Fatal(err)
				}
			}
			e.mon.Rescan()
			for i := 0; i < 10; i++ {
				u := fmt.Sprintf("u%02d", i)
				e.waitFor(u+"/disc.use", func() bool { return e.exists(u, "disc.use") })
			}
			e.waitFor("a failed attempt", func() bool { return strings.Contains(e.logs.String(), "Failed to refresh myidp tokens for user erin") })
			if e.exists("erin", "myidp.use") {
				t.Error("a .use appeared from a faulty issuer")
			}
			if got, _ := os.ReadFile(e.path("erin", "myidp.top")); !bytes.Equal(got, blob) {
				t.Error(".top changed after a failed refresh")
			}
			// Heal the issuer: the backoff retry succeeds without any signal.
			e.proxy.SetMode(oidcprovider.Pass)
			e.waitFor("recovery", func() bool { return e.exists("erin", "myidp.use") })
		})
	}
}

// TestBrokenInputsDoNotStopOthers: garbage .meta/.top, a symlinked user dir,
// a FIFO .top and names ending in "_" next to ten good tokens.
func TestBrokenInputsDoNotStopOthers(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	for i := 0; i < 10; i++ {
		g := e.grant("compute.read", "")
		e.webLogin(fmt.Sprintf("good%02d", i), "webidp", g, "", "")
	}
	mk := func(p string, data string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mk(filepath.Join(e.dir, "bad1", "webidp.top"), `{"refresh_token": "x"}`)
	mk(filepath.Join(e.dir, "bad1", "webidp.meta"), `{not json`)
	mk(filepath.Join(e.dir, "bad2", "myidp.top"), `{"refresh_token": 7}`)
	mk(filepath.Join(e.dir, "bad3", "myidp_.top"), `{"refresh_token": "x"}`)
	mk(filepath.Join(e.dir, "bad4", "webidp.top"), `{"refresh_token": "x"}`)
	mk(filepath.Join(e.dir, "bad4", "webidp.meta"), `{"client_id": "c", "token_url": "ftp://nowhere"}`)
	if err := os.Mkdir(filepath.Join(e.dir, "fifo"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(e.dir, "fifo", "myidp.top"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	mk(filepath.Join(outside, "myidp.top"), `{"refresh_token": "stolen"}`)
	if err := os.Symlink(outside, filepath.Join(e.dir, "linked")); err != nil {
		t.Fatal(err)
	}
	e.start()
	for i := 0; i < 10; i++ {
		u := fmt.Sprintf("good%02d", i)
		e.waitFor(u, func() bool { return e.exists(u, "webidp.use") })
	}
	e.waitFor("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(e.dir, "CREDMON_COMPLETE")); return err == nil })
	if _, err := os.Stat(filepath.Join(outside, "myidp.use")); err == nil {
		t.Error("followed a symlinked user directory")
	}
	for _, p := range []string{"bad1/webidp.use", "bad2/myidp.use", "bad3/myidp_.use", "bad4/webidp.use"} {
		if _, err := os.Stat(filepath.Join(e.dir, p)); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

// TestRotatedTokenSurvivesUseWriteFailure: when the .use cannot be
// written after the issuer rotated the refresh token (here a directory
// appears in its place while the request is on the wire), the rotated
// refresh token is on disk anyway, and the daemon spends no further
// refresh on a .use it cannot replace.
func TestRotatedTokenSurvivesUseWriteFailure(t *testing.T) {
	e := newEnv(t, envOptions{})
	release := make(chan struct{})
	e.proxy.SetMode(oidcprovider.Gate(release))
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("frank", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("the refresh on the wire", func() bool { return e.proxy.Count("/token") >= 1 })
	if err := os.MkdirAll(e.path("frank", "myidp.use"), 0o700); err != nil {
		t.Fatal(err)
	}
	close(release)
	// The loop says this only once it has handled the worker's result (a
	// token in flight is not evaluated), and a worker removes its temp
	// file before it sends its result: from here on a temp file is a leak,
	// not a clean-up still in progress.
	e.waitLog("Cannot refresh myidp for user frank: myidp.use is a directory; remove it")
	if n := e.mon.Stats().Failures; n < 1 {
		t.Fatalf("%d failures; want the .use write failure", n)
	}
	b, _ := os.ReadFile(e.path("frank", "myidp.top"))
	if bytes.Equal(b, blob) {
		t.Fatal("the rotated refresh token was not persisted before the .use write")
	}
	top := e.readJSON("frank", "myidp.top")
	if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, top["refresh_token"].(string), nil); status != 200 {
		t.Errorf("persisted refresh token does not work: HTTP %d", status)
	}
	ents, _ := os.ReadDir(filepath.Join(e.dir, "frank"))
	for _, en := range ents {
		if strings.HasSuffix(en.Name(), ".tmp") {
			t.Errorf("temp file left: %s", en.Name())
		}
	}
	if n := e.proxy.Count("/token"); n != 1 {
		t.Errorf("%d token requests; want the one that rotated (none for a .use that cannot be written)", n)
	}
}

// TestTopReplacedDuringRefresh: a new login while our request is on the
// wire wins; our stale result is discarded and the new .top is refreshed.
func TestTopReplacedDuringRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.proxy.SetMode(oidcprovider.Slow(1500 * time.Millisecond))
	g1 := e.grant("compute.read", "")
	g2 := e.grant("compute.read", "")
	b1, _ := json.Marshal(map[string]string{"refresh_token": g1.RefreshToken, "scopes": "compute.read"})
	b2, _ := json.Marshal(map[string]string{"refresh_token": g2.RefreshToken, "scopes": "compute.read", "note": "new login"})
	if err := e.credd.StoreTop("gina", "myidp", b1); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("request on the wire", func() bool { return e.proxy.Count("/token") >= 1 })
	if err := e.credd.StoreTop("gina", "myidp", b2); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetMode(oidcprovider.Pass)
	e.waitFor("the new .top refreshed", func() bool {
		top := e.readJSON("gina", "myidp.top")
		return top["note"] == "new login" && top["refresh_token"] != g2.RefreshToken && e.exists("gina", "myidp.use")
	})
	if !strings.Contains(e.logs.String(), "replaced during refresh") {
		t.Error("the superseded refresh was not detected")
	}
}

// TestLeavesOtherFilesAlone: plain creds, local-issuer .top files, marks,
// unknown files and fresh key files are never touched; stale key files
// (ctime > 12 h, seen through the injected clock) are removed.
func TestLeavesOtherFilesAlone(t *testing.T) {
	var mu sync.Mutex
	offset := time.Duration(0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	// scitokens is not a local provider here, so its .top is a credential
	// of no type we serve (local minting has its own tests).
	e := newEnv(t, envOptions{now: now, noStart: true, config: "LOCAL_CREDMON_PROVIDER_NAMES = mylocal"})
	files := map[string]string{
		"henry/plain.use":     "plain-token",
		"henry/scitokens.top": "henry@example.org",
		"henry/box.use":       `{"access_token": "x", "expires_in": 1}`,
		"henry.mark":          "",
		"README.credentials":  "docs",
		"wsgi_session_key":    "k",
		"henry/other.mark":    "",
		// No vault_url: not a Vault .top by credd's rule, and Vault is not
		// enabled (a vault_url would make it one: TestVaultTopOfUnownedNameIsServiced).
		"henry/vaulty.top": `{"vault_token": "v"}`,
	}
	for p, c := range files {
		full := filepath.Join(e.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key := strings.Repeat("ab", 32)
	notKeys := []string{strings.Repeat("AB", 32), strings.Repeat("a", 63)}
	for _, k := range append(notKeys, key) {
		if err := os.WriteFile(filepath.Join(e.dir, k), []byte("Provider = \"x\""), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]os.FileInfo{}
	for p := range files {
		fi, _ := os.Stat(filepath.Join(e.dir, p))
		before[p] = fi
	}
	e.start()
	for i := 0; i < 3; i++ {
		n := e.mon.Stats().Passes
		e.mon.Rescan()
		e.waitFor("a pass", func() bool { return e.mon.Stats().Passes > n })
	}
	if _, err := os.Stat(filepath.Join(e.dir, key)); err != nil {
		t.Error("a fresh key file was deleted")
	}
	mu.Lock()
	offset = 13 * time.Hour
	mu.Unlock()
	e.mon.Rescan()
	e.waitFor("stale key file removal", func() bool { _, err := os.Stat(filepath.Join(e.dir, key)); return err != nil })
	for _, k := range notKeys {
		if _, err := os.Stat(filepath.Join(e.dir, k)); err != nil {
			t.Errorf("non-key file %s deleted", k)
		}
	}
	for p, fi := range before {
		now, err := os.Stat(filepath.Join(e.dir, p))
		if err != nil {
			t.Errorf("%s removed", p)
			continue
		}
		if !os.SameFile(fi, now) || !now.ModTime().Equal(fi.ModTime()) {
			t.Errorf("%s was rewritten", p)
		}
	}
	if e.proxy.Total() != 0 {
		t.Errorf("%d requests sent for files that are not OAuth2 tokens", e.proxy.Total())
	}
	if strings.Contains(e.logs.String(), "[WARN]") {
		t.Errorf("warnings logged for files that are not ours:\n%s", e.logs.String())
	}
}

// TestUserDirVanishesMidRefresh: credd sweeps a user while we refresh.
func TestUserDirVanishesMidRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.proxy.SetMode(oidcprovider.Slow(800 * time.Millisecond))
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("ivan", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("request on the wire", func() bool { return e.proxy.Count("/token") >= 1 })
	if err := e.credd.Sweep("ivan"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the refresh to finish", func() bool {
		return strings.Contains(e.logs.String(), "vanished") || strings.Contains(e.logs.String(), "Failed to refresh")
	})
	if _, err := os.Stat(filepath.Join(e.dir, "ivan")); err == nil {
		t.Error("the daemon re-created a user directory")
	}
	// And it keeps working for others.
	g2 := e.grant("compute.read", "")
	b2, _ := json.Marshal(map[string]string{"refresh_token": g2.RefreshToken})
	e.proxy.SetMode(oidcprovider.Pass)
	if _, err := e.credd.AddAndWait(context.Background(), "judy", "myidp", b2); err != nil {
		t.Fatal(err)
	}
	// No temp file anywhere once the daemon has stopped (the Python credmon
	// leaks them into the cred-dir root when a rename fails).
	e.stop()
	filepath.WalkDir(e.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
			t.Errorf("temp file leaked: %s", p)
		}
		return nil
	})
}

// TestCompleteAndCoalescing: CREDMON_COMPLETE is absent at start until a
// pass ends, comes back after removal; 50 SIGHUP-style kicks during a slow
// pass cause at most one extra pass.
func TestCompleteAndCoalescing(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	complete := filepath.Join(e.dir, "CREDMON_COMPLETE")
	if err := os.WriteFile(complete, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetMode(oidcprovider.Slow(1 * time.Second))
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("kim", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.start()
	if _, err := os.Stat(complete); err == nil {
		t.Fatal("CREDMON_COMPLETE present before the first pass finished")
	}
	passes := e.mon.Stats().Passes
	for i := 0; i < 50; i++ {
		if err := e.credd.Kick(); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("CREDMON_COMPLETE", func() bool { _, err := os.Stat(complete); return err == nil })
	if !e.exists("kim", "myidp.use") {
		t.Error("CREDMON_COMPLETE written before the pass's refresh finished")
	}
	time.Sleep(200 * time.Millisecond) // let late kicks land
	// No refresh storm: however many passes the kicks caused, the token
	// was refreshed once (an in-flight refresh is never started twice).
	if n := e.proxy.Count("/token"); n != 1 {
		t.Errorf("50 kicks caused %d token requests; want 1", n)
	}
	t.Logf("passes for 50 kicks: %d", e.mon.Stats().Passes-passes)
	if err := os.Remove(complete); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("CREDMON_COMPLETE again", func() bool { _, err := os.Stat(complete); return err == nil })
}

package credmon_test

// End-to-end tests of Vault credentials: the Vault API test server
// (internal/vaulttest) backed by the real OIDC provider, the credd
// emulator storing condor_vault_storer's .top files, and the daemon
// turning them into .use files. The daemon and the Vault server share one
// clock, shifted by the tests (no sleeps); the OIDC provider runs on the
// real clock.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/internal/vaulttest"
)

// vaultURL is the vault_url condor_vault_storer records for user's
// credential: https, port 8200, /v1, a creds (or sts) path.
func vaultURL(kind, user string) string {
	return fmt.Sprintf("https://localhost:8200/v1/secret/oauth/%s/%s/%s:%s", kind, vaulttest.DefaultIssuer, user, vaulttest.DefaultRole)
}

// newVaultEnv starts a monitor with a Vault server and an offset clock
// the test moves; the provider's access tokens live an hour.
func newVaultEnv(t *testing.T, config string) (*env, *atomic.Int64) {
	t.Helper()
	offset := new(atomic.Int64)
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := newEnv(t, envOptions{vault: true, now: now, infoLog: true, config: config,
		provider: oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour}})
	return e, offset
}

// vaultLogin does what a user's first condor_vault_storer run leaves in
// Vault: a refresh token for user stored in the secrets engine, and a
// 28-day Vault token whose policy may read only user's credential. It
// returns the Vault token.
func (e *env) vaultLogin(user, scope string) string {
	e.t.Helper()
	g := e.idp.NewRefreshToken(e.t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic,
		ClientSecret: oidcprovider.ClientSecret, Scope: scope})
	e.vault.SeedRefreshToken(vaulttest.DefaultIssuer, user, vaulttest.DefaultRole, g.RefreshToken)
	path := vault.CredsPath(vaulttest.DefaultIssuer, user, vaulttest.DefaultRole)
	e.vault.AddPolicy(user,
		vaulttest.Rule{Path: path, Capabilities: []string{"read"}},
		vaulttest.Rule{Path: vault.STSPath(vaulttest.DefaultIssuer, user, vaulttest.DefaultRole), Capabilities: []string{"read"}})
	return e.vault.MintToken(vaulttest.TokenSpec{Policies: []string{user}, TTL: vaulttest.DefaultLoginTTL})
}

// storeVaultTop stores a Vault .top as credd does for condor_vault_storer
// (vault_token only when given; scopes/audience merged by credd).
func (e *env) storeVaultTop(user, name, token, url, scopes, audience string) {
	e.t.Helper()
	top := map[string]string{"vault_url": url}
	if token != "" {
		top["vault_token"] = token
	}
	b, _ := json.Marshal(top)
	var err error
	if scopes != "" || audience != "" {
		err = e.credd.StoreTopWithScopes(user, name, b, scopes, audience)
	} else {
		err = e.credd.StoreTop(user, name, b)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) readUse(user, name string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.path(user, name+".use"))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func (e *env) fileID(user, file string) os.FileInfo {
	e.t.Helper()
	fi, err := os.Stat(e.path(user, file))
	if err != nil {
		e.t.Fatal(err)
	}
	return fi
}

// TestVaultTopBecomesUseAndIsKeptFresh: a credd-stored Vault .top becomes
// a .use holding a bare access token the provider signed; a handle's .top
// without a vault_token uses its parent's, and its sts vault_url gets the
// handle's scopes and audience; once the access tokens are past their
// refresh point on the daemon's clock, both are refreshed again through
// Vault (which refreshes at the provider).
func TestVaultTopBecomesUseAndIsKeptFresh(t *testing.T) {
	e, offset := newVaultEnv(t, "")
	tok := e.vaultLogin("alice", "storage.read:/ compute.read")
	e.storeVaultTop("alice", "igwn", tok, vaultURL("creds", "alice"), "", "")
	const aud = "https://storage.example.org"
	e.storeVaultTop("alice", "igwn_read", "", vaultURL("sts", "alice"), "storage.read:/", aud)
	e.waitFor("both .use files", func() bool { return e.exists("alice", "igwn.use") && e.exists("alice", "igwn_read.use") })
	// The worker writes the .use before the loop takes its result (and
	// schedules the next refresh from it): wait for the loop's own count,
	// or the clock moved below could be read when it schedules.
	e.waitFor("both results handled", func() bool { return e.mon.Stats().Refreshes >= 2 })

	first := e.readUse("alice", "igwn")
	if strings.ContainsAny(first, "{\n ") {
		t.Errorf("igwn.use is not a bare token: %q", first)
	}
	claims := e.idp.VerifyAccessToken(t, first)
	if s, _ := claims["scope"].(string); !strings.Contains(s, "compute.read") {
		t.Errorf("igwn.use scope = %q; want the stored grant's", s)
	}
	handle := e.readUse("alice", "igwn_read")
	hc := e.idp.VerifyAccessToken(t, handle)
	if fmt.Sprint(hc["aud"]) != aud && fmt.Sprint(hc["aud"]) != "["+aud+"]" {
		t.Errorf("igwn_read.use aud = %v; want %s", hc["aud"], aud)
	}
	if s, _ := hc["scope"].(string); s != "storage.read:/" {
		t.Errorf("igwn_read.use scope = %q; want storage.read:/", s)
	}
	assertMode(t, e.path("alice", "igwn.use"), 0o600)
	if strings.Contains(e.logs.String(), tok) || strings.Contains(e.logs.String(), first) {
		t.Error("a Vault or access token is in the log")
	}
	if !e.credd.CredMatches("alice", "igwn_read", "storage.read:/", aud) {
		t.Error("credd would report a credential mismatch for the handle")
	}

	// Past the access tokens' refresh point (half of an hour), on the
	// daemon's and Vault's clock: Vault's cached token no longer has
	// CREDMON_OAUTH_TOKEN_MINIMUM left, so Vault refreshes it.
	refreshes := e.mon.Stats().Refreshes
	vaultRefreshes := e.vault.Stats().Refreshes
	offset.Add(int64(35 * time.Minute))
	e.pass()
	e.waitFor("both refreshed again", func() bool { return e.mon.Stats().Refreshes >= refreshes+2 })
	second := e.readUse("alice", "igwn")
	if second == first {
		t.Error("igwn.use still holds the first access token")
	}
	e.idp.VerifyAccessToken(t, second)
	if e.readUse("alice", "igwn_read") == handle {
		t.Error("igwn_read.use still holds the first exchanged token")
	}
	if got := e.vault.Stats().Refreshes; got <= vaultRefreshes {
		t.Errorf("Vault refreshed %d times since; want the daemon's request to have made it refresh", got-vaultRefreshes)
	}
	// Not again until the new tokens' own refresh point.
	refreshes = e.mon.Stats().Refreshes
	e.pass()
	if got := e.mon.Stats().Refreshes; got != refreshes {
		t.Errorf("%d refreshes on a pass with fresh tokens; want none", got-refreshes)
	}
}

// TestVaultPermissionDeniedKeepsFiles: when Vault refuses the Vault token
// (revoked), condor_credmon_vault deletes .top and .use; here both stay,
// the failure is logged once however many passes follow, nothing is
// retried, and a new .top (a new Vault token) is refreshed at once.
func TestVaultPermissionDeniedKeepsFiles(t *testing.T) {
	e, offset := newVaultEnv(t, "")
	tok := e.vaultLogin("bob", "compute.read")
	e.storeVaultTop("bob", "igwn", tok, vaultURL("creds", "bob"), "", "")
	e.waitFor("bob/igwn.use", func() bool { return e.exists("bob", "igwn.use") })
	e.waitFor("the result handled", func() bool { return e.mon.Stats().Refreshes >= 1 })
	top, use := e.fileID("bob", "igwn.top"), e.fileID("bob", "igwn.use")
	useBytes := e.readUse("bob", "igwn")

	e.vault.Revoke(tok)
	failures := e.mon.Stats().Failures
	offset.Add(int64(35 * time.Minute))
	e.pass()
	e.waitFor("the failure", func() bool { return e.mon.Stats().Failures > failures })
	for i := 0; i < 3; i++ {
		offset.Add(int64(10 * time.Minute))
		e.pass()
	}
	const msg = "Vault refused the Vault token of igwn for user bob"
	if n := strings.Count(e.logs.String(), msg); n != 1 {
		t.Errorf("the refusal was logged %d times; want once:\n%s", n, e.logs.String())
	}
	if got := e.mon.Stats().Failures; got != failures+1 {
		t.Errorf("%d attempts with the refused token; want 1", got-failures)
	}
	if !os.SameFile(top, e.fileID("bob", "igwn.top")) || !os.SameFile(use, e.fileID("bob", "igwn.use")) || e.readUse("bob", "igwn") != useBytes {
		t.Error("the .top or .use was removed or replaced")
	}

	// The user submits again: condor_vault_storer stores a new Vault token.
	tok2 := e.vault.MintToken(vaulttest.TokenSpec{Policies: []string{"bob"}, TTL: vaulttest.DefaultLoginTTL})
	e.storeVaultTop("bob", "igwn", tok2, vaultURL("creds", "bob"), "", "")
	e.pass()
	e.waitFor("a new .use", func() bool { return e.readUse("bob", "igwn") != useBytes })
	e.idp.VerifyAccessToken(t, e.readUse("bob", "igwn"))
}

// TestVaultUntrustedHostRefused: a vault_url whose host is not in
// TRUSTED_VAULT_HOSTS is refused before any request (the Vault token must
// not go there), once, naming the knob; no .use is written.
func TestVaultUntrustedHostRefused(t *testing.T) {
	e, _ := newVaultEnv(t, "")
	e.storeVaultTop("carol", "igwn", "hvs.not-for-strangers", "https://vault.example.org:8200/v1/secret/oauth/creds/test/carol:default", "", "")
	e.pass()
	e.waitLog("Vault host vault.example.org is not in TRUSTED_VAULT_HOSTS")
	e.pass()
	if n := strings.Count(e.logs.String(), "is not in TRUSTED_VAULT_HOSTS"); n != 1 {
		t.Errorf("refusal logged %d times; want once", n)
	}
	if e.exists("carol", "igwn.use") {
		t.Error("a .use was written")
	}
	if strings.Contains(e.logs.String(), "hvs.not-for-strangers") {
		t.Error("the Vault token is in the log")
	}
}

// TestVaultHandleWithoutParentWaitsForIt: a handle's .top without a
// vault_token whose parent .top does not exist yet fails permanently
// (condor_credmon_vault deletes it), and is refreshed as soon as the
// parent arrives, though its own .top did not change.
func TestVaultHandleWithoutParentWaitsForIt(t *testing.T) {
	e, _ := newVaultEnv(t, "")
	tok := e.vaultLogin("dave", "storage.read:/")
	e.storeVaultTop("dave", "igwn_read", "", vaultURL("sts", "dave"), "storage.read:/", "")
	e.pass()
	e.waitLog("igwn.top, whose vault_token it uses, does not exist")
	if e.exists("dave", "igwn_read.use") {
		t.Fatal("a .use without a Vault token")
	}
	e.storeVaultTop("dave", "igwn", tok, vaultURL("creds", "dave"), "", "")
	e.pass()
	e.waitFor("dave/igwn_read.use", func() bool { return e.exists("dave", "igwn_read.use") })
	e.idp.VerifyAccessToken(t, e.readUse("dave", "igwn_read"))
}

// TestVaultDownBacksOffOthersUnaffected: with Vault unreachable, its
// credentials fail and back off, the Vault host's breaker pauses it, and
// an OAuth2 token of another issuer is refreshed meanwhile; when Vault is
// back its credential is refreshed.
func TestVaultDownBacksOffOthersUnaffected(t *testing.T) {
	e, _ := newVaultEnv(t, "")
	tok := e.vaultLogin("erin", "compute.read")
	e.vaultDown.Store(true)
	e.storeVaultTop("erin", "igwn", tok, vaultURL("creds", "erin"), "", "")
	e.waitFor("the Vault host paused", func() bool { return e.mon.Stats().IssuerPauses > 0 })
	if !strings.Contains(e.logs.String(), "Issuer https://localhost:8200 paused") {
		t.Errorf("no pause of the Vault host in the log:\n%s", e.logs.String())
	}
	if !strings.Contains(e.logs.String(), "Failed to refresh igwn tokens for user erin; will retry") {
		t.Errorf("no retryable failure in the log:\n%s", e.logs.String())
	}
	g := e.grant("compute.read", "")
	e.webLogin("frank", "webidp", g, "", "")
	e.waitFor("frank/webidp.use while Vault is down", func() bool { return e.exists("frank", "webidp.use") })
	if e.exists("erin", "igwn.use") {
		t.Fatal("a .use while Vault is down")
	}
	e.vaultDown.Store(false)
	e.waitFor("erin/igwn.use once Vault is back", func() bool { return e.exists("erin", "igwn.use") })
	e.idp.VerifyAccessToken(t, e.readUse("erin", "igwn"))
}

// TestVaultTokenExpiryWarnedOnce: a Vault token with less than a week
// left is warned about once, with its expiry, however often its access
// token is refreshed.
func TestVaultTokenExpiryWarnedOnce(t *testing.T) {
	e, offset := newVaultEnv(t, "")
	e.vaultLogin("gina", "compute.read")
	tok := e.vault.MintToken(vaulttest.TokenSpec{Policies: []string{"gina"}, TTL: 3 * 24 * time.Hour})
	e.storeVaultTop("gina", "igwn", tok, vaultURL("creds", "gina"), "", "")
	e.waitLog("The Vault token of igwn for user gina expires in 72h0m0s")
	refreshes := e.mon.Stats().Refreshes
	offset.Add(int64(35 * time.Minute))
	e.pass()
	e.waitFor("a second refresh", func() bool { return e.mon.Stats().Refreshes > refreshes })
	if n := strings.Count(e.logs.String(), "The Vault token of igwn for user gina expires"); n != 1 {
		t.Errorf("expiry warned %d times; want once", n)
	}
	if bytes.Contains([]byte(e.logs.String()), []byte(tok)) {
		t.Error("the Vault token is in the log")
	}
}

// TestVaultTopOfUnownedNameIsServiced: credd stores any credential with a
// vault_url as a Vault .top, also under a name no credmon type owns (a
// robot's condor_store_cred add-oauth on an access point where neither
// VAULT_CREDMON_PROVIDER_NAMES nor SEC_CREDENTIAL_STORER is set);
// condor_credmon_vault services it, and so does this daemon. A plain .use
// under such a name stays untouched. With VAULT_CREDMON_PROVIDER_NAMES
// naming other providers, the admin's list wins, as in
// condor_credmon_vault: left alone.
func TestVaultTopOfUnownedNameIsServiced(t *testing.T) {
	e, _ := newVaultEnv(t, "VAULT_CREDMON_PROVIDER_NAMES =")
	tok := e.vaultLogin("hank", "compute.read")
	if err := e.credd.StorePlainUse("hank", "plain", []byte("opaque-token")); err != nil {
		t.Fatal(err)
	}
	e.storeVaultTop("hank", "robot", tok, vaultURL("creds", "hank"), "", "")
	e.waitFor("hank/robot.use", func() bool { return e.exists("hank", "robot.use") })
	e.idp.VerifyAccessToken(t, e.readUse("hank", "robot"))
	if got := e.readUse("hank", "plain"); got != "opaque-token" {
		t.Errorf("the plain .use changed: %q", got)
	}
}

// TestVaultTopOfNameOutsideVaultListIsLeftAlone: the other half of
// TestVaultTopOfUnownedNameIsServiced.
func TestVaultTopOfNameOutsideVaultListIsLeftAlone(t *testing.T) {
	e, _ := newVaultEnv(t, "") // VAULT_CREDMON_PROVIDER_NAMES = igwn
	tok := e.vaultLogin("ivy", "compute.read")
	e.storeVaultTop("ivy", "robot", tok, vaultURL("creds", "ivy"), "", "")
	before := e.fileID("ivy", "robot.top")
	e.pass()
	e.pass()
	if e.exists("ivy", "robot.use") || !os.SameFile(before, e.fileID("ivy", "robot.top")) {
		t.Error("a Vault .top under a name VAULT_CREDMON_PROVIDER_NAMES does not list was serviced or touched")
	}
}

// TestVaultRequestOnTheWireFinishesAtStop: a stop sends no new request,
// but one already on its way to Vault (here: Vault waiting on a slow
// provider to refresh) finishes and its .use is written before Run
// returns, as for OAuth2 refreshes: Vault may have rotated the refresh
// token it holds for this very answer.
func TestVaultRequestOnTheWireFinishesAtStop(t *testing.T) {
	e := newEnv(t, envOptions{vault: true, noStart: true, infoLog: true,
		provider: oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour, RefreshDelay: time.Second}})
	tok := e.vaultLogin("jack", "compute.read")
	e.storeVaultTop("jack", "igwn", tok, vaultURL("creds", "jack"), "", "")
	e.start()
	e.waitFor("the request to Vault", func() bool { return e.vaultDials.Load() > 0 })
	e.stop()
	if !e.exists("jack", "igwn.use") {
		t.Fatalf("the answer of the request on the wire was not saved:\n%s", e.logs.String())
	}
	e.idp.VerifyAccessToken(t, e.readUse("jack", "igwn"))
}

// TestVaultMinimumLongerThanTokensNamesTheKnob: Vault answers "token
// expired" when even a fresh access token has less than minimum_seconds;
// the failure names CREDMON_OAUTH_TOKEN_MINIMUM, once, and is not retried
// until the configuration changes.
func TestVaultMinimumLongerThanTokensNamesTheKnob(t *testing.T) {
	e, _ := newVaultEnv(t, "CREDMON_OAUTH_TOKEN_MINIMUM = 7200") // the provider's tokens live an hour
	tok := e.vaultLogin("kim", "compute.read")
	e.storeVaultTop("kim", "igwn", tok, vaultURL("creds", "kim"), "", "")
	e.waitLog("lower it")
	e.pass()
	e.pass()
	if n := strings.Count(e.logs.String(), "live less than CREDMON_OAUTH_TOKEN_MINIMUM (2h0m0s)"); n != 1 {
		t.Errorf("logged %d times; want once:\n%s", n, e.logs.String())
	}
	if e.mon.Stats().Failures != 1 {
		t.Errorf("%d attempts; want 1", e.mon.Stats().Failures)
	}
}

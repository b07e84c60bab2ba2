package credmon_test

// End-to-end tests of the local issuer (LocalCredmon's job): the monitor
// with real files, real fsnotify, the credd emulator's CREDD_CHECK_CREDS
// (docs/htcondor-contract.md#handshake, step 4), and tokens verified against the published JWKS and, where
// the tool exists, by openssl.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/oidcprovider"
)

const localAud = "https://storage.example.org"

// localEnv starts a monitor with a local issuer whose key pair lives in
// the test's temp dir, and no OIDC provider.
func localEnv(t *testing.T, extra string, opts ...func(*envOptions)) (*env, string) {
	t.Helper()
	keyDir := t.TempDir()
	priv, pub := filepath.Join(keyDir, "issuer.pem"), filepath.Join(keyDir, "issuer.pub")
	if _, err := localissuer.EnsureKeyPair(priv, pub); err != nil {
		t.Fatal(err)
	}
	o := envOptions{noIdP: true, infoLog: true, config: fmt.Sprintf(`
LOCAL_CREDMON_PRIVATE_KEY = %s
LOCAL_CREDMON_PUBLIC_KEY = %s
LOCAL_CREDMON_ISSUER = https://ap.example.org
LOCAL_CREDMON_KEY_ID = test-key
LOCAL_CREDMON_TOKEN_AUDIENCE = %s
%s`, priv, pub, localAud, extra)}
	for _, f := range opts {
		f(&o)
	}
	return newEnv(t, o), priv
}

// verifyLocal checks a minted token's signature against the JWKS of key
// file priv and returns its claims and header.
func verifyLocal(t *testing.T, token, priv, kid string) (map[string]any, map[string]any) {
	t.Helper()
	key, err := localissuer.LoadPrivateKey(priv, "ES256", kid)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := localissuer.JWKS(key)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := localissuer.Verify(token, jwks, localissuer.VerifyOptions{})
	if err != nil {
		t.Fatalf("token does not verify against the JWKS: %v", err)
	}
	hb, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var header map[string]any
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	return claims, header
}

// pass asks for a full pass and waits until it and every refresh it
// started have finished.
func (e *env) pass() {
	e.t.Helper()
	n := e.mon.Stats().Passes
	e.mon.Rescan()
	e.waitFor("a pass", func() bool { s := e.mon.Stats(); return s.Passes > n && s.Completed >= s.Passes })
}

func (e *env) waitLog(s string) {
	e.t.Helper()
	e.waitFor(fmt.Sprintf("log line %q", s), func() bool { return strings.Contains(e.logs.String(), s) })
}

func TestLocalMintOnCheckCreds(t *testing.T) {
	e, priv := localEnv(t, "")
	e.credd.LocalDomain = "ap.example.org" // credd writes user@domain in .top (observed on 25.14; docs/htcondor-contract.md#top)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.credd.CheckLocalCreds(ctx, "alice", "scitokens"); err != nil {
		t.Fatalf("CREDD_CHECK_CREDS: %v", err)
	}
	raw, err := os.ReadFile(e.path("alice", "scitokens.use"))
	if err != nil {
		t.Fatal(err)
	}
	// LocalCredmon's json.dumps shape, byte for byte apart from the token.
	var use struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &use); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"access_token": "%s", "expires_in": 1200}`, use.AccessToken); string(raw) != want {
		t.Errorf(".use = %q; want %q", raw, want)
	}
	claims, header := verifyLocal(t, use.AccessToken, priv, "test-key")
	if header["alg"] != "ES256" || header["typ"] != "JWT" || header["kid"] != "test-key" {
		t.Errorf("header = %v", header)
	}
	if claims["sub"] != "alice" || claims["iss"] != "https://ap.example.org" || claims["ver"] != "scitoken:2.0" ||
		claims["scope"] != "read:/user/alice write:/user/alice" {
		t.Errorf("claims = %v", claims)
	}
	if aud, ok := claims["aud"].([]any); !ok || len(aud) != 1 || aud[0] != localAud {
		t.Errorf("aud = %#v; want a one-element array", claims["aud"])
	}
	iat, nbf, exp := claims["iat"].(float64), claims["nbf"].(float64), claims["exp"].(float64)
	if iat != nbf || exp-iat != 1200 {
		t.Errorf("iat %v nbf %v exp %v: want iat == nbf, exp = iat + 1200", iat, nbf, exp)
	}
	if jti, _ := claims["jti"].(string); len(jti) != 36 {
		t.Errorf("jti = %q; want a UUID", claims["jti"])
	}
	assertMode(t, e.path("alice", "scitokens.use"), 0o600)
	e.waitLog("Successfully renewed SciToken for user: alice")
	assertNoSecrets(t, e.logs.String(), use.AccessToken)

	// A second CREDD_CHECK_CREDS finds the .use and sends no kick.
	kicks := e.credd.Kicks()
	if _, err := e.credd.CheckLocalCreds(ctx, "alice", "scitokens"); err != nil || e.credd.Kicks() != kicks {
		t.Errorf("second check: err %v, kicks %d -> %d", err, kicks, e.credd.Kicks())
	}
}

func TestLocalProvidersHandlesAndOverrides(t *testing.T) {
	e, priv := localEnv(t, `
LOCAL_CREDMON_PROVIDER_NAMES = scitokens, wlcg
LOCAL_CREDMON_WLCG_ISSUER = https://wlcg.example.org
LOCAL_CREDMON_WLCG_KEY_ID = wlcg-key
LOCAL_CREDMON_WLCG_TOKEN_VERSION = wlcg:1.0
LOCAL_CREDMON_WLCG_TOKEN_AUDIENCE = https://wlcg.cern.ch/jwt/v1/any
LOCAL_CREDMON_WLCG_AUTHZ_TEMPLATE = storage.read:/{username} {{literal}}
LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR = strcat("compute.read:/jobs/", Username)
`)
	for _, name := range []string{"scitokens", "wlcg", "wlcg_other"} {
		if err := e.credd.StoreLocal("bob", name); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.credd.Kick(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scitokens", "wlcg", "wlcg_other"} {
		e.waitFor("bob/"+name+".use", func() bool { return e.exists("bob", name+".use") })
	}
	tok := func(name string) string {
		return e.readJSON("bob", name+".use")["access_token"].(string)
	}
	sc, _ := verifyLocal(t, tok("scitokens"), priv, "test-key")
	if sc["scope"] != "read:/user/bob write:/user/bob compute.read:/jobs/bob" {
		t.Errorf("scitokens scope = %q; want the template plus the expression's scope", sc["scope"])
	}
	for _, name := range []string{"wlcg", "wlcg_other"} {
		c, h := verifyLocal(t, tok(name), priv, "wlcg-key")
		if h["kid"] != "wlcg-key" || c["iss"] != "https://wlcg.example.org" || c["wlcg.ver"] != "1.0" {
			t.Errorf("%s: header %v claims %v", name, h, c)
		}
		if _, ok := c["ver"]; ok {
			t.Errorf("%s: a wlcg token has ver = %v", name, c["ver"])
		}
		if c["scope"] != "storage.read:/bob {literal} compute.read:/jobs/bob" {
			t.Errorf("%s scope = %q", name, c["scope"])
		}
		if c["sub"] != "bob" {
			t.Errorf("%s sub = %v", name, c["sub"])
		}
	}
}

// A bare-token .use is not re-minted on every
// pass (the Python credmon cannot parse it and mints every 60 s).
func TestLocalBareTokenStable(t *testing.T) {
	e, priv := localEnv(t, "LOCAL_CREDMON_TOKEN_USE_JSON = false\n")
	if err := e.credd.StoreLocal("carol", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("carol/scitokens.use", func() bool { return e.exists("carol", "scitokens.use") })
	first, _ := os.ReadFile(e.path("carol", "scitokens.use"))
	if !bytes.HasSuffix(first, []byte("\n")) || bytes.Count(first, []byte("\n")) != 1 || first[0] == '{' {
		t.Fatalf(".use = %q; want <jwt>\\n", first)
	}
	verifyLocal(t, strings.TrimSpace(string(first)), priv, "test-key")
	// The mint is counted after its file is in place.
	e.waitFor("the mint's result", func() bool { return e.mon.Stats().Refreshes == 1 })
	before := e.mon.Stats()
	for i := 0; i < 5; i++ {
		e.pass()
	}
	if after, _ := os.ReadFile(e.path("carol", "scitokens.use")); !bytes.Equal(after, first) {
		t.Error("bare token re-minted by a pass")
	}
	if got := e.mon.Stats().Refreshes - before.Refreshes; got != 0 {
		t.Errorf("%d mints during passes; want 0", got)
	}
}

// Checklist item 42: a user outside AUTHZ_GROUP_REQUIREMENT gets an empty
// token (so condor_submit's wait ends), a member gets group scopes.
func TestLocalGroupRequirement(t *testing.T) {
	mapfile := filepath.Join(t.TempDir(), "groups")
	if err := os.WriteFile(mapfile, []byte("# comment\n* dave cms,atlas\nbad line\n* erin atlas\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, priv := localEnv(t, fmt.Sprintf(`
LOCAL_CREDMON_AUTHZ_GROUP_MAPFILE = %s
LOCAL_CREDMON_AUTHZ_GROUP_TEMPLATE = read:/groups/{groupname}
LOCAL_CREDMON_AUTHZ_GROUP_REQUIREMENT = cms
`, mapfile))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, u := range []string{"dave", "erin", "frank"} {
		if _, err := e.credd.CheckLocalCreds(ctx, u, "scitokens"); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	c, _ := verifyLocal(t, e.readJSON("dave", "scitokens.use")["access_token"].(string), priv, "test-key")
	if c["scope"] != "read:/user/dave write:/user/dave read:/groups/cms read:/groups/atlas" {
		t.Errorf("member scope = %q", c["scope"])
	}
	for _, u := range []string{"erin", "frank"} {
		raw, _ := os.ReadFile(e.path(u, "scitokens.use"))
		if string(raw) != `{"access_token": "", "expires_in": 1200}` {
			t.Errorf("%s (not in cms): .use = %q; want an empty token", u, raw)
		}
	}
	e.waitLog("User erin is not a member of group cms")
	// The denial is remembered like a token: passes do not redo it.
	e.waitFor("three results", func() bool { return e.mon.Stats().Refreshes == 3 })
	before := e.mon.Stats()
	e.pass()
	if e.mon.Stats().Refreshes != before.Refreshes {
		t.Error("a pass re-minted")
	}
}

// scitoken:2.0 without an audience is refused (no file), logged once, not
// retried by passes, and fixed by a configuration change that is applied on
// SIGHUP; the change also re-mints tokens whose claims it changed.
func TestLocalMisconfigurationAndReload(t *testing.T) {
	e, priv := localEnv(t, "LOCAL_CREDMON_TOKEN_AUDIENCE =\n", func(o *envOptions) { o.reload = true })
	if err := e.credd.StoreLocal("gina", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.waitLog("Failed to renew SciToken for user: gina")
	for i := 0; i < 3; i++ {
		e.pass()
	}
	if e.exists("gina", "scitokens.use") {
		t.Fatal("a scitoken:2.0 token without audience was written")
	}
	if n := strings.Count(e.logs.String(), "Failed to renew SciToken for user: gina"); n != 1 {
		t.Errorf("failure logged %d times; want once", n)
	}
	if f := e.mon.Stats().Failures; f != 1 {
		t.Errorf("%d attempts; want 1 (permanent until the configuration changes)", f)
	}

	keyDir := filepath.Dir(priv)
	e.writeConfig(fmt.Sprintf("LOCAL_CREDMON_PRIVATE_KEY = %s\nLOCAL_CREDMON_PUBLIC_KEY = %s\nLOCAL_CREDMON_ISSUER = https://ap.example.org\n"+
		"LOCAL_CREDMON_KEY_ID = test-key\nLOCAL_CREDMON_TOKEN_AUDIENCE = https://one.example\n",
		priv, filepath.Join(keyDir, "issuer.pub")))
	time.Sleep(credmonReloadWait) // the reload rate limit
	e.mon.Rescan()
	e.waitFor("gina/scitokens.use", func() bool { return e.exists("gina", "scitokens.use") })
	c, _ := verifyLocal(t, e.readJSON("gina", "scitokens.use")["access_token"].(string), priv, "test-key")
	if fmt.Sprint(c["aud"]) != "[https://one.example]" {
		t.Errorf("aud = %v", c["aud"])
	}

	// Changing the audience again re-mints at once, not at half-life.
	first, _ := os.ReadFile(e.path("gina", "scitokens.use"))
	e.writeConfig(fmt.Sprintf("LOCAL_CREDMON_PRIVATE_KEY = %s\nLOCAL_CREDMON_PUBLIC_KEY = %s\nLOCAL_CREDMON_ISSUER = https://ap.example.org\n"+
		"LOCAL_CREDMON_KEY_ID = test-key\nLOCAL_CREDMON_TOKEN_AUDIENCE = https://two.example\n",
		priv, filepath.Join(keyDir, "issuer.pub")))
	time.Sleep(credmonReloadWait)
	e.mon.Rescan()
	e.waitFor("a re-mint", func() bool {
		b, _ := os.ReadFile(e.path("gina", "scitokens.use"))
		return len(b) > 0 && !bytes.Equal(b, first)
	})
	c, _ = verifyLocal(t, e.readJSON("gina", "scitokens.use")["access_token"].(string), priv, "test-key")
	if fmt.Sprint(c["aud"]) != "[https://two.example]" {
		t.Errorf("after the change aud = %v", c["aud"])
	}
}

// credmonReloadWait outlasts credmon.ReloadInterval, the reload rate limit.
const credmonReloadWait = 5100 * time.Millisecond

// Re-minting is driven by the token's exp: with a short lifetime and a short
// job-copy interval the .use is replaced on its own, before it expires.
func TestLocalRemintBeforeExpiry(t *testing.T) {
	e, priv := localEnv(t, `
LOCAL_CREDMON_TOKEN_LIFETIME = 6
SEC_CREDENTIAL_REFRESH = 1
CREDMON_OAUTH_REFRESH_MARGIN = 1
CREDMON_OAUTH_MIN_REFRESH_INTERVAL = 1
CREDMON_OAUTH_SCAN_INTERVAL = 3600
`)
	if err := e.credd.StoreLocal("hank", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("hank/scitokens.use", func() bool { return e.exists("hank", "scitokens.use") })
	first := e.readJSON("hank", "scitokens.use")["access_token"].(string)
	c1, _ := verifyLocal(t, first, priv, "test-key")
	var second string
	e.waitFor("a re-mint", func() bool {
		second = e.readJSON("hank", "scitokens.use")["access_token"].(string)
		return second != first
	})
	c2, _ := verifyLocal(t, second, priv, "test-key")
	// The new token was minted while the old one was still valid.
	if c2["iat"].(float64) >= c1["exp"].(float64) {
		t.Errorf("re-minted at %v, after the old token expired at %v", c2["iat"], c1["exp"])
	}
	if e.mon.Stats().Passes != 1 {
		t.Errorf("%d passes; the re-mint should come from the token's own timer", e.mon.Stats().Passes)
	}
}

// A new key file is used at the next mint without a restart.
func TestLocalKeyRotation(t *testing.T) {
	e, priv := localEnv(t, "LOCAL_CREDMON_TOKEN_LIFETIME = 6\nSEC_CREDENTIAL_REFRESH = 1\nCREDMON_OAUTH_REFRESH_MARGIN = 1\nCREDMON_OAUTH_MIN_REFRESH_INTERVAL = 1\n")
	if err := e.credd.StoreLocal("ivy", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("ivy/scitokens.use", func() bool { return e.exists("ivy", "scitokens.use") })
	oldKey, _ := os.ReadFile(priv)
	dir := t.TempDir()
	if _, err := localissuer.EnsureKeyPair(filepath.Join(dir, "new.pem"), filepath.Join(dir, "new.pub")); err != nil {
		t.Fatal(err)
	}
	newKey, _ := os.ReadFile(filepath.Join(dir, "new.pem"))
	if err := os.WriteFile(priv+".tmp", newKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(priv+".tmp", priv); err != nil {
		t.Fatal(err)
	}
	e.waitFor("a token signed by the new key", func() bool {
		tok, _ := e.readJSON("ivy", "scitokens.use")["access_token"].(string)
		key, _ := localissuer.LoadPrivateKey(priv, "ES256", "test-key")
		jwks, _ := localissuer.JWKS(key)
		_, err := localissuer.Verify(tok, jwks, localissuer.VerifyOptions{})
		return err == nil
	})
	if bytes.Equal(oldKey, newKey) {
		t.Fatal("the test generated the same key twice")
	}
}

// A hung issuer holding every OAuth2 worker
// does not delay local minting.
func TestLocalMintNotBlockedByHungIssuer(t *testing.T) {
	keyDir := t.TempDir()
	priv, pub := filepath.Join(keyDir, "k.pem"), filepath.Join(keyDir, "k.pub")
	if _, err := localissuer.EnsureKeyPair(priv, pub); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{config: fmt.Sprintf(`
LOCAL_CREDMON_PRIVATE_KEY = %s
LOCAL_CREDMON_TOKEN_AUDIENCE = %s
CREDMON_OAUTH_HTTP_TIMEOUT = 60
CREDMON_OAUTH_WORKERS = 2
`, priv, localAud)})
	e.proxy.SetMode(oidcprovider.Hang)
	// Before the daemon's stop, which lets requests on the wire finish
	// (these would take the full 60 s).
	t.Cleanup(e.proxy.Close)
	// More refreshes than the daemon runs at once, all hanging.
	for i := 0; i < 3*4*2; i++ {
		if err := e.credd.StoreTop(fmt.Sprintf("u%02d", i), "myidp", []byte(`{"refresh_token": "rt"}`)); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("hanging token requests", func() bool { return e.proxy.Count("/token") >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.credd.CheckLocalCreds(ctx, "local", "scitokens"); err != nil {
		t.Fatalf("local token while the issuer hangs: %v", err)
	}
	// Causality, not timing: the requests are still hanging, none finished.
	e.waitFor("the mint's result", func() bool { return e.mon.Stats().Refreshes == 1 })
	if f := e.mon.Stats().Failures; f != 0 {
		t.Errorf("%d OAuth2 results before the local mint; want none (they hang for 60 s)", f)
	}
}

// Checklist item 39 against the reference rules: every claim of a token
// minted by the daemon equals the one BuildClaims derives for the same
// inputs (modulo iat/nbf/exp/jti), so the daemon adds nothing and loses
// nothing on the way.
func TestLocalClaimsMatchReferenceRules(t *testing.T) {
	e, priv := localEnv(t, "")
	if err := e.credd.StoreLocal("judy", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("judy/scitokens.use", func() bool { return e.exists("judy", "scitokens.use") })
	got, _ := verifyLocal(t, e.readJSON("judy", "scitokens.use")["access_token"].(string), priv, "test-key")
	want, err := localissuer.BuildClaims(localissuer.Config{Issuer: "https://ap.example.org", Lifetime: 1200 * time.Second,
		Audience: []string{localAud}, Version: "scitoken:2.0", AuthzTemplate: "read:/user/{username} write:/user/{username}"},
		localissuer.Request{Username: "judy"}, time.Unix(int64(got["iat"].(float64)), 0), got["jti"].(string))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	var wantMap map[string]any
	_ = json.Unmarshal(wantJSON, &wantMap)
	if !reflect.DeepEqual(got, wantMap) {
		t.Errorf("claims\n got %v\nwant %v", got, wantMap)
	}
}

// An RS256 provider with a PKCS#8 key, next to the default ES256 one.
func TestLocalRS256Provider(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		t.Fatal(err)
	}
	rsaPath := filepath.Join(t.TempDir(), "rsa.pem")
	if err := os.WriteFile(rsaPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	e, ecPriv := localEnv(t, fmt.Sprintf(`
LOCAL_CREDMON_PROVIDER_NAMES = scitokens rsatok
LOCAL_CREDMON_RSATOK_PRIVATE_KEY = %s
LOCAL_CREDMON_RSATOK_PRIVATE_KEY_ALGORITHM = RS256
LOCAL_CREDMON_RSATOK_KEY_ID = rsa-1
`, rsaPath))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.credd.CheckLocalCreds(ctx, "kim", "rsatok", "scitokens"); err != nil {
		t.Fatal(err)
	}
	key, err := localissuer.LoadPrivateKey(rsaPath, "RS256", "rsa-1")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := localissuer.JWKS(key)
	tok := e.readJSON("kim", "rsatok.use")["access_token"].(string)
	claims, err := localissuer.Verify(tok, jwks, localissuer.VerifyOptions{Issuer: "https://ap.example.org", Audience: localAud})
	if err != nil {
		t.Fatalf("RS256 token: %v", err)
	}
	if claims["sub"] != "kim" {
		t.Errorf("sub = %v", claims["sub"])
	}
	if _, h := verifyLocal(t, e.readJSON("kim", "scitokens.use")["access_token"].(string), ecPriv, "test-key"); h["alg"] != "ES256" {
		t.Errorf("the ES256 provider's token has alg %v", h["alg"])
	}
}

// TestLocalAuthzExprAdHasScopes: AUTHZ_TEMPLATE_EXPR is evaluated as
// LocalCredmon does (docs/htcondor-contract.md#local-issuer): in an ad holding the string Username and
// the expression itself as Scopes, by evaluating Scopes. An expression can
// therefore see that Scopes is defined; reading its value is a circular
// reference (an error, logged and ignored, as in Python).
func TestLocalAuthzExprAdHasScopes(t *testing.T) {
	e, priv := localEnv(t, `
LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR = ifThenElse(isUndefined(Scopes), "read:/no-scopes-attribute", strcat("read:/expr/", Username))
LOCAL_CREDMON_SELF_AUTHZ_TEMPLATE_EXPR = strcat("read:/expr/", Scopes)
LOCAL_CREDMON_PROVIDER_NAMES = scitokens self
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.credd.CheckLocalCreds(ctx, "ivy", "scitokens", "self"); err != nil {
		t.Fatalf("CREDD_CHECK_CREDS: %v", err)
	}
	claims, _ := verifyLocal(t, e.readJSON("ivy", "scitokens.use")["access_token"].(string), priv, "test-key")
	if claims["scope"] != "read:/user/ivy write:/user/ivy read:/expr/ivy" {
		t.Errorf("scope = %q; want the template plus read:/expr/ivy", claims["scope"])
	}
	claims, _ = verifyLocal(t, e.readJSON("ivy", "self.use")["access_token"].(string), priv, "test-key")
	if claims["scope"] != "read:/user/ivy write:/user/ivy" {
		t.Errorf("self-referencing expression: scope = %q; want the template alone", claims["scope"])
	}
	e.waitLog("circular reference")
}

// TestLocalStoreAndWait: a local-issuer service stored through credd's
// STORE_CRED with the wait flag (htcondor credential add oauth2 --service
// scitokens; docs/htcondor-contract.md#handshake) gets its .use before credd gives up.
func TestLocalStoreAndWait(t *testing.T) {
	e, priv := localEnv(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	took, err := e.credd.AddAndWait(ctx, "jack", "scitokens", []byte("jack@ap.example.org"))
	if err != nil {
		t.Fatalf("credd STORE_CRED with wait: %v (after %v)", err, took)
	}
	e.waitFor("the mint counted", func() bool { return e.mon.Stats().Refreshes >= 1 })
	claims, _ := verifyLocal(t, e.readJSON("jack", "scitokens.use")["access_token"].(string), priv, "test-key")
	if claims["sub"] != "jack" {
		t.Errorf("sub = %v; want jack (the directory's user, not the .top's content)", claims["sub"])
	}
	if e.credd.Kicks() != 1 {
		t.Errorf("credd kicked %d times; want 1", e.credd.Kicks())
	}
}

// TestSuccessLinesExact: the success sentences are the Python credmon's,
// with nothing appended (HTCondor's tests and admins match them); the
// details are a separate debug line.
func TestSuccessLinesExact(t *testing.T) {
	e, _ := localEnv(t, "", func(o *envOptions) { o.infoLog = false })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.credd.CheckLocalCreds(ctx, "kate", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.waitLog("mint details")
	exactSuccessLine(t, e.logs.String(), "local", "Successfully renewed SciToken for user: kate")
}

// TestWorldReadableKeyRefusedUntilChmod: a local-issuer private key that
// every user on the machine can read would let any of them mint any user's
// tokens. It is refused with the fix in the log line, and the chmod the
// line asks for is picked up without a restart (a chmod changes only the
// file's mode). A group-readable key is used with one warning.
func TestWorldReadableKeyRefusedUntilChmod(t *testing.T) {
	e, priv := localEnv(t, "")
	if err := os.Chmod(priv, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreLocal("alice", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitLog("chmod 0600 " + priv)
	if e.exists("alice", "scitokens.use") {
		t.Fatal("a token was minted with a world-readable key")
	}
	if err := os.Chmod(priv, 0o640); err != nil {
		t.Fatal(err)
	}
	e.waitFor("a token once the key is no longer world-readable", func() bool { return e.exists("alice", "scitokens.use") })
	e.waitLog("members of its group can read it")
	if err := e.credd.StoreLocal("bob", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("bob's token", func() bool { return e.exists("bob", "scitokens.use") })
	if n := strings.Count(e.logs.String(), "members of its group can read it"); n != 1 {
		t.Errorf("the group-readable warning was logged %d times; want once per key file version", n)
	}
}

// TestLoopingKnobsAreClampedAndWarned: MIN_REFRESH_INTERVAL = 0 with local
// tokens that live shorter than SEC_CREDENTIAL_REFRESH used to re-mint in a
// tight loop (thousands of mints and fsyncs a second). The knob is raised
// to its floor, both problems are named in the log at start, and the mints
// are at least the floor apart.
func TestLoopingKnobsAreClampedAndWarned(t *testing.T) {
	e, _ := localEnv(t, "LOCAL_CREDMON_TOKEN_LIFETIME = 60\nSEC_CREDENTIAL_REFRESH = 600\nCREDMON_OAUTH_MIN_REFRESH_INTERVAL = 0\n")
	e.waitLog("MIN_REFRESH_INTERVAL")
	e.waitLog("TOKEN_LIFETIME")
	start := time.Now()
	if err := e.credd.StoreLocal("alice", "scitokens"); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("three mints", func() bool { return e.mon.Stats().Refreshes >= 3 })
	elapsed := time.Since(start)
	if n, limit := e.mon.Stats().Refreshes, 1+int64(elapsed/knobs.MinRefreshIntervalFloor); n > limit {
		t.Errorf("%d mints in %v; the floor of %v allows at most %d", n, elapsed, knobs.MinRefreshIntervalFloor, limit)
	}
}

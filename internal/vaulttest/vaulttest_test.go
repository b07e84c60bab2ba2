package vaulttest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vaulttest"
)

// The tests talk to the server with HashiCorp's own client: if its Secret,
// Auth and ResponseError decode our answers, the shapes are Vault's.

func apiClient(t *testing.T, s *vaulttest.Server) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = s.URL
	cfg.MaxRetries = 0 // a 429 or 5xx must reach the test, not be retried
	if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: s.CAFile}); err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken() // not whatever VAULT_TOKEN the environment has
	return c
}

func responseError(t *testing.T, err error, status int) *api.ResponseError {
	t.Helper()
	var re *api.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v; want an *api.ResponseError with HTTP %d", err, status)
	}
	if re.StatusCode != status {
		t.Fatalf("status = %d (%v); want %d", re.StatusCode, re.Errors, status)
	}
	return re
}

func joined(re *api.ResponseError) string { return strings.Join(re.Errors, "\n") }

type env struct {
	p     *oidcprovider.Provider
	s     *vaulttest.Server
	clock *vaulttest.Clock
	c     *api.Client
}

func start(t *testing.T, opts vaulttest.Options) env {
	t.Helper()
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	clock := vaulttest.NewClock(time.Now())
	opts.Provider, opts.Now = p, clock.Now
	s := vaulttest.Start(t, opts)
	return env{p: p, s: s, clock: clock, c: apiClient(t, s)}
}

// oidcLogin runs the device login with the API client, approving it at
// the provider as alice, and returns the login's Secret.
func (e env) oidcLogin(t *testing.T) *api.Secret {
	t.Helper()
	ctx := context.Background()
	mount := "auth/oidc-" + e.s.Issuer() + "/oidc/"
	sec, err := e.c.Logical().Write(mount+"auth_url", map[string]any{
		"role": e.s.Role(), "client_nonce": "nonce-1", "redirect_uri": e.s.URL + "/v1/" + mount + "callback",
	})
	if err != nil {
		t.Fatalf("auth_url: %v", err)
	}
	authURL, _ := sec.Data["auth_url"].(string)
	state, _ := sec.Data["state"].(string)
	if authURL == "" || state == "" || sec.Data["user_code"] == "" || sec.Data["poll_interval"] != "3" {
		t.Fatalf("auth_url data = %v; want auth_url, state, user_code, poll_interval 3", sec.Data)
	}
	poll := map[string]any{"state": state, "client_nonce": "nonce-1"}
	_, err = e.c.Logical().Write(mount+"poll", poll)
	if re := responseError(t, err, http.StatusBadRequest); joined(re) != "authorization_pending" {
		t.Fatalf("poll before approval: errors = %q; want authorization_pending", re.Errors)
	}
	if err := e.p.ApproveDevice(ctx, authURL, "", "alice"); err != nil {
		t.Fatal(err)
	}
	sec, err = e.c.Logical().Write(mount+"poll", poll)
	if err != nil {
		t.Fatalf("poll after approval: %v", err)
	}
	return sec
}

func TestOIDCLoginCredsAndSTSHaveVaultShapes(t *testing.T) {
	e := start(t, vaulttest.Options{})
	login := e.oidcLogin(t)
	a := login.Auth
	if a == nil || a.ClientToken == "" || a.Accessor == "" || !a.Renewable || a.LeaseDuration != int(vaulttest.DefaultLoginTTL/time.Second) {
		t.Fatalf("login auth = %+v; want a renewable token of %v", a, vaulttest.DefaultLoginTTL)
	}
	if a.Metadata["credkey"] != "alice" || a.Metadata["oauth2_refresh_token"] == "" || !slices.Contains(a.Policies, "default") {
		t.Fatalf("login metadata %v, policies %v; want credkey alice, a refresh token, default policy", a.Metadata, a.Policies)
	}
	e.c.SetToken(a.ClientToken)
	creds := "secret/oauth/creds/" + e.s.Issuer() + "/alice:" + e.s.Role()
	if _, err := e.c.Logical().Write(creds, map[string]any{"server": e.s.Issuer(), "refresh_token": a.Metadata["oauth2_refresh_token"]}); err != nil {
		t.Fatalf("storing the refresh token: %v", err)
	}

	read := func() *api.Secret {
		t.Helper()
		sec, err := e.c.Logical().ReadWithData(creds, map[string][]string{"minimum_seconds": {"60"}})
		if err != nil || sec == nil {
			t.Fatalf("reading %s: %v, %v", creds, sec, err)
		}
		return sec
	}
	first := read()
	at, _ := first.Data["access_token"].(string)
	claims := e.p.VerifyAccessToken(t, at)
	if claims["sub"] != "alice" || first.Data["type"] != "Bearer" || first.Data["server"] != e.s.Issuer() {
		t.Fatalf("creds data %v, sub %v; want alice's Bearer token for server %s", first.Data, claims["sub"], e.s.Issuer())
	}
	if _, err := time.Parse(time.RFC3339Nano, first.Data["expire_time"].(string)); err != nil {
		t.Fatalf("expire_time %v: %v", first.Data["expire_time"], err)
	}
	if again := read(); again.Data["access_token"] != at || e.s.Stats().Refreshes != 1 {
		t.Fatalf("a second read with 60 s to spare got a new token (refreshes %d); want the cached one", e.s.Stats().Refreshes)
	}

	sts := "secret/oauth/sts/" + e.s.Issuer() + "/alice:" + e.s.Role()
	sec, err := e.c.Logical().ReadWithData(sts, map[string][]string{
		"minimum_seconds": {"60"}, "scopes": {"storage.read:/alice,compute.read"}, "audiences": {"https://se.example.org"},
	})
	if err != nil || sec == nil {
		t.Fatalf("reading %s: %v", sts, err)
	}
	xc := e.p.VerifyAccessToken(t, sec.Data["access_token"].(string))
	if aud, _ := xc.GetAudience(); !slices.Contains(aud, "https://se.example.org") || !strings.Contains(xc["scope"].(string), "storage.read:/alice") {
		t.Fatalf("exchanged token aud %v scope %v; want the requested audience and scope", aud, xc["scope"])
	}
	if sec.Data["access_token"] == at || e.s.Stats().Exchanges != 1 {
		t.Fatalf("sts returned the creds token or did not exchange (exchanges %d)", e.s.Stats().Exchanges)
	}
}

func TestTokenCreateLookupAndExpiryOnTheServerClock(t *testing.T) {
	e := start(t, vaulttest.Options{})
	e.c.SetToken(e.s.MintToken(vaulttest.TokenSpec{TTL: 24 * time.Hour}))
	f := false
	sec, err := e.c.Auth().Token().Create(&api.TokenCreateRequest{TTL: "3600s", Renewable: &f})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Auth.LeaseDuration != 3600 || sec.Auth.Renewable || sec.Auth.ClientToken == "" {
		t.Fatalf("create auth = %+v; want a non-renewable 3600 s token", sec.Auth)
	}
	// htgettoken's own body: strings for ttl and renewable.
	raw, err := e.c.Logical().Write("auth/token/create", map[string]any{"ttl": "600s", "renewable": "false"})
	if err != nil || raw.Auth.LeaseDuration != 600 || raw.Auth.Renewable {
		t.Fatalf("create with htgettoken's body: %+v, %v; want a 600 s non-renewable token", raw.Auth, err)
	}
	if _, err := e.c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"root"}}); err == nil {
		t.Fatal("a child with a policy its parent lacks was created; want 400")
	}

	e.c.SetToken(sec.Auth.ClientToken)
	ttl := func() time.Duration {
		t.Helper()
		s, err := e.c.Auth().Token().LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.TokenTTL()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if got := ttl(); got != time.Hour {
		t.Fatalf("lookup-self ttl = %v; want 1h", got)
	}
	e.clock.Advance(59 * time.Minute)
	if got := ttl(); got != time.Minute {
		t.Fatalf("lookup-self ttl after 59m = %v; want 1m", got)
	}
	e.clock.Advance(time.Minute)
	_, err = e.c.Auth().Token().LookupSelf()
	if re := responseError(t, err, http.StatusForbidden); !strings.Contains(joined(re), "permission denied") || !strings.Contains(joined(re), "invalid token") {
		t.Fatalf("expired token: errors %q; want permission denied and invalid token", re.Errors)
	}
}

func TestRevokedTokenAndPolicyDenialAre403(t *testing.T) {
	e := start(t, vaulttest.Options{})
	tok := e.s.MintToken(vaulttest.TokenSpec{TTL: time.Hour})
	e.c.SetToken(tok)
	_, err := e.c.Logical().Read("secret/oauth/creds/test/alice:default")
	if re := responseError(t, err, http.StatusForbidden); !strings.Contains(joined(re), "permission denied") || strings.Contains(joined(re), "invalid token") {
		t.Fatalf("policy denial: errors %q; want permission denied alone", re.Errors)
	}
	child, err := e.c.Auth().Token().Create(&api.TokenCreateRequest{TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Auth().Token().RevokeSelf(""); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok, child.Auth.ClientToken} { // a child dies with its parent
		e.c.SetToken(tk)
		_, err = e.c.Auth().Token().LookupSelf()
		if re := responseError(t, err, http.StatusForbidden); !strings.Contains(joined(re), "invalid token") {
			t.Fatalf("revoked token: errors %q; want invalid token", re.Errors)
		}
	}
}

func TestThrottleAnswers429WithRetryAfter(t *testing.T) {
	e := start(t, vaulttest.Options{})
	e.c.SetToken(e.s.MintToken(vaulttest.TokenSpec{TTL: time.Hour}))
	e.s.Throttle(1, "7")
	resp, err := e.c.Logical().ReadRaw("auth/token/lookup-self")
	if resp == nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("status %d Retry-After %q; want 429 with 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, err := e.c.Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("the request after the throttled one: %v", err)
	}
}

func TestRotatedRefreshTokenIsPersisted(t *testing.T) {
	e := start(t, vaulttest.Options{})
	login := e.oidcLogin(t)
	e.c.SetToken(login.Auth.ClientToken)
	name := e.s.Issuer() + "/alice:" + e.s.Role()
	rt0 := login.Auth.Metadata["oauth2_refresh_token"]
	if _, err := e.c.Logical().Write("secret/oauth/creds/"+name, map[string]any{"server": e.s.Issuer(), "refresh_token": rt0}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for i := range 3 {
		sec, err := e.c.Logical().ReadWithData("secret/oauth/creds/"+name, map[string][]string{"minimum_seconds": {"60"}})
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		seen = append(seen, sec.Data["access_token"].(string))
		// The provider's tokens live 600 s: 595 s on leaves less than
		// the 60 asked for, so the next read must refresh.
		e.clock.Advance(595 * time.Second)
	}
	if st := e.s.Stats(); st.Refreshes != 3 || seen[0] == seen[1] || seen[1] == seen[2] {
		t.Fatalf("refreshes %d, tokens distinct %v; want 3 refreshes with 3 tokens", st.Refreshes, seen[0] != seen[1] && seen[1] != seen[2])
	}
	rt, _ := e.s.StoredRefreshToken(name)
	if rt == "" || rt == rt0 {
		t.Fatal("the stored refresh token did not change; the provider rotates it on every refresh")
	}
	_, err := e.c.Logical().ReadWithData("secret/oauth/creds/"+name, map[string][]string{"minimum_seconds": {"3600"}})
	if re := responseError(t, err, http.StatusBadRequest); joined(re) != "token expired" {
		t.Fatalf("asking for more than the provider issues: %q; want token expired", re.Errors)
	}
	// The first one is spent at the provider: had the server kept it,
	// the second refresh would have been reuse and failed.
	body, status, err := e.p.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, rt0, nil)
	if err != nil || status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("replaying the first refresh token: HTTP %d %v %v; want invalid_grant", status, body, err)
	}
}

func TestKerberosLoginUsesTheVerifier(t *testing.T) {
	const good = "Negotiate dGhpcyBpcyBhIHRlc3Q="
	e := start(t, vaulttest.Options{KerberosVerifier: func(h string) (string, error) {
		if h != good {
			return "", errors.New("bad token")
		}
		return "robot/host.example.org@EXAMPLE.ORG", nil
	}})
	path := "auth/kerberos-" + e.s.Issuer() + "_" + e.s.Role() + "/login"
	e.c.SetHeaders(http.Header{"Authorization": {"Negotiate Ym9ndXM="}})
	_, err := e.c.Logical().Write(path, nil)
	responseError(t, err, http.StatusUnauthorized)

	e.c.SetHeaders(http.Header{"Authorization": {good}})
	sec, err := e.c.Logical().Write(path, nil)
	if err != nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		t.Fatalf("kerberos login: %v %v", sec, err)
	}
	e.c.SetHeaders(http.Header{})
	e.c.SetToken(sec.Auth.ClientToken)
	// Its own credential is readable (404: nothing stored yet), another's not.
	if s, err := e.c.Logical().Read("secret/oauth/creds/test/robot/host.example.org:default"); err != nil || s != nil {
		t.Fatalf("reading its own empty credential: %v %v; want 404 (nil, nil)", s, err)
	}
	_, err = e.c.Logical().Read("secret/oauth/creds/test/alice:default")
	responseError(t, err, http.StatusForbidden)
}

// TestEachRoleHasItsKerberosMount protects Options.Roles: an issuer's
// second role has its own Kerberos mount, whose token reads that role's
// credential only; a role the server lacks has no mount.
func TestEachRoleHasItsKerberosMount(t *testing.T) {
	e := start(t, vaulttest.Options{Roles: []string{"reader"}, KerberosVerifier: func(string) (string, error) {
		return "robot/host.example.org@EXAMPLE.ORG", nil
	}})
	e.c.SetHeaders(http.Header{"Authorization": {"Negotiate dGhpcyBpcyBhIHRlc3Q="}})
	_, err := e.c.Logical().Write("auth/kerberos-test_writer/login", nil)
	responseError(t, err, http.StatusNotFound)
	sec, err := e.c.Logical().Write("auth/kerberos-test_reader/login", nil)
	if err != nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		t.Fatalf("kerberos login at the second role: %v %v", sec, err)
	}
	e.c.SetHeaders(http.Header{})
	e.c.SetToken(sec.Auth.ClientToken)
	if s, err := e.c.Logical().Read("secret/oauth/creds/test/robot/host.example.org:reader"); err != nil || s != nil {
		t.Fatalf("reading its own empty credential: %v %v; want 404 (nil, nil)", s, err)
	}
	_, err = e.c.Logical().Read("secret/oauth/creds/test/robot/host.example.org:default")
	responseError(t, err, http.StatusForbidden)
}

func TestUnknownPathIs404(t *testing.T) {
	e := start(t, vaulttest.Options{})
	_, err := e.c.Logical().Write("auth/kerberos-test_default/login", nil)
	re := responseError(t, err, http.StatusNotFound)
	if !strings.Contains(joined(re), "no handler for route") {
		t.Fatalf("errors %q; want Vault's no handler for route", re.Errors)
	}
}

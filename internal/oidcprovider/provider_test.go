package oidcprovider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// refresh refreshes as clientID, with ClientSecret unless it is the public
// client.
func refresh(t *testing.T, p *oidcprovider.Provider, clientID, rt string, extra url.Values) (map[string]any, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	secret := oidcprovider.ClientSecret
	if clientID == oidcprovider.ClientIDPublic {
		secret = ""
	}
	body, status, err := p.Refresh(ctx, clientID, secret, rt, extra)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return body, status
}

func audOf(c jwt.MapClaims) []string {
	aud, err := c.GetAudience()
	if err != nil {
		return nil
	}
	return aud
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestProvider(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	t.Logf("provider %s (pid %d) ready in %v", p.Issuer, p.Pid(), p.StartupDuration())

	t.Run("discovery", func(t *testing.T) {
		if !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") {
			t.Errorf("Issuer = %q; want http://127.0.0.1:<port>", p.Issuer)
		}
		for name, u := range map[string]string{
			"TokenURL": p.TokenURL, "DeviceAuthorizationURL": p.DeviceAuthorizationURL,
			"RevocationURL": p.RevocationURL, "JWKSURL": p.JWKSURL, "RegistrationURL": p.RegistrationURL,
		} {
			if !strings.HasPrefix(u, p.Issuer+"/") {
				t.Errorf("%s = %q; want under %s", name, u, p.Issuer)
			}
		}
		if p.Pid() <= 0 {
			t.Errorf("Pid() = %d; want > 0", p.Pid())
		}
	})

	t.Run("clients", func(t *testing.T) {
		for _, tc := range []struct {
			name, id, secret string
		}{
			{"basic", oidcprovider.ClientIDBasic, oidcprovider.ClientSecret},
			{"post", oidcprovider.ClientIDPost, oidcprovider.ClientSecret},
			{"public", oidcprovider.ClientIDPublic, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: tc.id, ClientSecret: tc.secret, User: "bob-" + tc.name})
				if g.RefreshToken == "" || g.AccessToken == "" || g.ExpiresIn <= 0 {
					t.Fatalf("grant = %+v; want refresh and access token", g)
				}
				c := p.VerifyAccessToken(t, g.AccessToken)
				if c["client_id"] != tc.id {
					t.Errorf("client_id = %v; want %s", c["client_id"], tc.id)
				}
				if sub, _ := c.GetSubject(); sub != "bob-"+tc.name {
					t.Errorf("sub = %q; want %q", sub, "bob-"+tc.name)
				}
				if got := audOf(c); !slices.Equal(got, []string{oidcprovider.DefaultAudience}) {
					t.Errorf("aud = %v; want [%s]", got, oidcprovider.DefaultAudience)
				}
				if _, ok := g.Raw["id_token"]; !ok {
					t.Errorf("token response lacks id_token: %v", g.Raw)
				}
				// And the refresh token works with the same client.
				body, status := refresh(t, p, tc.id, g.RefreshToken, nil)
				if status != 200 {
					t.Fatalf("refresh: HTTP %d %v", status, body)
				}
			})
		}
	})

	t.Run("default login", func(t *testing.T) {
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{})
		if sub, _ := p.VerifyAccessToken(t, g.AccessToken).GetSubject(); sub != oidcprovider.DefaultLogin {
			t.Errorf("sub = %q; want %q", sub, oidcprovider.DefaultLogin)
		}
	})

	t.Run("rotation and reuse detection", func(t *testing.T) {
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret})
		body, status := refresh(t, p, oidcprovider.ClientIDPost, g.RefreshToken, nil)
		if status != 200 {
			t.Fatalf("first refresh: HTTP %d %v", status, body)
		}
		rt2, _ := body["refresh_token"].(string)
		if rt2 == "" || rt2 == g.RefreshToken {
			t.Fatalf("refresh_token after refresh = %q; want a new one (rotation)", rt2)
		}
		p.VerifyAccessToken(t, body["access_token"].(string))

		// Replaying the old refresh token is reuse.
		body, status = refresh(t, p, oidcprovider.ClientIDPost, g.RefreshToken, nil)
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("replay of old RT = HTTP %d %v; want 400 invalid_grant", status, body)
		}
		// ... which revokes the grant, so the newest token is dead too.
		body, status = refresh(t, p, oidcprovider.ClientIDPost, rt2, nil)
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("refresh with rotated RT after reuse = HTTP %d %v; want 400 invalid_grant", status, body)
		}
	})

	t.Run("client auth methods are interchangeable", func(t *testing.T) {
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{})
		// credmon is registered for client_secret_basic, yet oidc-provider
		// accepts the secret in the form too (see StrictClientAuth).
		extra := url.Values{"client_id": {oidcprovider.ClientIDBasic}, "client_secret": {oidcprovider.ClientSecret}}
		body, status := refresh(t, p, oidcprovider.ClientIDBasic, g.RefreshToken, extra)
		if status != 200 {
			t.Errorf("post auth for a basic client = HTTP %d %v; want 200 without StrictClientAuth", status, body)
		}
		rt, _ := body["refresh_token"].(string)
		body, status = refresh(t, p, oidcprovider.ClientIDBasic, rt, url.Values{"client_id": {oidcprovider.ClientIDBasic}, "client_secret": {"wrong"}})
		if status != 401 || body["error"] != "invalid_client" {
			t.Errorf("wrong secret = HTTP %d %v; want 401 invalid_client", status, body)
		}
	})

	t.Run("audience", func(t *testing.T) {
		const aud1, aud2 = "https://storage.example.test", "https://compute.example.test"
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{Audience: aud1, Scope: "storage.read:/home storage.create:/data"})
		c := p.VerifyAccessToken(t, g.AccessToken)
		if got := audOf(c); !slices.Equal(got, []string{aud1}) {
			t.Errorf("device-flow aud = %v; want [%s]", got, aud1)
		}
		scope, _ := c["scope"].(string)
		for _, s := range []string{"storage.read:/home", "storage.create:/data"} {
			if !slices.Contains(strings.Fields(scope), s) {
				t.Errorf("scope %q lacks %q", scope, s)
			}
		}
		// HTCondor's Python credmon sends neither resource nor audience on
		// refresh; the audience of the device flow is kept.
		if body, status := refresh(t, p, oidcprovider.ClientIDBasic, g.RefreshToken, nil); status != 200 {
			t.Fatalf("plain refresh: HTTP %d %v", status, body)
		} else if got := audOf(p.VerifyAccessToken(t, body["access_token"].(string))); !slices.Equal(got, []string{aud1}) {
			t.Errorf("plain refresh aud = %v; want [%s]", got, aud1)
		} else {
			g.RefreshToken = body["refresh_token"].(string)
		}
		rt := g.RefreshToken
		step := func(name string, extra url.Values, want string) {
			t.Helper()
			body, status := refresh(t, p, oidcprovider.ClientIDBasic, rt, extra)
			if status != 200 {
				t.Fatalf("%s: HTTP %d %v", name, status, body)
			}
			rt = body["refresh_token"].(string)
			c := p.VerifyAccessToken(t, body["access_token"].(string))
			if got := audOf(c); !slices.Equal(got, []string{want}) {
				t.Errorf("%s: aud = %v; want [%s]", name, got, want)
			}
		}
		step("refresh with resource", url.Values{"resource": {aud1}}, aud1)
		step("refresh with audience (shim)", url.Values{"audience": {aud2}}, aud2)
		step("refresh with resource after widening", url.Values{"resource": {aud2}}, aud2)
		// Without a parameter the provider picks from the refresh token's
		// resources, now aud1 and aud2 (the default audience is in the
		// grant but not in the token): the first.
		step("refresh without audience after widening", nil, aud1)

		body, status := refresh(t, p, oidcprovider.ClientIDBasic, rt, url.Values{"resource": {"https://never-granted.example.test"}})
		if status != 400 || body["error"] != "invalid_target" {
			t.Errorf("refresh for an ungranted resource = HTTP %d %v; want 400 invalid_target", status, body)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret})
		p.Revoke(t, oidcprovider.ClientIDPost, oidcprovider.ClientSecret, g.RefreshToken)
		body, status := refresh(t, p, oidcprovider.ClientIDPost, g.RefreshToken, nil)
		if status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("refresh after revoke = HTTP %d %v; want 400 invalid_grant", status, body)
		}
	})

	t.Run("many", func(t *testing.T) {
		start := time.Now()
		const n = 24
		gs := p.NewRefreshTokens(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret}, n, 4)
		t.Logf("%d grants at concurrency 4 in %v (%v each)", n, time.Since(start), time.Since(start)/n)
		seen := map[string]bool{}
		for i, g := range gs {
			if seen[g.RefreshToken] {
				t.Fatalf("grant %d repeats a refresh token", i)
			}
			seen[g.RefreshToken] = true
			if sub, _ := p.VerifyAccessToken(t, g.AccessToken).GetSubject(); sub != "user"+strconv.Itoa(i) {
				t.Errorf("grant %d sub = %q; want user%d", i, sub, i)
			}
		}
	})

	t.Run("clones", func(t *testing.T) {
		const aud = "https://clone.example.test"
		req := oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Audience: aud, Scope: "storage.read:/", User: "carol"}
		gs := p.CloneRefreshTokens(t, req, 6, 3)
		seen := map[string]bool{}
		for i, g := range gs {
			if g.RefreshToken == "" || seen[g.RefreshToken] {
				t.Fatalf("clone %d refresh token %q is empty or repeated", i, g.RefreshToken)
			}
			seen[g.RefreshToken] = true
			c := p.VerifyAccessToken(t, g.AccessToken)
			if sub, _ := c.GetSubject(); sub != "carol" || !slices.Equal(audOf(c), []string{aud}) {
				t.Errorf("clone %d: sub %q aud %v; want carol, [%s]", i, sub, audOf(c), aud)
			}
		}
		// Clones are independent grants: reuse detection on clone 0 kills
		// clone 0 only.
		body, status := refresh(t, p, oidcprovider.ClientIDPost, gs[0].RefreshToken, nil)
		if status != 200 {
			t.Fatalf("refresh clone 0: HTTP %d %v", status, body)
		}
		if c := p.VerifyAccessToken(t, body["access_token"].(string)); !slices.Equal(audOf(c), []string{aud}) {
			t.Errorf("refreshed clone aud = %v; want [%s]", audOf(c), aud)
		}
		if _, status = refresh(t, p, oidcprovider.ClientIDPost, gs[0].RefreshToken, nil); status != 400 {
			t.Fatalf("replay of clone 0 = HTTP %d; want 400", status)
		}
		if body, status = refresh(t, p, oidcprovider.ClientIDPost, gs[1].RefreshToken, nil); status != 200 {
			t.Errorf("clone 1 after reuse on clone 0 = HTTP %d %v; want 200", status, body)
		}
	})

	t.Run("forged token rejected", func(t *testing.T) {
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{})
		parts := strings.Split(g.AccessToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"alice"`, `"mallory"`, 1))) + "." + parts[2]
		if _, err := p.ParseAccessToken(context.Background(), forged); err == nil {
			t.Error("ParseAccessToken accepted a token with a modified payload")
		}
		if _, err := p.ParseAccessToken(context.Background(), g.Raw["id_token"].(string)); err == nil {
			t.Error("ParseAccessToken accepted an ID token as an access token")
		}
	})
}

func TestProviderOptions(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{
		NoRotate:        true,
		AccessTokenTTL:  90 * time.Second,
		AccessTokenAlg:  "ES256",
		DefaultAudience: "https://default.example.test",
		RefreshDelay:    400 * time.Millisecond,
	})
	g := p.NewRefreshToken(t, oidcprovider.GrantRequest{})
	if g.ExpiresIn != 90 {
		t.Errorf("expires_in = %d; want 90 (AccessTokenTTL)", g.ExpiresIn)
	}
	if alg := jwtHeader(t, g.AccessToken)["alg"]; alg != "ES256" {
		t.Errorf("alg = %v; want ES256", alg)
	}
	c := p.VerifyAccessToken(t, g.AccessToken)
	if got := audOf(c); !slices.Equal(got, []string{"https://default.example.test"}) {
		t.Errorf("aud = %v; want the DefaultAudience option", got)
	}
	for i := range 2 {
		// RefreshDelay is a floor (a timer before processing): only "at
		// least" can be asserted, and it tells the option applied from not.
		start := time.Now()
		body, status := refresh(t, p, oidcprovider.ClientIDBasic, g.RefreshToken, nil)
		if status != 200 {
			t.Fatalf("refresh %d: HTTP %d %v", i, status, body)
		}
		if took := time.Since(start); took < 400*time.Millisecond {
			t.Errorf("refresh %d answered in %v; RefreshDelay is 400ms", i, took)
		}
		if rt, _ := body["refresh_token"].(string); rt != "" && rt != g.RefreshToken {
			t.Errorf("refresh %d rotated the token with NoRotate", i)
		}
	}
}

func TestProviderRestart(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	g := p.NewRefreshToken(t, oidcprovider.GrantRequest{})
	pid, issuer := p.Pid(), p.Issuer

	p.Restart(t)
	if p.Pid() == pid || p.Pid() == 0 {
		t.Errorf("Pid() after Restart = %d; want a new process (was %d)", p.Pid(), pid)
	}
	if p.Issuer != issuer {
		t.Errorf("Issuer after Restart = %q; want %q (same port)", p.Issuer, issuer)
	}
	body, status := refresh(t, p, oidcprovider.ClientIDBasic, g.RefreshToken, nil)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh with a pre-restart RT = HTTP %d %v; want 400 invalid_grant (state is in memory)", status, body)
	}
	if _, err := p.ParseAccessToken(context.Background(), g.AccessToken); err == nil {
		t.Error("pre-restart access token still verifies; want new signing keys")
	}
	g2 := p.NewRefreshToken(t, oidcprovider.GrantRequest{})
	p.VerifyAccessToken(t, g2.AccessToken)

	p.Stop()
	p.Stop()
	if p.Pid() != 0 {
		t.Errorf("Pid() after Stop = %d; want 0", p.Pid())
	}
	if _, _, err := p.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, g2.RefreshToken, nil); err == nil {
		t.Error("Refresh against a stopped provider succeeded")
	}
}

func TestProviderStrictClientAuth(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	// NewRefreshToken picks each client's registered method, so it works.
	gBasic := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret})
	gPost := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret})

	ctx := context.Background()
	// credmon (basic) sending its secret in the form, as HTCondor's Python
	// credmon always does.
	asPost := url.Values{"client_id": {oidcprovider.ClientIDBasic}, "client_secret": {oidcprovider.ClientSecret}}
	body, status, err := p.Refresh(ctx, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, gBasic.RefreshToken, asPost)
	if err != nil || status != 401 || body["error"] != "invalid_client" {
		t.Errorf("post auth for the basic client = HTTP %d %v %v; want 401 invalid_client", status, body, err)
	}
	// The refused request must not have consumed the refresh token.
	if body, status = refresh(t, p, oidcprovider.ClientIDBasic, gBasic.RefreshToken, nil); status != 200 {
		t.Errorf("refresh with the right method after a refused one = HTTP %d %v; want 200", status, body)
	}

	if body, status = refresh(t, p, oidcprovider.ClientIDPost, gPost.RefreshToken, nil); status != 200 {
		t.Errorf("refresh as credmon-post with post auth = HTTP %d %v; want 200", status, body)
	}
	// credmon-post with an Authorization header, at the device endpoint.
	req := oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, AuthMethod: oidcprovider.AuthBasic}
	if _, err := p.DeviceGrant(ctx, req); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("device authorization with basic auth for credmon-post: err = %v; want invalid_client", err)
	}
}

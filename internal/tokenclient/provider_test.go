package tokenclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
)

// These tests run against the real oidc-provider (credtest), started once
// with StrictClientAuth so that a client authenticating with the wrong
// method — or not at all on the device request — is refused with
// invalid_client, as a strict production IdP would. They skip when node is
// missing unless CREDMON_REQUIRE_OIDC=1.
//
// The provider's device code lives 600 s with a 5 s interval. Polling uses
// a fake clock (fakeClock), so no test waits for an interval; the approval
// (credtest's ApproveDevice, which drives the provider's own HTML pages)
// happens inside the fake Sleep, i.e. while the client is "waiting".
func TestAgainstProvider(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	newClient := func(clk *fakeClock) *tokenclient.Client {
		return &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, HTTPClient: p.HTTPClient(), AllowInsecure: true, UserAgent: "credmon-oidc-test", Now: clk.Now, Sleep: clk.Sleep}
	}
	ctx := testContext(t)
	md, err := newClient(newFakeClock()).Discover(ctx, p.Issuer)
	if err != nil {
		t.Fatalf("Discover(%s): %v", p.Issuer, err)
	}

	t.Run("discovery", func(t *testing.T) {
		if md.Issuer != p.Issuer || md.TokenEndpoint != p.TokenURL || md.DeviceAuthorizationEndpoint != p.DeviceAuthorizationURL ||
			md.RegistrationEndpoint != p.RegistrationURL || md.RevocationEndpoint != p.RevocationURL || md.JWKSURI != p.JWKSURL {
			t.Errorf("metadata = %+v; want the provider's endpoints", md)
		}
		if md.OAuthOnly || !md.SupportsGrantType(tokenclient.GrantTypeDeviceCode) || !md.SupportsAuthMethod("none") || !slices.Contains(md.ScopesSupported, "offline_access") {
			t.Errorf("metadata lists = grants %q, auth %q, scopes %q", md.GrantTypesSupported, md.TokenEndpointAuthMethodsSupported, md.ScopesSupported)
		}
		// The same issuer typed with a trailing slash is accepted, and the
		// document's spelling is returned.
		md2, err := newClient(newFakeClock()).Discover(ctx, p.Issuer+"/")
		if err != nil || md2.Issuer != p.Issuer {
			t.Errorf("Discover(issuer + \"/\") = %v, %v; want issuer %q", md2, err, p.Issuer)
		}
		// A different issuer served from the same place is refused.
		if _, err := newClient(newFakeClock()).Discover(ctx, p.Issuer+"/tenant"); err == nil {
			t.Errorf("Discover(%s/tenant) succeeded", p.Issuer)
		}
	})

	t.Run("device flow", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			auth clientAuth
		}{
			{"basic confidential client", clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInHeader}},
			{"post confidential client", clientAuth{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInParams}},
			{"public client", clientAuth{ClientID: oidcprovider.ClientIDPublic}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, claims := deviceFlow(t, p, newClient, md, tc.auth, "", "bob")
				if claims["client_id"] != tc.auth.ClientID || claims["sub"] != "bob" || claims["aud"] != oidcprovider.DefaultAudience {
					t.Errorf("claims client_id %v sub %v aud %v; want %s bob %s", claims["client_id"], claims["sub"], claims["aud"], tc.auth.ClientID, oidcprovider.DefaultAudience)
				}
			})
		}
	})

	t.Run("wrong client authentication method is refused on the device request", func(t *testing.T) {
		// credmon is registered client_secret_basic; under strict client
		// auth, form credentials are refused. That the refusal happens at
		// the device endpoint shows the secret is sent there at all.
		auth := clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInParams}
		_, err := on(newClient(newFakeClock()), md, auth).StartDevice(ctx, []string{"openid"}, nil)
		var te *tokenclient.Error
		if !errors.As(err, &te) || te.Code != "invalid_client" || !(te.Class != tokenclient.Transient) {
			t.Fatalf("StartDevice with the wrong method: %v; want invalid_client", err)
		}
		// And a wrong secret with the right method.
		auth = clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: "wrong-secret", Style: oauth2.AuthStyleInHeader}
		_, err = on(newClient(newFakeClock()), md, auth).StartDevice(ctx, []string{"openid"}, nil)
		if !errors.As(err, &te) || te.Code != "invalid_client" || strings.Contains(err.Error(), "wrong-secret") {
			t.Fatalf("StartDevice with a wrong secret: %v; want invalid_client without the secret", err)
		}
	})

	t.Run("dynamic registration then device flow", func(t *testing.T) {
		reg, err := newClient(newFakeClock()).Register(ctx, md.RegistrationEndpoint, tokenclient.RegistrationRequest{
			ClientName:              "credmon-token test",
			Scope:                   "openid offline_access storage.read:/",
			GrantTypes:              []string{tokenclient.GrantTypeDeviceCode, "refresh_token"},
			TokenEndpointAuthMethod: "client_secret_post",
			ApplicationType:         "native",
		})
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		if reg.ClientID == "" || reg.ClientSecret == "" || reg.RegistrationAccessToken == "" || !strings.HasPrefix(reg.RegistrationClientURI, p.Issuer) {
			t.Fatalf("Registration = %+v", reg)
		}
		var echoed struct {
			GrantTypes []string `json:"grant_types"`
			AuthMethod string   `json:"token_endpoint_auth_method"`
		}
		if err := json.Unmarshal(reg.Raw, &echoed); err != nil || !slices.Contains(echoed.GrantTypes, tokenclient.GrantTypeDeviceCode) || echoed.AuthMethod != "client_secret_post" {
			t.Errorf("registered metadata = %s", reg.Raw)
		}
		auth := clientAuth{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, Style: oauth2.AuthStyleInParams}
		_, claims := deviceFlow(t, p, newClient, md, auth, "", "")
		if claims["client_id"] != reg.ClientID {
			t.Errorf("client_id claim = %v; want %s", claims["client_id"], reg.ClientID)
		}
	})

	t.Run("registration error carries the server's description", func(t *testing.T) {
		_, err := newClient(newFakeClock()).Register(ctx, md.RegistrationEndpoint, tokenclient.RegistrationRequest{
			ClientName: "bad", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"not a uri"},
		})
		var te *tokenclient.Error
		if !errors.As(err, &te) || te.Code == "" || te.Description == "" || te.Status != http.StatusBadRequest {
			t.Fatalf("Register with a bad redirect URI: %v; want a TokenError with code and description", err)
		}
		t.Logf("server said: %v", te)
	})

	t.Run("audience on the device flow", func(t *testing.T) {
		for _, tc := range []struct{ param, aud string }{
			{"", "https://storage.example.org"}, // auto: an absolute URI goes as resource
			{"resource", "https://storage.example.org:1094"},
			{"audience", "https://ce.example.org"},
			{"both", "condor://ce.example.org:9619"},
		} {
			t.Run(tc.param+" "+tc.aud, func(t *testing.T) {
				withParam := func(clk *fakeClock) *tokenclient.Client {
					c := newClient(clk)
					c.AudienceMode = mode(tc.param)
					return c
				}
				auth := clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInHeader}
				_, claims := deviceFlow(t, p, withParam, md, auth, tc.aud, "")
				if claims["aud"] != tc.aud {
					t.Errorf("aud = %v; want %s", claims["aud"], tc.aud)
				}
			})
		}
	})

	t.Run("polling too fast gets slow_down and the interval grows by 5 s", func(t *testing.T) {
		// oidc-provider 9.13.3 never answers slow_down (its device_code
		// grant knows only authorization_pending and expired_token), so an
		// RFC 8628 §3.5 interval enforcer sits in front of its token
		// endpoint, on the same fake clock as the client; everything else,
		// and every poll it lets through, is the real provider.
		clk := newFakeClock()
		c := newClient(clk)
		auth := clientAuth{ClientID: oidcprovider.ClientIDPublic}
		da, err := on(c, md, auth).StartDevice(ctx, []string{"openid", "offline_access"}, auds(""))
		if err != nil {
			t.Fatal(err)
		}
		enf := newIntervalEnforcer(t, p.Issuer, clk)
		enf.issued(da.DeviceCode, time.Duration(da.Interval)*time.Second)
		mdProxy := *md
		mdProxy.TokenEndpoint = enf.URL + "/token"

		clk.onSleep = func(n int, d time.Duration) bool {
			switch n {
			case 1:
				return false // the client does not wait: too fast
			case 3:
				approve(t, p, da, "")
			}
			return true
		}
		var pl progressLog
		tok, err := on(c, &mdProxy, auth).PollDevice(ctx, da, pl.record)
		if err != nil {
			t.Fatalf("PollDevice: %v", err)
		}
		p.VerifyAccessToken(t, tok.AccessToken())
		// Poll 1 came at once: slow_down (interval 5 → 10). Poll 2 after
		// 10 s: let through, pending. Poll 3 after 10 s: the token.
		if got, want := pl.Intervals(), seconds(5, 10, 10); !slices.Equal(got, want) {
			t.Errorf("intervals = %v; want %v", got, want)
		}
		if sd, fw := enf.counts(); sd != 1 || fw != 2 {
			t.Errorf("slow_down answers %d, polls forwarded %d; want 1 and 2", sd, fw)
		}
	})

	t.Run("access_denied when the user aborts", func(t *testing.T) {
		clk := newFakeClock()
		c := newClient(clk)
		auth := clientAuth{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInParams}
		da, err := on(c, md, auth).StartDevice(ctx, []string{"openid", "offline_access"}, auds(""))
		if err != nil {
			t.Fatal(err)
		}
		clk.onSleep = func(n int, _ time.Duration) bool {
			if n == 2 {
				if err := p.DenyDevice(ctx, da.VerificationURIComplete, ""); err != nil {
					t.Errorf("aborting on the confirm page: %v", err)
				}
			}
			return true
		}
		_, err = on(c, md, auth).PollDevice(ctx, da, nil)
		var te *tokenclient.Error
		if !errors.Is(err, tokenclient.ErrAccessDenied) || !errors.As(err, &te) || te.Code != "access_denied" {
			t.Fatalf("PollDevice after abort: %v; want ErrAccessDenied from the server", err)
		}
		if n := len(clk.Sleeps()); n != 2 {
			t.Errorf("waits = %d; want 2 (pending, then denied)", n)
		}
		t.Logf("server said: %v", te)
	})

	t.Run("code expires on the client side", func(t *testing.T) {
		// The provider's device codes live 600 s (fixed in server.mjs), so
		// the server-side expired_token is covered by TestPollDevice; here
		// the client stops at its own deadline, with the real provider
		// answering authorization_pending until then.
		clk := newFakeClock()
		c := newClient(clk)
		auth := clientAuth{ClientID: oidcprovider.ClientIDPublic}
		da, err := on(c, md, auth).StartDevice(ctx, []string{"openid"}, auds(""))
		if err != nil {
			t.Fatal(err)
		}
		if da.ExpiresIn != 600 || da.Interval != 5 {
			t.Logf("provider's device code: expires_in %d, interval %d", da.ExpiresIn, da.Interval)
		}
		da.ExpiresIn = 12
		var pl progressLog
		_, err = on(c, md, auth).PollDevice(ctx, da, pl.record)
		if !errors.Is(err, tokenclient.ErrExpiredToken) {
			t.Fatalf("PollDevice: %v; want ErrExpiredToken", err)
		}
		var te *tokenclient.Error
		if errors.As(err, &te) {
			t.Errorf("error %v came from the server; want the client's own deadline", err)
		}
		if got := pl.lefts; !slices.Equal(got, seconds(12, 7, 2)) {
			t.Errorf("time left at each wait = %v; want [12s 7s 2s]", got)
		}
	})

	t.Run("client credentials with audience", func(t *testing.T) {
		for _, tc := range []struct {
			as, aud string
			auth    clientAuth
		}{
			{"resource", "https://cc.example.org", clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInHeader}},
			{"audience", "https://cc2.example.org", clientAuth{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInParams}},
			{"both", "https://cc3.example.org", clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret}},
			{"", "https://cc4.example.org", clientAuth{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Style: oauth2.AuthStyleInParams}},
		} {
			t.Run(tc.as, func(t *testing.T) {
				clk := newFakeClock()
				tok, err := cc(newClient(clk), md.TokenEndpoint, tc.auth, tc.as).ClientCredentials(ctx, []string{"compute.read"}, auds(tc.aud))
				if err != nil {
					t.Fatal(err)
				}
				claims := p.VerifyAccessToken(t, tok.AccessToken())
				if claims["aud"] != tc.aud || claims["sub"] != tc.auth.ClientID || !strings.Contains(fmt.Sprint(claims["scope"]), "compute.read") {
					t.Errorf("claims aud %v sub %v scope %v; want %s %s compute.read", claims["aud"], claims["sub"], claims["scope"], tc.aud, tc.auth.ClientID)
				}
				if tok.RefreshToken != "" {
					t.Error("client credentials returned a refresh token (RFC 6749 §4.4.3: SHOULD NOT)")
				}
				if expiresIn(tok) <= 0 || !tok.Expiry().Equal(clk.Now().Add(time.Duration(expiresIn(tok))*time.Second)) {
					t.Errorf("ExpiresIn %d, Expiry %v", expiresIn(tok), tok.Expiry())
				}
			})
		}
		t.Run("wrong secret", func(t *testing.T) {
			auth := clientAuth{ClientID: oidcprovider.ClientIDBasic, ClientSecret: "not-the-secret", Style: oauth2.AuthStyleInHeader}
			_, err := cc(newClient(newFakeClock()), md.TokenEndpoint, auth, "").ClientCredentials(ctx, nil, nil)
			var te *tokenclient.Error
			if !errors.As(err, &te) || te.Code != "invalid_client" || !(te.Class != tokenclient.Transient) || strings.Contains(err.Error(), "not-the-secret") {
				t.Fatalf("error = %v; want a permanent invalid_client without the secret", err)
			}
		})
	})
}

// deviceFlow runs StartDevice and PollDevice against the provider, with
// the user (login; "" = oidcprovider.DefaultLogin) approving during the second
// wait, so that the first poll gets a real authorization_pending. It checks
// the RFC 8628 timing and returns the token and its verified claims.
func deviceFlow(t *testing.T, p *oidcprovider.Provider, newClient func(*fakeClock) *tokenclient.Client, md *tokenclient.Metadata, auth clientAuth, audience, login string) (*tokenclient.Result, jwt.MapClaims) {
	t.Helper()
	ctx := testContext(t)
	clk := newFakeClock()
	c := newClient(clk)
	scopes := []string{"openid", "offline_access", "storage.read:/"}
	da, err := on(c, md, auth).StartDevice(ctx, scopes, auds(audience))
	if err != nil {
		t.Fatalf("StartDevice: %v", err)
	}
	if da.UserCode == "" || !strings.HasPrefix(da.VerificationURI, p.Issuer) || da.Interval != 5 || da.ExpiresIn <= 0 {
		t.Fatalf("DeviceAuth = %+v", da)
	}
	clk.onSleep = func(n int, _ time.Duration) bool {
		if n == 2 {
			approve(t, p, da, login)
		}
		return true
	}
	var pl progressLog
	tok, err := on(c, md, auth).PollDevice(ctx, da, pl.record)
	if err != nil {
		t.Fatalf("PollDevice: %v", err)
	}
	// Wait 5 s, pending, wait 5 s (approved meanwhile), token.
	if got := pl.Intervals(); !slices.Equal(got, seconds(5, 5)) {
		t.Errorf("intervals = %v; want [5s 5s]", got)
	}
	if got := clk.Sleeps(); !slices.Equal(got, seconds(5, 5)) {
		t.Errorf("sleeps = %v; want [5s 5s]", got)
	}
	// With resource indicators the response's scope is the access token's
	// resource scope (storage.read:/), not openid/offline_access; that
	// those were granted shows in the refresh and ID tokens.
	if tok.RefreshToken == "" || field(tok, "id_token") == "" || !strings.EqualFold(field(tok, "token_type"), "Bearer") || !strings.Contains(field(tok, "scope"), "storage.read:/") {
		t.Errorf("token: refresh %t, id_token %t, type %q, scope %q", tok.RefreshToken != "", field(tok, "id_token") != "", field(tok, "token_type"), field(tok, "scope"))
	}
	if expiresIn(tok) <= 0 || !tok.Expiry().Equal(clk.Now().Add(time.Duration(expiresIn(tok))*time.Second)) {
		t.Errorf("ExpiresIn %d, Expiry %v (clock %v)", expiresIn(tok), tok.Expiry(), clk.Now())
	}
	claims := p.VerifyAccessToken(t, tok.AccessToken())
	if !strings.Contains(fmt.Sprint(claims["scope"]), "storage.read:/") {
		t.Errorf("scope claim %v lacks storage.read:/", claims["scope"])
	}
	return tok, claims
}

// approve approves the device code as login through the provider's pages,
// using the user code as a person would type it.
func approve(t *testing.T, p *oidcprovider.Provider, da *tokenclient.DeviceAuth, login string) {
	t.Helper()
	if err := p.ApproveDevice(context.Background(), da.VerificationURI, da.UserCode, login); err != nil {
		t.Errorf("approving %s: %v", da.UserCode, err)
	}
}

// intervalEnforcer is an RFC 8628 §3.5 token endpoint front: a device_code
// poll that comes sooner than the code's interval after the previous poll
// (or the authorization) gets slow_down and raises the interval by 5 s;
// other polls, and every other request, go to the real provider. Time is
// the test's fake clock.
type intervalEnforcer struct {
	*httptest.Server
	clk *fakeClock

	mu        sync.Mutex
	last      map[string]time.Time
	interval  map[string]time.Duration
	slowDowns int
	forwarded int
}

func newIntervalEnforcer(t *testing.T, target string, clk *fakeClock) *intervalEnforcer {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	e := &intervalEnforcer{clk: clk, last: map[string]time.Time{}, interval: map[string]time.Duration{}}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if dc := form.Get("device_code"); form.Get("grant_type") == tokenclient.GrantTypeDeviceCode && dc != "" {
			now := e.clk.Now()
			e.mu.Lock()
			tooSoon := now.Sub(e.last[dc]) < e.interval[dc]
			e.last[dc] = now
			if tooSoon {
				e.interval[dc] += 5 * time.Second
				e.slowDowns++
			} else {
				e.forwarded++
			}
			e.mu.Unlock()
			if tooSoon {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"slow_down","error_description":"polling faster than the interval"}`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

// issued records a device authorization made now with the given interval.
func (e *intervalEnforcer) issued(deviceCode string, interval time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.last[deviceCode] = e.clk.Now()
	e.interval[deviceCode] = interval
}

func (e *intervalEnforcer) counts() (slowDowns, forwarded int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.slowDowns, e.forwarded
}

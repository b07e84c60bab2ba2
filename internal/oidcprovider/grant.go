package oidcprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client authentication methods (RFC 7591 token_endpoint_auth_method
// values) understood by GrantRequest.AuthMethod.
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
	AuthNone  = "none"
)

// DefaultLogin is the account that approves device authorizations when
// GrantRequest.User is empty. The dev login page accepts any name with any
// password; the name becomes the token's sub.
const DefaultLogin = "alice"

// grantTimeout bounds one NewRefreshToken: device authorization, approval
// and the token request are about a dozen loopback round trips.
const grantTimeout = 30 * time.Second

// GrantRequest describes a grant to obtain with NewRefreshToken.
type GrantRequest struct {
	// ClientID and ClientSecret identify the client, e.g. ClientIDBasic and
	// ClientSecret. An empty ClientID means ClientIDBasic with ClientSecret.
	ClientID, ClientSecret string
	// AuthMethod is how the client authenticates (AuthBasic, AuthPost or
	// AuthNone). Empty means: AuthNone when ClientSecret is empty, AuthPost
	// for ClientIDPost, else AuthBasic — which matches the static clients.
	AuthMethod string
	// Scope is the requested scope. "openid offline_access" is added when
	// missing, since without offline_access no refresh token is issued.
	Scope string
	// Audience, if set, is sent as the RFC 8707 resource parameter, both on
	// the device authorization and on the token request, so the access
	// token's aud is Audience (else it is the provider's default audience).
	Audience string
	// User is the login name that approves the request (default
	// DefaultLogin). It becomes the tokens' sub.
	User string
}

// Grant is what the device_code token request returned.
type Grant struct {
	RefreshToken string
	AccessToken  string
	// ExpiresIn is the access token lifetime in seconds.
	ExpiresIn int
	// Raw is the whole token response (id_token, scope, token_type ...).
	Raw map[string]any
}

// NewRefreshToken obtains a refresh token the way a person with a browser
// would: an RFC 8628 device authorization, approved by User through the
// provider's own HTML pages, then the device_code token request. It fails
// the test on any error.
func (p *Provider) NewRefreshToken(t TB, req GrantRequest) Grant {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), grantTimeout)
	defer cancel()
	g, err := p.newGrant(ctx, req)
	if err != nil {
		t.Fatalf("obtaining refresh token for client %q user %q: %v", req.ClientID, loginOf(req), err)
	}
	return g
}

// DeviceGrant is NewRefreshToken returning an error instead of failing the
// test, for worker goroutines and for tests that expect the flow to fail.
func (p *Provider) DeviceGrant(ctx context.Context, req GrantRequest) (Grant, error) {
	return p.newGrant(ctx, req)
}

// NewRefreshTokens obtains n grants with up to concurrency device flows in
// flight at once. Grant i is approved by the login req.User+strconv.Itoa(i)
// (req.User defaults to "user" here, giving user0, user1, ...), so every
// grant has its own sub, as n distinct users would.
//
// A device flow is about a dozen requests (20–25 ms on a loaded 2-core
// machine); the provider is one Node.js process, so concurrency beyond 4
// buys little. For thousands of grants where the sub does not matter,
// CloneRefreshTokens is about eight times faster.
func (p *Provider) NewRefreshTokens(t TB, req GrantRequest, n, concurrency int) []Grant {
	t.Helper()
	prefix := req.User
	if prefix == "" {
		prefix = "user"
	}
	grants, err := parallelGrants(n, concurrency, func(ctx context.Context, i int) (Grant, error) {
		r := req
		r.User = prefix + strconv.Itoa(i)
		g, err := p.newGrant(ctx, r)
		if err != nil {
			return g, fmt.Errorf("user %s: %w", r.User, err)
		}
		return g, nil
	})
	if err != nil {
		t.Fatalf("obtaining %d refresh tokens: %v", n, err)
	}
	return grants
}

// CloneRefreshTokens obtains one grant for req.User with a device flow and
// then n more by RFC 8693 token exchange of its refresh token (the custom
// grant in server.mjs; one request each, about 3 ms). Every clone is a grant
// of its own: rotation, reuse detection and revocation of one do not affect
// the others. All share one sub, so use NewRefreshTokens where tokens must
// look like distinct users. The clones have the requested scope and
// audience; their token responses have no id_token.
func (p *Provider) CloneRefreshTokens(t TB, req GrantRequest, n, concurrency int) []Grant {
	t.Helper()
	seed := p.NewRefreshToken(t, req)
	if req.ClientID == "" {
		req.ClientID, req.ClientSecret = ClientIDBasic, ClientSecret
	}
	grants, err := parallelGrants(n, concurrency, func(ctx context.Context, i int) (Grant, error) {
		form := url.Values{
			"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token":      {seed.RefreshToken},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"},
			"scope":              {withOfflineScope(req.Scope)},
		}
		if req.Audience != "" {
			form.Set("audience", req.Audience)
		}
		raw, status, err := p.tokenRequest(ctx, req.ClientID, req.ClientSecret, req.AuthMethod, form)
		if err != nil {
			return Grant{}, err
		}
		if status != http.StatusOK {
			return Grant{}, fmt.Errorf("token exchange: HTTP %d: %v", status, raw)
		}
		return grantFrom(raw)
	})
	if err != nil {
		t.Fatalf("cloning %d refresh tokens: %v", n, err)
	}
	return grants
}

// parallelGrants runs get for 0..n-1 with at most concurrency calls in
// flight, stopping at the first error.
func parallelGrants(n, concurrency int, get func(ctx context.Context, i int) (Grant, error)) ([]Grant, error) {
	concurrency = max(1, min(concurrency, n))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	grants := make([]Grant, n)
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range concurrency {
		wg.Go(func() {
			for i := range next {
				gctx, gcancel := context.WithTimeout(ctx, grantTimeout)
				g, err := get(gctx, i)
				gcancel()
				if err != nil {
					errOnce.Do(func() {
						firstErr = fmt.Errorf("grant %d: %w", i, err)
						cancel()
					})
					continue
				}
				grants[i] = g
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return grants, firstErr
}

func loginOf(req GrantRequest) string {
	if req.User == "" {
		return DefaultLogin
	}
	return req.User
}

// newGrant runs the whole device flow without touching a testing.TB, so
// that it can run in worker goroutines.
func (p *Provider) newGrant(ctx context.Context, req GrantRequest) (Grant, error) {
	if req.ClientID == "" {
		req.ClientID, req.ClientSecret = ClientIDBasic, ClientSecret
	}
	form := url.Values{"scope": {withOfflineScope(req.Scope)}}
	if req.Audience != "" {
		form.Set("resource", req.Audience)
	}
	var da struct {
		DeviceCode              string `json:"device_code"`
		VerificationURIComplete string `json:"verification_uri_complete"`
	}
	body, status, err := p.postForm(ctx, p.DeviceAuthorizationURL, req.ClientID, req.ClientSecret, req.AuthMethod, form)
	if err != nil {
		return Grant{}, fmt.Errorf("device authorization: %w", err)
	}
	if status != http.StatusOK {
		return Grant{}, fmt.Errorf("device authorization: HTTP %d: %s", status, body)
	}
	if err := json.Unmarshal(body, &da); err != nil || da.DeviceCode == "" || da.VerificationURIComplete == "" {
		return Grant{}, fmt.Errorf("device authorization: unexpected response %s", body)
	}

	if err := p.approveDevice(ctx, da.VerificationURIComplete, loginOf(req)); err != nil {
		return Grant{}, fmt.Errorf("approving device code: %w", err)
	}

	tokenForm := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da.DeviceCode},
	}
	if req.Audience != "" {
		// Without it the provider picks the default audience from the
		// grant's resources, which always include DefaultAudience.
		tokenForm.Set("resource", req.Audience)
	}
	// Approval completes before the "Sign-in Success" page is sent, so
	// the first poll normally succeeds; a few retries only cover a
	// provider that commits asynchronously. oidc-provider does not answer
	// slow_down for fast polling, so a short interval is safe.
	for attempt := 0; ; attempt++ {
		raw, status, err := p.tokenRequest(ctx, req.ClientID, req.ClientSecret, req.AuthMethod, tokenForm)
		if err != nil {
			return Grant{}, fmt.Errorf("device_code token request: %w", err)
		}
		if status == http.StatusBadRequest && raw["error"] == "authorization_pending" && attempt < 50 {
			select {
			case <-time.After(20 * time.Millisecond):
				continue
			case <-ctx.Done():
				return Grant{}, ctx.Err()
			}
		}
		if status != http.StatusOK {
			return Grant{}, fmt.Errorf("device_code token request: HTTP %d: %v", status, raw)
		}
		return grantFrom(raw)
	}
}

// grantFrom picks the tokens out of a successful token response.
func grantFrom(raw map[string]any) (Grant, error) {
	g := Grant{Raw: raw}
	g.RefreshToken, _ = raw["refresh_token"].(string)
	g.AccessToken, _ = raw["access_token"].(string)
	if f, ok := raw["expires_in"].(float64); ok {
		g.ExpiresIn = int(f)
	}
	if g.RefreshToken == "" || g.AccessToken == "" {
		return Grant{}, fmt.Errorf("token response lacks a refresh or access token: %v", raw)
	}
	return g, nil
}

func withOfflineScope(scope string) string {
	have := strings.Fields(scope)
	var add []string
	for _, s := range []string{"openid", "offline_access"} {
		found := false
		for _, h := range have {
			found = found || h == s
		}
		if !found {
			add = append(add, s)
		}
	}
	return strings.Join(append(add, have...), " ")
}

var (
	formRE    = regexp.MustCompile(`(?is)<form\b[^>]*>.*?</form>`)
	formTagRE = regexp.MustCompile(`(?is)^<form\b[^>]*>`)
	inputRE   = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attrRE    = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*"([^"]*)"`)
)

// htmlForm is the first form of a page: where it posts and its hidden
// fields.
type htmlForm struct {
	action string
	fields url.Values
}

func parseForm(page []byte) (htmlForm, bool) {
	m := formRE.Find(page)
	if m == nil {
		return htmlForm{}, false
	}
	f := htmlForm{fields: url.Values{}}
	for _, a := range attrRE.FindAllSubmatch(formTagRE.Find(m), -1) {
		if strings.EqualFold(string(a[1]), "action") {
			f.action = html.UnescapeString(string(a[2]))
		}
	}
	for _, in := range inputRE.FindAll(m, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllSubmatch(in, -1) {
			attrs[strings.ToLower(string(a[1]))] = html.UnescapeString(string(a[2]))
		}
		if attrs["type"] == "hidden" && attrs["name"] != "" {
			f.fields.Set(attrs["name"], attrs["value"])
		}
	}
	return f, f.action != ""
}

// approveDevice approves a user code through the provider's dev
// interaction pages, step for step as a browser (or curl with a cookie
// jar) would:
//
//  1. GET verification_uri_complete: an auto-submitting form carrying the
//     xsrf token and user_code;
//  2. POST it: the "Confirm Device" page, whose form adds confirm=yes;
//  3. POST that: 303 to /interaction/<uid>, the login page;
//  4. POST prompt=login with the login name (any password works), which
//     resumes the device flow and may land on a consent page;
//  5. POST prompt=consent if asked, ending on "Sign-in Success".
//
// Each form is read from the page instead of reusing the first xsrf value,
// so a provider that rotates it per page also works.
func (p *Provider) approveDevice(ctx context.Context, verificationURI, login string) error {
	jar, _ := cookiejar.New(nil) // never fails without options
	c := &http.Client{Transport: p.transport, Jar: jar}

	page, err := browse(ctx, c, http.MethodGet, verificationURI, nil)
	if err != nil {
		return err
	}
	// Bounded: confirm, login and consent are three pages; allow a spare
	// round trip before calling it a loop.
	for step := 0; step < 6; step++ {
		if strings.Contains(string(page), "Sign-in Success") {
			return nil
		}
		f, ok := parseForm(page)
		if !ok {
			return fmt.Errorf("step %d: no form on page:\n%s", step, excerpt(page))
		}
		switch f.fields.Get("prompt") {
		case "login":
			f.fields.Set("login", login)
			f.fields.Set("password", "x")
		case "consent":
		default:
			if f.fields.Get("user_code") == "" {
				return fmt.Errorf("step %d: unexpected form (action %s):\n%s", step, f.action, excerpt(page))
			}
		}
		if page, err = browse(ctx, c, http.MethodPost, f.action, f.fields); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return fmt.Errorf("no \"Sign-in Success\" after 6 pages; last page:\n%s", excerpt(page))
}

// browse fetches a page, following redirects like curl -L, and fails on a
// non-2xx final status like curl -f.
func browse(ctx context.Context, c *http.Client, method, target string, form url.Values) ([]byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: HTTP %d:\n%s", method, resp.Request.URL, resp.StatusCode, excerpt(page))
	}
	return page, nil
}

func excerpt(page []byte) string {
	const n = 2000
	if len(page) > n {
		return string(page[:n]) + "..."
	}
	return string(page)
}

// Refresh performs a bare refresh_token grant against the provider's token
// endpoint and returns the decoded JSON response and HTTP status, also for
// OAuth errors (status 400 with an "error" member). err is only for
// transport failures and non-JSON bodies. It is the benchmark baseline for
// credmon's refresh path and the way tests replay old refresh tokens.
//
// The client authenticates as GrantRequest.AuthMethod's default would
// (AuthPost for ClientIDPost, AuthNone with an empty secret, else
// AuthBasic) unless extra carries client_id or client_secret, in which case
// extra is the whole authentication. extra may also add scope, resource or
// audience.
func (p *Provider) Refresh(ctx context.Context, clientID, secret, rt string, extra url.Values) (map[string]any, int, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	method := ""
	for k, vs := range extra {
		form[k] = append([]string(nil), vs...)
		if k == "client_id" || k == "client_secret" {
			method = "caller"
		}
	}
	return p.tokenRequest(ctx, clientID, secret, method, form)
}

// Revoke revokes a refresh token at the RFC 7009 revocation endpoint,
// authenticating like Refresh. The provider then rejects it (and its
// grant's other tokens) with invalid_grant.
func (p *Provider) Revoke(t TB, clientID, clientSecret, refreshToken string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	body, status, err := p.postForm(ctx, p.RevocationURL, clientID, clientSecret, "", form)
	if err != nil {
		t.Fatalf("revoking refresh token: %v", err)
	}
	if status != http.StatusOK {
		t.Fatalf("revoking refresh token: HTTP %d: %s", status, body)
	}
}

// tokenRequest posts form to the token endpoint and decodes the JSON reply.
func (p *Provider) tokenRequest(ctx context.Context, clientID, secret, method string, form url.Values) (map[string]any, int, error) {
	body, status, err := p.postForm(ctx, p.TokenURL, clientID, secret, method, form)
	if err != nil {
		return nil, 0, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, status, fmt.Errorf("token endpoint returned HTTP %d with a non-JSON body %q: %w", status, excerpt(body), err)
	}
	return m, status, nil
}

// postForm posts form to target with client authentication added according
// to method ("" infers it, "caller" adds none because form has it).
func (p *Provider) postForm(ctx context.Context, target, clientID, secret, method string, form url.Values) ([]byte, int, error) {
	if method == "" {
		switch {
		case secret == "":
			method = AuthNone
		case clientID == ClientIDPost:
			method = AuthPost
		default:
			method = AuthBasic
		}
	}
	switch method {
	case AuthPost:
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	case AuthNone:
		form.Set("client_id", clientID)
	case AuthBasic, "caller":
	default:
		return nil, 0, fmt.Errorf("unknown client authentication method %q", method)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == AuthBasic {
		// RFC 6749 §2.3.1: form-urlencode both parts before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	return body, resp.StatusCode, nil
}

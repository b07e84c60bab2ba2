package tokenclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
)

// counting counts the requests it carries.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// At an issuer that holds clients to their registered method,
// AuthStyleAutoDetect tries Basic, then client_secret_post once when the
// client is refused, and leaves AuthStyle at what worked; an explicit
// style is sent as it is, and other refusals are never retried (the
// refresh token may be spent).
func TestAuthStyleAutoDetectFallsBackOnceAndRemembers(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	cnt := &counting{}
	hc := &http.Client{Transport: cnt}
	client := func(id, secret string, style oauth2.AuthStyle) *tokenclient.Client {
		return &tokenclient.Client{TokenURL: p.TokenURL, ClientID: id, ClientSecret: secret,
			AuthStyle: style, AllowInsecure: true, HTTPClient: hc}
	}
	for _, tc := range []struct {
		name      string
		id        string
		secret    string
		first     oauth2.AuthStyle
		want      oauth2.AuthStyle
		wantTries int32
		wantCode  string
	}{
		{"post client, auto-detect", oidcprovider.ClientIDPost, oidcprovider.ClientSecret, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInParams, 2, ""},
		{"Basic client, auto-detect", oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, 1, ""},
		{"Basic client, explicit post is not retried", oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, oauth2.AuthStyleInParams, oauth2.AuthStyleInParams, 1, "invalid_client"},
		{"public client sends client_id only", oidcprovider.ClientIDPublic, "", oauth2.AuthStyleAutoDetect, oauth2.AuthStyleAutoDetect, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: tc.id, ClientSecret: tc.secret})
			c := client(tc.id, tc.secret, tc.first)
			cnt.n.Store(0)
			res, err := c.Refresh(context.Background(), g.RefreshToken, nil, nil, nil)
			var e *tokenclient.Error
			switch {
			case tc.wantCode == "" && err != nil:
				t.Fatalf("Refresh = %v", err)
			case tc.wantCode != "" && (!errors.As(err, &e) || e.Code != tc.wantCode):
				t.Fatalf("Refresh = %v; want %s", err, tc.wantCode)
			case tc.wantCode == "" && res.RefreshToken == "":
				t.Error("no rotated refresh token")
			}
			if c.AuthStyle != tc.want || cnt.n.Load() != tc.wantTries {
				t.Errorf("AuthStyle %v after %d requests; want %v after %d", c.AuthStyle, cnt.n.Load(), tc.want, tc.wantTries)
			}
			if tc.wantCode != "" {
				return
			}
			// The next request starts with the method that worked.
			cnt.n.Store(0)
			if _, err := c.Refresh(context.Background(), res.RefreshToken, nil, nil, nil); err != nil || cnt.n.Load() != 1 {
				t.Errorf("second Refresh = %v after %d requests; want success after 1", err, cnt.n.Load())
			}
		})
	}

	// invalid_grant is not a client authentication failure: one request.
	c := client(oidcprovider.ClientIDPost, oidcprovider.ClientSecret, oauth2.AuthStyleAutoDetect)
	c.AuthStyle = oauth2.AuthStyleAutoDetect
	cnt.n.Store(0)
	_, err := c.Refresh(context.Background(), "not-a-refresh-token", nil, nil, nil)
	if tokenclient.Classify(err) != tokenclient.NeedsLogin {
		t.Errorf("Refresh(bad token) = %v (%v); want invalid_grant, needs-login", err, tokenclient.Classify(err))
	}
	// Basic refused (invalid_client), then post: invalid_grant.
	if cnt.n.Load() != 2 {
		t.Errorf("%d requests; want 2 (Basic refused, then post)", cnt.n.Load())
	}

	// The client credentials grant probes the same way.
	c = client(oidcprovider.ClientIDPost, oidcprovider.ClientSecret, oauth2.AuthStyleAutoDetect)
	res, err := c.ClientCredentials(context.Background(), []string{"compute.read"}, []string{"https://cc.example.org"})
	if err != nil || c.AuthStyle != oauth2.AuthStyleInParams {
		t.Fatalf("ClientCredentials = %v, AuthStyle %v; want a token by client_secret_post", err, c.AuthStyle)
	}
	if claims := p.VerifyAccessToken(t, res.AccessToken()); claims["aud"] != "https://cc.example.org" {
		t.Errorf("aud = %v", claims["aud"])
	}
}

// RFC 8693 token exchange of a refresh token at the real provider: a new
// grant with the requested audience, and the server's answer kept whole.
func TestExchangeRefreshToken(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	g := p.NewRefreshToken(t, oidcprovider.GrantRequest{User: "xavier"})
	c := &tokenclient.Client{TokenURL: p.TokenURL, ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret,
		AuthStyle: oauth2.AuthStyleInHeader, AudienceMode: tokenclient.AudienceResource, AllowInsecure: true, HTTPClient: p.HTTPClient()}
	res, err := c.Exchange(testContext(t), tokenclient.ExchangeRequest{
		SubjectToken: g.RefreshToken, SubjectTokenType: tokenclient.TokenTypeRefreshToken,
		Scopes: []string{"openid", "offline_access", "storage.read:/"}, Audiences: []string{"https://xs.example.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	claims := p.VerifyAccessToken(t, res.AccessToken())
	if claims["sub"] != "xavier" || claims["aud"] != "https://xs.example.org" {
		t.Errorf("claims sub %v aud %v; want xavier, https://xs.example.org", claims["sub"], claims["aud"])
	}
	if field(res, "issued_token_type") != tokenclient.TokenTypeAccessToken || res.RefreshToken == "" || res.Expiry().IsZero() {
		t.Errorf("issued_token_type %q, refresh token %v, expiry %v", field(res, "issued_token_type"), res.RefreshToken != "", res.Expiry())
	}
	// The new refresh token is a grant of its own.
	if _, err := c.Refresh(testContext(t), res.RefreshToken, nil, nil, nil); err != nil {
		t.Errorf("refreshing the exchanged grant: %v", err)
	}
	// A dead subject token: invalid_grant, a human must log in.
	_, err = c.Exchange(testContext(t), tokenclient.ExchangeRequest{SubjectToken: "nope", SubjectTokenType: tokenclient.TokenTypeRefreshToken})
	if tokenclient.Classify(err) != tokenclient.NeedsLogin {
		t.Errorf("Exchange(dead token) = %v; want needs-login", err)
	}
	if _, err := c.Exchange(testContext(t), tokenclient.ExchangeRequest{}); !tokenclient.IsPermanent(err) {
		t.Errorf("Exchange without a subject token = %v; want a permanent error", err)
	}
}

// Classify has one table for every grant: the class of each code the
// servers send, a bare 401, and what is not an answer.
func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
		want   tokenclient.Class
	}{
		{400, `{"error":"invalid_grant"}`, tokenclient.NeedsLogin},
		{401, `{"error":"invalid_token"}`, tokenclient.NeedsLogin},
		{400, `{"error":"expired_token"}`, tokenclient.NeedsLogin},
		{401, `{"error":"invalid_client"}`, tokenclient.Permanent},
		{400, `{"error":"unauthorized_client"}`, tokenclient.Permanent},
		{400, `{"error":"unsupported_grant_type"}`, tokenclient.Permanent},
		{400, `{"error":"invalid_scope"}`, tokenclient.Permanent},
		{400, `{"error":"invalid_target"}`, tokenclient.Permanent},
		{403, `{"error":"access_denied"}`, tokenclient.Permanent},
		{401, ``, tokenclient.Permanent},
		{400, `{"error":"invalid_request"}`, tokenclient.Transient},
		{503, `{"error":"temporarily_unavailable"}`, tokenclient.Transient},
		{500, `{"error":"server_error"}`, tokenclient.Transient},
		{429, ``, tokenclient.Transient},
		{403, ``, tokenclient.Transient},
	} {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.body), func(t *testing.T) {
			e := newEndpoint(t, jsonReply(tt.status, tt.body))
			c := &tokenclient.Client{TokenURL: e.URL, ClientID: "c", AllowInsecure: true}
			_, err := c.Refresh(testContext(t), "rt", nil, nil, nil)
			wrapped := fmt.Errorf("context: %w", err)
			if got := tokenclient.Classify(wrapped); got != tt.want {
				t.Errorf("Classify(%v) = %v; want %v", err, got, tt.want)
			}
			if tokenclient.IsPermanent(wrapped) != (tt.want != tokenclient.Transient) {
				t.Errorf("IsPermanent(%v) = %v", err, tokenclient.IsPermanent(wrapped))
			}
		})
	}
	for _, err := range []error{nil, errors.New("network"), context.DeadlineExceeded} {
		if got := tokenclient.Classify(err); got != tokenclient.Transient || tokenclient.IsPermanent(err) {
			t.Errorf("Classify(%v) = %v; want transient", err, got)
		}
	}
	if got := tokenclient.Classify(&tokenclient.PermanentError{Err: errors.New("bad config")}); got != tokenclient.Permanent {
		t.Errorf("Classify(PermanentError) = %v", got)
	}
}

// Cache: one request for concurrent lookups of an issuer, reuse within
// TTL, a new request after it or after Reset, failures not kept.
func TestCacheSharesAndExpiresDiscovery(t *testing.T) {
	var hits atomic.Int32
	arrived, release := make(chan struct{}), make(chan struct{})
	fail := atomic.Bool{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			close(arrived)
			<-release // hold the first lookup while the other callers join it
		}
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"%s/token"}`, srv.URL, srv.URL)
	}))
	t.Cleanup(srv.Close)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	dc := &tokenclient.Cache{TTL: time.Hour, Now: clock}
	c := &tokenclient.Client{AllowInsecure: true}

	const callers = 8
	var wg sync.WaitGroup
	urls := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { urls[i], errs[i] = dc.TokenURL(testContext(t), c, srv.URL) })
	}
	<-arrived
	close(release)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || urls[i] != srv.URL+"/token" {
			t.Fatalf("caller %d: %q, %v", i, urls[i], errs[i])
		}
	}
	// Late joiners that arrived after the first finished hit the cache, so
	// the server saw one request whatever the interleaving.
	if hits.Load() != 1 {
		t.Errorf("%d discovery requests for %d concurrent callers; want 1", hits.Load(), callers)
	}
	mu.Lock()
	now = now.Add(59 * time.Minute)
	mu.Unlock()
	if _, err := dc.TokenURL(testContext(t), c, srv.URL); err != nil || hits.Load() != 1 {
		t.Errorf("within TTL: %v, %d requests; want the cached answer", err, hits.Load())
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	fail.Store(true)
	if _, err := dc.TokenURL(testContext(t), c, srv.URL); err == nil || hits.Load() != 2 {
		t.Errorf("after TTL with the issuer down: %v, %d requests; want a fresh, failed lookup", err, hits.Load())
	}
	fail.Store(false)
	if _, err := dc.TokenURL(testContext(t), c, srv.URL); err != nil || hits.Load() != 3 {
		t.Errorf("after a failure: %v, %d requests; want a fresh lookup (failures are not kept)", err, hits.Load())
	}
	dc.Reset()
	if _, err := dc.TokenURL(testContext(t), c, srv.URL); err != nil || hits.Load() != 4 {
		t.Errorf("after Reset: %v, %d requests; want a fresh lookup", err, hits.Load())
	}
}

package tokenclient_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/tokenclient"
)

// A secret with the characters RFC 6749 §2.3.1 makes us form-encode before
// Basic encoding.
const (
	testClientID = "robot client"
	testSecret   = "s3cr:et%/+"
	testToken    = "eyJ.access-token-that-must-not-leak"
)

// recorded is one request an endpoint fake received.
type recorded struct {
	header http.Header
	form   url.Values
	body   []byte
	basicU string
	basicP string
	basic  bool
}

// endpoint is an httptest token/device/registration endpoint that answers
// with the scripted responses in order (the last one repeats) and records
// the requests.
type endpoint struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	replies []reply
}

type reply struct {
	status int
	ctype  string
	body   string
	header map[string]string
}

func jsonReply(status int, body string) reply {
	return reply{status: status, ctype: "application/json", body: body}
}

func newEndpoint(t *testing.T, replies ...reply) *endpoint {
	t.Helper()
	e := &endpoint{replies: replies}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := recorded{header: r.Header.Clone(), body: body}
		if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			rec.form, _ = url.ParseQuery(string(body))
		}
		if u, p, ok := r.BasicAuth(); ok {
			rec.basic = true
			rec.basicU, _ = url.QueryUnescape(u)
			rec.basicP, _ = url.QueryUnescape(p)
		}
		e.mu.Lock()
		e.reqs = append(e.reqs, rec)
		rp := e.replies[min(len(e.reqs), len(e.replies))-1]
		e.mu.Unlock()
		for k, v := range rp.header {
			w.Header().Set(k, v)
		}
		if rp.ctype != "" {
			w.Header().Set("Content-Type", rp.ctype)
		}
		w.WriteHeader(rp.status)
		io.WriteString(w, rp.body)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) Requests() []recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]recorded(nil), e.reqs...)
}

func TestClientCredentials(t *testing.T) {
	okBody := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":"3600","scope":"compute.read"}`, testToken)
	tests := []struct {
		name     string
		style    oauth2.AuthStyle
		audience string
		as       string
		wantForm url.Values // members besides grant_type and scope
		wantErr  bool
	}{
		{name: "basic, URI audience auto → resource", style: oauth2.AuthStyleInHeader, audience: "https://se.example.org",
			wantForm: url.Values{"resource": {"https://se.example.org"}}},
		{name: "post, host:port audience auto → audience", style: oauth2.AuthStyleInParams, audience: "ce.example.org:9619",
			wantForm: url.Values{"audience": {"ce.example.org:9619"}, "client_id": {testClientID}, "client_secret": {testSecret}}},
		{name: "auto-detect means basic, explicit audience", style: oauth2.AuthStyleAutoDetect, audience: "https://x", as: "audience",
			wantForm: url.Values{"audience": {"https://x"}}},
		{name: "both", style: oauth2.AuthStyleInHeader, audience: "https://x", as: "both",
			wantForm: url.Values{"audience": {"https://x"}, "resource": {"https://x"}}},
		{name: "no audience", style: oauth2.AuthStyleInHeader, wantForm: url.Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, jsonReply(200, okBody))
			clk := newFakeClock()
			c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true, Now: clk.Now, UserAgent: "credmon-test/1"}
			auth := clientAuth{ClientID: testClientID, ClientSecret: testSecret, Style: tt.style}
			tok, err := cc(c, e.URL+"/token", auth, tt.as).ClientCredentials(testContext(t), []string{"compute.read", "storage.read:/"}, auds(tt.audience))
			if tt.wantErr {
				if err == nil || len(e.Requests()) != 0 {
					t.Fatalf("ClientCredentials = %v, %d requests; want an error and no request", err, len(e.Requests()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken() != testToken || expiresIn(tok) != 3600 || !tok.Expiry().Equal(clk.Now().Add(time.Hour)) || field(tok, "scope") != "compute.read" || field(tok, "token_type") != "Bearer" {
				t.Errorf("token = %+v; want the response's values with Expiry now+1h", tok)
			}
			if string(rawField(tok, "expires_in")) != `"3600"` {
				t.Errorf("Raw[expires_in] = %s; want the string as sent", rawField(tok, "expires_in"))
			}
			reqs := e.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests; want 1", len(reqs))
			}
			r := reqs[0]
			want := url.Values{"grant_type": {"client_credentials"}, "scope": {"compute.read storage.read:/"}}
			for k, v := range tt.wantForm {
				want[k] = v
			}
			if r.form.Encode() != want.Encode() {
				t.Errorf("form = %s; want %s", r.form.Encode(), want.Encode())
			}
			wantBasic := tt.style != oauth2.AuthStyleInParams
			if r.basic != wantBasic || (wantBasic && (r.basicU != testClientID || r.basicP != testSecret)) {
				t.Errorf("basic auth = %v %q %q; want %v %q %q", r.basic, r.basicU, r.basicP, wantBasic, testClientID, testSecret)
			}
			if r.header.Get("Accept") != "application/json" || r.header.Get("User-Agent") != "credmon-test/1" {
				t.Errorf("Accept %q, User-Agent %q", r.header.Get("Accept"), r.header.Get("User-Agent"))
			}
		})
	}
}

// TestTokenResponses checks what counts as a token and that errors keep
// the server's code and description but never a token or secret.
func TestTokenResponses(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		wantCode  string
		wantDesc  string
		wantState int
		permanent bool
		wantOK    bool
	}{
		{name: "ok", reply: jsonReply(200, `{"access_token":"a","expires_in":60.0}`), wantOK: true},
		{name: "non-2xx with an access_token is an error",
			reply:    jsonReply(400, fmt.Sprintf(`{"access_token":%q,"error":"invalid_scope","error_description":"no"}`, testToken)),
			wantCode: "invalid_scope", wantDesc: "no", wantState: 400, permanent: true},
		{name: "non-2xx with only an access_token is an error",
			reply:     jsonReply(500, fmt.Sprintf(`{"access_token":%q}`, testToken)),
			wantState: 500},
		{name: "200 with error (GitHub style)", reply: jsonReply(200, `{"error":"invalid_grant"}`),
			wantCode: "invalid_grant", wantState: 200, permanent: true},
		{name: "200 without access_token", reply: jsonReply(200, `{"token_type":"Bearer"}`),
			wantDesc: "token endpoint response has no access_token", wantState: 200},
		{name: "200 truncated JSON", reply: jsonReply(200, `{"access_token":"`+testToken),
			wantDesc: "token endpoint response is not JSON", wantState: 200},
		{name: "description echoing the secret is scrubbed",
			reply:    jsonReply(401, fmt.Sprintf(`{"error":"invalid_client","error_description":"bad secret %s\n"}`, testSecret)),
			wantCode: "invalid_client", wantDesc: "bad secret [redacted]", wantState: 401, permanent: true},
		{name: "HTML 502", reply: reply{status: 502, ctype: "text/html", body: "<html>" + testToken + "</html>"},
			wantDesc: "non-JSON text/html response", wantState: 502},
		{name: "bare 401 is permanent", reply: reply{status: 401}, wantState: 401, permanent: true},
		{name: "temporarily_unavailable is not permanent", reply: jsonReply(503, `{"error":"temporarily_unavailable"}`),
			wantCode: "temporarily_unavailable", wantState: 503},
		{name: "redirect is not followed", reply: reply{status: 307, header: map[string]string{"Location": "https://elsewhere.example/token"}},
			wantDesc: "redirect to https://elsewhere.example/token not followed", wantState: 307},
		{name: "oversized body", reply: jsonReply(200, `{"access_token":"a","pad":"`+strings.Repeat("x", tokenclient.MaxResponseBytes)+`"}`)},
		// As the daemon always did: the token is good, its lifetime unknown.
		{name: "expires_in not a number is no expiry", reply: jsonReply(200, `{"access_token":"a","expires_in":"soon"}`), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, tt.reply)
			c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
			auth := clientAuth{ClientID: testClientID, ClientSecret: testSecret, Style: oauth2.AuthStyleInParams}
			tok, err := cc(c, e.URL+"/token", auth, "").ClientCredentials(testContext(t), nil, auds(""))
			if tt.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.Contains(tt.reply.body, `60.0`); want != (expiresIn(tok) == 60) || want == tok.Expiry().IsZero() {
					t.Errorf("ExpiresIn = %d, Expiry %v; want 60 s only when the server sent it", expiresIn(tok), tok.Expiry())
				}
				return
			}
			if err == nil {
				t.Fatalf("ClientCredentials = %+v; want an error", tok)
			}
			if msg := err.Error(); strings.Contains(msg, testToken) || strings.Contains(msg, testSecret) {
				t.Errorf("error %q leaks the token or secret", msg)
			}
			var te *tokenclient.Error
			if !errors.As(err, &te) {
				if tt.wantState != 0 {
					t.Fatalf("error %v (%T); want a *TokenError", err, err)
				}
				return
			}
			if tt.wantState == 0 {
				t.Fatalf("error %v is a TokenError; want another error", err)
			}
			if te.Status != tt.wantState || te.Code != tt.wantCode || te.Description != tt.wantDesc {
				t.Errorf("TokenError = %+v; want {%d %q %q}", *te, tt.wantState, tt.wantCode, tt.wantDesc)
			}
			if (te.Class != tokenclient.Transient) != tt.permanent {
				t.Errorf("IsPermanent() = %v; want %v", (te.Class != tokenclient.Transient), tt.permanent)
			}
		})
	}
}

// TestRedirectTargetNotContacted checks that a 307 from the token endpoint
// does not replay the client secret to the Location.
func TestRedirectTargetNotContacted(t *testing.T) {
	target := newEndpoint(t, jsonReply(200, `{"access_token":"stolen"}`))
	e := newEndpoint(t, reply{status: 307, header: map[string]string{"Location": target.URL + "/token"}})
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
	_, err := cc(c, e.URL, clientAuth{ClientID: "c", ClientSecret: testSecret}, "").ClientCredentials(testContext(t), nil, auds(""))
	if err == nil {
		t.Fatal("ClientCredentials succeeded through a redirect")
	}
	if n := len(target.Requests()); n != 0 {
		t.Errorf("redirect target got %d requests; want 0", n)
	}
}

func TestClientCredentialsRefusals(t *testing.T) {
	e := newEndpoint(t, jsonReply(200, `{"access_token":"a"}`))
	ctx := testContext(t)
	if _, err := cc((&tokenclient.Client{AudienceMode: tokenclient.AudienceAuto}), e.URL, clientAuth{ClientID: "c", ClientSecret: "s"}, "").ClientCredentials(ctx, nil, auds("")); !errors.Is(err, tokenclient.ErrInsecureURL) {
		t.Errorf("http:// without AllowInsecure: error = %v; want ErrInsecureURL", err)
	}
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
	if _, err := cc(c, e.URL, clientAuth{ClientID: "c"}, "").ClientCredentials(ctx, nil, auds("")); err == nil {
		t.Error("public client: want an error")
	}
	if _, err := cc(c, e.URL, clientAuth{ClientSecret: "s"}, "").ClientCredentials(ctx, nil, auds("")); err == nil {
		t.Error("no client_id: want an error")
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests sent; want none", n)
	}
}

func TestRegister(t *testing.T) {
	e := newEndpoint(t, reply{status: 201, ctype: "application/json", body: `{"client_id":"dyn-1","client_secret":"dyn-secret",
		"client_secret_expires_at":"0","registration_access_token":"rat","registration_client_uri":"https://op/reg/dyn-1","grant_types":["refresh_token"]}`})
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
	md := &tokenclient.Metadata{RegistrationEndpoint: e.URL + "/reg"}
	reg, err := c.Register(testContext(t), md.RegistrationEndpoint, tokenclient.RegistrationRequest{
		ClientName:              "credmon-token test",
		Scope:                   "openid offline_access",
		GrantTypes:              []string{tokenclient.GrantTypeDeviceCode, "refresh_token"},
		TokenEndpointAuthMethod: "client_secret_post",
		ApplicationType:         "native",
		InitialAccessToken:      "iat-123",
	})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID != "dyn-1" || reg.ClientSecret != "dyn-secret" || reg.RegistrationAccessToken != "rat" ||
		reg.RegistrationClientURI != "https://op/reg/dyn-1" || reg.ClientSecretExpiresAt != 0 || !json.Valid(reg.Raw) {
		t.Errorf("Registration = %+v", reg)
	}
	r := e.Requests()[0]
	if r.header.Get("Content-Type") != "application/json" || r.header.Get("Authorization") != "Bearer iat-123" {
		t.Errorf("Content-Type %q, Authorization %q", r.header.Get("Content-Type"), r.header.Get("Authorization"))
	}
	var sent map[string]any
	if err := json.Unmarshal(r.body, &sent); err != nil {
		t.Fatal(err)
	}
	// A device-only client must say response_types: [], or the RFC 7591
	// default ["code"] contradicts its grant types.
	if rt, ok := sent["response_types"].([]any); !ok || len(rt) != 0 {
		t.Errorf("response_types = %v; want []", sent["response_types"])
	}
	if _, ok := sent["redirect_uris"]; ok {
		t.Errorf("redirect_uris sent although empty: %s", r.body)
	}
	if sent["application_type"] != "native" || sent["token_endpoint_auth_method"] != "client_secret_post" || sent["scope"] != "openid offline_access" {
		t.Errorf("body = %s", r.body)
	}
}

func TestRegisterError(t *testing.T) {
	e := newEndpoint(t, jsonReply(400, `{"error":"invalid_redirect_uri","error_description":"Custom redirect_uri not allowed for web client"}`))
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
	_, err := c.Register(testContext(t), e.URL, tokenclient.RegistrationRequest{ClientName: "x", RedirectURIs: []string{"edu.kit.data.oidc-agent:/redirect"}})
	var te *tokenclient.Error
	if !errors.As(err, &te) || te.Code != "invalid_redirect_uri" || te.Description != "Custom redirect_uri not allowed for web client" || te.Status != 400 || !(te.Class != tokenclient.Transient) {
		t.Fatalf("Register error = %v; want TokenError invalid_redirect_uri with the description", err)
	}
}

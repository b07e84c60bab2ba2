package tokenclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// captured is one request as the token endpoint saw it.
type captured struct {
	form   url.Values
	header http.Header
	user   string
	pass   string
	basic  bool
}

// endpoint answers with status and body and records the request. These
// tests pin the request encoding; behaviour against a real issuer is
// tested in package credmon with a real OIDC provider.
func endpoint(t *testing.T, status int, body, contentType string) (*httptest.Server, *captured) {
	t.Helper()
	c := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.form, _ = url.ParseQuery(string(b))
		c.header = r.Header.Clone()
		c.user, c.pass, c.basic = r.BasicAuth()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

const okBody = `{"access_token":"AT","token_type":"Bearer","expires_in":600,"refresh_token":"RT2","scope":"a b","id_token":"ID"}`

func TestRefreshRequestLikePythonCredmon(t *testing.T) {
	srv, c := endpoint(t, 200, okBody, "application/json")
	cl := &Client{TokenURL: srv.URL + "/token", ClientID: "cid", ClientSecret: "s&cret", AllowInsecure: true, AudienceMode: AudienceNone,
		AuthStyle: oauth2.AuthStyleInParams}
	res, err := cl.Refresh(context.Background(), "RT1", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"RT1"}, "client_id": {"cid"}, "client_secret": {"s&cret"}}
	if c.form.Encode() != want.Encode() {
		t.Errorf("form = %s; want %s", c.form.Encode(), want.Encode())
	}
	if c.basic {
		t.Error("client_secret_post must not send HTTP Basic")
	}
	if got := c.header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := c.header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	if res.RefreshToken != "RT2" {
		t.Errorf("rotated token = %q; want RT2", res.RefreshToken)
	}
	if v, _ := res.Response.String("id_token"); v != "ID" {
		t.Error("extra response keys not kept")
	}
}

func TestRefreshScopesAndAudienceModes(t *testing.T) {
	for _, tt := range []struct {
		mode         AudienceMode
		sendScopes   bool
		wantAudience []string
		wantResource []string
		wantScope    string
	}{
		{AudienceBoth, true, []string{"https://a https://b"}, []string{"https://a", "https://b"}, "read:/x write:/y"},
		{AudienceParam, true, []string{"https://a https://b"}, nil, "read:/x write:/y"},
		{AudienceResource, false, nil, []string{"https://a", "https://b"}, ""},
		{AudienceNone, false, nil, nil, ""},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			srv, c := endpoint(t, 200, okBody, "application/json")
			cl := &Client{TokenURL: srv.URL, ClientID: "cid", ClientSecret: "sec", AllowInsecure: true,
				AudienceMode: tt.mode, SendScopes: tt.sendScopes, AuthStyle: oauth2.AuthStyleInHeader}
			if _, err := cl.Refresh(context.Background(), "RT", []string{"read:/x", "write:/y"}, []string{"https://a", "https://b"}, nil); err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.form["audience"], "|") != strings.Join(tt.wantAudience, "|") {
				t.Errorf("audience = %q; want %q", c.form["audience"], tt.wantAudience)
			}
			if strings.Join(c.form["resource"], "|") != strings.Join(tt.wantResource, "|") {
				t.Errorf("resource = %q; want %q", c.form["resource"], tt.wantResource)
			}
			if c.form.Get("scope") != tt.wantScope {
				t.Errorf("scope = %q; want %q", c.form.Get("scope"), tt.wantScope)
			}
			if !c.basic || c.user != "cid" || c.pass != "sec" {
				t.Errorf("basic auth = %v %q %q; want cid/sec", c.basic, c.user, c.pass)
			}
			if c.form.Has("client_secret") {
				t.Error("client_secret in the body with HTTP Basic")
			}
		})
	}
}

func TestRefreshFailures(t *testing.T) {
	for _, tt := range []struct {
		name      string
		status    int
		body, ct  string
		permanent bool
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"grant request is invalid"}`, "application/json", true},
		{"invalid_client", 401, `{"error":"invalid_client"}`, "application/json", true},
		{"invalid_target", 400, `{"error":"invalid_target"}`, "application/json", true},
		{"error key with 200", 200, `{"error":"invalid_grant"}`, "application/json", true},
		{"401 without body", 401, ``, "text/html", true},
		{"500 html", 500, `<html>oops</html>`, "text/html", false},
		{"503 temporarily_unavailable", 503, `{"error":"temporarily_unavailable"}`, "application/json", false},
		{"429", 429, ``, "text/plain", false},
		{"200 not json", 200, `{"access_token": "AT"`, "application/json", false},
		{"200 without access_token", 200, `{"token_type":"Bearer"}`, "application/json", false},
		{"non-2xx with a token is still failure", 502, okBody, "application/json", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := endpoint(t, tt.status, tt.body, tt.ct)
			cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
			_, err := cl.Refresh(context.Background(), "RT", nil, nil, nil)
			if err == nil {
				t.Fatal("Refresh succeeded; want failure")
			}
			if got := IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v; want %v", err, got, tt.permanent)
			}
			if d := Describe(err); strings.Contains(d, "AT") && strings.Contains(d, "access_token") {
				t.Errorf("Describe leaks the body: %q", d)
			}
		})
	}
}

func TestRefreshFormEncodedFallback(t *testing.T) {
	srv, _ := endpoint(t, 200, "access_token=AT&token_type=bearer&expires_in=60&refresh_token=RT2", "application/x-www-form-urlencoded")
	cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
	res, err := cl.Refresh(context.Background(), "RT", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if at, _ := res.Response.String("access_token"); at != "AT" || res.RefreshToken != "RT2" {
		t.Errorf("form-encoded response parsed as %v", res.Response.Keys())
	}
}

func TestRefreshRefusesInsecureAndBadURLs(t *testing.T) {
	for _, u := range []string{"http://idp.example/token", "ftp://x/token", "://", "https:///nohost"} {
		cl := &Client{TokenURL: u, ClientID: "c"}
		_, err := cl.Refresh(context.Background(), "RT", nil, nil, nil)
		if err == nil || !IsPermanent(err) {
			t.Errorf("Refresh(%q) = %v; want a permanent error", u, err)
		}
	}
	cl := &Client{TokenURL: "http://idp.example/token", ClientID: "c"}
	if _, err := cl.Refresh(context.Background(), "RT", nil, nil, nil); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("http URL error = %v; want ErrInsecureURL", err)
	}
}

func TestRefreshHonoursContext(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
	_, err := cl.Refresh(ctx, "RT", nil, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; want deadline exceeded", err)
	}
	if IsPermanent(err) {
		t.Error("a timeout must be transient")
	}
}

func TestRefreshBoundsResponseSize(t *testing.T) {
	big := `{"access_token":"` + strings.Repeat("x", MaxResponseBytes) + `"}`
	srv, _ := endpoint(t, 200, big, "application/json")
	cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
	if _, err := cl.Refresh(context.Background(), "RT", nil, nil, nil); err == nil {
		t.Error("accepted a response over MaxResponseBytes")
	}
}

func TestRefusedTarget(t *testing.T) {
	for _, tt := range []struct {
		body string
		want string
	}{
		{`{"error":"invalid_target"}`, "invalid_target"},
		{`{"error":"invalid_scope","error_description":"refresh token missing requested scope"}`, "invalid_scope"},
		{`{"error":"invalid_grant"}`, ""},
		{`{"error":"invalid_request"}`, ""},
	} {
		srv, _ := endpoint(t, 400, tt.body, "application/json")
		cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
		_, err := cl.Refresh(context.Background(), "RT", nil, nil, nil)
		if got := RefusedTarget(err); got != tt.want {
			t.Errorf("RefusedTarget(%s) = %q; want %q", tt.body, got, tt.want)
		}
	}
	if got := RefusedTarget(errors.New("network")); got != "" {
		t.Errorf("RefusedTarget(network error) = %q; want \"\"", got)
	}
}

func TestSendsTarget(t *testing.T) {
	scopes, auds := []string{"read:/x"}, []string{"https://a"}
	for _, tt := range []struct {
		mode       AudienceMode
		sendScopes bool
		scopes     []string
		auds       []string
		want       bool
	}{
		{AudienceBoth, true, scopes, auds, true},
		{AudienceNone, true, scopes, auds, true},
		{AudienceNone, false, scopes, auds, false},
		{AudienceResource, false, scopes, auds, true},
		{AudienceBoth, true, nil, nil, false},
		{AudienceParam, false, scopes, nil, false},
	} {
		c := &Client{AudienceMode: tt.mode, SendScopes: tt.sendScopes}
		if got := c.SendsTarget(tt.scopes, tt.auds); got != tt.want {
			t.Errorf("SendsTarget(mode %v, send scopes %v, %q, %q) = %v; want %v", tt.mode, tt.sendScopes, tt.scopes, tt.auds, got, tt.want)
		}
		// It must agree with what Refresh puts on the wire.
		srv, got := endpoint(t, 200, okBody, "application/json")
		c.TokenURL, c.ClientID, c.AllowInsecure = srv.URL, "cid", true
		if _, err := c.Refresh(context.Background(), "RT", tt.scopes, tt.auds, nil); err != nil {
			t.Fatal(err)
		}
		sent := got.form.Has("scope") || got.form.Has("audience") || got.form.Has("resource")
		if sent != tt.want {
			t.Errorf("mode %v, send scopes %v: Refresh sent target parameters = %v; SendsTarget says %v", tt.mode, tt.sendScopes, sent, tt.want)
		}
	}
}

package tokenclient_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/credmon/credmon/internal/tokenclient"
)

// metadataServer serves discovery documents at the paths in docs, where
// "$ISSUER" in a document is replaced by the server's URL; every other path
// answers status404 (default 404). It records the paths asked for.
type metadataServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newMetadataServer(t *testing.T, docs map[string]string, status404 int) *metadataServer {
	t.Helper()
	if status404 == 0 {
		status404 = http.StatusNotFound
	}
	ms := &metadataServer{}
	ms.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms.mu.Lock()
		ms.paths = append(ms.paths, r.URL.Path)
		ms.mu.Unlock()
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.Error(w, "not here", status404)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(doc, "$ISSUER", ms.URL))
	}))
	t.Cleanup(ms.Close)
	return ms
}

func (ms *metadataServer) Paths() []string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]string(nil), ms.paths...)
}

func TestDiscover(t *testing.T) {
	const doc = `{"issuer":"$ISSUER%s","token_endpoint":"$ISSUER/token","device_authorization_endpoint":"$ISSUER/device",
		"registration_endpoint":"$ISSUER/reg","revocation_endpoint":"$ISSUER/revoke","jwks_uri":"$ISSUER/jwks",
		"scopes_supported":["openid","offline_access"],"grant_types_supported":["urn:ietf:params:oauth:grant-type:device_code"],
		"token_endpoint_auth_methods_supported":["client_secret_post"],"authorization_response_iss_parameter_supported":true}`
	tests := []struct {
		name       string
		docs       map[string]string // path -> document (issuer suffix via %s)
		status404  int
		issuerPath string // appended to the server URL to form the requested issuer
		wantIssuer string // suffix after the server URL; "" with wantErr
		wantOAuth  bool
		wantPaths  []string
		wantErr    error // errors.Is target, or errAny
	}{
		{
			name:       "root issuer",
			docs:       map[string]string{"/.well-known/openid-configuration": fmt.Sprintf(doc, "")},
			wantPaths:  []string{"/.well-known/openid-configuration"},
			wantIssuer: "",
		},
		{
			name:       "issuer with path: appended, as OIDC Discovery §4 says",
			docs:       map[string]string{"/realms/x/.well-known/openid-configuration": fmt.Sprintf(doc, "/realms/x")},
			issuerPath: "/realms/x",
			wantIssuer: "/realms/x",
			wantPaths:  []string{"/realms/x/.well-known/openid-configuration"},
		},
		{
			name:       "requested with trailing slash, document without",
			docs:       map[string]string{"/realms/x/.well-known/openid-configuration": fmt.Sprintf(doc, "/realms/x")},
			issuerPath: "/realms/x/",
			wantIssuer: "/realms/x",
			wantPaths:  []string{"/realms/x/.well-known/openid-configuration"},
		},
		{
			name:       "document with trailing slash, requested without",
			docs:       map[string]string{"/.well-known/openid-configuration": fmt.Sprintf(doc, "/")},
			wantIssuer: "/",
			wantPaths:  []string{"/.well-known/openid-configuration"},
		},
		{
			name:       "RFC 8414 fallback inserts the well-known path before the issuer path",
			docs:       map[string]string{"/.well-known/oauth-authorization-server/realms/x": fmt.Sprintf(doc, "/realms/x")},
			issuerPath: "/realms/x",
			wantIssuer: "/realms/x",
			wantOAuth:  true,
			wantPaths:  []string{"/realms/x/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/realms/x"},
		},
		{
			name:       "oidc-agent's appended RFC 8414 location is the last resort",
			docs:       map[string]string{"/realms/x/.well-known/oauth-authorization-server": fmt.Sprintf(doc, "/realms/x")},
			issuerPath: "/realms/x",
			status404:  http.StatusForbidden,
			wantIssuer: "/realms/x",
			wantOAuth:  true,
			wantPaths: []string{"/realms/x/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/realms/x",
				"/realms/x/.well-known/oauth-authorization-server"},
		},
		{
			name:      "5xx does not fall back",
			docs:      map[string]string{},
			status404: http.StatusInternalServerError,
			wantPaths: []string{"/.well-known/openid-configuration"},
			wantErr:   errAny,
		},
		{
			name:       "issuer mismatch: other path",
			docs:       map[string]string{"/realms/x/.well-known/openid-configuration": fmt.Sprintf(doc, "/realms/y")},
			issuerPath: "/realms/x",
			wantPaths:  []string{"/realms/x/.well-known/openid-configuration"},
			wantErr:    tokenclient.ErrIssuerMismatch,
		},
		{
			name:       "issuer mismatch: two trailing slashes are not one",
			docs:       map[string]string{"/.well-known/openid-configuration": fmt.Sprintf(doc, "//")},
			wantPaths:  []string{"/.well-known/openid-configuration"},
			wantErr:    tokenclient.ErrIssuerMismatch,
			wantIssuer: "",
		},
		{
			name:      "no token endpoint",
			docs:      map[string]string{"/.well-known/openid-configuration": `{"issuer":"$ISSUER"}`},
			wantPaths: []string{"/.well-known/openid-configuration"},
			wantErr:   errAny,
		},
		{
			name:      "not JSON",
			docs:      map[string]string{"/.well-known/openid-configuration": `<html>`},
			wantPaths: []string{"/.well-known/openid-configuration"},
			wantErr:   errAny,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMetadataServer(t, tt.docs, tt.status404)
			c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
			md, err := c.Discover(testContext(t), ms.URL+tt.issuerPath)
			if got := ms.Paths(); strings.Join(got, " ") != strings.Join(tt.wantPaths, " ") {
				t.Errorf("paths fetched = %q; want %q", got, tt.wantPaths)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Discover = %+v; want an error", md)
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("Discover error = %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if md.Issuer != ms.URL+tt.wantIssuer {
				t.Errorf("Issuer = %q; want %q", md.Issuer, ms.URL+tt.wantIssuer)
			}
			if md.TokenEndpoint != ms.URL+"/token" || md.DeviceAuthorizationEndpoint != ms.URL+"/device" ||
				md.RegistrationEndpoint != ms.URL+"/reg" || md.RevocationEndpoint != ms.URL+"/revoke" || md.JWKSURI != ms.URL+"/jwks" {
				t.Errorf("endpoints = %+v", md)
			}
			if md.OAuthOnly != tt.wantOAuth {
				t.Errorf("OAuthOnly = %v; want %v", md.OAuthOnly, tt.wantOAuth)
			}
			if !md.SupportsGrantType("urn:ietf:params:oauth:grant-type:device_code") || md.SupportsGrantType("implicit") {
				t.Errorf("SupportsGrantType disagrees with grant_types_supported %q", md.GrantTypesSupported)
			}
			if !md.SupportsAuthMethod("client_secret_post") || md.SupportsAuthMethod("client_secret_basic") {
				t.Errorf("SupportsAuthMethod disagrees with %q", md.TokenEndpointAuthMethodsSupported)
			}
			if !md.AuthorizationResponseIssParameterSupported {
				t.Error("AuthorizationResponseIssParameterSupported = false; the document says true")
			}
			if len(md.Raw) == 0 || md.Source == "" {
				t.Errorf("Raw/Source not set: %q %q", md.Raw, md.Source)
			}
		})
	}
}

// errAny marks a test case that expects some error.
var errAny = errors.New("any error")

func TestDiscoverRefusesHTTPWithoutAllowInsecure(t *testing.T) {
	ms := newMetadataServer(t, map[string]string{"/.well-known/openid-configuration": `{"issuer":"$ISSUER","token_endpoint":"$ISSUER/token"}`}, 0)
	_, err := (&tokenclient.Client{AudienceMode: tokenclient.AudienceAuto}).Discover(testContext(t), ms.URL)
	if !errors.Is(err, tokenclient.ErrInsecureURL) {
		t.Fatalf("Discover(%s) error = %v; want ErrInsecureURL", ms.URL, err)
	}
	if n := len(ms.Paths()); n != 0 {
		t.Errorf("%d requests sent; want none", n)
	}
}

func TestDiscoverDefaults(t *testing.T) {
	ms := newMetadataServer(t, map[string]string{"/.well-known/openid-configuration": `{"issuer":"$ISSUER","token_endpoint":"$ISSUER/token"}`}, 0)
	md, err := (&tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}).Discover(testContext(t), ms.URL)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 8414 §2 defaults for absent lists.
	if !md.SupportsGrantType("authorization_code") || md.SupportsGrantType("client_credentials") {
		t.Errorf("SupportsGrantType without grant_types_supported: want only authorization_code and implicit")
	}
	if !md.SupportsAuthMethod("client_secret_basic") || md.SupportsAuthMethod("client_secret_post") {
		t.Errorf("SupportsAuthMethod without a list: want only client_secret_basic")
	}
	if md.AuthorizationResponseIssParameterSupported {
		t.Error("AuthorizationResponseIssParameterSupported without the member: want false (RFC 9207 §3)")
	}
}

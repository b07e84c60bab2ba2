package tokenclient

import (
	"errors"
	"net/url"
	"testing"
)

func TestAuthCodeURL(t *testing.T) {
	c := &Client{ClientID: "cid", ClientSecret: "sec", AudienceMode: AudienceResource}
	v := NewVerifier()
	if len(v) != 43 || v == NewVerifier() {
		t.Fatalf("verifier %q", v)
	}
	raw, err := c.AuthCodeURL("https://idp.example/auth?x=1", AuthCodeRequest{RedirectURI: "https://ap/return/box", State: "st",
		Verifier: v, Scopes: []string{"openid", "offline_access"}, Audiences: []string{"https://a", "https://b"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	// Computed independently (Python hashlib + urlsafe_b64encode); the
	// browser tests show the real IdP accepting the verifier.
	if S256("dBjftJeZ4CVP-mJ92aXOHiLDeQNw-oibx4K2Jj-sXQ8") != "rcjo4pI3v93PnDW9t--HUDbVoWAXHbjzBoGB2RrzkC0" {
		t.Error("S256 is not base64url(SHA-256(verifier))")
	}
	if q.Get("x") != "1" || q.Get("client_id") != "cid" || q.Get("state") != "st" || q.Get("code_challenge") != S256(v) ||
		q.Get("scope") != "openid offline_access" || q.Get("prompt") != "consent" || len(q["resource"]) != 2 || q.Get("audience") != "" ||
		q.Get("client_secret") != "" || q.Get("code_verifier") != "" {
		t.Errorf("URL %s", raw)
	}
	if _, err := c.AuthCodeURL("http://idp.example/auth", AuthCodeRequest{State: "s", Verifier: v}); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("http endpoint: %v; want ErrInsecureURL", err)
	}
	if _, err := c.AuthCodeURL("https://idp.example/auth", AuthCodeRequest{Verifier: v}); err == nil {
		t.Error("no state accepted")
	}
}

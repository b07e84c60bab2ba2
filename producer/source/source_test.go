package source_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/source"
)

var (
	_ source.Source = (*source.Account)(nil)
	_ source.Source = (*source.ClientCredentials)(nil)
)

func TestAccountAndClientCredentials(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	cl := &tokenclient.Client{AllowInsecure: true}
	dir := t.TempDir()
	pw := []byte("pw")
	store := func(name, login string) string {
		g := p.NewRefreshToken(t, oidcprovider.GrantRequest{Scope: "storage.read:/", User: login})
		a := oidcagent.NewAccount(name)
		a.SetIssuerURL(p.Issuer + "/")
		a.SetClientID(oidcprovider.ClientIDBasic)
		a.SetClientSecret(oidcprovider.ClientSecret)
		a.SetRefreshToken(g.RefreshToken)
		if err := oidcagent.Save(dir, name, a, pw); err != nil {
			t.Fatal(err)
		}
		return g.RefreshToken
	}
	rt := store("robot", "rob")
	// The audience parameter (IAM, oidc-agent 4.x); this provider refuses a
	// resource that was not granted at login.
	mode, _ := tokenclient.ParseAudienceMode("audience")
	src := &source.Account{Dir: dir, Name: "robot", Password: pw, Client: cl, AudienceMode: mode}
	tok, err := src.Token(context.Background(), source.Request{Audiences: []string{"https://a.example"}, Scopes: []string{"storage.read:/"}})
	if err != nil {
		t.Fatal(err)
	}
	c := p.VerifyAccessToken(t, tok.AccessToken)
	if c["sub"] != "rob" || fmt.Sprint(c["aud"]) != "https://a.example" && fmt.Sprint(c["aud"]) != "[https://a.example]" {
		t.Errorf("claims %v", c)
	}
	if tok.Expiry.IsZero() {
		t.Error("no expiry from expires_in")
	}
	acct, _ := oidcagent.Load(dir, "robot", pw)
	if acct.RefreshToken() == rt {
		t.Error("rotated refresh token not saved")
	}

	// A revoked grant needs a human; a missing account is "no credential".
	bad := store("revoked", "rex")
	p.Revoke(t, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, bad)
	_, err = (&source.Account{Dir: dir, Name: "revoked", Password: pw, Client: cl}).Token(context.Background(), source.Request{})
	if !errors.Is(err, source.ErrNeedsLogin) || errors.Is(err, source.ErrNoCredential) {
		t.Errorf("revoked: %v; want ErrNeedsLogin only", err)
	}
	for _, a := range []*source.Account{{Dir: dir, Name: "nobody", Password: pw, Client: cl}, {Name: "robot", Password: pw, Client: cl}} {
		if _, err := a.Token(context.Background(), source.Request{}); !errors.Is(err, source.ErrNoCredential) || !errors.Is(err, source.ErrNeedsLogin) {
			t.Errorf("dir %q name %q: %v; want ErrNoCredential", a.Dir, a.Name, err)
		}
	}
	if _, err := (&source.Account{Dir: dir, Name: "robot", Password: []byte("wrong"), Client: cl}).Token(context.Background(), source.Request{}); !errors.Is(err, oidcagent.ErrBadPassword) {
		t.Errorf("wrong password: %v", err)
	}

	cc := &source.ClientCredentials{Issuer: p.Issuer, ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Client: cl}
	tok, err = cc.Token(context.Background(), source.Request{Audiences: []string{"https://b.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.VerifyAccessToken(t, tok.AccessToken); c["sub"] != oidcprovider.ClientIDBasic {
		t.Errorf("client credentials sub %v", c["sub"])
	}
}

package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/source"
)

// get's path with an account whose client is registered for
// client_secret_post, at an issuer that holds clients to their registered
// method: the refresh succeeds (tokenclient's fallback from Basic), and
// while another process holds the account, Token waits and then says which
// account is busy.
func TestAccountPostClientAndBusyAccount(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	dir, pw := t.TempDir(), []byte("pw")
	g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, User: "polly"})
	a := oidcagent.NewAccount("poster")
	a.SetIssuerURL(p.Issuer + "/")
	a.SetClientID(oidcprovider.ClientIDPost)
	a.SetClientSecret(oidcprovider.ClientSecret)
	a.SetRefreshToken(g.RefreshToken)
	if err := oidcagent.Save(dir, "poster", a, pw); err != nil {
		t.Fatal(err)
	}
	src := &source.Account{Dir: dir, Name: "poster", Password: pw, Client: &tokenclient.Client{AllowInsecure: true}}
	tok, err := src.Token(context.Background(), source.Request{})
	if err != nil {
		t.Fatalf("Account.Token with a client_secret_post client = %v", err)
	}
	if c := p.VerifyAccessToken(t, tok.AccessToken); c["sub"] != "polly" {
		t.Errorf("sub = %v", c["sub"])
	}

	// While another process holds the account, Token waits (here at most
	// LockWait) and then says which account is busy.
	unlock, err := oidcagent.LockAccount(context.Background(), dir, "poster")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	src.LockWait = 200 * time.Millisecond
	_, err = src.Token(context.Background(), source.Request{})
	if !errors.Is(err, oidcagent.ErrAccountBusy) || !strings.Contains(err.Error(), `"poster"`) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token while the account is locked = %v; want ErrAccountBusy naming the account", err)
	}
}

package source_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/oauth2refresh"
	"github.com/credmon/credmon/producer/oidc"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/source"
)

// counting counts the requests it carries.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// At an issuer that holds clients to their registered method, the refused
// method is followed by the other one, in both directions, and c.AuthStyle
// says which worked; other refusals are never retried.
func TestRefreshAccountClientAuthFallback(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	cnt := &counting{}
	hc := &http.Client{Transport: cnt}
	client := func(id string, style oauth2.AuthStyle) *oauth2refresh.Client {
		return &oauth2refresh.Client{TokenURL: p.TokenURL, ClientID: id, ClientSecret: oidcprovider.ClientSecret,
			AuthStyle: style, AllowInsecure: true, HTTPClient: hc}
	}
	for _, tc := range []struct {
		name      string
		id        string
		first     oauth2.AuthStyle
		want      oauth2.AuthStyle
		wantTries int32
	}{
		{"post client, Basic first (the default)", oidcprovider.ClientIDPost, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInParams, 2},
		{"Basic client, post first", oidcprovider.ClientIDBasic, oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader, 2},
		{"Basic client, Basic first", oidcprovider.ClientIDBasic, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: tc.id, ClientSecret: oidcprovider.ClientSecret})
			c := client(tc.id, tc.first)
			cnt.n.Store(0)
			res, err := source.RefreshAccount(context.Background(), c, g.RefreshToken, nil, nil, nil)
			if err != nil {
				t.Fatalf("RefreshAccount = %v", err)
			}
			if res.RefreshToken == "" || c.AuthStyle != tc.want || cnt.n.Load() != tc.wantTries {
				t.Errorf("rotated %v, AuthStyle %v after %d requests; want %v after %d", res.RefreshToken != "", c.AuthStyle, cnt.n.Load(), tc.want, tc.wantTries)
			}
		})
	}

	// invalid_grant is not a client authentication failure: one request.
	c := client(oidcprovider.ClientIDBasic, oauth2.AuthStyleAutoDetect)
	cnt.n.Store(0)
	_, err := source.RefreshAccount(context.Background(), c, "not-a-refresh-token", nil, nil, nil)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || cnt.n.Load() != 1 {
		t.Errorf("RefreshAccount(bad token) = %v after %d requests; want invalid_grant after 1", err, cnt.n.Load())
	}

	// get's path (Account.Token) with a client_secret_post account.
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
	src := &source.Account{Dir: dir, Name: "poster", Password: pw, Client: &oidc.Client{AllowInsecure: true}}
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

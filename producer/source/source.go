package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/producer/oauth2refresh"
	"github.com/credmon/credmon/producer/oidc"
	"github.com/credmon/credmon/producer/oidcagent"
)

// Request is what the caller wants of a token. Empty lists ask for what
// the credential was granted.
type Request struct {
	Audiences []string
	Scopes    []string
}

// Token is an access token and what the source knows of its lifetime.
type Token struct {
	AccessToken string
	Expiry      time.Time // zero: unknown (read the JWT's exp)
}

// Source produces access tokens.
type Source interface {
	// Describe names the source for messages ("oidc-agent account robot").
	Describe() string
	// Token returns a fresh access token for req.
	Token(ctx context.Context, req Request) (*Token, error)
}

var (
	// ErrNeedsLogin: the source cannot produce a token until a human logs
	// in again (credmon-token setup).
	ErrNeedsLogin = errors.New("a human must log in")
	// ErrNoCredential: nothing is stored yet; it matches ErrNeedsLogin too.
	ErrNoCredential = fmt.Errorf("no stored credential: %w", ErrNeedsLogin)
)

// Account refreshes the refresh token of an oidc-agent account file.
type Account struct {
	Dir, Name string
	Password  []byte
	Client    *oidc.Client // HTTP client, insecure-transport and user-agent settings
	// AudienceMode is how audiences are sent (audience, resource, both).
	AudienceMode oauth2refresh.AudienceMode
	// clock is the time source; nil means time.Now.
	clock func() time.Time
	// LockWait bounds the wait for another process's hold on the account
	// (oidcagent.LockAccount); zero means oidcagent.DefaultLockWait.
	LockWait time.Duration
	// OnRefreshSent, when set, is called each time the refresh grant has
	// been written to the issuer (see OnSent): from then on a stop lets it
	// finish.
	OnRefreshSent func()
}

// Describe implements Source.
func (a *Account) Describe() string { return "oidc-agent account " + a.Name }

// Token implements Source: lock the account, load it, discover its token
// endpoint, refresh, save a rotated refresh token, unlock, return the
// access token. The lock (held from load to save) keeps another process —
// credmon-token renew, another get — from refreshing with the same refresh
// token, which an issuer that rotates refresh tokens punishes by revoking
// the grant.
//
// ctx's cancellation is a stop: it ends the wait for the lock and the
// discovery, and no refresh is sent after it (the error then wraps
// context.Cause(ctx)). A refresh already being sent is not cut off by it
// (Detach): it finishes, bounded by ctx's deadline and the HTTP client's
// timeout, and a rotated refresh token is saved.
func (a *Account) Token(ctx context.Context, req Request) (*Token, error) {
	now := a.clock
	if now == nil {
		now = time.Now
	}
	if a.Dir == "" {
		// No oidc-agent directory at all (never a relative path: that
		// would read a file of that name in the working directory).
		return nil, fmt.Errorf("account %q: no account directory: %w", a.Name, ErrNoCredential)
	}
	unlock, err := a.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	acct, err := a.load()
	if err != nil {
		return nil, err
	}
	res, err := a.refresh(ctx, acct, req, now)
	if err != nil {
		return nil, err
	}
	if res.RefreshToken != "" && res.RefreshToken != acct.RefreshToken() {
		// Saved before the access token is handed out: losing a rotated
		// refresh token means a human has to log in again.
		acct.SetRefreshToken(res.RefreshToken)
		if err := oidcagent.Save(a.Dir, a.Name, acct, a.Password); err != nil {
			return nil, fmt.Errorf("saving the rotated refresh token of %q: %w", a.Name, err)
		}
	}
	at, _ := res.Response.String("access_token")
	t := &Token{AccessToken: at}
	if sec, ok := res.Response.Number("expires_in"); ok && sec > 0 {
		t.Expiry = res.Received.Add(time.Duration(sec * float64(time.Second)))
	}
	return t, nil
}

// lock takes the account's lock, waiting at most LockWait within ctx.
func (a *Account) lock(ctx context.Context) (func(), error) {
	wait := a.LockWait
	if wait <= 0 {
		wait = oidcagent.DefaultLockWait
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	unlock, err := oidcagent.LockAccount(lctx, a.Dir, a.Name)
	if err != nil {
		return nil, fmt.Errorf("account %q: %w", a.Name, err)
	}
	return unlock, nil
}

// load reads the account; a missing one, or one without a refresh token,
// needs a human.
func (a *Account) load() (*oidcagent.Account, error) {
	acct, err := oidcagent.Load(a.Dir, a.Name, a.Password)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("account %q: %w", a.Name, ErrNoCredential)
	case err != nil:
		return nil, fmt.Errorf("account %q: %w", a.Name, err)
	case acct.RefreshToken() == "":
		return nil, fmt.Errorf("account %q holds no refresh token: %w", a.Name, ErrNeedsLogin)
	}
	return acct, nil
}

// refresh discovers the token endpoint and performs the refresh grant
// (RefreshAccount), unless ctx was cancelled first; invalid_grant means a
// human must log in again.
func (a *Account) refresh(ctx context.Context, acct *oidcagent.Account, req Request, now func() time.Time) (*oauth2refresh.Result, error) {
	hc := a.Client.HTTPClient
	tokenURL, err := oauth2refresh.DiscoverTokenURL(ctx, hc, acct.IssuerURL(), a.Client.AllowInsecure)
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", acct.IssuerURL(), err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("account %q not refreshed: %w", a.Name, context.Cause(ctx))
	}
	rctx, cancel := Detach(ctx)
	defer cancel()
	rc := &oauth2refresh.Client{TokenURL: tokenURL, ClientID: acct.ClientID(), ClientSecret: acct.ClientSecret(),
		AudienceMode: a.AudienceMode, SendScopes: true,
		AllowInsecure: a.Client.AllowInsecure, HTTPClient: hc, UserAgent: a.Client.UserAgent}
	res, err := RefreshAccount(OnSent(rctx, a.OnRefreshSent), rc, acct.RefreshToken(), req.Scopes, req.Audiences, now)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
		return nil, fmt.Errorf("account %q: %w (%w)", a.Name, ErrNeedsLogin, err)
	}
	return res, err
}

// ClientCredentials is the OAuth2 client-credentials grant.
type ClientCredentials struct {
	// TokenURL, or Issuer for discovery.
	TokenURL, Issuer string
	ClientID         string
	ClientSecret     string
	Client           *oidc.Client
	// AudienceParam is "audience", "resource", "both" or "" (automatic).
	AudienceParam string
}

// Describe implements Source.
func (c *ClientCredentials) Describe() string { return "client " + c.ClientID }

// Token implements Source. As for Account, ctx's cancellation ends the
// discovery and keeps the grant from being sent, but does not cut off a
// grant already being sent (Detach).
func (c *ClientCredentials) Token(ctx context.Context, req Request) (*Token, error) {
	if c.ClientSecret == "" {
		return nil, errors.New("the client credentials grant needs the client's secret")
	}
	tokenURL := c.TokenURL
	if tokenURL == "" {
		if c.Issuer == "" {
			return nil, errors.New("client credentials need a token URL or an issuer")
		}
		md, err := c.Client.Discover(ctx, c.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discovery at %s: %w", c.Issuer, err)
		}
		tokenURL = md.TokenEndpoint
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("client %s: no token requested: %w", c.ClientID, context.Cause(ctx))
	}
	ctx, cancel := Detach(ctx)
	defer cancel()
	auth := oidc.ClientAuth{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Style: oauth2.AuthStyleInParams}
	aud := strings.Join(req.Audiences, " ")
	tok, err := c.Client.ClientCredentials(ctx, tokenURL, auth, req.Scopes, aud, c.AudienceParam)
	var te *oidc.TokenError
	if errors.As(err, &te) && te.Code == "invalid_client" {
		// A client registered for client_secret_basic: the grant was
		// refused before it was looked at, so trying again is safe.
		auth.Style = oauth2.AuthStyleInHeader
		tok, err = c.Client.ClientCredentials(ctx, tokenURL, auth, req.Scopes, aud, c.AudienceParam)
	}
	if err != nil {
		return nil, err
	}
	return &Token{AccessToken: tok.AccessToken, Expiry: tok.Expiry}, nil
}

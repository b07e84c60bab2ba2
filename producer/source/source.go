package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/credmon/credmon/internal/tokenclient"
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
	// Client supplies the HTTP client, the insecure switch and the user
	// agent; the account supplies the rest.
	Client *tokenclient.Client
	// AudienceMode is how audiences are sent (audience, resource, both).
	AudienceMode tokenclient.AudienceMode
	// LockWait bounds the wait for another process's hold on the account
	// (oidcagent.LockAccount); zero means oidcagent.DefaultLockWait.
	LockWait time.Duration
	// OnRefreshSent, when set, is called each time the refresh grant has
	// been written to the issuer (see OnSent): from then on a stop lets it
	// finish.
	OnRefreshSent func()
}

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
	now := time.Now
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
	return &Token{AccessToken: res.AccessToken(), Expiry: res.Expiry()}, nil
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

// refresh discovers the token endpoint and performs the refresh grant,
// unless ctx was cancelled first. The client authenticates as oidc-agent
// does, HTTP Basic first, and with client_secret_post when the issuer
// refuses that (tokenclient's AuthStyleAutoDetect): some accounts' clients
// are registered for client_secret_post. A dead grant (invalid_grant)
// means a human must log in again.
func (a *Account) refresh(ctx context.Context, acct *oidcagent.Account, req Request, now func() time.Time) (*tokenclient.Result, error) {
	rc := a.tokenClient(acct)
	rc.SendScopes = true
	md, err := rc.Discover(ctx, acct.IssuerURL())
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", acct.IssuerURL(), err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("account %q not refreshed: %w", a.Name, context.Cause(ctx))
	}
	rctx, cancel := Detach(ctx)
	defer cancel()
	rc.TokenURL = md.TokenEndpoint
	res, err := rc.Refresh(OnSent(rctx, a.OnRefreshSent), acct.RefreshToken(), req.Scopes, req.Audiences, now)
	if tokenclient.Classify(err) == tokenclient.NeedsLogin {
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
	// Client supplies the HTTP client, the insecure switch and the user
	// agent.
	Client *tokenclient.Client
	// AudienceMode is how audiences are sent.
	AudienceMode tokenclient.AudienceMode
}

// Token implements Source. As for Account, ctx's cancellation ends the
// discovery and keeps the grant from being sent, but does not cut off a
// grant already being sent (Detach). The client authenticates with HTTP
// Basic, and with client_secret_post when the issuer refuses that.
func (c *ClientCredentials) Token(ctx context.Context, req Request) (*Token, error) {
	if c.ClientSecret == "" {
		return nil, errors.New("the client credentials grant needs the client's secret")
	}
	rc := &tokenclient.Client{TokenURL: c.TokenURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		AudienceMode: c.AudienceMode, AllowInsecure: c.Client.AllowInsecure, HTTPClient: c.Client.HTTPClient, UserAgent: c.Client.UserAgent}
	if rc.TokenURL == "" {
		if c.Issuer == "" {
			return nil, errors.New("client credentials need a token URL or an issuer")
		}
		md, err := rc.Discover(ctx, c.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discovery at %s: %w", c.Issuer, err)
		}
		rc.TokenURL = md.TokenEndpoint
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("client %s: no token requested: %w", c.ClientID, context.Cause(ctx))
	}
	ctx, cancel := Detach(ctx)
	defer cancel()
	res, err := rc.ClientCredentials(ctx, req.Scopes, req.Audiences)
	if err != nil {
		return nil, err
	}
	return &Token{AccessToken: res.AccessToken(), Expiry: res.Expiry()}, nil
}

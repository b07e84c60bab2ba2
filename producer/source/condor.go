package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/oidcagent"
)

// GrantClientCredentials is the self-describing .top's grant_type for a
// client-credentials robot (no refresh token: the daemon mints tokens with
// the client's secret).
const GrantClientCredentials = "client_credentials"

// Top is the self-describing .top a robot stores in credd for the daemon
// to keep fresh (condor_store_cred add-oauth -s <svc> -i -, no -P): the
// issuer, the client and either a refresh token of its own or the client
// credentials grant. Scope and Resource are the requested scopes and
// audience; deliberately not credd's "scopes"/"audience" keys, which credd
// compares with each job's request (a bare use_oauth_services asks for ""
// and would never match).
type Top struct {
	Issuer       string `json:"iss"`
	TokenURL     string `json:"token_url,omitempty"` // informational: the daemon discovers from iss
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	GrantType    string `json:"grant_type,omitempty"` // "" is refresh_token
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	Resource     string `json:"resource,omitempty"`
}

// JSON is the single-line JSON object credd stores.
func (t *Top) JSON() ([]byte, error) { return json.Marshal(t) }

// condorTop fills the request's part of a Top.
func condorTop(issuer, tokenURL, clientID, secret string, req Request) *Top {
	return &Top{Issuer: strings.TrimSuffix(issuer, "/"), TokenURL: tokenURL, ClientID: clientID, ClientSecret: secret,
		Scope: strings.Join(req.Scopes, " "), Resource: strings.Join(req.Audiences, " ")}
}

// ErrNoExchangedRefreshToken: the issuer's token exchange answered without
// the refresh token that was asked for.
var ErrNoExchangedRefreshToken = errors.New("the issuer's token exchange returned no refresh token (the client may not be allowed offline_access by exchange)")

// SupportsExchange reports whether the account's issuer advertises the
// RFC 8693 token-exchange grant in its discovery document.
func (a *Account) SupportsExchange(ctx context.Context) (bool, error) {
	acct, err := a.loadUnlocked()
	if err != nil {
		return false, err
	}
	rc := a.tokenClient(acct)
	md, err := rc.Discover(ctx, acct.IssuerURL())
	if err != nil {
		return false, fmt.Errorf("discovery at %s: %w", acct.IssuerURL(), err)
	}
	return md.SupportsGrantType(tokenclient.GrantTypeTokenExchange), nil
}

// ExchangeTop exchanges the robot's access token (RFC 8693:
// subject_token_type access_token, requested_token_type refresh_token,
// scope = the requested scopes and offline_access, audience = the
// requested audience) for a second, independent refresh token of the
// account's client, and returns the self-describing .top holding it. The
// account's own refresh token is neither sent nor changed: the daemon
// refreshes the new one, the robot keeps refreshing its own, and no two
// parties ever refresh one rotating refresh token.
func (a *Account) ExchangeTop(ctx context.Context, accessToken string, req Request) (*Top, error) {
	acct, err := a.loadUnlocked()
	if err != nil {
		return nil, err
	}
	rc := a.tokenClient(acct)
	md, err := rc.Discover(ctx, acct.IssuerURL())
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", acct.IssuerURL(), err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("account %q: no token exchange sent: %w", a.Name, context.Cause(ctx))
	}
	rc.TokenURL = md.TokenEndpoint
	xctx, cancel := Detach(ctx)
	defer cancel()
	res, err := rc.Exchange(xctx, tokenclient.ExchangeRequest{
		SubjectToken: accessToken, SubjectTokenType: tokenclient.TokenTypeAccessToken,
		RequestedTokenType: tokenclient.TokenTypeRefreshToken,
		Scopes:             append(append([]string(nil), req.Scopes...), "offline_access"),
		Audiences:          req.Audiences,
	})
	if err != nil {
		return nil, fmt.Errorf("token exchange at %s: %w", md.TokenEndpoint, err)
	}
	if res.RefreshToken == "" {
		return nil, ErrNoExchangedRefreshToken
	}
	issuer := md.Issuer
	if issuer == "" {
		issuer = acct.IssuerURL()
	}
	t := condorTop(issuer, md.TokenEndpoint, acct.ClientID(), acct.ClientSecret(), req)
	t.RefreshToken = res.RefreshToken
	return t, nil
}

// loadUnlocked reads the account without its lock: only the issuer and
// the client are read, and the refresh token is neither used nor written.
func (a *Account) loadUnlocked() (*oidcagent.Account, error) {
	if a.Dir == "" {
		return nil, fmt.Errorf("account %q: no account directory: %w", a.Name, ErrNoCredential)
	}
	return a.load()
}

// tokenClient is the account's client at its issuer, authenticated as
// refresh authenticates it.
func (a *Account) tokenClient(acct *oidcagent.Account) *tokenclient.Client {
	return &tokenclient.Client{ClientID: acct.ClientID(), ClientSecret: acct.ClientSecret(),
		AudienceMode: a.AudienceMode, AllowInsecure: a.Client.AllowInsecure, HTTPClient: a.Client.HTTPClient, UserAgent: a.Client.UserAgent}
}

// CondorTop is the self-describing .top of a client-credentials robot:
// the issuer (the daemon discovers the token endpoint from it and never
// POSTs to a URL from a user-writable file), the client and its secret,
// grant_type client_credentials. The issuer is required.
func (c *ClientCredentials) CondorTop(req Request) (*Top, error) {
	if c.Issuer == "" {
		return nil, errors.New("a client-credentials .top for the daemon needs the issuer (--issuer): the daemon finds the token endpoint by discovery")
	}
	if c.ClientSecret == "" {
		return nil, errors.New("the client credentials grant needs the client's secret")
	}
	t := condorTop(c.Issuer, c.TokenURL, c.ClientID, c.ClientSecret, req)
	t.GrantType = GrantClientCredentials
	return t, nil
}

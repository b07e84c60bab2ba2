package tokenclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// AuthCodeRequest is what an authorization request (RFC 6749 §4.1.1)
// carries besides the client: where to send the browser back, the state
// that ties the answer to this request, the PKCE verifier (RFC 7636) whose
// S256 challenge is sent, and the scopes and audiences asked for.
type AuthCodeRequest struct {
	RedirectURI string
	State       string
	// Verifier is the PKCE code_verifier (NewVerifier); its S256 challenge
	// goes in the URL, the verifier itself only to the token endpoint.
	Verifier  string
	Scopes    []string
	Audiences []string
}

// NewVerifier returns a PKCE code_verifier: 32 random bytes, base64url
// (43 characters, RFC 7636 §4.1). It doubles as a random state value.
func NewVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// S256 is the PKCE code_challenge of verifier (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthCodeURL returns the authorization endpoint URL the browser is sent
// to: response_type=code, client_id, redirect_uri, state, the S256 code
// challenge, scope (joined with spaces) and the audiences as AudienceMode
// says. A query already in authURL is kept. When offline_access is asked
// for, prompt=consent is added, as OpenID Connect Core §11 requires of a
// client that wants a refresh token (providers drop offline_access
// otherwise).
func (c *Client) AuthCodeURL(authURL string, r AuthCodeRequest) (string, error) {
	if err := checkURL("authorization endpoint", authURL, c.AllowInsecure); err != nil {
		return "", err
	}
	if r.State == "" || r.Verifier == "" {
		return "", &PermanentError{Err: errors.New("an authorization request needs a state and a PKCE verifier")}
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return "", &PermanentError{Err: err}
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", c.ClientID)
	if r.RedirectURI != "" {
		q.Set("redirect_uri", r.RedirectURI)
	}
	q.Set("state", r.State)
	q.Set("code_challenge", S256(r.Verifier))
	q.Set("code_challenge_method", "S256")
	if len(r.Scopes) > 0 {
		q.Set("scope", strings.Join(r.Scopes, " "))
		if slices.Contains(r.Scopes, "offline_access") {
			q.Set("prompt", "consent")
		}
	}
	setAudiences(q, c.AudienceMode, r.Audiences)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ExchangeCode performs grant_type=authorization_code (RFC 6749 §4.1.3)
// with the PKCE verifier (RFC 7636 §4.5). redirectURI must be the one the
// authorization request carried. Audiences are sent again as AudienceMode
// says (RFC 8707 §2.2: the resource the token is for).
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI, verifier string, audiences []string) (*Result, error) {
	if code == "" {
		return nil, &PermanentError{Err: errors.New("no authorization code")}
	}
	form := url.Values{
		"grant_type": {"authorization_code"},
		"code":       {code},
	}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	setAudiences(form, c.AudienceMode, audiences)
	return c.grant(ctx, form, nil)
}

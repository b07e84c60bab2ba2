package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/tokenchars"
)

// Token is a successful token response (RFC 6749 §5.1). Raw keeps every
// member, including ones this package does not know (issued_token_type,
// refresh_token_expires_in, ...).
type Token struct {
	AccessToken, RefreshToken, TokenType, IDToken string
	// Scope is the granted scope; empty when the server did not say, which
	// RFC 6749 §5.1 allows when it equals the requested scope.
	Scope string
	// ExpiresIn is the access token lifetime in seconds as sent (0: not
	// sent), and Expiry is the receipt time plus ExpiresIn (zero: unknown).
	ExpiresIn int64
	Expiry    time.Time
	Raw       map[string]json.RawMessage
}

// tokenResponse is the wire form. expires_in is a flexInt because some
// IdPs send it as a string.
type tokenResponse struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	TokenType    string  `json:"token_type"`
	IDToken      string  `json:"id_token"`
	Scope        string  `json:"scope"`
	ExpiresIn    flexInt `json:"expires_in"`
	Error        any     `json:"error"`
}

// tokenFrom turns a token endpoint answer into a Token or a *TokenError.
//
// An answer is a token only if it is 2xx, carries no "error" member and
// has an access_token. A non-2xx answer is an error even when it contains
// an access_token (a confused proxy or server must not get a token stored
// that the server itself called a failure), and a 200 with "error" is an
// error too: GitHub, for one, answers device polls with HTTP 200 and
// {"error":"authorization_pending"}.
func (c *Client) tokenFrom(resp *response) (*Token, error) {
	var tr tokenResponse
	parseErr := json.Unmarshal(resp.body, &tr)
	if resp.status/100 != 2 || (parseErr == nil && tr.Error != nil && tr.Error != "") {
		return nil, oauthError(resp)
	}
	if parseErr != nil {
		// No body excerpt: a half-readable token response may still
		// hold a token.
		return nil, fmt.Errorf("parsing token response (HTTP %d, %s): %w", resp.status, orUnknown(resp.contentType), scrubJSONError(parseErr))
	}
	// A token no Authorization header or token file can carry is the
	// server handing out garbage: refused like a missing one, without
	// quoting it.
	switch {
	case tr.AccessToken == "":
		return nil, fmt.Errorf("token response (HTTP %d) has no access_token", resp.status)
	case !tokenchars.AccessToken(tr.AccessToken):
		return nil, fmt.Errorf("token response (HTTP %d) has an access_token with characters outside visible ASCII (0x21-0x7E)", resp.status)
	case tr.RefreshToken != "" && !tokenchars.RefreshToken(tr.RefreshToken):
		return nil, fmt.Errorf("token response (HTTP %d) has a refresh_token with characters outside 0x20-0x7E", resp.status)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(resp.body, &raw) // cannot fail: the same bytes decoded above
	t := &Token{
		AccessToken:  tr.AccessToken,
		RefreshToken: tr.RefreshToken,
		TokenType:    tr.TokenType,
		IDToken:      tr.IDToken,
		Scope:        tr.Scope,
		ExpiresIn:    int64(tr.ExpiresIn),
		Raw:          raw,
	}
	if t.ExpiresIn > 0 {
		t.Expiry = c.now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return t, nil
}

// scrubJSONError keeps a JSON decoding error's position and member name
// but none of the body: an error must never carry a token.
func scrubJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("member %q is a JSON %s", te.Field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	}
	return err // flexInt's own errors, which quote nothing
}

// ClientCredentials performs the client credentials grant (RFC 6749 §4.4)
// at tokenURL, as osg-token-renewer's client-credentials mode
// does. scopes are joined with spaces; an empty list sends no scope (the
// client's registered default). audience is sent as sendAudienceAs says:
// "resource" (RFC 8707), "audience" (RFC 8693 name, IAM and OTR), "both",
// or "" for automatic (resource for an absolute URI, else audience; see
// Client.AudienceParam). A secret is required: public clients cannot use
// this grant (RFC 6749 §4.4).
func (c *Client) ClientCredentials(ctx context.Context, tokenURL string, auth ClientAuth, scopes []string, audience string, sendAudienceAs string) (*Token, error) {
	if err := auth.validate(); err != nil {
		return nil, err
	}
	if auth.ClientSecret == "" {
		return nil, errors.New("client credentials grant needs a client secret")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if err := audienceParams(form, audience, sendAudienceAs); err != nil {
		return nil, err
	}
	resp, err := c.postForm(ctx, tokenURL, &auth, form)
	if err != nil {
		return nil, fmt.Errorf("client credentials grant: %w", err)
	}
	tok, err := c.tokenFrom(resp)
	if err != nil {
		return nil, fmt.Errorf("client credentials grant at %s: %w", tokenURL, err)
	}
	return tok, nil
}

package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/tokenchars"
)

// AudienceMode says how requested audiences are sent to the token and
// device authorization endpoints.
type AudienceMode int

const (
	// AudienceBoth sends "audience" (space-separated, the IAM/CILogon/
	// oidc-agent convention) and one RFC 8707 "resource" per audience.
	// Servers ignore parameters they do not know (RFC 6749 §3.2), so this
	// is the default that works with the most issuers.
	AudienceBoth AudienceMode = iota
	// AudienceParam sends only "audience".
	AudienceParam
	// AudienceResource sends only RFC 8707 "resource".
	AudienceResource
	// AudienceNone sends no audience (the Python credmon's behaviour).
	AudienceNone
	// AudienceAuto sends each audience that is an absolute URI with a host
	// as "resource" and the others joined as "audience": an RFC 8707-strict
	// server rejects a non-URI resource such as "ce.example.org:9619" with
	// invalid_target.
	AudienceAuto
)

// ParseAudienceMode parses "both" (or ""), "audience", "resource", "none"
// or "auto".
func ParseAudienceMode(s string) (AudienceMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "both", "":
		return AudienceBoth, nil
	case "audience":
		return AudienceParam, nil
	case "resource":
		return AudienceResource, nil
	case "none":
		return AudienceNone, nil
	case "auto":
		return AudienceAuto, nil
	}
	return 0, fmt.Errorf("unknown audience mode %q (want both, audience, resource, none or auto)", s)
}

func (m AudienceMode) String() string {
	if m < AudienceBoth || m > AudienceAuto {
		return fmt.Sprintf("AudienceMode(%d)", int(m))
	}
	return [...]string{"both", "audience", "resource", "none", "auto"}[m]
}

// setAudiences adds audiences to form as mode says.
func setAudiences(form url.Values, mode AudienceMode, audiences []string) {
	if len(audiences) == 0 {
		return
	}
	var aud, res []string
	switch mode {
	case AudienceBoth:
		aud, res = audiences, audiences
	case AudienceParam:
		aud = audiences
	case AudienceResource:
		res = audiences
	case AudienceAuto:
		for _, a := range audiences {
			if u, err := url.Parse(a); err == nil && u.Scheme != "" && u.Host != "" && u.Fragment == "" {
				res = append(res, a)
			} else {
				aud = append(aud, a)
			}
		}
	}
	if len(aud) > 0 {
		form.Set("audience", strings.Join(aud, " "))
	}
	if len(res) > 0 {
		form["resource"] = append([]string(nil), res...)
	}
}

// Result is a successful token response (RFC 6749 §5.1).
type Result struct {
	// Response is the server's JSON object, all keys as received (a
	// form-encoded answer is turned into one with string values).
	Response *jsonobj.Object
	// RefreshToken is the issued or rotated refresh token, "" when the
	// server did not return one (for a refresh: the old one stays valid).
	RefreshToken string
	// Received is when the response arrived, the base for expires_in.
	Received time.Time
}

// AccessToken is the response's access_token (never empty in a Result).
func (r *Result) AccessToken() string {
	at, _ := r.Response.String("access_token")
	return at
}

// Expiry is Received plus expires_in (a number, or a string holding one as
// some IdPs send it); zero when the server did not say.
func (r *Result) Expiry() time.Time {
	if n, ok := r.Response.Number("expires_in"); ok && n > 0 {
		return r.Received.Add(time.Duration(n * float64(time.Second)))
	}
	return time.Time{}
}

// tokenResult turns a token endpoint's answer into a Result or an *Error.
//
// An answer is a token only if it is 2xx, carries no "error" member and has
// an access_token. A non-2xx answer is an error even when it contains an
// access_token (a server that contradicts itself is not trusted with a
// credential), and a 200 with "error" is an error too: GitHub, for one,
// answers device polls with HTTP 200 and {"error":"authorization_pending"}.
// A token no Authorization header or token file can carry is the server
// handing out garbage: refused like a missing one, without quoting it.
func tokenResult(resp *response, received time.Time) (*Result, error) {
	obj := parseBody(resp.contentType, resp.body)
	if errorCode(obj) != "" || resp.status/100 != 2 {
		return nil, answerError(resp, obj, "")
	}
	if obj == nil {
		return nil, answerError(resp, nil, "token endpoint response is not JSON")
	}
	switch at, ok := obj.String("access_token"); {
	case !ok || at == "":
		return nil, answerError(resp, nil, "token endpoint response has no access_token")
	case !tokenchars.AccessToken(at):
		return nil, answerError(resp, nil, "token endpoint response has an access_token with characters outside visible ASCII (0x21-0x7E)")
	}
	res := &Result{Response: obj, Received: received}
	res.RefreshToken, _ = obj.String("refresh_token")
	if res.RefreshToken != "" && !tokenchars.RefreshToken(res.RefreshToken) {
		return nil, answerError(resp, nil, "token endpoint response has a refresh_token with characters outside 0x20-0x7E")
	}
	return res, nil
}

// grant posts form to the token endpoint and interprets the answer; now,
// if not nil, stamps Result.Received instead of Client.Now.
func (c *Client) grant(ctx context.Context, form url.Values, now func() time.Time) (*Result, error) {
	resp, err := c.postForm(ctx, c.TokenURL, "token endpoint", form)
	if err != nil {
		return nil, err
	}
	received := c.now()
	if now != nil {
		received = now()
	}
	return tokenResult(resp, received)
}

// SendsTarget reports whether Refresh with these scopes and audiences
// sends a "scope", "audience" or "resource" parameter, which the Python
// credmon never sends: an issuer may refuse them (see RefusedTarget).
func (c *Client) SendsTarget(scopes, audiences []string) bool {
	return (c.SendScopes && len(scopes) > 0) || (c.AudienceMode != AudienceNone && len(audiences) > 0)
}

// Refresh performs grant_type=refresh_token (RFC 6749 §6). scopes are sent
// when SendScopes is set, audiences as AudienceMode says; empty lists send
// nothing. now, if not nil, stamps Result.Received.
func (c *Client) Refresh(ctx context.Context, refreshToken string, scopes, audiences []string, now func() time.Time) (*Result, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	if c.SendScopes && len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	setAudiences(form, c.AudienceMode, audiences)
	return c.grant(ctx, form, now)
}

// ClientCredentials performs the client credentials grant (RFC 6749 §4.4).
// scopes are joined with spaces (none: the client's registered default),
// audiences are sent as AudienceMode says. A secret is required: public
// clients cannot use this grant.
func (c *Client) ClientCredentials(ctx context.Context, scopes, audiences []string) (*Result, error) {
	if c.ClientSecret == "" {
		return nil, &PermanentError{Err: errors.New("the client credentials grant needs a client secret")}
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	setAudiences(form, c.AudienceMode, audiences)
	return c.grant(ctx, form, nil)
}

// Token type identifiers of RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// GrantTypeTokenExchange is the RFC 8693 §2.1 grant type.
const GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// ExchangeRequest is an RFC 8693 §2.1 token exchange request.
type ExchangeRequest struct {
	SubjectToken, SubjectTokenType string
	// ActorToken and ActorTokenType are optional (delegation).
	ActorToken, ActorTokenType string
	// RequestedTokenType is optional; the server picks one without it.
	RequestedTokenType string
	// Scopes are joined with spaces; Audiences are sent as the Client's
	// AudienceMode says.
	Scopes, Audiences []string
}

// Exchange performs an RFC 8693 token exchange at the token endpoint, with
// the client's authentication. The answer is a token response like any
// other (issued_token_type is in Result.Response).
func (c *Client) Exchange(ctx context.Context, req ExchangeRequest) (*Result, error) {
	if req.SubjectToken == "" || req.SubjectTokenType == "" {
		return nil, &PermanentError{Err: errors.New("token exchange needs subject_token and subject_token_type")}
	}
	form := url.Values{
		"grant_type":         {GrantTypeTokenExchange},
		"subject_token":      {req.SubjectToken},
		"subject_token_type": {req.SubjectTokenType},
	}
	if req.ActorToken != "" {
		form.Set("actor_token", req.ActorToken)
		form.Set("actor_token_type", req.ActorTokenType)
	}
	if req.RequestedTokenType != "" {
		form.Set("requested_token_type", req.RequestedTokenType)
	}
	if len(req.Scopes) > 0 {
		form.Set("scope", strings.Join(req.Scopes, " "))
	}
	setAudiences(form, c.AudienceMode, req.Audiences)
	return c.grant(ctx, form, nil)
}

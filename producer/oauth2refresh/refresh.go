package oauth2refresh

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/producer/internal/redact"
)

// AudienceMode says how requested audiences are sent to the token endpoint.
type AudienceMode int

const (
	// AudienceBoth sends "audience" (space-separated, the IAM/CILogon/
	// oidc-agent convention) and one RFC 8707 "resource" per audience.
	// Servers ignore parameters they do not know (RFC 6749 §3.2), so this is
	// the default that works with the most issuers.
	AudienceBoth AudienceMode = iota
	// AudienceParam sends only "audience".
	AudienceParam
	// AudienceResource sends only RFC 8707 "resource".
	AudienceResource
	// AudienceNone sends no audience (the Python credmon's behaviour).
	AudienceNone
)

// ParseAudienceMode parses "both", "audience", "resource" or "none".
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
	}
	return 0, fmt.Errorf("unknown audience mode %q (want both, audience, resource or none)", s)
}

func (m AudienceMode) String() string {
	return [...]string{"both", "audience", "resource", "none"}[m]
}

// MaxResponseBytes bounds what we read from a token endpoint: an issuer that
// streams garbage must not exhaust memory.
const MaxResponseBytes = 1 << 20

// Client refreshes tokens at one token endpoint for one OAuth2 client.
type Client struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	// AuthStyle is oauth2.AuthStyleInParams (client_secret_post, what the
	// Python credmon does) or oauth2.AuthStyleInHeader (HTTP Basic).
	// AuthStyleAutoDetect is treated as InParams.
	AuthStyle     oauth2.AuthStyle
	AudienceMode  AudienceMode
	SendScopes    bool
	AllowInsecure bool
	HTTPClient    *http.Client // nil means http.DefaultClient
	UserAgent     string
}

// Result is a successful refresh.
type Result struct {
	// Response is the server's JSON object, all keys as received.
	Response *credfile.Object
	// RefreshToken is the rotated refresh token, "" when the server did not
	// return one (the old one stays valid).
	RefreshToken string
	// Received is when the response arrived, the base for expires_in.
	Received time.Time
}

// ErrInsecureURL is returned for a non-https token URL without AllowInsecure,
// and by DiscoverTokenURL for a non-https issuer or discovered endpoint.
var ErrInsecureURL = errors.New("oauth2refresh: URL is not https (set the insecure switch only for tests)")

// SendsTarget reports whether Refresh with these scopes and audiences
// sends a "scope", "audience" or "resource" parameter, which the Python
// credmon never sends: an issuer may refuse them (see RefusedTarget).
func (c *Client) SendsTarget(scopes, audiences []string) bool {
	return (c.SendScopes && len(scopes) > 0) || (c.AudienceMode != AudienceNone && len(audiences) > 0)
}

// Refresh performs grant_type=refresh_token. scopes and audiences are sent
// as configured; empty lists send nothing. now stamps Result.Received.
func (c *Client) Refresh(ctx context.Context, refreshToken string, scopes, audiences []string, now func() time.Time) (*Result, error) {
	u, err := url.Parse(c.TokenURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &PermanentError{Err: fmt.Errorf("invalid token URL %q", c.TokenURL)}
	}
	if u.Scheme != "https" && !c.AllowInsecure {
		return nil, &PermanentError{Err: fmt.Errorf("token URL %s: %w", redactURL(u), ErrInsecureURL)}
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	if c.SendScopes && len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if len(audiences) > 0 {
		if c.AudienceMode == AudienceBoth || c.AudienceMode == AudienceParam {
			form.Set("audience", strings.Join(audiences, " "))
		}
		if c.AudienceMode == AudienceBoth || c.AudienceMode == AudienceResource {
			form["resource"] = append([]string(nil), audiences...)
		}
	}
	if c.AuthStyle != oauth2.AuthStyleInHeader {
		form.Set("client_id", c.ClientID)
		if c.ClientSecret != "" {
			form.Set("client_secret", c.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &PermanentError{Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.AuthStyle == oauth2.AuthStyleInHeader {
		// RFC 6749 §2.3.1: form-urlencode before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting to token endpoint %s: %w", redactURL(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading token endpoint response: %w", err)
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("token endpoint response exceeds %d bytes", MaxResponseBytes)
	}
	received := time.Now()
	if now != nil {
		received = now()
	}
	secrets := []string{refreshToken, c.ClientSecret}
	if c.AuthStyle == oauth2.AuthStyleInHeader {
		// An echoed Authorization header carries the secret in base64.
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID)+":"+url.QueryEscape(c.ClientSecret))))
	}
	obj := parseBody(resp.Header.Get("Content-Type"), body)
	if obj != nil {
		if code, ok := obj.String("error"); ok && code != "" {
			return nil, retrieveError(resp, obj, code, secrets)
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Even with an access_token in the body, a non-2xx answer is a
		// failure (docs/htcondor-contract.md#request): a server that
		// contradicts itself is not trusted with the job's credential.
		return nil, retrieveError(resp, obj, "", secrets)
	}
	if obj == nil {
		return nil, &oauth2.RetrieveError{Response: resp, ErrorDescription: "token endpoint response is not JSON"}
	}
	if at, ok := obj.String("access_token"); !ok || at == "" {
		return nil, &oauth2.RetrieveError{Response: resp, ErrorDescription: "token endpoint response has no access_token"}
	} else if !redact.ValidAccessToken(at) {
		// It would go into a job's Authorization header and a file read
		// line by line: an issuer sending a control character lies.
		return nil, &oauth2.RetrieveError{Response: resp, ErrorDescription: "token endpoint response has an access_token with characters a bearer token cannot have"}
	}
	res := &Result{Response: obj, Received: received}
	if rt, ok := obj.String("refresh_token"); ok && rt != "" && !redact.ValidRefreshToken(rt) {
		return nil, &oauth2.RetrieveError{Response: resp, ErrorDescription: "token endpoint response has a refresh_token with characters RFC 6749 does not allow"}
	} else {
		res.RefreshToken = rt
	}
	return res, nil
}

// parseBody parses a JSON object, falling back to a form-encoded body as
// oauthlib does (some providers, e.g. GitHub, answer that way).
func parseBody(contentType string, body []byte) *credfile.Object {
	if obj, err := credfile.ParseObject(body); err == nil {
		return obj
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" && mt != "text/plain" {
		return nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil || len(vals) == 0 {
		return nil
	}
	obj := credfile.NewObject()
	for k, v := range vals {
		_ = obj.SetValue(k, v[0])
	}
	return obj
}

// retrieveError builds the error for an OAuth error answer. The issuer's
// text is cleaned here, once, for every caller that logs it (an issuer may
// echo the request, and with it the refresh token and client secret); the
// body is not kept, since RetrieveError.Error() prints it.
func retrieveError(resp *http.Response, obj *credfile.Object, code string, secrets []string) *oauth2.RetrieveError {
	e := &oauth2.RetrieveError{Response: resp, ErrorCode: redact.Text(code, maxCode, secrets...)}
	if obj != nil {
		desc, _ := obj.String("error_description")
		uri, _ := obj.String("error_uri")
		e.ErrorDescription = redact.Text(desc, maxDescription, secrets...)
		e.ErrorURI = redact.Text(uri, maxDescription, secrets...)
	}
	return e
}

// maxCode and maxDescription bound the issuer's text kept in an error.
const (
	maxCode        = 64
	maxDescription = 256
)

// redactURL drops user info and query from a URL for messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

package oauth2refresh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/redact"
	"github.com/credmon/credmon/internal/tokenchars"
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
	Response *jsonobj.Object
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
//
// An answer that is not a token (an OAuth error, a non-2xx status, a body
// that is not JSON, no access_token, or an access_token or refresh_token
// with characters no header or file can carry) is an error for which
// errors.As finds an *oauth2.RetrieveError: its ErrorCode,
// ErrorDescription and ErrorURI are the issuer's, scrubbed of the refresh
// token, the client secret and anything token-like; its Body is nil; its
// Response has the status and Retry-After only. No error Refresh returns,
// printed with %v or Error(), holds a secret of the request or the
// response body. RetryAfter reads the server's Retry-After from it.
func (c *Client) Refresh(ctx context.Context, refreshToken string, scopes, audiences []string, now func() time.Time) (*Result, error) {
	u, err := url.Parse(c.TokenURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &PermanentError{Err: fmt.Errorf("invalid token URL %q", redact.Text(c.TokenURL, redact.DescriptionLen))}
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
	// What an issuer that echoes its request could hand back; blanked out
	// of every text taken from the answer.
	secrets := []string{refreshToken, c.ClientSecret}
	if v, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Basic "); ok {
		secrets = append(secrets, v)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting to token endpoint: %w", transportError(err, u, secrets))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading token endpoint response: %w", redact.Error(err, redact.DescriptionLen, secrets...))
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("token endpoint response exceeds %d bytes", MaxResponseBytes)
	}
	received := time.Now()
	if now != nil {
		received = now()
	}
	return interpret(resp, body, received, secrets)
}

// interpret turns a token endpoint's answer into a Result or an error that
// is safe to log (see retrieveError); secrets are what the request sent.
func interpret(resp *http.Response, body []byte, received time.Time, secrets []string) (*Result, error) {
	obj := parseBody(resp.Header.Get("Content-Type"), body)
	if obj != nil {
		if code, ok := obj.String("error"); ok && code != "" {
			return nil, retrieveError(resp, obj, code, "", secrets)
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Even with an access_token in the body, a non-2xx answer is a
		// failure (docs/htcondor-contract.md#request): a server that
		// contradicts itself is not trusted with the job's credential.
		return nil, retrieveError(resp, obj, "", "", secrets)
	}
	if obj == nil {
		return nil, retrieveError(resp, nil, "", "token endpoint response is not JSON", secrets)
	}
	// An issuer handing out a token no header or file can carry is
	// lying as much as one handing out none: the same transient failure.
	switch at, ok := obj.String("access_token"); {
	case !ok || at == "":
		return nil, retrieveError(resp, nil, "", "token endpoint response has no access_token", secrets)
	case !tokenchars.AccessToken(at):
		return nil, retrieveError(resp, nil, "", "token endpoint response has an access_token with characters outside visible ASCII (0x21-0x7E)", secrets)
	}
	res := &Result{Response: obj, Received: received}
	res.RefreshToken, _ = obj.String("refresh_token")
	if res.RefreshToken != "" && !tokenchars.RefreshToken(res.RefreshToken) {
		return nil, retrieveError(resp, nil, "", "token endpoint response has a refresh_token with characters outside 0x20-0x7E", secrets)
	}
	return res, nil
}

// parseBody parses a JSON object, falling back to a form-encoded body as
// oauthlib does (some providers, e.g. GitHub, answer that way).
func parseBody(contentType string, body []byte) *jsonobj.Object {
	if obj, err := jsonobj.Parse(body); err == nil {
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
	obj := jsonobj.New()
	for k, v := range vals {
		_ = obj.SetValue(k, v[0])
	}
	return obj
}

// retrieveError builds the error for an answer that is not a token. Every
// text in it that the issuer supplied (error, error_description,
// error_uri) is scrubbed here, once, of the request's secrets and anything
// token-like; the body is not kept, and the response is replaced by a copy
// with only the status and Retry-After (its headers could echo the
// request too, and its Request holds the credentials). desc, when not
// empty, is our own description and replaces the issuer's.
func retrieveError(resp *http.Response, obj *jsonobj.Object, code, desc string, secrets []string) error {
	re := &oauth2.RetrieveError{Response: bareResponse(resp), ErrorCode: redact.Text(code, maxCodeLen, secrets...)}
	if obj != nil {
		d, _ := obj.String("error_description")
		re.ErrorDescription = redact.Text(d, redact.DescriptionLen, secrets...)
		uri, _ := obj.String("error_uri")
		re.ErrorURI = redact.Text(uri, redact.DescriptionLen, secrets...)
	}
	if desc != "" {
		re.ErrorDescription = desc
	}
	return &responseError{re: re}
}

// maxCodeLen bounds an OAuth error code; the registered ones are shorter
// than 30 bytes.
const maxCodeLen = 64

// bareResponse keeps what callers of a RetrieveError read: the status and
// the Retry-After header (see RetryAfter), dropped when longer than any
// valid one.
func bareResponse(resp *http.Response) *http.Response {
	r := &http.Response{
		Status:     strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))),
		StatusCode: resp.StatusCode,
		Proto:      resp.Proto,
		ProtoMajor: resp.ProtoMajor,
		ProtoMinor: resp.ProtoMinor,
		Header:     http.Header{},
		Body:       http.NoBody,
	}
	if v := resp.Header.Get("Retry-After"); v != "" && len(v) <= maxRetryAfterLen {
		r.Header.Set("Retry-After", v)
	}
	return r
}

// transportError is err from http.Client.Do without the URL's query
// (url.Error quotes the whole URL) and with its text scrubbed: Go's
// transport quotes a malformed status line or header, which the issuer
// wrote. It stays a *url.Error, so net.Error and errors.Is checks still
// see timeouts and cancellations.
func transportError(err error, u *url.URL, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(u), Err: redact.Error(ue.Err, redact.DescriptionLen, secrets...)}
	}
	return redact.Error(err, redact.DescriptionLen, secrets...)
}

// redactURL drops user info and query from a URL for messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

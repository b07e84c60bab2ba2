package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/redact"
)

// MaxResponseBytes bounds every response body this package reads. Token,
// device and registration responses are a few KiB; discovery documents of
// large IdPs are about 10 KiB. 1 MiB leaves room for anything legitimate and
// keeps a broken or hostile endpoint from exhausting memory.
const MaxResponseBytes = 1 << 20

// DefaultTimeout is the whole-request timeout of the HTTP client used when
// Client.HTTPClient is nil. oidc-agent uses 10 s; 30 s is
// kinder to slow IdPs and still bounds a hung connection, which a bare
// http.DefaultClient would not.
const DefaultTimeout = 30 * time.Second

// Sentinel errors. ErrAccessDenied and ErrExpiredToken are matched with
// errors.Is; a *TokenError with the matching code also satisfies them.
var (
	// ErrAccessDenied: the user (or the authorization server) refused the
	// device authorization (RFC 8628 §3.5 access_denied).
	ErrAccessDenied = errors.New("credmon: device authorization denied (access_denied)")
	// ErrExpiredToken: the device code expired before it was approved,
	// either as the server said (RFC 8628 §3.5 expired_token) or because
	// expires_in passed while polling. A new flow must be started.
	ErrExpiredToken = errors.New("credmon: device code expired (expired_token)")
	// ErrInsecureURL: an endpoint is not https:// and Client.AllowInsecure
	// is off. Tokens and client secrets must not travel in clear text
	// (RFC 6749 §2.3.1, §3.1, §3.2).
	ErrInsecureURL = errors.New("credmon: refusing a non-https URL (AllowInsecure is off)")
	// ErrIssuerMismatch: the discovery document names another issuer
	// (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3).
	ErrIssuerMismatch = errors.New("credmon: discovery document names a different issuer")
)

// Client talks to one or more OpenID Connect / OAuth 2.0 authorization
// servers. The zero value is usable: it has a 30 s timeout, refuses
// http:// URLs, uses the real clock, and sends no User-Agent of its own.
// A Client holds no per-server state and is safe for concurrent use as
// long as its fields are not changed.
type Client struct {
	// HTTPClient sends the requests; nil means a client with
	// DefaultTimeout. Its redirect policy is overridden: token, device
	// and registration endpoints never follow redirects, and discovery
	// follows them only without a downgrade to http.
	HTTPClient *http.Client
	// AllowInsecure permits http:// endpoints (tests, loopback IdPs).
	AllowInsecure bool
	// UserAgent, if set, is sent as the User-Agent header.
	UserAgent string
	// AudienceParam chooses how StartDevice (and the PollDevice that
	// follows it) asks for an audience: "resource" (RFC 8707),
	// "audience" (the RFC 8693 / IAM legacy name), "both", or "" for
	// automatic: resource for an absolute URI with a host, else audience
	// (an RFC 8707-strict server rejects non-URI resources such as
	// "ce.example.org:9619" with invalid_target).
	AudienceParam string
	// Now returns the current time; nil means time.Now. It stamps
	// DeviceAuth.Received and Token.Expiry and drives PollDevice's
	// deadline.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer. Tests inject
	// one that advances a fake clock instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) baseHTTPClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// postClient never follows redirects. A 307/308 would replay the form —
// client secret, device code — to wherever the Location points, and a
// 301/302/303 would turn the POST into a GET and lose it; either way the
// redirect is the server's misconfiguration and should be seen, not
// hidden (the response is then reported as an error).
func (c *Client) postClient() *http.Client {
	hc := *c.baseHTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// getClient follows up to 5 redirects for discovery, but not from https
// to http unless AllowInsecure: the issuer check would still catch a
// forged document, but there is no reason to fetch one.
func (c *Client) getClient() *http.Client {
	hc := *c.baseHTTPClient()
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return c.checkURL(req.URL)
	}
	return &hc
}

// checkURL accepts https URLs, and http ones only with AllowInsecure.
func (c *Client) checkURL(u *url.URL) error {
	switch {
	case u.Host == "":
		return fmt.Errorf("URL %q has no host", u.Redacted())
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && c.AllowInsecure:
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%w: %s", ErrInsecureURL, u.Redacted())
	}
	return fmt.Errorf("URL %q: unsupported scheme %q", u.Redacted(), u.Scheme)
}

func (c *Client) parseURL(raw, what string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("no %s", what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", what, err)
	}
	if err := c.checkURL(u); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// ClientAuth is how the client identifies itself at the token and device
// authorization endpoints (RFC 6749 §2.3.1, §3.2.1; RFC 8628 §3.1, §3.4).
type ClientAuth struct {
	ClientID, ClientSecret string
	// Style is oauth2.AuthStyleInHeader (client_secret_basic) or
	// oauth2.AuthStyleInParams (client_secret_post). AuthStyleAutoDetect
	// means Basic, the method every server MUST support (RFC 6749
	// §2.3.1); it does not probe like x/oauth2 does. With an empty
	// ClientSecret the client is public: client_id goes in the form and
	// Style is ignored.
	Style oauth2.AuthStyle
}

// apply adds the client authentication to a form request. Unlike
// x/oauth2's DeviceAuth, it is applied to the device authorization request
// too: RFC 8628 §3.1 says a confidential client authenticates there as at
// the token endpoint, and a provider that enforces it answers
// invalid_client otherwise (test-infra spec, summary item 12).
func (a ClientAuth) apply(req *http.Request, form url.Values) {
	switch {
	case a.ClientSecret == "":
		form.Set("client_id", a.ClientID)
	case a.Style == oauth2.AuthStyleInParams:
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret)
	default:
		// RFC 6749 §2.3.1: both parts are form-urlencoded before the
		// Basic encoding; a secret with ':' or '%' breaks otherwise.
		req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret))
	}
}

func (a ClientAuth) validate() error {
	if a.ClientID == "" {
		return errors.New("no client_id")
	}
	return nil
}

// response is a bounded, already-read HTTP response.
type response struct {
	status      int
	contentType string
	location    string
	body        []byte
	// secrets are what the request carried that the server must not get
	// into our errors by echoing it (see oauthError).
	secrets []string
}

// secretParams are the form parameters whose values are credentials.
var secretParams = []string{"client_secret", "device_code", "refresh_token", "code", "code_verifier", "assertion", "subject_token", "actor_token", "password"}

// do sends req with the common headers and reads at most MaxResponseBytes.
// secrets are the request's credentials: they are blanked out of every
// error text, including a transport error quoting what the server sent
// (Go's transport quotes a malformed status line).
func (c *Client) do(hc *http.Client, req *http.Request, secrets ...string) (*response, error) {
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if v, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Basic "); ok {
		secrets = append(secrets, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // method, URL and cause; no body
			return nil, &url.Error{Op: ue.Op, URL: ue.URL, Err: redact.Error(ue.Err, redact.DescriptionLen, secrets...)}
		}
		return nil, redact.Error(err, redact.DescriptionLen, secrets...)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading response from %s: %w", req.URL.Redacted(), redact.Error(err, redact.DescriptionLen, secrets...))
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("response from %s exceeds %d bytes", req.URL.Redacted(), MaxResponseBytes)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &response{status: resp.StatusCode, contentType: ct, location: resp.Header.Get("Location"), body: body, secrets: secrets}, nil
}

// postForm sends a form-encoded POST with client authentication.
func (c *Client) postForm(ctx context.Context, target string, auth *ClientAuth, form url.Values) (*response, error) {
	u, err := c.parseURL(target, "endpoint")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if auth != nil {
		auth.apply(req, form)
	}
	var secrets []string
	for _, k := range secretParams {
		secrets = append(secrets, form[k]...)
	}
	if auth != nil {
		secrets = append(secrets, auth.ClientSecret)
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(c.postClient(), req, secrets...)
}

// TokenError is an OAuth 2.0 error answer (RFC 6749 §5.2, RFC 8628 §3.5,
// RFC 7591 §3.2.2), or a non-2xx answer without one (Code empty). It never
// holds the response body, which may echo credentials. Code and
// Description are the server's error and error_description passed through
// redact.Text when the error is built: printable ASCII, cut to 64 and 256
// bytes, with every credential the request carried (client secret, device
// code, Basic credential, initial access token) and anything token-like
// blanked out should the server echo them.
type TokenError struct {
	Status      int
	Code        string
	Description string
}

func (e *TokenError) Error() string {
	switch {
	case e.Code != "" && e.Description != "":
		return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Description, e.Status)
	case e.Code != "":
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
	case e.Description != "":
		return fmt.Sprintf("%s (HTTP %d)", e.Description, e.Status)
	}
	return fmt.Sprintf("HTTP %d without an OAuth error", e.Status)
}

// Is makes errors.Is(err, ErrAccessDenied) and errors.Is(err,
// ErrExpiredToken) true for the matching server answers, so callers need
// not know whether the client or the server ended the flow.
func (e *TokenError) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrExpiredToken:
		return e.Code == "expired_token"
	}
	return false
}

// permanentCodes describe the client, grant or request rather than the
// moment: repeating the same request fails the same way (RFC 6749 §5.2,
// RFC 8707 §2 invalid_target, RFC 7591 §3.2.2 for registration).
var permanentCodes = map[string]bool{
	"invalid_client":                true,
	"invalid_grant":                 true,
	"unauthorized_client":           true,
	"unsupported_grant_type":        true,
	"invalid_scope":                 true,
	"invalid_target":                true,
	"invalid_redirect_uri":          true,
	"invalid_client_metadata":       true,
	"invalid_software_statement":    true,
	"unapproved_software_statement": true,
}

// IsPermanent reports whether retrying the same request cannot help: an
// error code from permanentCodes, or a bare 401 (client authentication
// failed without an OAuth body). 5xx, 429 and temporarily_unavailable are
// transient.
func (e *TokenError) IsPermanent() bool {
	if e.Code != "" {
		return permanentCodes[e.Code]
	}
	return e.Status == http.StatusUnauthorized
}

// oauthError builds the TokenError for resp, scrubbing the request's
// secrets from every text the server supplied.
func oauthError(resp *response) *TokenError {
	secrets := resp.secrets
	te := &TokenError{Status: resp.status}
	var body struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
	}
	if json.Unmarshal(resp.body, &body) == nil {
		te.Code = redact.Text(fmt.Sprint(orEmpty(body.Error)), maxCodeLen, secrets...)
		te.Description = redact.Text(fmt.Sprint(orEmpty(body.Description)), redact.DescriptionLen, secrets...)
	}
	if te.Code == "" && te.Description == "" {
		switch {
		case resp.status/100 == 3:
			te.Description = "redirect to " + redact.Text(resp.location, redact.DescriptionLen, secrets...) + " not followed"
		case resp.contentType != "" && resp.contentType != "application/json":
			te.Description = "non-JSON " + redact.Text(resp.contentType, maxCodeLen, secrets...) + " response"
		}
	}
	return te
}

// maxCodeLen bounds an OAuth error code (the registered ones are shorter
// than 30 bytes) and a content type in a message.
const maxCodeLen = 64

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// flexInt is a JSON integer that some IdPs send as a string ("3600") or
// with a fraction (3600.0). Null and "" are zero.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || x > 1<<62 || x < -(1<<62) {
		return errors.New("not an integer") // the value may be a token the server misplaced
	}
	*f = flexInt(int64(x))
	return nil
}

// audienceParams encodes audience as the chosen request parameter(s): see
// Client.AudienceParam.
func audienceParams(form url.Values, audience, as string) error {
	if audience == "" {
		return nil
	}
	if as == "" {
		as = "audience"
		if u, err := url.Parse(audience); err == nil && u.Scheme != "" && u.Host != "" && u.Fragment == "" {
			as = "resource"
		}
	}
	switch as {
	case "resource":
		form.Set("resource", audience)
	case "audience":
		form.Set("audience", audience)
	case "both":
		form.Set("resource", audience)
		form.Set("audience", audience)
	default:
		return fmt.Errorf("unknown audience parameter %q (want resource, audience, both or empty)", as)
	}
	return nil
}

package tokenclient

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
)

// MaxResponseBytes bounds every response body this package reads. Token,
// device and registration responses are a few KiB; discovery documents of
// large IdPs are about 10 KiB. 1 MiB leaves room for anything legitimate and
// keeps a broken or hostile endpoint from exhausting memory.
const MaxResponseBytes = 1 << 20

// DefaultTimeout is the whole-request timeout of the HTTP client used when
// Client.HTTPClient is nil: a bare http.DefaultClient would wait for a hung
// connection forever. oidc-agent uses 10 s; 30 s is kinder to slow IdPs.
const DefaultTimeout = 30 * time.Second

// maxRedirects bounds the redirects discovery follows.
const maxRedirects = 5

// Client talks to one authorization server for one OAuth2 client. The
// identity (ClientID, ClientSecret, AuthStyle) and the endpoints
// (TokenURL, DeviceAuthURL) are the ones every grant uses; the other fields
// are transport and wire choices.
//
// A Client holds no per-server state except AuthStyle, which a probe
// (AuthStyleAutoDetect) sets to the method the server accepted: do not use
// one Client from several goroutines while its AuthStyle is
// AuthStyleAutoDetect.
type Client struct {
	// TokenURL is the token endpoint (RFC 6749 §3.2).
	TokenURL string
	// DeviceAuthURL is the device authorization endpoint (RFC 8628 §3.1),
	// needed only by StartDevice.
	DeviceAuthURL string
	ClientID      string
	ClientSecret  string
	// AuthStyle is how a client with a secret authenticates:
	// oauth2.AuthStyleInHeader (client_secret_basic),
	// oauth2.AuthStyleInParams (client_secret_post, what the Python credmon
	// does), or oauth2.AuthStyleAutoDetect: HTTP Basic first (the method
	// every server must support, RFC 6749 §2.3.1), and when the server
	// refuses the client's authentication (invalid_client, or a 401 without
	// an OAuth error) client_secret_post once; AuthStyle then holds the
	// method last tried, so the next request does not pay for the refused
	// one again. The retry is safe: the server refuses the client before it
	// looks at the grant, so a refresh token or device code is still
	// unused. A client without a secret is public ("none"): client_id goes
	// in the form and AuthStyle does not matter.
	AuthStyle oauth2.AuthStyle
	// AudienceMode says how requested audiences are sent (see
	// AudienceMode); the zero value sends both "audience" and "resource".
	AudienceMode AudienceMode
	// SendScopes makes Refresh send "scope"; the Python credmon does not.
	// The other grants always send the scopes they are given.
	SendScopes bool
	// AllowInsecure permits http:// endpoints and issuers (tests, loopback
	// IdPs; parity with OAUTHLIB_INSECURE_TRANSPORT). Tokens and client
	// secrets must not travel in clear text otherwise.
	AllowInsecure bool
	// HTTPClient sends the requests; nil means a client with
	// DefaultTimeout. Its redirect policy is replaced: POSTs never follow
	// redirects, discovery follows at most 5 and never from https to http.
	HTTPClient *http.Client
	// UserAgent, if set, is sent as the User-Agent header.
	UserAgent string
	// Now returns the current time; nil means time.Now. It stamps
	// Result.Received and DeviceAuth.Received and drives PollDevice's
	// deadline.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer. Tests inject
	// one that advances a fake clock instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrInsecureURL: an endpoint or issuer is not https:// and
	// AllowInsecure is off. Nothing was sent. It is always inside a
	// PermanentError.
	ErrInsecureURL = errors.New("tokenclient: URL is not https (set the insecure switch only for tests)")
	// ErrIssuerMismatch: the discovery document names a different issuer
	// (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3).
	ErrIssuerMismatch = errors.New("tokenclient: discovery document names a different issuer")
	// ErrAccessDenied: the user (or the server) refused the device
	// authorization (RFC 8628 §3.5 access_denied).
	ErrAccessDenied = errors.New("tokenclient: device authorization denied (access_denied)")
	// ErrExpiredToken: the device code expired before it was approved,
	// either as the server said (RFC 8628 §3.5 expired_token) or because
	// expires_in passed while polling. A new flow must be started.
	ErrExpiredToken = errors.New("tokenclient: device code expired (expired_token)")
)

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
	return SleepContext(ctx, d)
}

// SleepContext waits d or until ctx is done, whichever comes first: the
// polling wait of the device flow, exported for the module's other HTTP
// clients (internal/vault) so that both poll the same way.
func SleepContext(ctx context.Context, d time.Duration) error {
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

// postClient never follows redirects. A 307/308 would replay the form
// (client secret, refresh token, device code) to wherever Location points,
// and a 301/302/303 would turn the POST into a GET and lose it; either way
// the redirect is the server's misconfiguration and is reported, not
// hidden.
func (c *Client) postClient() *http.Client {
	hc := *c.baseHTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// getClient follows up to maxRedirects redirects for discovery, but not to
// a URL checkURL refuses (https to http without AllowInsecure): the issuer
// check would still catch a forged document, but there is no reason to
// fetch one.
func (c *Client) getClient() *http.Client {
	hc := *c.baseHTTPClient()
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return checkURL("redirect", req.URL.String(), c.AllowInsecure)
	}
	return &hc
}

// checkURL refuses a URL that is not absolute http(s) with a host, and an
// http one unless allowInsecure, with a PermanentError; what names the URL
// in the message, which is scrubbed (a discovered URL is the issuer's
// text) and has no query or user info (either may carry a key).
func checkURL(what, raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &PermanentError{Err: fmt.Errorf("invalid %s URL %q", what, redact.Text(raw, redact.DescriptionLen))}
	}
	if u.Scheme != "https" && !allowInsecure {
		return &PermanentError{Err: fmt.Errorf("%s %s: %w", what, redact.Text(redactURL(u), redact.DescriptionLen), ErrInsecureURL)}
	}
	return nil
}

// redactURL drops user info, query and fragment from a URL for messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// response is a bounded, already-read HTTP response.
type response struct {
	status      int
	contentType string // media type only
	location    string
	retryAfter  string // "" when absent or longer than any valid one
	body        []byte
	// secrets are what the request carried that the server must not get
	// into our errors by echoing it.
	secrets []string
}

// secretParams are the form parameters whose values are credentials.
var secretParams = []string{"client_secret", "device_code", "refresh_token", "code", "code_verifier", "assertion", "subject_token", "actor_token", "password"}

// do sends req with the common headers and reads at most MaxResponseBytes.
// secrets are the request's credentials: they are blanked out of every
// error text, including a transport error quoting what the server sent
// (Go's transport quotes a malformed status line). A transport error stays
// a *url.Error without the URL's query, so net.Error and errors.Is see
// timeouts and cancellations.
func (c *Client) do(hc *http.Client, req *http.Request, secrets []string) (*response, error) {
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if v, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Basic "); ok {
		secrets = append(secrets, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(err, req.URL, secrets)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading response from %s: %w", redactURL(req.URL), redact.Error(err, redact.DescriptionLen, secrets...))
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("response from %s exceeds %d bytes", redactURL(req.URL), MaxResponseBytes)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	r := &response{status: resp.StatusCode, contentType: ct, location: resp.Header.Get("Location"), body: body, secrets: secrets}
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); len(v) <= maxRetryAfterLen {
		r.retryAfter = v
	}
	return r, nil
}

// transportError is err from http.Client.Do without the URL's query
// (url.Error quotes the whole URL) and with its text scrubbed.
func transportError(err error, u *url.URL, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(u), Err: redact.Error(ue.Err, redact.DescriptionLen, secrets...)}
	}
	return redact.Error(err, redact.DescriptionLen, secrets...)
}

// postForm is the one request to a token (or device authorization)
// endpoint: a form POST with the client's authentication (see AuthStyle,
// including the probe), Accept: application/json, no redirects, a bounded
// body. Every grant goes through it.
func (c *Client) postForm(ctx context.Context, endpoint, what string, form url.Values) (*response, error) {
	if err := checkURL(what, endpoint, c.AllowInsecure); err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		return nil, &PermanentError{Err: errors.New("no client_id")}
	}
	style, probe := c.AuthStyle, false
	if style == oauth2.AuthStyleAutoDetect {
		style, probe = oauth2.AuthStyleInHeader, c.ClientSecret != ""
	}
	resp, err := c.postFormAs(ctx, endpoint, form, style)
	if err != nil || !probe || !authRefused(resp) {
		if err == nil && probe {
			c.AuthStyle = style
		}
		return resp, err
	}
	c.AuthStyle = oauth2.AuthStyleInParams
	return c.postFormAs(ctx, endpoint, form, oauth2.AuthStyleInParams)
}

// postFormAs sends form to endpoint, the client authenticating as style.
func (c *Client) postFormAs(ctx context.Context, endpoint string, form url.Values, style oauth2.AuthStyle) (*response, error) {
	form = cloneValues(form)
	basic := c.ClientSecret != "" && style == oauth2.AuthStyleInHeader
	if !basic {
		form.Set("client_id", c.ClientID)
		if c.ClientSecret != "" {
			form.Set("client_secret", c.ClientSecret)
		}
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return nil, &PermanentError{Err: redact.Error(err, redact.DescriptionLen)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		// RFC 6749 §2.3.1: both parts are form-urlencoded before the Basic
		// encoding; a secret with ':' or '%' breaks otherwise.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	var secrets []string
	for _, k := range secretParams {
		secrets = append(secrets, form[k]...)
	}
	secrets = append(secrets, c.ClientSecret)
	return c.do(c.postClient(), req, secrets)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// authRefused reports a refusal of the client's authentication:
// invalid_client, or a 401 without an OAuth error code. Any other error may
// have been given after the grant was looked at (a 401 invalid_grant, say),
// and retrying could replay a refresh token the issuer has consumed.
func authRefused(resp *response) bool {
	code := errorCode(parseBody(resp.contentType, resp.body))
	return code == "invalid_client" || (code == "" && resp.status == http.StatusUnauthorized)
}

// parseBody parses a JSON object, falling back to a form-encoded body as
// oauthlib does (some providers, e.g. GitHub, answer that way). nil: neither.
func parseBody(contentType string, body []byte) *jsonobj.Object {
	if obj, err := jsonobj.Parse(body); err == nil {
		return obj
	}
	if contentType != "application/x-www-form-urlencoded" && contentType != "text/plain" {
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

// errorCode is obj's "error" member, "" when obj is nil or has none.
func errorCode(obj *jsonobj.Object) string {
	if obj == nil {
		return ""
	}
	code, _ := obj.String("error")
	return code
}

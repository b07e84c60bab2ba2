package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/redact"
	"github.com/credmon/credmon/internal/tokenchars"
	"github.com/credmon/credmon/internal/tokenclient"
)

// Paths of an htvault-config Vault: one OIDC mount per issuer, one
// Kerberos mount per issuer and role, the oauthapp secrets engine at
// secret/oauth.

// OIDCMount is the OIDC auth mount for issuer ("oidc-<issuer>").
func OIDCMount(issuer string) string { return "oidc-" + issuer }

// KerberosMount is the Kerberos auth mount for issuer and role
// ("kerberos-<issuer>_<role>").
func KerberosMount(issuer, role string) string { return "kerberos-" + issuer + "_" + role }

// CredsPath is where the refresh token of credkey lives and access tokens
// are read: secret/oauth/creds/<issuer>/<credkey>:<role>.
func CredsPath(issuer, credkey, role string) string {
	return "secret/oauth/creds/" + issuer + "/" + credkey + ":" + role
}

// STSPath is the token-exchange path of the same credential:
// secret/oauth/sts/<issuer>/<credkey>:<role>.
func STSPath(issuer, credkey, role string) string {
	return "secret/oauth/sts/" + issuer + "/" + credkey + ":" + role
}

// Auth is Vault's standard auth response (the "auth" object of a login or
// token create).
type Auth struct {
	// ClientToken is the Vault token. It is a credential: never log it.
	ClientToken string
	Accessor    string
	Policies    []string
	// Metadata is the login's metadata; an htvault-config OIDC login
	// carries "credkey" and "oauth2_refresh_token" (a credential).
	Metadata map[string]string
	// LeaseDuration is the token's TTL at Received; zero means it does
	// not expire (a root token).
	LeaseDuration time.Duration
	Renewable     bool
	// Received is when the answer arrived (Config.Now).
	Received time.Time
}

// Expiry is when the token expires, zero when it does not.
func (a *Auth) Expiry() time.Time {
	if a.LeaseDuration <= 0 {
		return time.Time{}
	}
	return a.Received.Add(a.LeaseDuration)
}

// KerberosLogin logs in at auth/<mount>/login with a SPNEGO token.
// negotiate returns the whole Authorization header value ("Negotiate
// <base64>"); it is called once per request, because a SPNEGO token must
// not be replayed.
func (c *Client) KerberosLogin(ctx context.Context, mount string, negotiate func(ctx context.Context) (string, error)) (*Auth, error) {
	hdr, err := negotiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("vault: kerberos login: %w", err)
	}
	if !strings.HasPrefix(hdr, "Negotiate ") || len(hdr) == len("Negotiate ") {
		return nil, &tokenclient.PermanentError{Err: errors.New("vault: kerberos login: the SPNEGO header does not start with \"Negotiate \"")}
	}
	path := "auth/" + mount + "/login"
	resp, err := c.do(ctx, request{
		method: http.MethodPost, path: path,
		// What htgettoken sends: no body, a form content type.
		header:  http.Header{"Authorization": {hdr}, "Content-Type": {"application/x-www-form-urlencoded"}},
		secrets: []string{hdr, strings.TrimPrefix(hdr, "Negotiate ")},
	})
	if err != nil {
		return nil, err
	}
	return c.authFrom(http.MethodPost, path, resp)
}

// DeviceAuth is a started OIDC device login (auth_url's answer).
type DeviceAuth struct {
	// AuthURL is the page the user opens; UserCode, if any, is what they
	// type there.
	AuthURL, UserCode string
	// PollInterval is Vault's poll interval (htvault-config sets 3 s).
	PollInterval time.Duration
	// Received is when the answer arrived.
	Received time.Time

	mount, state, nonce string
}

// DefaultPollInterval is used when Vault names none.
const DefaultPollInterval = 5 * time.Second

// MaxPollInterval caps the doubling after network failures; slow_down
// may still push the interval beyond it.
const MaxPollInterval = 60 * time.Second

// OIDCAuthURL starts an OIDC device login at auth/<mount>/oidc/auth_url
// for role. redirectURI is htgettoken's
// "<vault>/v1/auth/<mount>/oidc/callback"; empty means that, built from
// the client's address.
func (c *Client) OIDCAuthURL(ctx context.Context, mount, role, redirectURI string) (*DeviceAuth, error) {
	nonce, err := randomNonce()
	if err != nil {
		return nil, err
	}
	if redirectURI == "" {
		redirectURI = c.base.String() + "/v1/auth/" + mount + "/oidc/callback"
	}
	path := "auth/" + mount + "/oidc/auth_url"
	resp, err := c.do(ctx, request{
		method: http.MethodPost, path: path,
		body:    map[string]string{"role": role, "client_nonce": nonce, "redirect_uri": redirectURI},
		secrets: []string{nonce},
	})
	if err != nil {
		return nil, err
	}
	da, err := parseAuthURL(resp.body)
	if err != nil {
		return nil, badAnswer(http.MethodPost, path, resp.status, err.Error())
	}
	if da.state == "" {
		// Only the legacy device_wait endpoint works without a state;
		// every Vault htvault-config ships since 1.x sends one.
		return nil, badAnswer(http.MethodPost, path, resp.status, "auth_url answer has no state (not a device-flow mount)")
	}
	da.mount, da.nonce, da.Received = mount, nonce, c.now()
	return da, nil
}

// OIDCPoll polls auth/<mount>/oidc/poll until the user has approved the
// login, and returns the login's Auth. It waits the interval before every
// poll; authorization_pending polls again, slow_down doubles the interval
// (as htgettoken does), a network failure or a transient answer doubles
// it up to MaxPollInterval and polls again, any other answer ends the
// login. There is no deadline of its own: a person may take longer than
// htgettoken's two minutes, so ctx bounds the wait.
//
// progress, if not nil, is called before each wait with the interval.
func (c *Client) OIDCPoll(ctx context.Context, da *DeviceAuth, progress func(interval time.Duration)) (*Auth, error) {
	if da == nil || da.state == "" {
		return nil, &tokenclient.PermanentError{Err: errors.New("vault: OIDC poll needs a started login (OIDCAuthURL)")}
	}
	interval := da.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	path := "auth/" + da.mount + "/oidc/poll"
	for {
		if progress != nil {
			progress(interval)
		}
		if err := c.sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("vault: waiting for the OIDC login: %w", err)
		}
		resp, err := c.do(ctx, request{
			method: http.MethodPost, path: path,
			body:    map[string]string{"state": da.state, "client_nonce": da.nonce},
			secrets: []string{da.nonce, da.state},
		})
		if err == nil {
			return c.authFrom(http.MethodPost, path, resp)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vault: polling the OIDC login: %w", ctx.Err())
		}
		var e *Error
		switch {
		case errors.As(err, &e) && e.Status == http.StatusBadRequest && e.first() == "authorization_pending":
		case errors.As(err, &e) && e.Status == http.StatusBadRequest && e.first() == "slow_down":
			interval *= 2
		case Classify(err) == tokenclient.Transient:
			interval = max(interval, min(2*interval, MaxPollInterval))
		default:
			return nil, err
		}
	}
}

// first is Vault's first error, "" without one.
func (e *Error) first() string {
	if len(e.Messages) == 0 {
		return ""
	}
	return e.Messages[0]
}

func randomNonce() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("vault: making a client nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// CreateToken exchanges token for a non-renewable child token of ttl
// (auth/token/create), as htgettoken does with a login token whose lease
// is longer than it wants to keep on disk. policies, if not empty, must be
// a subset of token's.
func (c *Client) CreateToken(ctx context.Context, token string, ttl time.Duration, policies []string) (*Auth, error) {
	if ttl < time.Second {
		return nil, &tokenclient.PermanentError{Err: fmt.Errorf("vault: token TTL %v is shorter than a second", ttl)}
	}
	body := map[string]any{"ttl": quoteSeconds(ttl), "renewable": "false"}
	if len(policies) > 0 {
		body["policies"] = policies
	}
	const path = "auth/token/create"
	resp, err := c.do(ctx, request{method: http.MethodPost, path: path, token: token, body: body})
	if err != nil {
		return nil, err
	}
	return c.authFrom(http.MethodPost, path, resp)
}

// TokenInfo is what auth/token/lookup-self says about a token.
type TokenInfo struct {
	// TTL is what is left of the token at Received; zero for a token that
	// does not expire (root).
	TTL         time.Duration
	Policies    []string
	Renewable   bool
	DisplayName string
	// ExpireTime is Vault's own expire_time, zero when absent.
	ExpireTime time.Time
	Received   time.Time
}

// LookupSelf reads auth/token/lookup-self: the token's remaining TTL,
// which htgettoken's --vaulttokenminttl and the daemon's expiry warning
// use.
func (c *Client) LookupSelf(ctx context.Context, token string) (*TokenInfo, error) {
	const path = "auth/token/lookup-self"
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, token: token})
	if err != nil {
		return nil, err
	}
	info, err := parseLookup(resp.body)
	if err != nil {
		return nil, badAnswer(http.MethodGet, path, resp.status, err.Error())
	}
	info.Received = c.now()
	return info, nil
}

// RevokeSelf revokes token (auth/token/revoke-self), e.g. when a login
// made a child token and the parent is no longer needed.
func (c *Client) RevokeSelf(ctx context.Context, token string) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: "auth/token/revoke-self", token: token})
	return err
}

// StoreRefreshToken stores refreshToken for server (the issuer name) at a
// credential path (CredsPath), as htgettoken does after an OIDC login.
func (c *Client) StoreRefreshToken(ctx context.Context, token, path, server, refreshToken string) error {
	if refreshToken == "" || !tokenchars.RefreshToken(refreshToken) {
		return &tokenclient.PermanentError{Err: errors.New("vault: refusing to store an empty or malformed refresh token")}
	}
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: path, token: token,
		body:    map[string]string{"server": server, "refresh_token": refreshToken},
		secrets: []string{refreshToken},
	})
	return err
}

// TokenRequest says what access token to read.
type TokenRequest struct {
	// MinLifetime is sent as minimum_seconds: Vault returns its cached
	// token only if that much is left, else refreshes (and fails with
	// "token expired" if even a fresh token is shorter).
	MinLifetime time.Duration
	// Scopes and Audiences narrow the token. On an sts path they are
	// sent as "scopes" and "audiences" (comma lists, RFC 8693 exchange in
	// Vault); on a creds path as "scopes" and "audience", as
	// condor_credmon_vault sends them.
	Scopes, Audiences []string
}

// Bearer is an access token read from Vault.
type Bearer struct {
	// AccessToken is the token. It is a credential: never log it.
	AccessToken string
	// Type is the token type ("Bearer").
	Type string
	// Expiry is Vault's expire_time, zero when Vault gave none.
	Expiry time.Time
	// Server is the issuer name the credential belongs to (creds only).
	Server string
}

// Token reads an access token from path (CredsPath or STSPath, or the
// path of a credd-stored vault_url, see SplitURL) with token.
func (c *Client) Token(ctx context.Context, token, path string, req TokenRequest) (*Bearer, error) {
	q := url.Values{}
	if req.MinLifetime > 0 {
		q.Set("minimum_seconds", strconv.FormatInt(int64((req.MinLifetime+time.Second-1)/time.Second), 10))
	}
	if len(req.Scopes) > 0 {
		q.Set("scopes", strings.Join(req.Scopes, ","))
	}
	if len(req.Audiences) > 0 {
		key := "audience"
		if strings.Contains(path, "/sts/") {
			key = "audiences"
		}
		q.Set(key, strings.Join(req.Audiences, ","))
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, token: token})
	if err != nil {
		return nil, err
	}
	b, err := parseBearer(resp.body)
	if err != nil {
		return nil, badAnswer(http.MethodGet, path, resp.status, err.Error())
	}
	return b, nil
}

// authFrom parses a login or token-create answer.
func (c *Client) authFrom(method, path string, resp *response) (*Auth, error) {
	a, err := parseAuth(resp.body)
	if err != nil {
		return nil, badAnswer(method, path, resp.status, err.Error())
	}
	a.Received = c.now()
	return a, nil
}

// flexInt is a number Vault may send as a JSON number or a numeric
// string (poll_interval, and ttl/lease fields of some plugins).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || fl != fl || fl > 1<<53 || fl < -(1<<53) {
			return errors.New("not a number")
		}
		n = int64(fl)
	}
	*f = flexInt(n)
	return nil
}

// seconds turns a count of seconds into a Duration, refusing what no
// Vault sends (negative, or beyond a century).
func (f flexInt) seconds(what string) (time.Duration, error) {
	const maxSeconds = 100 * 365 * 24 * 3600
	if f < 0 || f > maxSeconds {
		return 0, fmt.Errorf("%s %d is out of range", what, int64(f))
	}
	return time.Duration(f) * time.Second, nil
}

// stringMap is a metadata map whose non-string values are dropped.
type stringMap map[string]string

func (m *stringMap) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := stringMap{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	*m = out
	return nil
}

// parseAuth reads the "auth" object of Vault's standard auth response.
// The token must be visible ASCII, as a header value must be.
func parseAuth(body []byte) (*Auth, error) {
	var v struct {
		Auth *struct {
			ClientToken   string    `json:"client_token"`
			Accessor      string    `json:"accessor"`
			Policies      []string  `json:"policies"`
			Metadata      stringMap `json:"metadata"`
			LeaseDuration flexInt   `json:"lease_duration"`
			Renewable     bool      `json:"renewable"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errors.New("answer is not Vault's JSON")
	}
	if v.Auth == nil {
		return nil, errors.New("answer has no auth")
	}
	if v.Auth.ClientToken == "" || !tokenchars.AccessToken(v.Auth.ClientToken) {
		return nil, errors.New("answer has no usable auth.client_token")
	}
	ttl, err := v.Auth.LeaseDuration.seconds("auth.lease_duration")
	if err != nil {
		return nil, err
	}
	return &Auth{
		ClientToken:   v.Auth.ClientToken,
		Accessor:      redact.Text(v.Auth.Accessor, 128),
		Policies:      v.Auth.Policies,
		Metadata:      v.Auth.Metadata,
		LeaseDuration: ttl,
		Renewable:     v.Auth.Renewable,
	}, nil
}

// parseAuthURL reads auth_url's data.
func parseAuthURL(body []byte) (*DeviceAuth, error) {
	var v struct {
		Data *struct {
			AuthURL      string  `json:"auth_url"`
			UserCode     string  `json:"user_code"`
			State        string  `json:"state"`
			PollInterval flexInt `json:"poll_interval"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errors.New("answer is not Vault's JSON")
	}
	if v.Data == nil || v.Data.AuthURL == "" {
		return nil, errors.New("answer has no data.auth_url")
	}
	u, err := url.Parse(v.Data.AuthURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("data.auth_url is not an http(s) URL")
	}
	iv, err := v.Data.PollInterval.seconds("data.poll_interval")
	if err != nil {
		return nil, err
	}
	return &DeviceAuth{AuthURL: v.Data.AuthURL, UserCode: v.Data.UserCode, state: v.Data.State, PollInterval: iv}, nil
}

// parseLookup reads lookup-self's data.
func parseLookup(body []byte) (*TokenInfo, error) {
	var v struct {
		Data *struct {
			TTL         flexInt  `json:"ttl"`
			Policies    []string `json:"policies"`
			Renewable   bool     `json:"renewable"`
			DisplayName string   `json:"display_name"`
			ExpireTime  *string  `json:"expire_time"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errors.New("answer is not Vault's JSON")
	}
	if v.Data == nil {
		return nil, errors.New("answer has no data")
	}
	ttl, err := v.Data.TTL.seconds("data.ttl")
	if err != nil {
		return nil, err
	}
	info := &TokenInfo{TTL: ttl, Policies: v.Data.Policies, Renewable: v.Data.Renewable, DisplayName: redact.Text(v.Data.DisplayName, 128)}
	if v.Data.ExpireTime != nil && *v.Data.ExpireTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, *v.Data.ExpireTime); err == nil {
			info.ExpireTime = t
		}
	}
	return info, nil
}

// parseBearer reads a creds or sts answer's data.
func parseBearer(body []byte) (*Bearer, error) {
	var v struct {
		Data *struct {
			AccessToken string  `json:"access_token"`
			Type        string  `json:"type"`
			ExpireTime  *string `json:"expire_time"`
			Server      string  `json:"server"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errors.New("answer is not Vault's JSON")
	}
	if v.Data == nil || v.Data.AccessToken == "" {
		return nil, errors.New("answer has no data.access_token")
	}
	if !tokenchars.AccessToken(v.Data.AccessToken) {
		return nil, errors.New("data.access_token has characters outside visible ASCII")
	}
	b := &Bearer{AccessToken: v.Data.AccessToken, Type: redact.Text(v.Data.Type, 32), Server: redact.Text(v.Data.Server, 256)}
	if v.Data.ExpireTime != nil && *v.Data.ExpireTime != "" {
		t, err := time.Parse(time.RFC3339Nano, *v.Data.ExpireTime)
		if err != nil {
			return nil, errors.New("data.expire_time is not an RFC 3339 time")
		}
		b.Expiry = t
	}
	return b, nil
}

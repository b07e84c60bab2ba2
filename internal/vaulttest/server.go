package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/testpeer"
	"github.com/credmon/credmon/internal/tokenclient"
)

// TB is the part of testing.TB the server uses; *testing.T and *testing.B
// satisfy it.
type TB = testpeer.TB

// Defaults of Options.
const (
	// DefaultIssuer is the issuer name in mounts and paths (htvault-config
	// names them after the issuer: oidc-<issuer>, secret/oauth/creds/<issuer>/...).
	DefaultIssuer = "test"
	// DefaultRole is the role in the Kerberos mount and credential names.
	DefaultRole = "default"
	// DefaultLoginTTL is the TTL of login tokens: 28 days, what
	// htvault-config gives the tokens HTCondor keeps.
	DefaultLoginTTL = 28 * 24 * time.Hour
	// DefaultPollInterval is htvault-config's device-flow poll interval.
	DefaultPollInterval = 3 * time.Second
	// minimumFloor is the oauthapp plugin's 10 s floor on the expiry
	// margin of a cached access token.
	minimumFloor = 10 * time.Second
	// maxBody bounds a request body.
	maxBody = 1 << 20
)

// Options configure a Server.
type Options struct {
	// Provider backs the OIDC login and the creds/sts paths (refresh and
	// token-exchange grants). Nil disables them: they answer 404.
	Provider *oidcprovider.Provider
	// ClientID and ClientSecret are Vault's OAuth client at the provider;
	// empty means oidcprovider.ClientIDBasic and its secret.
	ClientID, ClientSecret string
	// Issuer and Role name the mounts and paths; empty means DefaultIssuer
	// and DefaultRole.
	Issuer, Role string
	// Roles are more roles of the issuer besides Role (htvault-config's
	// roles of one issuer): each has its Kerberos mount
	// kerberos-<Issuer>_<role> and may be asked for by the OIDC login.
	Roles []string
	// Scopes are added to "openid offline_access" on the OIDC login.
	Scopes []string
	// KerberosVerifier checks the Authorization header of a Kerberos
	// login ("Negotiate <base64>") and returns the client's principal
	// (name@REALM). Nil disables the Kerberos mount (404).
	KerberosVerifier func(negotiateHeader string) (principal string, err error)
	// KerberosKeytab, when KerberosVerifier is nil, is the service keytab
	// of host/<vault host>: the Kerberos mount then checks logins against
	// the real KDC's tickets (KeytabVerifier).
	KerberosKeytab string
	// LoginTTL is the TTL of login tokens and the default of token
	// create; zero means DefaultLoginTTL.
	LoginTTL time.Duration
	// PollInterval is what auth_url tells the client; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Now is the server's clock (Vault-token TTLs, access-token caching);
	// nil means time.Now. See Clock.
	Now func() time.Time
}

// Rule is one path rule of a policy, as in Vault's HCL: Path is exact, or
// ends in "*" for a prefix; "+" stands for one path segment.
// Capabilities are Vault's: create, read, update, delete, list, sudo.
type Rule struct {
	Path         string
	Capabilities []string
}

// Stats counts what the server did, for tests that wait on events.
type Stats struct {
	Logins, TokensCreated           int
	Refreshes, Exchanges, CacheHits int
	Throttled                       int
}

// Server is a Vault API server on a loopback TLS port with the endpoints
// htgettoken and condor_credmon_vault use. Create it with Start.
type Server struct {
	// URL is https://127.0.0.1:<port>; Address is https://localhost:<port>
	// (the certificate names both, and ::1).
	URL, Address string
	// CAFile is a PEM file with the certificate's CA, for clients.
	CAFile string
	// CertPEM is that certificate.
	CertPEM []byte

	opts   Options
	srv    *httptest.Server
	oauth  *tokenclient.Client // Vault's client at the provider
	now    func() time.Time
	policy map[string][]Rule
	dir    string // holds CAFile

	mu        sync.Mutex
	tokens    map[string]*token
	pending   map[string]*pendingLogin // OIDC device logins by state
	creds     map[string]*cred         // by name below secret/oauth/creds/
	stats     Stats
	throttle  int
	retry     string
	slowDowns int
}

type token struct {
	id, accessor, parent, displayName, path string
	policies                                []string
	meta                                    map[string]string
	created                                 time.Time
	ttl                                     time.Duration // 0: never expires
	renewable, revoked                      bool
}

// Start runs a Server for the test; it is closed when the test ends.
func Start(t TB, opts Options) *Server {
	t.Helper()
	s, err := newServer(opts)
	if err != nil {
		t.Fatalf("starting the Vault test server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func newServer(opts Options) (*Server, error) {
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	if opts.Role == "" {
		opts.Role = DefaultRole
	}
	if opts.LoginTTL <= 0 {
		opts.LoginTTL = DefaultLoginTTL
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.KerberosVerifier == nil && opts.KerberosKeytab != "" {
		v, err := KeytabVerifier(opts.KerberosKeytab)
		if err != nil {
			return nil, err
		}
		opts.KerberosVerifier = v
	}
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = oidcprovider.ClientIDBasic, oidcprovider.ClientSecret
	}
	s := &Server{
		opts:    opts,
		now:     opts.Now,
		tokens:  map[string]*token{},
		pending: map[string]*pendingLogin{},
		creds:   map[string]*cred{},
		policy: map[string][]Rule{
			// Vault's default policy, the part htgettoken needs (what
			// htvault-config's tokenops policy grants).
			"default": {
				{Path: "auth/token/lookup-self", Capabilities: []string{"read"}},
				{Path: "auth/token/create", Capabilities: []string{"create", "update"}},
				{Path: "auth/token/revoke-self", Capabilities: []string{"update"}},
			},
		},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if p := opts.Provider; p != nil {
		s.oauth = &tokenclient.Client{
			TokenURL: p.TokenURL, DeviceAuthURL: p.DeviceAuthorizationURL,
			ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
			// Fixed, so no probe runs and the client is safe to share.
			AuthStyle:    oauth2.AuthStyleInHeader,
			AudienceMode: tokenclient.AudienceResource,
			// The provider is http on loopback.
			AllowInsecure: true,
			HTTPClient:    p.HTTPClient(),
		}
	}
	certPEM, cert, err := selfSigned()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vaulttest-")
	if err != nil {
		return nil, err
	}
	s.CAFile, s.CertPEM = filepath.Join(dir, "ca.pem"), certPEM
	if err := os.WriteFile(s.CAFile, certPEM, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.TLS = tlsConfig(cert)
	s.srv.StartTLS()
	s.URL = s.srv.URL
	s.Address = "https://localhost:" + s.srv.URL[strings.LastIndexByte(s.srv.URL, ':')+1:]
	s.dir = dir
	return s, nil
}

// Close stops the server and removes its CA file.
func (s *Server) Close() {
	s.srv.Close()
	os.RemoveAll(s.dir)
}

// Issuer and Role are the names in the server's mounts and paths.
func (s *Server) Issuer() string { return s.opts.Issuer }
func (s *Server) Role() string   { return s.opts.Role }

// AddPolicy defines (or replaces) a named policy.
func (s *Server) AddPolicy(name string, rules ...Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy[name] = append([]Rule(nil), rules...)
}

// TokenSpec describes a token MintToken makes.
type TokenSpec struct {
	// Policies are policy names; "root" allows everything. "default" is
	// added unless NoDefault.
	Policies  []string
	NoDefault bool
	// TTL is the token's lifetime; zero means it never expires.
	TTL         time.Duration
	DisplayName string
}

// MintToken makes a token the way an operator (or condor_vault_storer's
// earlier login) would have, for tests that start from a stored token.
func (s *Server) MintToken(spec TokenSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	pol := spec.Policies
	if !spec.NoDefault {
		pol = withDefault(pol)
	}
	return s.newTokenLocked("", "auth/token/create", spec.DisplayName, pol, nil, spec.TTL, false).id
}

// Revoke revokes a token (and, as Vault does, its children).
func (s *Server) Revoke(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		t.revoked = true
	}
}

// Throttle makes the next n requests answer 429 with Retry-After
// retryAfter (omitted when empty), as a Vault rate-limit quota does.
func (s *Server) Throttle(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retry = n, retryAfter
}

// SlowDown makes the next n OIDC polls answer slow_down.
func (s *Server) SlowDown(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowDowns = n
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// StoredRefreshToken returns the refresh token stored under name (below
// secret/oauth/creds/), as the secrets engine holds it now.
func (s *Server) StoredRefreshToken(name string) (string, bool) {
	s.mu.Lock()
	c, ok := s.creds[name]
	s.mu.Unlock()
	if !ok {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refreshToken, c.refreshToken != ""
}

func withDefault(pol []string) []string {
	for _, p := range pol {
		if p == "default" {
			return append([]string(nil), pol...)
		}
	}
	return append([]string{"default"}, pol...)
}

// newTokenLocked stores a new token. s.mu must be held.
func (s *Server) newTokenLocked(parent, path, display string, policies []string, meta map[string]string, ttl time.Duration, renewable bool) *token {
	t := &token{
		id: "hvs." + randomString(24), accessor: randomString(18), parent: parent,
		displayName: display, path: path, policies: policies, meta: meta,
		created: s.now(), ttl: ttl, renewable: renewable,
	}
	s.tokens[t.id] = t
	s.stats.TokensCreated++
	return t
}

// validLocked reports whether a token is usable now: not revoked, not
// expired, and its parent (if any) valid too, since Vault revokes a
// token's children with it.
func (s *Server) validLocked(t *token) bool {
	for depth := 0; t != nil && depth < 64; depth++ {
		if t.revoked || (t.ttl > 0 && !s.now().Before(t.created.Add(t.ttl))) {
			return false
		}
		if t.parent == "" {
			return true
		}
		t = s.tokens[t.parent]
	}
	return false
}

func (t *token) remaining(now time.Time) time.Duration {
	if t.ttl == 0 {
		return 0
	}
	return max(t.created.Add(t.ttl).Sub(now), 0)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Vault's error answers.
const (
	msgPermissionDenied = "1 error occurred:\n\t* permission denied\n\n"
	msgInvalidToken     = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
)

// vaultError writes Vault's error body.
func vaultError(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": msgs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// envelope is Vault's standard response around data or auth.
func envelope(data any, auth any) map[string]any {
	return map[string]any{
		"request_id": requestID(), "lease_id": "", "renewable": false, "lease_duration": 0,
		"data": data, "wrap_info": nil, "warnings": nil, "auth": auth, "mount_type": "",
	}
}

func (s *Server) authJSON(t *token) map[string]any {
	return map[string]any{
		"client_token": t.id, "accessor": t.accessor,
		"policies": t.policies, "token_policies": t.policies, "identity_policies": nil,
		"metadata": t.meta, "lease_duration": int64(t.ttl / time.Second), "renewable": t.renewable,
		"entity_id": "", "token_type": "service", "orphan": t.parent == "",
		"mfa_requirement": nil, "num_uses": 0,
	}
}

// call is one request as the handlers see it.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	path   string // below /v1/
	body   map[string]any
	caller *token // nil on login paths
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		vaultError(w, http.StatusNotFound)
		return
	}
	s.mu.Lock()
	if s.throttle > 0 {
		s.throttle--
		s.stats.Throttled++
		retry := s.retry
		s.mu.Unlock()
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		vaultError(w, http.StatusTooManyRequests, fmt.Sprintf("request path %q: rate limit quota exceeded", path))
		return
	}
	s.mu.Unlock()
	c := &call{w: w, r: r, path: path}
	if r.Body != nil && r.ContentLength != 0 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(b) > maxBody {
			vaultError(w, http.StatusBadRequest, "failed to read request body")
			return
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &c.body); err != nil {
				vaultError(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
				return
			}
		}
	}
	switch {
	case path == "auth/"+oidcMount(s.opts.Issuer)+"/oidc/auth_url" && s.oauth != nil:
		s.post(c, s.oidcAuthURL)
	case path == "auth/"+oidcMount(s.opts.Issuer)+"/oidc/poll" && s.oauth != nil:
		s.post(c, s.oidcPoll)
	case s.kerberosRole(path) != "" && s.opts.KerberosVerifier != nil:
		role := s.kerberosRole(path)
		s.post(c, func(c *call) { s.kerberosLogin(c, role) })
	case path == "auth/token/create", path == "auth/token/lookup-self", path == "auth/token/revoke-self":
		s.authorized(c, s.tokenOp)
	case strings.HasPrefix(path, credsPrefix) && len(path) > len(credsPrefix) && s.oauth != nil:
		s.authorized(c, s.credsOp)
	case strings.HasPrefix(path, stsPrefix) && len(path) > len(stsPrefix) && s.oauth != nil:
		s.authorized(c, s.stsOp)
	default:
		vaultError(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
	}
}

func oidcMount(issuer string) string { return "oidc-" + issuer }

// hasRole: role is Role or one of Roles.
func (s *Server) hasRole(role string) bool {
	return role == s.opts.Role || slices.Contains(s.opts.Roles, role)
}

// kerberosRole is the role whose Kerberos login path is path, or "".
func (s *Server) kerberosRole(path string) string {
	rest, ok := strings.CutPrefix(path, "auth/kerberos-"+s.opts.Issuer+"_")
	role, ok2 := strings.CutSuffix(rest, "/login")
	if !ok || !ok2 || !s.hasRole(role) {
		return ""
	}
	return role
}

const (
	credsPrefix = "secret/oauth/creds/"
	stsPrefix   = "secret/oauth/sts/"
)

// post runs a login handler, which needs no token.
func (s *Server) post(c *call, h func(*call)) {
	if c.r.Method != http.MethodPost && c.r.Method != http.MethodPut {
		vaultError(c.w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
		return
	}
	h(c)
}

// capability is what a request needs on its path.
func capability(method string) []string {
	switch method {
	case http.MethodGet:
		return []string{"read"}
	case http.MethodPost, http.MethodPut:
		return []string{"create", "update"}
	case http.MethodDelete:
		return []string{"delete"}
	case "LIST":
		return []string{"list"}
	}
	return nil
}

// authorized checks the caller's token and its policies, as Vault's core
// does before any backend sees the request.
func (s *Server) authorized(c *call, h func(*call)) {
	id := c.r.Header.Get("X-Vault-Token")
	if id == "" {
		if v, ok := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer "); ok {
			id = v
		}
	}
	s.mu.Lock()
	t, ok := s.tokens[id]
	if id == "" || !ok || !s.validLocked(t) {
		s.mu.Unlock()
		vaultError(c.w, http.StatusForbidden, msgInvalidToken)
		return
	}
	allowed := s.allowedLocked(t, c.path, capability(c.r.Method))
	s.mu.Unlock()
	if !allowed {
		vaultError(c.w, http.StatusForbidden, msgPermissionDenied)
		return
	}
	c.caller = t
	h(c)
}

func (s *Server) allowedLocked(t *token, path string, need []string) bool {
	for _, name := range t.policies {
		if name == "root" {
			return true
		}
		for _, rule := range s.policy[name] {
			if !pathMatch(rule.Path, path) {
				continue
			}
			for _, have := range rule.Capabilities {
				for _, n := range need {
					if have == n {
						return true
					}
				}
			}
		}
	}
	return false
}

// pathMatch is Vault's policy path matching: "+" is one segment, a
// trailing "*" makes the pattern a prefix, anything else is exact.
func pathMatch(pattern, path string) bool {
	prefix, glob := strings.CutSuffix(pattern, "*")
	ps, qs := strings.Split(prefix, "/"), strings.Split(path, "/")
	if len(qs) < len(ps) || (!glob && len(qs) != len(ps)) {
		return false
	}
	last := len(ps) - 1
	for i := 0; i < last; i++ {
		if ps[i] != "+" && ps[i] != qs[i] {
			return false
		}
	}
	if !glob {
		return ps[last] == "+" || ps[last] == qs[last]
	}
	return strings.HasPrefix(strings.Join(qs[last:], "/"), ps[last])
}

func (s *Server) tokenOp(c *call) {
	switch {
	case c.path == "auth/token/lookup-self" && c.r.Method == http.MethodGet:
		s.lookupSelf(c)
	case c.path == "auth/token/create" && (c.r.Method == http.MethodPost || c.r.Method == http.MethodPut):
		s.createToken(c)
	case c.path == "auth/token/revoke-self" && (c.r.Method == http.MethodPost || c.r.Method == http.MethodPut):
		s.mu.Lock()
		c.caller.revoked = true
		s.mu.Unlock()
		c.w.WriteHeader(http.StatusNoContent)
	default:
		vaultError(c.w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
	}
}

func (s *Server) lookupSelf(c *call) {
	s.mu.Lock()
	t, now := c.caller, s.now()
	var expire any
	if t.ttl > 0 {
		expire = t.created.Add(t.ttl).UTC().Format(time.RFC3339Nano)
	}
	data := map[string]any{
		"accessor": t.accessor, "creation_time": t.created.Unix(), "creation_ttl": int64(t.ttl / time.Second),
		"display_name": "token" + prefixed(t.displayName), "entity_id": "", "expire_time": expire,
		"explicit_max_ttl": 0, "id": t.id, "issue_time": t.created.UTC().Format(time.RFC3339Nano),
		"meta": t.meta, "num_uses": 0, "orphan": t.parent == "", "path": t.path, "policies": t.policies,
		"renewable": t.renewable, "ttl": int64(t.remaining(now) / time.Second), "type": "service",
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, envelope(data, nil))
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return "-" + s
}

// createToken is auth/token/create: a child of the caller, with policies
// that must be a subset of the caller's.
func (s *Server) createToken(c *call) {
	ttl := s.opts.LoginTTL
	if v, ok := c.body["ttl"]; ok {
		d, err := parseDuration(v)
		if err != nil {
			vaultError(c.w, http.StatusBadRequest, "1 error occurred:\n\t* error parsing ttl: "+err.Error()+"\n\n")
			return
		}
		ttl = d
	}
	renewable := true
	if v, ok := c.body["renewable"]; ok {
		b, err := parseBool(v)
		if err != nil {
			vaultError(c.w, http.StatusBadRequest, "1 error occurred:\n\t* error parsing renewable: "+err.Error()+"\n\n")
			return
		}
		renewable = b
	}
	s.mu.Lock()
	parent := c.caller
	pol := parent.policies
	if v, ok := c.body["policies"]; ok {
		pol = stringList(v)
		if !subset(pol, parent.policies) {
			s.mu.Unlock()
			vaultError(c.w, http.StatusBadRequest, "child policies must be subset of parent")
			return
		}
		pol = withDefault(pol)
	}
	t := s.newTokenLocked(parent.id, "auth/token/create", parent.displayName, pol, parent.meta, ttl, renewable)
	auth := s.authJSON(t)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, envelope(nil, auth))
}

func subset(a, of []string) bool {
	for _, p := range a {
		found := p == "default"
		for _, q := range of {
			found = found || q == p || q == "root"
		}
		if !found {
			return false
		}
	}
	return true
}

// parseDuration reads a Vault duration: seconds as a number or a string
// of digits, or a Go duration ("3600s", "1h").
func parseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case float64:
		if x < 0 {
			return 0, errors.New("negative")
		}
		return time.Duration(x) * time.Second, nil
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, nil
		}
		if strings.HasSuffix(x, "d") {
			n, err := strconv.ParseInt(strings.TrimSuffix(x, "d"), 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("invalid duration %q", x)
			}
			return time.Duration(n) * 24 * time.Hour, nil
		}
		d, err := time.ParseDuration(x)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("invalid duration %q", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("invalid duration %v", v)
}

// parseBool reads a Vault bool: JSON true/false or the strings htgettoken
// sends ("false").
func parseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strconv.ParseBool(x)
	}
	return false, fmt.Errorf("invalid bool %v", v)
}

// stringList reads a list of strings or a comma-separated string.
func stringList(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func str(body map[string]any, key string) string {
	s, _ := body[key].(string)
	return s
}

// withTimeout bounds a call to the provider.
func withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 30*time.Second)
}

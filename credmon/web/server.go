package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/tokenclient"
)

//go:embed templates/*.html templates/web.css
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "templates/*.html"))

// ProviderConfig is a service's configuration from the HTCondor config
// (<SVC>_CLIENT_ID, …): it fills in what a key file leaves empty.
type ProviderConfig struct {
	ClientID, ClientSecretFile         string
	AuthorizationURL, TokenURL, Issuer string
	ReturnURLSuffix                    string
	AuthStyle                          oauth2.AuthStyle
	AudienceMode                       tokenclient.AudienceMode
}

// Config is what a Server needs. CredDir is required; the rest has
// defaults.
type Config struct {
	// CredDir is SEC_CREDENTIAL_DIRECTORY_OAUTH, where credd writes key
	// files and the app writes tokens.
	CredDir string
	// Prefix is CREDMON_WEB_PREFIX: the public URL (or just the path) the
	// app is served under, as credd put it into the key URL. Its path is
	// where the routes live; a reverse proxy may strip it or not.
	Prefix string
	// TrustedProxies are the addresses whose X-Forwarded-For, -Proto and
	// -Host are believed; anyone else's are ignored.
	TrustedProxies []netip.Prefix
	// Provider returns the configuration of a service (nil: none).
	Provider func(service string) (*ProviderConfig, error)
	// OpenIDConfiguration and JWKS are the local issuer's documents,
	// served under /.well-known when set.
	OpenIDConfiguration, JWKS []byte
	// HTTPClient talks to token endpoints and discovery; nil: tokenclient's.
	HTTPClient *http.Client
	// AllowInsecure permits http:// IdP endpoints (tests only).
	AllowInsecure bool
	// KeyFileLifetime is how old a key file may be (12 h, as the credmon
	// deletes older ones).
	KeyFileLifetime time.Duration
	// SessionTTL bounds a login session (1 h); MaxSessions the store.
	SessionTTL  time.Duration
	MaxSessions int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf logs one line; nil discards. Lines never carry a key, state,
	// code, secret or token.
	Logf func(format string, args ...any)
}

// Server is the login web app, an http.Handler.
type Server struct {
	cfg      Config
	base     string // the path prefix, "" or "/x/y"
	sessions *sessions
	disc     tokenclient.Cache
	// secretWarn reads the providers' client secret files, logging once
	// one that others can read (read anyway, as credd reads it).
	secretWarn knobs.SecretWarner
}

const cookieName = "credmon_web"

// New checks cfg and returns the app.
func New(cfg Config) (*Server, error) {
	if cfg.CredDir == "" {
		return nil, errors.New("web: no credential directory")
	}
	base := ""
	if cfg.Prefix != "" {
		u, err := url.Parse(cfg.Prefix)
		if err != nil {
			return nil, fmt.Errorf("web: CREDMON_WEB_PREFIX %q: %w", cfg.Prefix, err)
		}
		base = strings.TrimRight(u.Path, "/")
		if base != "" && !strings.HasPrefix(base, "/") {
			base = "/" + base
		}
	}
	if cfg.KeyFileLifetime == 0 {
		cfg.KeyFileLifetime = knobs.KeyFileLifetime
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = time.Hour
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Server{cfg: cfg, base: base, sessions: newSessions(cfg.SessionTTL, cfg.MaxSessions)}, nil
}

// ServeHTTP routes a request; see the package documentation for the
// routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if strings.HasPrefix(s.publicBase(r), "https:") {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	p := r.URL.Path
	if s.base != "" && (p == s.base || strings.HasPrefix(p, s.base+"/")) {
		p = strings.TrimPrefix(p, s.base)
	}
	if p == "" {
		p = "/"
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch {
	case p == "/" || p == "/index":
		s.only(w, r, http.MethodGet, s.index)
	case first == "key" && rest != "" && !strings.Contains(rest, "/"):
		s.only(w, r, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { s.key(w, r, rest) })
	case first == "login" && rest != "" && !strings.Contains(rest, "/"):
		s.only(w, r, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.login(w, r, rest) })
	case first == "return" && rest != "" && !strings.Contains(rest, "/"):
		s.only(w, r, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { s.callback(w, r, rest) })
	case p == "/.well-known/openid-configuration" && s.cfg.OpenIDConfiguration != nil:
		s.only(w, r, http.MethodGet, s.document(s.cfg.OpenIDConfiguration))
	case (p == "/.well-known/jwks-uri" || p == "/.well-known/jwks.json") && s.cfg.JWKS != nil:
		s.only(w, r, http.MethodGet, s.document(s.cfg.JWKS))
	case p == "/static/web.css":
		s.only(w, r, http.MethodGet, s.css)
	default:
		s.fail(w, r, http.StatusNotFound, pageNotFound)
	}
}

// only answers 405 to any method but m (HEAD counts as GET).
func (s *Server) only(w http.ResponseWriter, r *http.Request, m string, h http.HandlerFunc) {
	if r.Method != m && !(m == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", m)
		s.fail(w, r, http.StatusMethodNotAllowed, pageMethod)
		return
	}
	h(w, r)
}

// document serves a public JSON document (the issuer's), cacheable.
func (s *Server) document(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(b)
	}
}

func (s *Server) css(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("templates/web.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// key opens a key file: a new session for this browser, then a redirect
// to the session page, so the key leaves the address bar and history.
func (s *Server) key(w http.ResponseWriter, r *http.Request, key string) {
	now := s.cfg.Now()
	svcs, err := readKeyFile(s.cfg.CredDir, key, s.cfg.KeyFileLifetime, now)
	switch {
	case errors.Is(err, ErrUnknownKey):
		s.logf(r, "key %s: unknown or already used", fingerprint(key))
		s.fail(w, r, http.StatusNotFound, pageUnknownKey)
		return
	case errors.Is(err, ErrExpiredKey):
		s.logf(r, "key %s: expired", fingerprint(key))
		s.fail(w, r, http.StatusGone, pageExpiredKey)
		return
	case err != nil:
		s.logf(r, "key %s: %v", fingerprint(key), err)
		s.fail(w, r, http.StatusInternalServerError, pageBadKey)
		return
	}
	sess := &session{key: key, keyID: fingerprint(key), user: svcs[0].LocalUser, csrf: random(32), created: now}
	for i := range svcs {
		sess.names = append(sess.names, svcs[i].Name())
	}
	id := s.sessions.add(sess, now)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: s.base + "/",
		MaxAge: int(s.cfg.SessionTTL / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	s.logf(r, "key %s: session for user %s, services %s", sess.keyID, sess.user, strings.Join(sess.names, ","))
	// By hand, not http.Redirect: the target is our own path, which that
	// would parse and clean again, and write an HTML note no browser
	// shows; every visit of a key pays for this line.
	w.Header()["Location"] = []string{s.base + "/"}
	w.WriteHeader(http.StatusSeeOther)
}

// session returns the request's session, or nil.
func (s *Server) session(r *http.Request) (string, *session) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", nil
	}
	return c.Value, s.sessions.get(c.Value, s.cfg.Now())
}

type serviceView struct {
	Name, Provider, Handle string
	Scopes, Audiences      []string
	Done                   bool
}

type indexView struct {
	Title, Base, CSRF, User string
	Services                []serviceView
	Remaining               int
	AllDone                 bool
}

// index is the session page: each service, done or with a button.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	_, sess := s.session(r)
	if sess == nil {
		s.fail(w, r, http.StatusBadRequest, pageNoSession)
		return
	}
	v := indexView{Title: "Log in to your services", Base: s.base, CSRF: sess.csrf, User: sess.user}
	svcs, err := readKeyFile(s.cfg.CredDir, sess.key, 0, s.cfg.Now())
	if err != nil && !errors.Is(err, ErrUnknownKey) {
		s.logf(r, "key %s: %v", sess.keyID, err)
		s.fail(w, r, http.StatusInternalServerError, pageBadKey)
		return
	}
	if err != nil {
		// The key file is gone: removed when the last service was done
		// (by this app, maybe in another tab), or by the credmon's clean-up.
		for _, n := range sess.names {
			sv := serviceView{Name: n, Done: done(s.cfg.CredDir, &Service{LocalUser: sess.user, Provider: n})}
			if !sv.Done {
				s.fail(w, r, http.StatusGone, pageExpiredKey)
				return
			}
			v.Services = append(v.Services, sv)
		}
		v.AllDone, v.Title = true, "All done"
		s.render(w, r, http.StatusOK, "index.html", v)
		return
	}
	for i := range svcs {
		sv := serviceView{Name: svcs[i].Name(), Provider: svcs[i].Provider, Handle: svcs[i].Handle,
			Scopes: svcs[i].Scopes, Audiences: svcs[i].Audiences, Done: done(s.cfg.CredDir, &svcs[i])}
		if !sv.Done {
			v.Remaining++
		}
		v.Services = append(v.Services, sv)
	}
	if v.Remaining == 0 {
		s.finish(r, sess)
		v.AllDone, v.Title = true, "All done"
	}
	s.render(w, r, http.StatusOK, "index.html", v)
}

// finish removes the key file once every service is done, as the Python
// app does: the link has served its purpose.
func (s *Server) finish(r *http.Request, sess *session) {
	err := os.Remove(filepath.Join(s.cfg.CredDir, sess.key))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.logf(r, "key %s: removing the key file: %v", sess.keyID, err)
		return
	}
	if err == nil {
		s.logf(r, "key %s: every service done, key file removed", sess.keyID)
	}
}

// service reads the session's key file again and returns the service
// name, filled in from the configuration, and its authorization server
// (which the login records in its flow, for the answer's iss).
func (s *Server) service(r *http.Request, sess *session, name string) (*Service, authServer, error) {
	svcs, err := readKeyFile(s.cfg.CredDir, sess.key, s.cfg.KeyFileLifetime, s.cfg.Now())
	if err != nil {
		return nil, authServer{}, err
	}
	for i := range svcs {
		if svcs[i].Name() == name {
			return s.complete(r, &svcs[i])
		}
	}
	return nil, authServer{}, ErrUnknownKey
}

// complete fills what the key file leaves empty from the service's
// configuration: client id and secret, endpoints (by issuer discovery),
// the return URL. With <SVC>_ISSUER set, the issuer's metadata is read
// (once, then cached) even when both endpoints are given: it is what RFC
// 9207 checks the answer's iss against.
func (s *Server) complete(r *http.Request, svc *Service) (*Service, authServer, error) {
	ctx := r.Context()
	var as authServer
	var pc *ProviderConfig
	if s.cfg.Provider != nil {
		var err error
		if pc, err = s.cfg.Provider(svc.Provider); err != nil {
			return nil, as, err
		}
	}
	if pc == nil {
		pc = &ProviderConfig{AuthStyle: oauth2.AuthStyleInParams}
	}
	if svc.ClientID == "" {
		svc.ClientID = pc.ClientID
	}
	if svc.ClientSecret == "" && pc.ClientSecretFile != "" {
		sec, err := s.secretWarn.Read(svc.Provider+"_CLIENT_SECRET_FILE", pc.ClientSecretFile, func(msg string) { s.cfg.Logf("%s", msg) })
		if err != nil {
			return nil, as, err
		}
		svc.ClientSecret = sec
	}
	if svc.AuthorizationURL == "" {
		svc.AuthorizationURL = pc.AuthorizationURL
	}
	if svc.TokenURL == "" {
		svc.TokenURL = pc.TokenURL
	}
	if pc.Issuer != "" {
		md, err := s.disc.Discover(ctx, s.client(svc, pc), pc.Issuer)
		if err != nil {
			return nil, as, err
		}
		as = authServer{issuer: md.Issuer, issRequired: md.AuthorizationResponseIssParameterSupported}
		if svc.AuthorizationURL == "" {
			svc.AuthorizationURL = md.AuthorizationEndpoint
		}
		if svc.TokenURL == "" {
			svc.TokenURL = md.TokenEndpoint
		}
	}
	if svc.ReturnURL == "" {
		// credd's ReturnUrl is CREDMON_WEB_PREFIX (or https://<fqdn>)
		// followed by <SVC>_RETURN_URL_SUFFIX; rebuilt the same way.
		suffix := pc.ReturnURLSuffix
		if suffix == "" {
			suffix = "/return/" + svc.Provider
		}
		prefix := strings.TrimRight(s.cfg.Prefix, "/")
		if u, err := url.Parse(prefix); err != nil || u.Host == "" {
			prefix = s.publicBase(r) + s.base
		}
		svc.ReturnURL = prefix + suffix
	}
	if svc.ClientID == "" || svc.AuthorizationURL == "" || svc.TokenURL == "" {
		return nil, as, fmt.Errorf("service %s: no client id, authorization URL or token URL in the key file or the configuration", svc.Provider)
	}
	return svc, as, nil
}

// client is the token client for svc.
func (s *Server) client(svc *Service, pc *ProviderConfig) *tokenclient.Client {
	c := &tokenclient.Client{TokenURL: svc.TokenURL, ClientID: svc.ClientID, ClientSecret: svc.ClientSecret,
		AuthStyle: oauth2.AuthStyleInParams, AllowInsecure: s.cfg.AllowInsecure, HTTPClient: s.cfg.HTTPClient,
		UserAgent: "credmon-web"}
	if pc != nil {
		c.AuthStyle, c.AudienceMode = pc.AuthStyle, pc.AudienceMode
	}
	return c
}

func (s *Server) providerConfig(svc *Service) *ProviderConfig {
	if s.cfg.Provider == nil {
		return nil
	}
	pc, _ := s.cfg.Provider(svc.Provider)
	return pc
}

// login starts the authorization-code flow for one service: a fresh state
// and PKCE verifier kept in the session, and a redirect to the IdP.
func (s *Server) login(w http.ResponseWriter, r *http.Request, name string) {
	id, sess := s.session(r)
	if sess == nil {
		s.fail(w, r, http.StatusBadRequest, pageNoSession)
		return
	}
	if !sess.checkCSRF(r.PostFormValue("csrf")) {
		s.logf(r, "key %s: login %s: bad or missing form token", sess.keyID, safeCode(name))
		s.fail(w, r, http.StatusForbidden, pageForm)
		return
	}
	svc, as, err := s.service(r, sess, name)
	if err != nil {
		s.serviceError(w, r, sess, safeCode(name), err)
		return
	}
	verifier := tokenclient.NewVerifier()
	state, ok := s.sessions.startFlow(id, flow{name: name, verifier: verifier, as: as, started: s.cfg.Now()})
	if !ok {
		s.fail(w, r, http.StatusBadRequest, pageNoSession)
		return
	}
	u, err := s.client(svc, s.providerConfig(svc)).AuthCodeURL(svc.AuthorizationURL, tokenclient.AuthCodeRequest{
		RedirectURI: svc.ReturnURL, State: state, Verifier: verifier, Scopes: svc.Scopes, Audiences: svc.Audiences})
	if err != nil {
		s.logf(r, "key %s: login %s: %v", sess.keyID, name, err)
		s.fail(w, r, http.StatusInternalServerError, pageConfig)
		return
	}
	s.logf(r, "key %s: login %s: sent to the identity provider", sess.keyID, name)
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (s *Server) serviceError(w http.ResponseWriter, r *http.Request, sess *session, name string, err error) {
	switch {
	case errors.Is(err, ErrUnknownKey):
		s.logf(r, "key %s: %s: key file gone or service not in it", sess.keyID, name)
		s.fail(w, r, http.StatusGone, pageExpiredKey)
	case errors.Is(err, ErrExpiredKey):
		s.logf(r, "key %s: expired", sess.keyID)
		s.fail(w, r, http.StatusGone, pageExpiredKey)
	default:
		s.logf(r, "key %s: %s: %v", sess.keyID, name, err)
		s.fail(w, r, http.StatusInternalServerError, pageConfig)
	}
}

// callback is where the IdP sends the browser back: the state must be one
// this session started (and is then used up), the answer must come from
// the issuer the login was sent to (RFC 9207 iss, checked before even an
// error answer is believed, §2.4), the code is exchanged with the PKCE
// verifier, and the three files are written.
func (s *Server) callback(w http.ResponseWriter, r *http.Request, provider string) {
	id, sess := s.session(r)
	if sess == nil {
		s.logf(r, "return %s: no session", safeCode(provider))
		s.fail(w, r, http.StatusBadRequest, pageNoSession)
		return
	}
	q := r.URL.Query()
	f, ok := s.sessions.takeFlow(id, q.Get("state"))
	if !ok {
		s.logf(r, "key %s: return %s: state does not match a login of this session", sess.keyID, safeCode(provider))
		s.fail(w, r, http.StatusBadRequest, pageState)
		return
	}
	// The answer must come from the server the request went to (RFC 9207),
	// as recorded when it was sent, before anything else is made of it.
	if err := f.as.checkIss(q); err != nil {
		s.logf(r, "key %s: return %s: refused, no token requested: %v", sess.keyID, f.name, err)
		s.fail(w, r, http.StatusBadRequest, pageState)
		return
	}
	if e := q.Get("error"); e != "" {
		s.logf(r, "key %s: return %s: the identity provider refused: %s", sess.keyID, f.name, safeCode(e))
		s.fail(w, r, http.StatusForbidden, pageRefused)
		return
	}
	svc, _, err := s.service(r, sess, f.name)
	if err != nil {
		s.serviceError(w, r, sess, f.name, err)
		return
	}
	res, err := s.client(svc, s.providerConfig(svc)).ExchangeCode(r.Context(), q.Get("code"), svc.ReturnURL, f.verifier, svc.Audiences)
	if err != nil {
		s.logf(r, "key %s: return %s: token request failed: %v", sess.keyID, f.name, err)
		s.fail(w, r, http.StatusBadGateway, pageTokenFailed)
		return
	}
	if err := writeTokens(s.cfg.CredDir, svc, svc.TokenURL, res); err != nil {
		s.logf(r, "key %s: return %s: %v", sess.keyID, f.name, err)
		s.fail(w, r, http.StatusInternalServerError, pageWriteFailed)
		return
	}
	s.logf(r, "key %s: %s: tokens written for user %s (refresh token: %t)", sess.keyID, f.name, svc.LocalUser, res.RefreshToken != "")
	http.Redirect(w, r, s.base+"/", http.StatusSeeOther)
}

// safeCode keeps a value from a request (an OAuth error code, a path
// segment) for the log only if it is short printable ASCII (RFC 6749
// §4.1.2.1's syntax for error codes), so no one can inject log lines.
func safeCode(e string) string {
	if len(e) > 64 {
		return "(invalid error code)"
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; c <= 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "(invalid error code)"
		}
	}
	return e
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		s.logf(r, "rendering %s: %v", name, err)
	}
}

func (s *Server) logf(r *http.Request, format string, args ...any) {
	s.cfg.Logf("%s "+format, append([]any{s.clientAddr(r)}, args...)...)
}

package vaulttest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/internal/tokenclient"
)

// cred is one credential of the oauthapp secrets engine: the refresh
// token, the cached access token and the cached exchanged tokens. Its
// mutex serialises refreshes, as the plugin's lock does: two refreshes
// with one rotating refresh token would make the provider see reuse and
// revoke the grant.
type cred struct {
	mu           sync.Mutex
	server       string
	refreshToken string
	access       cachedToken
	exchanged    map[string]cachedToken
}

type cachedToken struct {
	token  string
	expiry time.Time // zero: no expiry known
}

// valid is the plugin's rule: the token counts if it still has minimum
// (at least 10 s) left; a token without expiry always counts.
func (t cachedToken) valid(now time.Time, minimum time.Duration) bool {
	if t.token == "" {
		return false
	}
	return t.expiry.IsZero() || now.Add(max(minimum, minimumFloor)).Before(t.expiry)
}

// putRefreshToken stores rt as credential name's, forgetting the access
// tokens cached for the one it replaces.
func (s *Server) putRefreshToken(name, server, rt string) {
	s.mu.Lock()
	s.creds[name] = &cred{server: server, refreshToken: rt, exchanged: map[string]cachedToken{}}
	s.mu.Unlock()
}

// SeedRefreshToken stores rt for <issuer>/<credkey>:<role> as an earlier
// OIDC login (or condor_vault_storer) would have stored it through the API:
// the setup of tests whose subject is what reads it afterwards.
func (s *Server) SeedRefreshToken(issuer, credkey, role, rt string) {
	s.putRefreshToken(issuer+"/"+credkey+":"+role, issuer, rt)
}

// credsOp is secret/oauth/creds/<name>: POST stores a refresh token,
// GET reads an access token (cached, or refreshed with the stored
// refresh token, whose rotation is persisted), DELETE forgets it.
func (s *Server) credsOp(c *call) {
	name := strings.TrimPrefix(c.path, credsPrefix)
	switch c.r.Method {
	case http.MethodPost, http.MethodPut:
		server, rt := str(c.body, "server"), str(c.body, "refresh_token")
		if server != s.opts.Issuer {
			vaultError(c.w, http.StatusBadRequest, `server "`+server+`" is not configured`)
			return
		}
		if rt == "" {
			vaultError(c.w, http.StatusBadRequest, "missing refresh token")
			return
		}
		s.putRefreshToken(name, server, rt)
		c.w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.creds, name)
		s.mu.Unlock()
		c.w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		minimum, ok := minimumSeconds(c)
		if !ok {
			return
		}
		cr := s.cred(name)
		if cr == nil {
			vaultError(c.w, http.StatusNotFound)
			return
		}
		cr.mu.Lock()
		defer cr.mu.Unlock()
		if !s.accessLocked(c, cr, minimum) {
			return
		}
		data := map[string]any{"access_token": cr.access.token, "type": "Bearer", "server": cr.server}
		if !cr.access.expiry.IsZero() {
			data["expire_time"] = cr.access.expiry.UTC().Format(time.RFC3339Nano)
		}
		writeJSON(c.w, http.StatusOK, envelope(data, nil))
	default:
		vaultError(c.w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
	}
}

// stsOp is secret/oauth/sts/<name>: an RFC 8693 exchange of the
// credential's access token for one with the requested scopes and
// audiences, cached per (scopes, audiences) like the OpenBao plugin.
func (s *Server) stsOp(c *call) {
	if c.r.Method != http.MethodGet {
		vaultError(c.w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
		return
	}
	minimum, ok := minimumSeconds(c)
	if !ok {
		return
	}
	cr := s.cred(strings.TrimPrefix(c.path, stsPrefix))
	if cr == nil {
		vaultError(c.w, http.StatusNotFound)
		return
	}
	q := c.r.URL.Query()
	scopes, audiences := commaList(q["scopes"]), commaList(q["audiences"])
	key := "scopes=" + strings.Join(scopes, " ") + ",audiences=" + strings.Join(audiences, " ")
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !s.accessLocked(c, cr, minimum) {
		return
	}
	now := s.now()
	tok, ok := cr.exchanged[key]
	if ok && tok.valid(now, minimum) {
		s.count(func(st *Stats) { st.CacheHits++ })
	} else {
		ctx, cancel := withTimeout(c.r)
		defer cancel()
		res, err := s.oauth.Exchange(ctx, tokenclient.ExchangeRequest{
			SubjectToken: cr.access.token, SubjectTokenType: tokenclient.TokenTypeAccessToken,
			RequestedTokenType: tokenclient.TokenTypeAccessToken,
			Scopes:             scopes, Audiences: audiences,
		})
		s.count(func(st *Stats) { st.Exchanges++ })
		if err != nil {
			s.providerError(c, "exchange failed", err)
			return
		}
		tok = cachedToken{token: res.AccessToken(), expiry: expiry(res, now)}
		if !tok.valid(now, minimum) {
			vaultError(c.w, http.StatusBadRequest, "token expired")
			return
		}
		if !tok.expiry.IsZero() {
			cr.exchanged[key] = tok
		}
	}
	data := map[string]any{"access_token": tok.token, "type": "Bearer"}
	if !tok.expiry.IsZero() {
		data["expire_time"] = tok.expiry.UTC().Format(time.RFC3339Nano)
	}
	writeJSON(c.w, http.StatusOK, envelope(data, nil))
}

// accessLocked makes cr.access valid for minimum, refreshing when needed;
// it answers the request itself and returns false when it cannot.
// cr.mu must be held.
func (s *Server) accessLocked(c *call, cr *cred, minimum time.Duration) bool {
	now := s.now()
	if cr.access.valid(now, minimum) {
		s.count(func(st *Stats) { st.CacheHits++ })
		return true
	}
	ctx, cancel := withTimeout(c.r)
	defer cancel()
	res, err := s.oauth.Refresh(ctx, cr.refreshToken, nil, nil, s.now)
	s.count(func(st *Stats) { st.Refreshes++ })
	if err != nil {
		s.providerError(c, "refreshing the token failed", err)
		return false
	}
	// Persisted before anything else can fail: the provider has already
	// retired the old refresh token.
	if res.RefreshToken != "" {
		cr.refreshToken = res.RefreshToken
	}
	cr.access = cachedToken{token: res.AccessToken(), expiry: expiry(res, now)}
	// Exchanged tokens came from the old access token; new ones are due.
	clear(cr.exchanged)
	if !cr.access.valid(now, minimum) {
		vaultError(c.w, http.StatusBadRequest, "token expired")
		return false
	}
	return true
}

// providerError answers a failed grant: a permanent one (invalid_grant,
// a refused client) is the user's problem, 400 with the provider's code;
// a transient one is Vault's, 500.
func (s *Server) providerError(c *call, what string, err error) {
	msg := what + ": " + tokenclient.Describe(err)
	if tokenclient.IsPermanent(err) {
		vaultError(c.w, http.StatusBadRequest, msg)
		return
	}
	vaultError(c.w, http.StatusInternalServerError, "1 error occurred:\n\t* "+msg+"\n\n")
}

func expiry(res *tokenclient.Result, now time.Time) time.Time {
	if n, ok := res.Response.Number("expires_in"); ok && n > 0 {
		return now.Add(time.Duration(n) * time.Second)
	}
	return time.Time{}
}

func (s *Server) cred(name string) *cred {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds[name]
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// minimumSeconds reads the minimum_seconds query parameter (Vault's
// TypeDurationSecond: a number of seconds or a duration string), and
// answers 400 itself when it is malformed.
func minimumSeconds(c *call) (time.Duration, bool) {
	v := c.r.URL.Query().Get("minimum_seconds")
	if v == "" {
		return 0, true
	}
	d, err := parseDuration(v)
	if err != nil {
		vaultError(c.w, http.StatusBadRequest, "1 error occurred:\n\t* error converting input "+strconv.Quote(v)+" for field \"minimum_seconds\"\n\n")
		return 0, false
	}
	return d, true
}

// commaList is Vault's TypeCommaStringSlice: repeated parameters and
// comma-separated values alike.
func commaList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

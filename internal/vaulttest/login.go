package vaulttest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/tokenclient"
)

// pendingLogin is an OIDC device login between auth_url and a
// successful poll.
type pendingLogin struct {
	da    *tokenclient.DeviceAuth
	nonce string
	role  string
}

// oidcAuthURL starts a device authorization at the provider, as
// htvault-config's OIDC mount (device flow) does, and answers with its
// verification URL, user code and a state to poll with.
func (s *Server) oidcAuthURL(c *call) {
	role, nonce := str(c.body, "role"), str(c.body, "client_nonce")
	if role == "" {
		role = s.opts.Role
	}
	if !s.hasRole(role) {
		vaultError(c.w, http.StatusBadRequest, `role "`+role+`" could not be found`)
		return
	}
	if nonce == "" {
		vaultError(c.w, http.StatusBadRequest, "missing client_nonce")
		return
	}
	ctx, cancel := withTimeout(c.r)
	defer cancel()
	scopes := append([]string{"openid", "offline_access"}, s.opts.Scopes...)
	da, err := s.oauth.StartDevice(ctx, scopes, nil)
	if err != nil {
		vaultError(c.w, http.StatusInternalServerError, "1 error occurred:\n\t* device authorization failed: "+tokenclient.Describe(err)+"\n\n")
		return
	}
	state := "st_" + randomString(16)
	s.mu.Lock()
	s.pending[state] = &pendingLogin{da: da, nonce: nonce, role: role}
	s.mu.Unlock()
	authURL := da.VerificationURIComplete
	if authURL == "" {
		authURL = da.VerificationURI
	}
	writeJSON(c.w, http.StatusOK, envelope(map[string]any{
		"auth_url": authURL, "user_code": da.UserCode, "state": state,
		// A string, as the jwt plugin's device flow sends it.
		"poll_interval": strconv.Itoa(int(s.opts.PollInterval / time.Second)),
	}, nil))
}

// errOnePoll stops tokenclient.PollDevice after one request: the server
// polls the provider once per client poll, as Vault does.
var errOnePoll = errors.New("one poll done")

// oidcPoll polls the provider once for the login's device code:
// authorization_pending and slow_down are answered as Vault does (400
// with the code as the error), an approval becomes a Vault token whose
// metadata carries the credkey (the token's sub, htvault-config's claim
// mapping) and the refresh token (its oauth2_metadata), which the client
// then stores.
func (s *Server) oidcPoll(c *call) {
	state, nonce := str(c.body, "state"), str(c.body, "client_nonce")
	s.mu.Lock()
	pl, ok := s.pending[state]
	slow := s.slowDowns > 0
	if slow {
		s.slowDowns--
	}
	s.mu.Unlock()
	switch {
	case !ok:
		vaultError(c.w, http.StatusBadRequest, "expired or missing OAuth state")
		return
	case nonce != pl.nonce:
		vaultError(c.w, http.StatusBadRequest, "invalid client_nonce")
		return
	case slow:
		vaultError(c.w, http.StatusBadRequest, "slow_down")
		return
	}
	ctx, cancel := withTimeout(c.r)
	defer cancel()
	oc := *s.oauth
	sleeps := 0
	oc.Sleep = func(ctx context.Context, d time.Duration) error {
		if sleeps++; sleeps > 1 {
			return errOnePoll
		}
		return nil
	}
	var intervals []time.Duration
	progress := func(_, iv time.Duration) { intervals = append(intervals, iv) }
	res, err := oc.PollDevice(ctx, pl.da, progress)
	switch {
	case errors.Is(err, errOnePoll) && len(intervals) == 2 && intervals[1] > intervals[0]:
		vaultError(c.w, http.StatusBadRequest, "slow_down")
		return
	case errors.Is(err, errOnePoll):
		vaultError(c.w, http.StatusBadRequest, "authorization_pending")
		return
	case err != nil:
		s.mu.Lock()
		delete(s.pending, state)
		s.mu.Unlock()
		vaultError(c.w, http.StatusBadRequest, "1 error occurred:\n\t* "+tokenclient.Describe(err)+"\n\n")
		return
	}
	claims, err := s.opts.Provider.ParseAccessToken(ctx, res.AccessToken())
	sub, _ := claims["sub"].(string)
	if err != nil || sub == "" {
		vaultError(c.w, http.StatusInternalServerError, "1 error occurred:\n\t* the issuer's token has no valid sub\n\n")
		return
	}
	if res.RefreshToken == "" {
		vaultError(c.w, http.StatusBadRequest, "1 error occurred:\n\t* the issuer returned no refresh token\n\n")
		return
	}
	// One policy per role and identity: a login for another role of the
	// issuer must not take away what an earlier one granted (its tokens
	// stay in use).
	policy := "oidc-" + s.opts.Issuer + "_" + pl.role + "-" + sub
	prefix := s.opts.Issuer + "/" + sub
	s.mu.Lock()
	delete(s.pending, state)
	// What htvault-config's OIDC policy template grants {{alias}}: its
	// own credential and any below it (robot credkeys user/purpose/host).
	s.policy[policy] = []Rule{
		{Path: credsPrefix + prefix + ":" + pl.role, Capabilities: []string{"create", "update", "read", "delete"}},
		{Path: credsPrefix + prefix + "/*", Capabilities: []string{"create", "update", "read", "delete"}},
		{Path: stsPrefix + prefix + ":" + pl.role, Capabilities: []string{"read"}},
		{Path: stsPrefix + prefix + "/*", Capabilities: []string{"read"}},
	}
	meta := map[string]string{"credkey": sub, "oauth2_refresh_token": res.RefreshToken, "role": pl.role}
	t := s.newTokenLocked("", "auth/"+oidcMount(s.opts.Issuer)+"/oidc/poll", oidcMount(s.opts.Issuer)+"-"+sub, []string{"default", policy}, meta, s.opts.LoginTTL, true)
	s.stats.Logins++
	auth := s.authJSON(t)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, envelope(nil, auth))
}

// kerberosLogin checks the SPNEGO header with the pluggable verifier and
// logs the principal in at role's mount with htvault-config's Kerberos
// policy: read and delete its own credential, read its sts path.
func (s *Server) kerberosLogin(c *call, role string) {
	hdr := c.r.Header.Get("Authorization")
	if !strings.HasPrefix(hdr, "Negotiate ") {
		c.w.Header().Set("WWW-Authenticate", "Negotiate")
		vaultError(c.w, http.StatusUnauthorized, "missing or invalid authorization")
		return
	}
	principal, err := s.opts.KerberosVerifier(hdr)
	if err != nil || principal == "" {
		c.w.Header().Set("WWW-Authenticate", "Negotiate")
		vaultError(c.w, http.StatusUnauthorized, "kerberos negotiation failed")
		return
	}
	alias, realm, _ := strings.Cut(principal, "@")
	mount := "kerberos-" + s.opts.Issuer + "_" + role
	policy := mount + "-" + alias
	name := s.opts.Issuer + "/" + alias + ":" + role
	s.mu.Lock()
	s.policy[policy] = []Rule{
		{Path: credsPrefix + name, Capabilities: []string{"read", "delete"}},
		{Path: stsPrefix + name, Capabilities: []string{"read"}},
	}
	meta := map[string]string{"user": alias, "domain": realm}
	t := s.newTokenLocked("", "auth/"+mount+"/login", mount+"-"+alias, []string{"default", policy}, meta, s.opts.LoginTTL, true)
	s.stats.Logins++
	auth := s.authJSON(t)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, envelope(nil, auth))
}

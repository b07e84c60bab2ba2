package credmon

// The client-credentials worker: ClientCredmon's job. credd stores a
// .top holding the user name (CREDD_CHECK_CREDS, or condor_store_cred
// for a name in CLIENT_CREDMON_PROVIDER_NAMES) and the daemon writes a
// .use from a client_credentials grant at the provider's token endpoint,
// asking for the scopes and audience the local issuer's knobs give the
// user (CLIENT_CREDMON_*; knobs.Client). Nothing rotates: the .top is
// only read. The schedule, queue, breaker and backoff are the OAuth2
// tokens'; the token endpoint's host is the issuer.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/tokenclient"
)

func (w *worker) refreshClient(ctx context.Context, j *job) *result {
	r, fail := j.newResult(tokenclient.IsPermanent)
	cp := j.client
	if cp.err != nil {
		return fail(&tokenclient.PermanentError{Err: cp.err})
	}
	cfg := cp.cfg
	d, _, done := w.readTop(j, r, fail) // its content (the user name) is not used: the user is the directory's
	if done != nil {
		return done
	}
	defer d.Close()
	if err := useNotDir(d, j.name); err != nil {
		return fail(err)
	}
	scopes, audiences, err := clientTarget(cp, j.user)
	if err != nil {
		return fail(err)
	}
	secret, err := knobs.ReadSecretFile(cfg.SecretKnob, cfg.ClientSecretFile)
	if err != nil {
		return fail(&tokenclient.PermanentError{Err: err})
	}
	c := &tokenclient.Client{
		TokenURL: cfg.TokenURL, ClientID: cfg.ClientID, ClientSecret: secret,
		// ClientCredmon's request: the secret in the form, "audience".
		AuthStyle: oauth2.AuthStyleInParams, AudienceMode: tokenclient.AudienceParam,
		AllowInsecure: j.cfg.AllowInsecure, HTTPClient: w.http, UserAgent: "credmon/" + Version, Now: w.now,
	}
	if c.TokenURL == "" {
		if c.TokenURL, err = w.discover(ctx, j, r, c, cfg.Issuer); err != nil {
			return r.pausedOr(err, fail)
		}
	}
	if err := j.acquireNet(ctx); err != nil {
		return r.pausedOr(err, fail)
	}
	// Nothing rotates in this grant: a stop may cut the request.
	r.asked = true
	reqCtx, cancel := context.WithTimeout(ctx, j.cfg.HTTPTimeout)
	res, err := c.ClientCredentials(reqCtx, scopes, audiences)
	cancel()
	<-j.netSem
	r.netErr = err
	if err != nil {
		return fail(err)
	}
	// A .top removed meanwhile (credd's delete or sweep) gets no .use.
	if _, err := d.Stat(j.name + credfile.SuffixTop); r.goneIf(err) {
		return r
	}
	lifetime := cfg.Claims.Lifetime
	if exp := res.Expiry(); !exp.IsZero() {
		lifetime = exp.Sub(res.Received)
	}
	// ClientCredmon writes LocalCredmon's .use: {"access_token",
	// "expires_in"}, one line, expires_in in whole seconds.
	use := localissuer.EncodeUse(res.AccessToken(), lifetime.Round(time.Second), true)
	return w.publishUse(d, j, r, fail, use, res.Received, res.Received.Add(lifetime))
}

// clientTarget is what a client-credentials request asks for on behalf
// of user: the scopes the local issuer's knobs (under CLIENT_CREDMON_)
// would put in a local token for the user, plus "wlcg" for a WLCG token
// version (ClientCredmon's rule), and TOKEN_AUDIENCE.
func clientTarget(cp *clientProvider, user string) (scopes, audiences []string, err error) {
	req, denied, _, err := authzRequest(cp.authz, user)
	if err != nil {
		return nil, nil, err
	}
	if denied != "" {
		return nil, nil, &tokenclient.PermanentError{Err: fmt.Errorf("user %s is not a member of group %s (CLIENT_CREDMON_AUTHZ_GROUP_REQUIREMENT)", user, denied)}
	}
	claims := cp.authz.mintConfig()
	scope, err := localissuer.Scope(claims, req)
	if err != nil {
		return nil, nil, &tokenclient.PermanentError{Err: err}
	}
	scopes = strings.Fields(scope)
	if v := strings.ToLower(claims.Version); v == localissuer.VersionWLCG || v == localissuer.VersionWLCG1 {
		scopes = append(scopes, "wlcg")
	}
	return scopes, claims.Audience, nil
}

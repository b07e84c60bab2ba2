package credmon

// The Pelican worker: PelicanCredmon's job. The storer leaves a subject
// token in the .top; the daemon exchanges it (RFC 8693) with the
// service's own client for a grant of its own, writes that grant's
// refresh token (with the token URL, issuer, scope and audience) as the
// new .top, durably, and only then the access token as the .use. Later
// refreshes use the refresh-token grant and persist a rotated refresh
// token the same way, before the .use. A .top the storer replaces with a
// newer subject token is exchanged again (scan.go marks it stale).
//
// Requests as PelicanCredmon sends them: client_id and client_secret in
// the form; the exchange with subject_token_type access_token and the
// stored scope and audience; the refresh with neither. Each is bounded by
// pelicanTimeout (30 s) and goes through the service's HTTP client
// (PELICAN_CREDMON_CA_FILE, PELICAN_CREDMON_TLS_SKIP_VERIFY). The token
// URL is <S>_PELICAN_TOKEN_URL, else discovered from the issuer (the
// .top's iss, or the subject token's), else the .top's token_url.

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/tokenclient"
)

// pelicanDefaultLifetime is the expires_in written when the server sends
// none: PelicanCredmon's default CREDMON_OAUTH_TOKEN_MINIMUM (20 min).
const pelicanDefaultLifetime = 20 * time.Minute

func (w *worker) refreshPelican(ctx context.Context, j *job) *result {
	r, fail := j.newResult(tokenclient.IsPermanent)
	pp := j.pelican
	if pp.err != nil {
		return fail(&tokenclient.PermanentError{Err: pp.err})
	}
	d, topBytes, done := w.readTop(j, r, fail)
	if done != nil {
		return done
	}
	defer d.Close()
	top, err := credfile.ParsePelicanTop(topBytes)
	if err != nil {
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("unusable Pelican .top: %w", err)})
	}
	if err := useNotDir(d, j.name); err != nil {
		return fail(err)
	}
	rt := top.RefreshToken
	if j.pendingRT != "" && j.pendingTop == r.top {
		rt = j.pendingRT // a rotation we could not persist last time
	}
	secret, err := knobs.ReadSecretFile(pp.cfg.SecretKnob(), pp.cfg.ClientSecretFile)
	if err != nil {
		return fail(&tokenclient.PermanentError{Err: err})
	}
	c := &tokenclient.Client{
		ClientID: pp.cfg.ClientID, ClientSecret: secret,
		AuthStyle: oauth2.AuthStyleInParams, AudienceMode: tokenclient.AudienceParam,
		AllowInsecure: j.cfg.AllowInsecure, HTTPClient: pp.http, UserAgent: "credmon/" + Version, Now: w.now,
	}
	switch {
	case pp.cfg.TokenURL != "":
		c.TokenURL = pp.cfg.TokenURL
	case top.Issuer != "":
		c.TokenURL, err = w.discover(ctx, j, r, c, top.Issuer)
		if err != nil && top.TokenURL == "" {
			return r.pausedOr(err, fail)
		}
		if err != nil {
			c.TokenURL = top.TokenURL // PelicanCredmon's fallback: the URL recorded at the exchange
		}
	case top.TokenURL != "":
		c.TokenURL = top.TokenURL
	default:
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("no token endpoint: %s is not set and the .top names no issuer or token_url", pp.cfg.Name+"_PELICAN_TOKEN_URL")})
	}

	if err := j.acquireNet(ctx); err != nil {
		return r.pausedOr(err, fail)
	}
	// On the wire the request finishes even at a stop: the answer may
	// hold the only copy of a new refresh token.
	wire := context.WithoutCancel(ctx)
	r.asked = true
	reqCtx, cancel := context.WithTimeout(wire, pelicanTimeout)
	var res *tokenclient.Result
	exchanged := rt == ""
	if exchanged {
		res, err = c.Exchange(reqCtx, tokenclient.ExchangeRequest{
			SubjectToken: top.SubjectToken, SubjectTokenType: tokenclient.TokenTypeAccessToken,
			Scopes: top.Scopes(), Audiences: top.Audiences(),
		})
	} else {
		res, err = c.Refresh(reqCtx, rt, nil, nil, w.now)
	}
	cancel()
	<-j.netSem
	r.netErr = err
	if err != nil {
		return fail(err)
	}

	// A .top replaced while we were on the wire (the storer's new subject
	// token) wins, as for OAuth2 tokens.
	if topReplaced(d, j, r) {
		return r
	}
	// Durability order: the grant's refresh token is on disk (directory
	// fsync) before the .use, as PelicanCredmon orders them.
	newRT := res.RefreshToken
	if newRT == "" && !exchanged && rt != top.RefreshToken {
		newRT = rt // the unsaved rotation from last time is still the grant's
	}
	switch {
	case newRT != "" && (newRT != top.RefreshToken || exchanged):
		st, err := w.replace(d, j.user, j.name+credfile.SuffixTop, top.Exchanged(newRT, c.TokenURL))
		if err != nil {
			if exchanged {
				// The subject token is still in the .top: the next attempt
				// exchanges it again.
				return fail(fmt.Errorf("writing the exchanged .top: %w", err))
			}
			r.pendingRT, r.pendingTop = newRT, r.top
			w.log.Error("persisting rotated Pelican refresh token failed; keeping it in memory",
				"user", j.user, "token", j.name, "error", err)
			return fail(fmt.Errorf("writing .top: %w", err))
		}
		r.top, r.rotated = st.ID(), true
	case exchanged:
		// No refresh token: every refresh must exchange the subject token
		// again while it lasts. PelicanCredmon warns and goes on.
		w.log.Warn(fmt.Sprintf("The exchange for %s of user %s returned no refresh token; it is exchanged again at each refresh while the stored subject token lasts", j.name, j.user))
	}
	lifetime := pelicanDefaultLifetime
	if exp := res.Expiry(); !exp.IsZero() {
		lifetime = exp.Sub(res.Received).Round(time.Second)
	}
	tokenType, _ := res.Response.String("token_type")
	use := credfile.EncodePelicanUse(res.AccessToken(), tokenType, int64(lifetime/time.Second))
	return w.publishUse(d, j, r, fail, use, res.Received, res.Received.Add(lifetime))
}

package credmon

// The robot worker: a robot's self-describing .top (credfile.RobotTop:
// its own iss, client and grant, stored by `credmon-token get --condor`
// with condor_store_cred add-oauth, no .meta) refreshed on the worker side.
// The loop hands out only tokens whose iss <NAME>_TRUSTED_ISSUERS lists
// (robot.go); this worker checks that again on the very bytes it sends
// from, finds the token endpoint by discovery at that issuer (never the
// .top's token_url: the daemon runs as root and must not POST a
// user-chosen URL, nor send a client secret to one), and then goes the
// OAuth2 way: a refresh grant (or client credentials), the rotated
// refresh token persisted into the .top first, then the .use (save).
// Schedule, queues, breaker and timeouts are the OAuth2 tokens'; the
// issuer is iss.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/tokenclient"
)

func (w *worker) refreshRobot(ctx context.Context, j *job) *result {
	r, fail := j.newResult(tokenclient.IsPermanent)
	d, topBytes, done := w.readTop(j, r, fail)
	if done != nil {
		return done
	}
	defer d.Close()
	top, err := credfile.ParseRobotTop(topBytes)
	switch {
	case errors.Is(err, credfile.ErrNotRobotTop):
		// Replaced since the loop read it by a .top of another type: the
		// loop reads and classifies the new one.
		r.outcome = outSuperseded
		return r
	case err != nil:
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("unusable .top: %w", err)})
	}
	issuer, err := knobs.NormalizeIssuer(top.Issuer)
	if err != nil || !j.cfg.TrustedIssuer(issuer) {
		// The loop checked the .top it read; this is the one we would send
		// from. Nothing goes out for an issuer the admin did not list.
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("issuer %s is not in %s", top.Issuer, trustedIssuersKnob(j.cfg.Name))})
	}
	if err := useNotDir(d, j.name); err != nil {
		return fail(err)
	}
	client := w.newClient(j)
	client.ClientID, client.ClientSecret, client.Now = top.ClientID, top.ClientSecret, w.now
	// The robot's client registered whatever method its issuer offered:
	// Basic first, form parameters on invalid_client (the server refuses
	// the client before it looks at the grant, so nothing is spent).
	client.AuthStyle = oauth2.AuthStyleAutoDetect
	// Discovery at the issuer as the admin's list has it (host in lower
	// case, no trailing "/"; the document's issuer is compared with that).
	tokenURL, err := w.discover(ctx, j, r, client, issuer)
	if err != nil {
		return r.pausedOr(err, fail)
	}
	client.TokenURL = tokenURL
	if top.TokenURL != "" && !sameHost(top.TokenURL, tokenURL) {
		r.robotNote = fmt.Sprintf("the .top's token_url names host %s, its issuer's discovery %s; using the discovered one", hostOf(top.TokenURL), hostOf(tokenURL))
	}

	rt := top.RefreshToken()
	if j.pendingRT != "" && j.pendingTop == r.top {
		rt = j.pendingRT
	}
	cc := top.Grant == credfile.GrantClientCredentials
	scopes, audiences := top.Scopes, top.Audience
	if j.plain {
		scopes, audiences = nil, nil
	}
	grant := func(ctx context.Context, scopes, audiences []string) (*tokenclient.Result, error) {
		if cc {
			return client.ClientCredentials(ctx, scopes, audiences)
		}
		return client.Refresh(ctx, rt, scopes, audiences, w.now)
	}
	if err := j.acquireNet(ctx); err != nil {
		return r.pausedOr(err, fail)
	}
	// On the wire it finishes even when the daemon is told to stop, as an
	// OAuth2 refresh does (refresh): the issuer may rotate the refresh token.
	wire := context.WithoutCancel(ctx)
	r.asked = true
	reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
	res, err := grant(reqCtx, scopes, audiences)
	cancel()
	if code := tokenclient.RefusedTarget(err); code != "" && !cc && client.SendsTarget(scopes, audiences) && ctx.Err() == nil {
		// As for OAuth2 tokens: ask again without scope/audience, which
		// gets the grant's own. Not for client credentials, where no scope
		// means the client's defaults, maybe more than the job asked for.
		r.refused, r.refusedWhat = code, sentTarget(client, scopes, audiences)
		reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
		res, err = grant(reqCtx, nil, nil)
		cancel()
	}
	<-j.netSem
	r.netErr = err
	if err != nil {
		return fail(err)
	}
	if cc {
		// A client credentials .top has no refresh_token to rotate, and
		// one must not appear in it (RFC 6749 §4.4.3: none should be issued).
		res.RefreshToken = ""
	}
	return w.save(d, j, r, top, sameRobot(top), rt, res, fail)
}

// sameRobot reads a robot .top stored while a refresh was on the wire for
// save: the answer applies to it only if it names the same issuer, client
// and grant (save also requires the very refresh token just spent).
func sameRobot(top *credfile.RobotTop) func([]byte) (rotatingTop, error) {
	return func(b []byte) (rotatingTop, error) {
		t, err := credfile.ParseRobotTop(b)
		if err != nil {
			return nil, err
		}
		if t.Issuer != top.Issuer || t.ClientID != top.ClientID || t.ClientSecret != top.ClientSecret || t.Grant != top.Grant {
			return nil, errors.New("another issuer or client")
		}
		return t, nil
	}
}

// trustedIssuersKnob names the knob for the daemon's subsystem name.
func trustedIssuersKnob(name string) string {
	return strings.ToUpper(name) + "_TRUSTED_ISSUERS"
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return strings.ToLower(u.Host)
	}
	return "?"
}

func sameHost(a, b string) bool { return hostOf(a) == hostOf(b) && hostOf(a) != "?" }

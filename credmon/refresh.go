package credmon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/tokenclient"
)

// job is what a worker needs to refresh one token: copies, never shared.
type job struct {
	c          *cred // identity only; workers must not touch its fields
	user, name string
	provider   *knobs.Provider // nil when the provider's config is unusable
	cfg        *knobs.Credmon
	pendingRT  string
	pendingTop atomicfile.ID
	issuer     *issuerState  // the issuer's state: workers read only issuer.paused
	netSem     chan struct{} // the issuer's network slots
	probe      bool          // the one request that tests a paused issuer
	local      *localIssuer  // set for local mints
	// plain: send neither scope nor audience/resource (the issuer refused
	// them for this token before; see cred.plain).
	plain bool
}

// JobsPerWorker bounds refreshes in flight (reading, waiting for an issuer
// slot, or writing) at this multiple of Workers; only Workers of them talk
// to issuers at a time.
const JobsPerWorker = 4

type outcome int

const (
	outOK         outcome = iota
	outFailed             // err set
	outSuperseded         // .top replaced during the refresh: our result discarded
	outGone               // user dir or .top vanished
	outPaused             // the issuer was paused before our request went out: queue again
)

type result struct {
	c       *cred
	outcome outcome
	err     error
	perm    bool

	top, use, meta atomicfile.ID // versions after our writes
	dir            atomicfile.ID // the user directory after our writes
	issued, expiry time.Time
	expiryKnown    bool
	rotated        bool
	pendingRT      string
	pendingTop     atomicfile.ID
	elapsed        time.Duration
	local          *localOutcome // set for local mints
	// issuer and probe are the job's; asked is set once a request went to
	// the issuer, and netErr is how the last one failed (nil: answered
	// with a token), for the issuer's circuit breaker.
	issuer *issuerState
	probe  bool
	asked  bool
	netErr error
	// refused is the OAuth error code (invalid_target, invalid_scope) with
	// which the issuer refused the requested scopes/audience; the refresh
	// was then retried without them. refusedWhat names what was sent.
	refused, refusedWhat string
}

// dispatch starts queued jobs while workers are free.
func (m *Monitor) dispatch(ctx context.Context) {
	for len(m.localQueue) > 0 && m.localRun < LocalJobs {
		c := m.localQueue[0]
		m.localQueue[0] = nil
		m.localQueue = m.localQueue[1:]
		if c.ignore != "" {
			m.finish(c)
			continue
		}
		j := &job{c: c, user: c.user, name: c.name, cfg: m.cfg, local: m.local(c.provider)}
		m.localRun++
		m.start(ctx, j)
	}
	m.dispatchRefreshes(ctx)
}

// start runs j on its own goroutine and hands the result to Run.
func (m *Monitor) start(ctx context.Context, j *job) {
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		r := m.runJob(ctx, j)
		select {
		case m.results <- r:
		case <-ctx.Done():
		}
	}()
}

// runJob refreshes one token. It never panics out: a bug in one token's
// handling must not take the daemon (and every other token) down.
func (m *Monitor) runJob(ctx context.Context, j *job) (r *result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r = &result{c: j.c, outcome: outFailed, err: fmt.Errorf("internal error: %v", p)}
			if j.local != nil {
				r.local = &localOutcome{}
			}
		}
		r.elapsed = time.Since(start)
	}()
	if j.local != nil {
		return m.mint(ctx, j)
	}
	return m.refresh(ctx, j)
}

func (m *Monitor) refresh(ctx context.Context, j *job) *result {
	r := &result{c: j.c, issuer: j.issuer, probe: j.probe}
	fail := func(err error) *result {
		r.outcome, r.err, r.perm = outFailed, err, tokenclient.IsPermanent(err) || unfixable(err)
		return r
	}
	d, err := m.dir.OpenDir(j.user)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.outcome = outGone
			return r
		}
		return fail(err)
	}
	defer d.Close()

	topBytes, topSt, err := d.ReadFile(j.name+credfile.SuffixTop, maxCredFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.outcome = outGone
			return r
		}
		return fail(err)
	}
	r.top = topSt.ID()
	top, err := credfile.ParseTop(topBytes)
	if err != nil {
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("unusable .top: %w", err)})
	}
	if st, err := d.Stat(j.name + credfile.SuffixUse); err == nil && st.IsDir() {
		// No rename can replace a directory: the refresh would rotate the
		// grant and then fail to write the .use. Never spend one on that.
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("%s%s is a directory: remove it", j.name, credfile.SuffixUse)})
	}
	client, metaID, err := m.client(ctx, d, j, r)
	if err != nil {
		if errors.Is(err, errPaused) {
			r.outcome = outPaused
			return r
		}
		return fail(err)
	}
	r.meta = metaID

	rt := top.RefreshToken()
	if j.pendingRT != "" && j.pendingTop == r.top {
		rt = j.pendingRT
	}
	scopes, audiences := top.Scopes(), top.Audience()
	if j.plain {
		scopes, audiences = nil, nil
	}
	if err := j.acquireNet(ctx); err != nil {
		if errors.Is(err, errPaused) {
			r.outcome = outPaused
			return r
		}
		return fail(err)
	}
	// From here the request is on the wire and must finish even if the
	// daemon is told to stop: the issuer may rotate the refresh token, and
	// a cancelled request would lose the only copy of the new one (the
	// next start would replay the old one and the issuer revoke the grant).
	// HTTPTimeout still bounds it.
	wire := context.WithoutCancel(ctx)
	r.asked = true
	reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
	res, err := client.Refresh(reqCtx, rt, scopes, audiences, m.now)
	cancel()
	if code := tokenclient.RefusedTarget(err); code != "" && client.SendsTarget(scopes, audiences) && ctx.Err() == nil {
		// The issuer refused what we asked for on top of the Python
		// credmon's request (an error response: the refresh token was not
		// used). Ask again exactly as the Python credmon does, so that
		// sending scopes/audience never leaves a token worse off.
		r.refused, r.refusedWhat = code, sentTarget(client, scopes, audiences)
		reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
		res, err = client.Refresh(reqCtx, rt, nil, nil, m.now)
		cancel()
	}
	<-j.netSem
	r.netErr = err
	if err != nil {
		return fail(err)
	}
	newRT := res.RefreshToken
	if newRT == "" {
		newRT = rt // no rotation: the old refresh token stays valid
	}

	// A .top replaced while we were on the wire (a new login, a re-store)
	// wins over our result: writing ours would undo the user's action.
	cur, err := d.Stat(j.name + credfile.SuffixTop)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.outcome = outGone // deleted (credd delete-oauth or sweep)
		return r
	case err != nil:
		r.outcome = outSuperseded
		return r
	case cur.ID() != r.top:
		// Re-stored with the very refresh token we just spent (a robot or
		// condor_store_cred storing the same credential again): that is
		// not a new login, and dropping our answer would lose the rotated
		// token and with it the grant. Apply it to the new version.
		again, againSt, err := d.ReadFile(j.name+credfile.SuffixTop, maxCredFile)
		if err != nil {
			r.outcome = outSuperseded
			return r
		}
		top2, err := credfile.ParseTop(again)
		if err != nil || top2.RefreshToken() != rt || newRT == rt {
			r.outcome = outSuperseded
			return r
		}
		top, r.top = top2, againSt.ID()
	}
	// Durability order: the rotated refresh token is on disk before the
	// access token, so a crash between the two loses nothing (docs/htcondor-contract.md#durability).
	if newRT != top.RefreshToken() {
		st, err := m.replace(d, j.user, j.name+credfile.SuffixTop, top.WithRefreshToken(newRT))
		if err != nil {
			// Keep the new refresh token in memory; the next attempt uses it
			// and tries to persist it again.
			r.pendingRT, r.pendingTop = newRT, r.top
			m.oauth.Error("persisting rotated refresh token failed; keeping it in memory",
				"user", j.user, "token", j.name, "error", err)
		} else {
			r.top = st.ID()
			r.rotated = true
		}
	}
	useBytes, err := credfile.EncodeUse(res.Response, res.Received)
	if err != nil {
		return fail(err)
	}
	st, err := m.replace(d, j.user, j.name+credfile.SuffixUse, useBytes)
	if err != nil {
		return fail(fmt.Errorf("writing .use: %w", err))
	}
	r.use = st.ID()
	if self, err := d.Self(); err == nil {
		r.dir = self.ID()
	}
	if u, err := credfile.ParseUse(useBytes); err == nil {
		r.issued, r.expiry, r.expiryKnown = u.Lifetime(st.Mtime)
		if !r.expiryKnown {
			r.issued = st.Mtime
		}
	}
	r.outcome = outOK
	return r
}

// sentTarget names what a refresh with scopes and audiences sends beyond
// the Python credmon's request, for log lines.
func sentTarget(c *tokenclient.Client, scopes, audiences []string) string {
	aud := c.AudienceMode != tokenclient.AudienceNone && len(audiences) > 0
	scope := c.SendScopes && len(scopes) > 0
	switch {
	case aud && scope:
		return "audience and scopes"
	case aud:
		return "audience"
	}
	return "scopes"
}

// replace writes file in the user's directory (temp, fsync, rename, mode
// 0600) and records its identity before the rename, so the event the
// rename causes is known to be ours when it arrives. A .top's rename is
// made durable (directory fsync) before anything else happens: it holds the
// only copy of a rotated refresh token. A .use's is not: it is derived from
// the .top, and if a power failure undoes its rename the previous .use
// reappears, which the daemon sees as due and replaces at start.
func (m *Monitor) replace(d *atomicfile.Dir, user, file string, data []byte) (atomicfile.Stat, error) {
	p, err := d.Prepare(file, data, 0o600)
	if err != nil {
		return atomicfile.Stat{}, err
	}
	key := user + "/" + file
	m.ours.Store(key, p.Stat().ID())
	commit := p.Commit
	if strings.HasSuffix(file, credfile.SuffixUse) {
		commit = p.CommitUnsynced
	}
	if err := commit(); err != nil {
		m.ours.Delete(key)
		return atomicfile.Stat{}, err
	}
	return p.Stat(), nil
}

// client builds the token-endpoint client for j (file reads, plus OIDC
// discovery under an issuer slot when needed): from .meta when present
// (what the web app recorded at login, as the Python credmon does), else
// from the provider's configuration. It returns the .meta version it read
// (zero without one).
func (m *Monitor) client(ctx context.Context, d *atomicfile.Dir, j *job, r *result) (*tokenclient.Client, atomicfile.ID, error) {
	c := &tokenclient.Client{
		AllowInsecure: j.cfg.AllowInsecure,
		HTTPClient:    m.http,
		UserAgent:     "credmon/" + Version,
		AuthStyle:     oauth2.AuthStyleInParams,
		SendScopes:    j.cfg.SendScopes,
		AudienceMode:  j.cfg.AudienceMode,
	}
	if j.provider != nil {
		c.SendScopes, c.AudienceMode = j.provider.SendScopes, j.provider.AudienceMode
	}
	metaBytes, metaSt, err := d.ReadFile(j.name+credfile.SuffixMeta, maxCredFile)
	switch {
	case err == nil:
		meta, err := credfile.ParseMeta(metaBytes)
		if err != nil {
			return nil, metaSt.ID(), &tokenclient.PermanentError{Err: fmt.Errorf("unusable .meta: %w", err)}
		}
		c.TokenURL, c.ClientID, c.ClientSecret = meta.TokenURL, meta.ClientID, meta.ClientSecret
		return c, metaSt.ID(), nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, atomicfile.ID{}, err
	}
	p := j.provider
	if p == nil || p.ClientID == "" || (p.TokenURL == "" && p.Issuer == "") {
		return nil, atomicfile.ID{}, &tokenclient.PermanentError{Err: errors.New("no .meta and the provider is not configured")}
	}
	c.ClientID, c.AuthStyle, c.TokenURL = p.ClientID, p.AuthStyle, p.TokenURL
	if p.ClientSecretFile != "" {
		secret, err := knobs.ReadClientSecret(p.ClientSecretFile)
		if err != nil {
			return nil, atomicfile.ID{}, &tokenclient.PermanentError{Err: err}
		}
		c.ClientSecret = secret
	}
	if c.TokenURL == "" {
		// Discovery talks to the issuer: it takes an issuer slot too.
		// It carries no secret and rotates nothing, so a stop may cut it.
		if err := j.acquireNet(ctx); err != nil {
			return nil, atomicfile.ID{}, err
		}
		r.asked = true
		u, err := m.discovery.tokenURL(ctx, m.http, p.Issuer, j.cfg.AllowInsecure, j.cfg.HTTPTimeout, m.now)
		<-j.netSem
		r.netErr = err
		if err != nil {
			return nil, atomicfile.ID{}, err
		}
		c.TokenURL = u
	}
	return c, atomicfile.ID{}, nil
}

// unfixable reports whether err is a local problem with a credential file
// that no retry can fix, only a new file: one too large to be a credential,
// or not a regular file (a symlink, FIFO or directory).
func unfixable(err error) bool {
	return errors.Is(err, atomicfile.ErrTooLarge) || errors.Is(err, atomicfile.ErrNotRegular)
}

// errPaused is acquireNet's answer when the job's issuer was paused while
// the job waited: its token goes back to the queue, no failure counted.
var errPaused = errors.New("issuer paused")

// acquireNet takes one of the issuer's network slots. It fails once ctx is
// done (a stop starts no new request, even when a slot is free) and, for
// all but the probe, when the issuer is paused.
func (j *job) acquireNet(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case j.netSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		<-j.netSem
		return err
	}
	if !j.probe && j.issuer != nil && j.issuer.paused.Load() {
		<-j.netSem
		return errPaused
	}
	return nil
}

// fileType names a non-regular file's type for an error message.
func fileType(st atomicfile.Stat) string {
	switch {
	case st.IsDir():
		return "a directory"
	case st.Mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case st.Mode&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case st.Mode&fs.ModeSocket != 0:
		return "a socket"
	case st.Mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// handleResult applies a finished job to the token's state (Run goroutine).
func (m *Monitor) handleResult(r *result) {
	var wait time.Duration
	if r.local != nil {
		m.localRun--
	} else {
		m.running--
		wait = m.issuerResult(r)
	}
	c := r.c
	if r.outcome == outPaused && c.ignore == "" {
		// Back to the front of its issuer's queue: still due, still
		// running for the passes that wait for it.
		is := r.issuer
		if len(is.queue) == 0 {
			m.ready = append(m.ready, is)
		}
		is.queue = append([]*cred{c}, is.queue...)
		return
	}
	if c.ignore == "deleted" {
		c.logger().Debug("credential vanished during refresh")
		m.finish(c)
		return
	}
	if r.refused != "" && (r.outcome == outOK || r.outcome == outFailed) && !c.plain {
		// Remembered until the .top, the .meta or the configuration
		// changes (evaluate, reclassify): asking again every time would
		// cost a refused request per refresh.
		c.plain = true
		msg := fmt.Sprintf("Provider %s refused the requested %s for %s tokens of user %s (%s); ", c.provider, r.refusedWhat, c.name, c.user, r.refused)
		if r.outcome == outOK {
			msg += "refreshed them without, as the Python credmon does"
		} else {
			msg += "the retry without them failed too"
		}
		m.oauth.Warn(msg + "; they are not requested again for this token until its .top or the configuration changes")
	}
	if r.outcome == outOK && r.pendingRT == "" {
		c.pendingRT = ""
	} else if r.pendingRT != "" {
		c.pendingRT, c.pendingTop = r.pendingRT, r.pendingTop
	}
	switch r.outcome {
	case outOK:
		m.stats.Refreshes.Add(1)
		c.failures, c.permanent, c.retryAt, c.lastErr = 0, false, time.Time{}, ""
		c.top, c.use, c.hasUse, c.useBad = r.top, r.use, true, false
		if !r.meta.IsZero() {
			c.meta = r.meta
		}
		c.issued, c.expiry, c.expiryKnown = r.issued, r.expiry, r.expiryKnown
		c.jitter = m.rnd.Float64()
		c.stale = false
		c.lastRefresh = m.now()
		// Our renames changed the directory's mtime; record it so the next
		// shallow pass does not list it again. A concurrent change by
		// someone else arrives as its own fsnotify event.
		if us := m.users[c.user]; us != nil && !r.dir.IsZero() {
			us.dir = r.dir
		}
		if r.local != nil {
			m.logMint(c, r)
			break
		}
		c.status = "refreshed"
		// HTCondor's own tests and admins match this sentence, exactly as
		// OAuthCredmon writes it: nothing may be appended. The details go
		// to a separate D_FULLDEBUG line.
		m.oauth.Info(fmt.Sprintf("Successfully refreshed %s tokens for user %s", c.name, c.user))
		if m.oauth.IsDebug() {
			args := []any{"user", c.user, "token", c.name, "rotated", r.rotated, "took", r.elapsed.Round(time.Millisecond)}
			if r.expiryKnown {
				args = append(args, "expires_in", r.expiry.Sub(m.now()).Round(time.Second))
			}
			m.oauth.Debug("refresh details", args...)
		}
	case outSuperseded:
		m.stats.Superseded.Add(1)
		c.logger().Info("credential replaced during refresh; discarded our result and will refresh the new one")
		c.rerun = true
	case outGone:
		// Look again rather than reschedule: without a watch event a
		// retry would spin on a directory that is gone.
		c.logger().Debug("credential vanished during refresh")
		c.rerun = true
	case outFailed:
		m.stats.Failures.Add(1)
		c.failures++
		msg := tokenclient.Describe(r.err)
		what := fmt.Sprintf("Failed to refresh %s tokens for user %s", c.name, c.user)
		until := "the credential changes"
		if r.local != nil {
			// LocalCredmon's sentence, with the token name for handles.
			what = fmt.Sprintf("Failed to renew SciToken for user: %s (token %s)", c.user, c.name)
			until = "the configuration changes"
		}
		if r.perm {
			c.permanent = true
			c.setStatus(hclog.Error, what+"; not retrying until "+until, "error", msg)
		} else {
			backoff := Backoff(c.failures, m.cfg.MinBackoff, m.cfg.MaxBackoff, m.rnd.Float64())
			backoff = max(backoff, wait) // the issuer's Retry-After
			c.retryAt = m.now().Add(backoff)
			level := hclog.Warn
			if c.hasUse && c.expiryKnown && !m.now().Before(c.expiry) {
				level = hclog.Error // the job's token has expired: say it loudly
			}
			if msg != c.lastErr {
				c.status = ""
			}
			c.setStatus(level, what+"; will retry",
				"error", msg, "attempt", c.failures, "retry_in", backoff.Round(time.Second))
		}
		if !r.top.IsZero() {
			// The failure belongs to the .top the job read; only a newer one
			// clears it (else a permanent failure would retry every pass).
			c.top = r.top
		}
		c.lastErr = msg
	}
	m.finish(c)
	if c.ignore != "" {
		return
	}
	if c.rerun {
		c.rerun = false
		m.applyUser(c.user, m.listUser(c.user), nil)
		return
	}
	now := m.now()
	c.due = m.dueTime(c, now)
	if c.pendingRT != "" && !c.due.IsZero() {
		// A rotated refresh token lives only in memory: try to persist it
		// (through another refresh) soon, not at the next half-life.
		if soon := now.Add(m.cfg.MinBackoff); soon.Before(c.due) {
			c.due = soon
		}
	}
	m.schedule(c, nil, now)
}

// finish marks c idle and releases the passes waiting for it.
func (m *Monitor) finish(c *cred) {
	c.running = false
	delete(m.busy, c)
	waiters := c.waiters
	c.waiters = nil
	for _, p := range waiters {
		p.pending--
		m.maybeComplete(p)
	}
}

// discoveryCache remembers token endpoints found by OIDC discovery for an
// hour, so 10,000 tokens of one issuer cost one discovery request.
type discoveryCache struct {
	mu      sync.Mutex
	entries map[string]discoveryEntry
	flight  map[string]*discoveryCall
}

type discoveryEntry struct {
	url string
	at  time.Time
}

type discoveryCall struct {
	done chan struct{}
	url  string
	err  error
}

const discoveryTTL = time.Hour

func newDiscoveryCache() *discoveryCache {
	return &discoveryCache{entries: map[string]discoveryEntry{}, flight: map[string]*discoveryCall{}}
}

// tokenURL returns the issuer's token endpoint. Both the issuer and the
// endpoint must be https unless allowInsecure (the token URL rule); the
// cache is rebuilt on every configuration change, so the flag is constant
// for its lifetime.
func (dc *discoveryCache) tokenURL(ctx context.Context, hc *http.Client, issuer string, allowInsecure bool, timeout time.Duration, now func() time.Time) (string, error) {
	dc.mu.Lock()
	if e, ok := dc.entries[issuer]; ok && now().Sub(e.at) < discoveryTTL {
		dc.mu.Unlock()
		return e.url, nil
	}
	if call, ok := dc.flight[issuer]; ok {
		dc.mu.Unlock()
		select {
		case <-call.done:
			return call.url, call.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	call := &discoveryCall{done: make(chan struct{})}
	dc.flight[issuer] = call
	dc.mu.Unlock()

	reqCtx, cancel := context.WithTimeout(ctx, timeout)
	call.url, call.err = tokenclient.DiscoverTokenURL(reqCtx, hc, issuer, allowInsecure)
	cancel()

	dc.mu.Lock()
	delete(dc.flight, issuer)
	if call.err == nil {
		dc.entries[issuer] = discoveryEntry{url: call.url, at: now()}
	}
	dc.mu.Unlock()
	close(call.done)
	return call.url, call.err
}

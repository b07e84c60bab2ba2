package credmon

// The workers: one goroutine per job (start), owning the network and the
// token-file writes. A worker gets a job (copies of what it needs), opens
// the user directory once, refreshes the token (refresh, client) or mints
// it (worker_mint.go), writes the rotated refresh token and then the .use
// (replace), and sends one result to the loop. It never touches the
// loop's state.

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

// worker is what every worker goroutine shares: the directory, the HTTP
// client, the clock and the record of the files they wrote. Nothing of the
// loop's state is reachable from it; a job carries copies of the rest.
type worker struct {
	dir   *atomicfile.Dir
	http  *http.Client
	clock Clock
	log   hclog.Logger // the OAuth2 side's
	// ours is Monitor.ours: workers record each file they write.
	ours *sync.Map
	// secretWarn reads the providers' client secret files, logging once
	// one that others can read (read anyway, as credd reads it).
	secretWarn knobs.SecretWarner
}

func (w *worker) now() time.Time { return w.clock.Now() }

// job is what a worker needs to refresh one token: copies, never shared.
type job struct {
	c          *cred // identity only; workers must not touch its fields
	user, name string
	provider   *knobs.Provider // nil when the provider's config is unusable
	cfg        *knobs.Credmon
	pendingRT  string
	pendingTop atomicfile.ID
	issuer     *issuerState       // the issuer's state: workers read only issuer.paused
	netSem     chan struct{}      // the issuer's network slots
	probe      bool               // the one request that tests a paused issuer
	local      *localIssuer       // set for local mints
	discovery  *tokenclient.Cache // this configuration generation's
	// meta is the .meta as the loop read it (version metaID; nil: none):
	// the client the web app recorded at login.
	meta    *credfile.Meta
	metaErr error
	metaID  atomicfile.ID
	// plain: send neither scope nor audience/resource (the issuer refused
	// them for this token before; see cred.plain).
	plain bool
	// vault is set for a Vault credential (worker_vault.go), with this
	// generation's Vault clients; vaultID and vaultExpiry are what the
	// loop knows of its Vault token (vaultState).
	vault       bool
	vaults      *vaultClients
	vaultID     string
	vaultExpiry time.Time
	// robot is set for a robot's self-describing .top (worker_robot.go).
	robot bool
	// client or pelican is set for those types (worker_client.go,
	// worker_pelican.go): the provider's configuration of this generation.
	client  *clientProvider
	pelican *pelicanProvider
}

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
	// Vault credentials: the issuer key of the vault_url read, the Vault
	// token's fingerprint, and its expiry when it was looked up (zero: not
	// looked up; vaultLookupErr says why when that failed).
	vaultKey       string
	vaultID        string
	vaultExpiry    time.Time
	vaultLookupErr error
	// robotNote is what a robot job has to say at debug level once per
	// .top version (the .top's token_url is not the discovered one).
	robotNote string
}

// start runs j on its own goroutine and hands the result to Run.
func (m *Monitor) start(ctx context.Context, j *job) {
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		r := m.worker.runJob(ctx, j)
		select {
		case m.results <- r:
		case <-ctx.Done():
		}
	}()
}

// runJob refreshes one token. It never panics out: a bug in one token's
// handling must not take the daemon (and every other token) down.
func (w *worker) runJob(ctx context.Context, j *job) (r *result) {
	start := w.now()
	defer func() {
		if p := recover(); p != nil {
			r = &result{c: j.c, outcome: outFailed, err: fmt.Errorf("internal error: %v", p)}
			if j.local != nil {
				r.local = &localOutcome{}
			}
		}
		r.elapsed = w.now().Sub(start)
	}()
	switch {
	case j.local != nil:
		return w.mint(ctx, j)
	case j.vault:
		return w.refreshVault(ctx, j)
	case j.robot:
		return w.refreshRobot(ctx, j)
	case j.client != nil:
		return w.refreshClient(ctx, j)
	case j.pelican != nil:
		return w.refreshPelican(ctx, j)
	}
	return w.refresh(ctx, j)
}

func (w *worker) refresh(ctx context.Context, j *job) *result {
	r, fail := j.newResult(tokenclient.IsPermanent)
	d, topBytes, done := w.readTop(j, r, fail)
	if done != nil {
		return done
	}
	defer d.Close()
	top, err := credfile.ParseTop(topBytes)
	if err != nil {
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf("unusable .top: %w", err)})
	}
	if err := useNotDir(d, j.name); err != nil {
		return fail(err)
	}
	client, metaID, err := w.client(ctx, j, r)
	if err != nil {
		return r.pausedOr(err, fail)
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
		return r.pausedOr(err, fail)
	}
	// From here the request is on the wire and must finish even if the
	// daemon is told to stop: the issuer may rotate the refresh token, and
	// a cancelled request would lose the only copy of the new one (the
	// next start would replay the old one and the issuer revoke the grant).
	// HTTPTimeout still bounds it.
	wire := context.WithoutCancel(ctx)
	r.asked = true
	reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
	res, err := client.Refresh(reqCtx, rt, scopes, audiences, w.now)
	cancel()
	if code := tokenclient.RefusedTarget(err); code != "" && client.SendsTarget(scopes, audiences) && ctx.Err() == nil {
		// The issuer refused what we asked for on top of the Python
		// credmon's request (an error response: the refresh token was not
		// used). Ask again exactly as the Python credmon does, so that
		// sending scopes/audience never leaves a token worse off.
		r.refused, r.refusedWhat = code, sentTarget(client, scopes, audiences)
		reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
		res, err = client.Refresh(reqCtx, rt, nil, nil, w.now)
		cancel()
	}
	<-j.netSem
	r.netErr = err
	if err != nil {
		return fail(err)
	}
	return w.save(d, j, r, top, parseOAuth2Top, rt, res, fail)
}

// parseOAuth2Top is credfile.ParseTop for save.
func parseOAuth2Top(b []byte) (rotatingTop, error) {
	t, err := credfile.ParseTop(b)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// rotatingTop is a .top whose refresh token a refresh may rotate: an
// OAuth2 one (credfile.Top) or a robot's (credfile.RobotTop).
type rotatingTop interface {
	RefreshToken() string
	WithRefreshToken(rt string) []byte
}

// save is the end of every refresh once the issuer answered with a token
// (res, for the refresh token rt of the .top version r.top): the .top
// re-checked (a new one stored meanwhile wins, unless it holds the very
// refresh token just spent; parse reads such a version, and errs for one
// the answer must not be applied to), the rotated refresh token persisted,
// then the .use written.
func (w *worker) save(d *atomicfile.Dir, j *job, r *result, top rotatingTop, parse func([]byte) (rotatingTop, error), rt string, res *tokenclient.Result, fail func(error) *result) *result {
	newRT := res.RefreshToken
	if newRT == "" {
		newRT = rt // no rotation: the old refresh token stays valid
	}

	// A .top replaced while we were on the wire (a new login, a re-store)
	// wins over our result: writing ours would undo the user's action.
	cur, err := d.Stat(j.name + credfile.SuffixTop)
	switch {
	case r.goneIf(err): // deleted (credd delete-oauth or sweep)
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
		top2, err := parse(again)
		if err != nil || top2.RefreshToken() != rt || newRT == rt {
			r.outcome = outSuperseded
			return r
		}
		top, r.top = top2, againSt.ID()
	}
	// Durability order: the rotated refresh token is on disk before the
	// access token, so a crash between the two loses nothing (docs/htcondor-contract.md#durability).
	if newRT != top.RefreshToken() {
		st, err := w.replace(d, j.user, j.name+credfile.SuffixTop, top.WithRefreshToken(newRT))
		if err != nil {
			// Keep the new refresh token in memory; the next attempt uses it
			// and tries to persist it again.
			r.pendingRT, r.pendingTop = newRT, r.top
			w.log.Error("persisting rotated refresh token failed; keeping it in memory",
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
	st, err := w.replace(d, j.user, j.name+credfile.SuffixUse, useBytes)
	if err != nil {
		return fail(fmt.Errorf("writing .use: %w", err))
	}
	r.wroteUse(d, st)
	if u, err := credfile.ParseUse(useBytes); err == nil {
		r.issued, r.expiry, r.expiryKnown = u.Lifetime(st.Mtime)
		if !r.expiryKnown {
			r.issued = st.Mtime
		}
	}
	r.outcome = outOK
	return r
}

// newResult starts the result of a network job; fail records err as its
// failure, permanent when isPermanent says so or no retry can fix it
// (unfixable).
func (j *job) newResult(isPermanent func(error) bool) (*result, func(error) *result) {
	r := &result{c: j.c, issuer: j.issuer, probe: j.probe}
	return r, func(err error) *result {
		r.outcome, r.err, r.perm = outFailed, err, isPermanent(err) || unfixable(err)
		return r
	}
}

// readTop is openTop with the answer when it fails: done is the job's
// result then (gone when credd deleted the file meanwhile, else failed),
// and the caller returns it.
func (w *worker) readTop(j *job, r *result, fail func(error) *result) (d *atomicfile.Dir, top []byte, done *result) {
	d, top, err := w.openTop(j, r)
	if err != nil {
		if r.goneIf(err) {
			return nil, nil, r
		}
		return nil, nil, fail(err)
	}
	return d, top, nil
}

// topReplaced reports whether j's .top was removed or replaced since the
// job read it (r.top), as a user's new .top wins over a result fetched for
// the old one; r is then the job's answer (outGone or outSuperseded). The
// OAuth2 save has its own check: it also takes a re-store of the very
// refresh token it just spent.
func topReplaced(d *atomicfile.Dir, j *job, r *result) bool {
	cur, err := d.Stat(j.name + credfile.SuffixTop)
	switch {
	case r.goneIf(err):
		return true
	case err != nil, cur.ID() != r.top:
		r.outcome = outSuperseded
		return true
	}
	return false
}

// publishUse is how a fetched token ends: the .use replaced by use and
// recorded (wroteUse), issued at received and expiring at expiry (zero:
// unknown) unless the token's own exp, a JWT's, says otherwise. A user
// directory deleted meanwhile makes the result outGone.
func (w *worker) publishUse(d *atomicfile.Dir, j *job, r *result, fail func(error) *result, use []byte, received, expiry time.Time) *result {
	st, err := w.replace(d, j.user, j.name+credfile.SuffixUse, use)
	if err != nil {
		if r.goneIf(err) {
			return r
		}
		return fail(fmt.Errorf("writing .use: %w", err))
	}
	r.wroteUse(d, st)
	r.issued, r.expiry, r.expiryKnown = received, expiry, !expiry.IsZero()
	if u, err := credfile.ParseUse(use); err == nil {
		if _, exp, ok := u.Lifetime(received); ok {
			r.expiry, r.expiryKnown = exp, true // the token's own exp wins
		}
	}
	r.outcome = outOK
	return r
}

// openTop is the first step of every refresh: open j's user directory and
// read the .top, recording its version in r. The caller closes d.
func (w *worker) openTop(j *job, r *result) (*atomicfile.Dir, []byte, error) {
	d, err := w.dir.OpenDir(j.user)
	if err != nil {
		return nil, nil, err
	}
	b, st, err := d.ReadFile(j.name+credfile.SuffixTop, maxCredFile)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	r.top = st.ID()
	return d, b, nil
}

// useNotDir refuses a .use that is a directory: no rename can replace
// one, so a request would spend a refresh (and maybe rotate the grant)
// and then fail to write the .use. Never spend one on that.
func useNotDir(d *atomicfile.Dir, name string) error {
	if st, err := d.Stat(name + credfile.SuffixUse); err == nil && st.IsDir() {
		return &tokenclient.PermanentError{Err: fmt.Errorf("%s%s is a directory: remove it", name, credfile.SuffixUse)}
	}
	return nil
}

// goneIf marks r outGone when err says the user's directory or token file
// no longer exists: credd deleted it meanwhile, which is no failure.
func (r *result) goneIf(err error) bool {
	if errors.Is(err, fs.ErrNotExist) {
		r.outcome = outGone
		return true
	}
	return false
}

// pausedOr is fail(err), except when the job's issuer was paused while it
// waited: the token goes back to its queue (outPaused), no failure counted.
func (r *result) pausedOr(err error, fail func(error) *result) *result {
	if errors.Is(err, errPaused) {
		r.outcome = outPaused
		return r
	}
	return fail(err)
}

// wroteUse records the .use just written and the version of the user
// directory it is in, so the events the write causes are known as ours.
func (r *result) wroteUse(d *atomicfile.Dir, st atomicfile.Stat) {
	r.use = st.ID()
	if self, err := d.Self(); err == nil {
		r.dir = self.ID()
	}
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
func (w *worker) replace(d *atomicfile.Dir, user, file string, data []byte) (atomicfile.Stat, error) {
	p, err := d.Prepare(file, data, 0o600)
	if err != nil {
		return atomicfile.Stat{}, err
	}
	key := user + "/" + file
	w.ours.Store(key, p.Stat().ID())
	commit := p.Commit
	if strings.HasSuffix(file, credfile.SuffixUse) {
		commit = p.CommitUnsynced
	}
	if err := commit(); err != nil {
		w.ours.Delete(key)
		return atomicfile.Stat{}, err
	}
	return p.Stat(), nil
}

// client builds the token-endpoint client for j (plus OIDC discovery under
// an issuer slot when needed): from the .meta the loop read when present
// (what the web app recorded at login, as the Python credmon does), else
// from the provider's configuration. It returns the .meta version it used
// (zero without one).
func (w *worker) client(ctx context.Context, j *job, r *result) (*tokenclient.Client, atomicfile.ID, error) {
	c := w.newClient(j)
	switch {
	case j.metaErr != nil:
		return nil, j.metaID, &tokenclient.PermanentError{Err: fmt.Errorf("unusable .meta: %w", j.metaErr)}
	case j.meta != nil:
		c.TokenURL, c.ClientID, c.ClientSecret = j.meta.TokenURL, j.meta.ClientID, j.meta.ClientSecret
		return c, j.metaID, nil
	}
	p := j.provider
	if p == nil || p.ClientID == "" || (p.TokenURL == "" && p.Issuer == "") {
		return nil, atomicfile.ID{}, &tokenclient.PermanentError{Err: errors.New("no .meta and the provider is not configured")}
	}
	c.ClientID, c.AuthStyle, c.TokenURL = p.ClientID, p.AuthStyle, p.TokenURL
	if p.ClientSecretFile != "" {
		secret, err := w.secretWarn.Read(p.Name+"_CLIENT_SECRET_FILE", p.ClientSecretFile, func(msg string) { w.log.Warn(msg) })
		if err != nil {
			return nil, atomicfile.ID{}, &tokenclient.PermanentError{Err: err}
		}
		c.ClientSecret = secret
	}
	if c.TokenURL == "" {
		u, err := w.discover(ctx, j, r, c, p.Issuer)
		if err != nil {
			return nil, atomicfile.ID{}, err
		}
		c.TokenURL = u
	}
	return c, atomicfile.ID{}, nil
}

// newClient is the token-endpoint client every refresh starts from: the
// daemon's transport and the request options of j's configuration (its
// provider's, when it has one), no identity and no endpoint yet.
func (w *worker) newClient(j *job) *tokenclient.Client {
	c := &tokenclient.Client{
		AllowInsecure: j.cfg.AllowInsecure,
		HTTPClient:    w.http,
		UserAgent:     "credmon/" + Version,
		AuthStyle:     oauth2.AuthStyleInParams,
		SendScopes:    j.cfg.SendScopes,
		AudienceMode:  j.cfg.AudienceMode,
	}
	if j.provider != nil {
		c.SendScopes, c.AudienceMode = j.provider.SendScopes, j.provider.AudienceMode
	}
	return c
}

// discover finds issuer's token endpoint through this generation's
// discovery cache (one request per issuer and hour). Discovery talks to
// the issuer: it takes an issuer slot too. It carries no secret and
// rotates nothing, so a stop may cut it.
func (w *worker) discover(ctx context.Context, j *job, r *result, c *tokenclient.Client, issuer string) (string, error) {
	if err := j.acquireNet(ctx); err != nil {
		return "", err
	}
	r.asked = true
	dctx, cancel := context.WithTimeout(ctx, j.cfg.HTTPTimeout)
	u, err := j.discovery.TokenURL(dctx, c, issuer)
	cancel()
	<-j.netSem
	r.netErr = err
	return u, err
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

// discoveryTTL is how long a discovered token endpoint is reused, so that
// 10,000 tokens of one issuer cost one discovery request an hour. The cache
// (tokenclient.Cache, the module's one) lives in the configuration
// generation, so a reload, which may change the insecure switch or the
// issuer, starts a fresh one.
const discoveryTTL = time.Hour

package credmon

// The loop: the one goroutine (Run) that owns every token's state. It
// wakes on a signal, a file event, the scan ticker, a token's timer or a
// worker's result; visits what changed (scan.go, cred.go); asks decide
// (decide.go) when each token is due; and hands due tokens to workers
// (dispatch → worker.go), whose results come back to handleResult. Nothing
// here talks to an issuer or writes a token file.

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/internal/clock"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
)

// ReloadInterval rate-limits configuration reloads: credd sends a SIGHUP for
// every new credential, and a reload may run condor_config_val.
const ReloadInterval = 5 * time.Second

// Rescan asks for a full pass as soon as possible. Calls coalesce: any
// number of calls during a pass cause at most one more pass. It never
// blocks, so it is safe from a signal-handling goroutine.
func (m *Monitor) Rescan() {
	select {
	case m.rescan <- struct{}{}:
	default:
	}
}

// Run runs the daemon until ctx is done: it writes the pid file, deletes
// CREDMON_COMPLETE, watches the directory, and refreshes tokens. When ctx
// ends no new request starts, but a refresh request already sent finishes
// and its result is saved (a rotated refresh token first), each bounded by
// HTTPTimeout (twice, when the issuer refused the requested audience and
// the Python credmon's request was on its way): cutting it off could lose
// the only copy of a rotated refresh token. Run returns after that, with
// the pid file removed.
func (m *Monitor) Run(ctx context.Context) error {
	pid := m.opts.Pid
	if pid == 0 {
		pid = os.Getpid()
	}
	if m.opts.CreateKeys {
		// Before the pid file, as the Python credmon does: once credd can
		// signal us, local tokens can be minted.
		ensureLocalKeys(m.cfg, m.mintLog)
	}
	if err := markIncomplete(m.dir); err != nil {
		return fmt.Errorf("removing CREDMON_COMPLETE: %w", err)
	}
	if err := writePid(m.dir, pid); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	defer func() {
		if err := removePid(m.dir, pid); err != nil {
			m.log.Warn("removing pid file", "error", err)
		}
	}()
	m.log.Info(fmt.Sprintf("credmon %s starting: pid %d, credential directory %s", Version, pid, m.dir.Path()))
	m.warnConfig()
	m.startStateWriter(pid)
	defer m.stopStateWriter() // after the workers are done (deferred below, so run first)

	workCtx, cancelWork := context.WithCancel(ctx)
	defer func() {
		cancelWork()
		m.workers.Wait()
	}()

	if !m.opts.NoWatch {
		w, err := newWatcher(m.dir.Path(), m.dirty, &m.overflow, m.Rescan, m.log.Named("watch"))
		if err != nil {
			m.log.Warn("file watching unavailable; relying on periodic scans and SIGHUP", "error", err)
		} else {
			m.watch = w
			m.workers.Add(1)
			go func() {
				defer m.workers.Done()
				w.Run(workCtx)
			}()
		}
	}

	m.fullPass(workCtx, true)
	ticker := m.clock.NewTicker(m.cfg.ScanInterval)
	ticks := 0
	defer ticker.Stop()
	timer := m.clock.NewTimer(time.Hour)
	defer timer.Stop()
	var reloadTimer <-chan time.Time

	for {
		for _, j := range m.dispatch() {
			m.start(workCtx, j)
		}
		m.saveState(false)
		m.resetTimer(timer)
		select {
		case <-ctx.Done():
			if m.q.running > 0 {
				m.log.Info(fmt.Sprintf("shutting down: no new refreshes; letting those already sent finish and be saved (at most %s)", m.cfg.HTTPTimeout))
			} else {
				m.log.Info("shutting down")
			}
			return nil
		case <-m.rescan:
			// credd's kick: a shallow pass finds the directory it wrote to.
			// A changed configuration reclassified every token: deep pass.
			changed := m.maybeReload()
			if changed {
				ticker.Reset(m.cfg.ScanInterval)
			} else if m.reload.due && reloadTimer == nil {
				reloadTimer = m.clock.NewTimer(ReloadInterval - m.now().Sub(m.reload.last)).C()
			}
			m.fullPass(workCtx, changed)
		case <-reloadTimer:
			// A reload deferred by the rate limit. The SIGHUP that asked
			// for it already had its pass; another is needed only if the
			// configuration changed (a burst of SIGHUPs costs at most one
			// extra pass; docs/htcondor-contract.md#sighup).
			reloadTimer = nil
			if m.maybeReload() {
				ticker.Reset(m.cfg.ScanInterval)
				m.fullPass(workCtx, true)
			}
		case c := <-m.dirty:
			m.drainDirty(workCtx, c)
		case <-ticker.C():
			ticks++
			m.fullPass(workCtx, ticks%deepPassEvery == 0)
		case <-timer.C():
			m.runDue()
		case r := <-m.results:
			m.handleResult(r)
		}
	}
}

// maybeReload reloads configuration when a reload function was given and
// the last reload is at least ReloadInterval ago. It reports whether the
// configuration changed.
func (m *Monitor) maybeReload() bool {
	if m.opts.Reload == nil {
		return false
	}
	now := m.now()
	if !m.reload.last.IsZero() && now.Sub(m.reload.last) < ReloadInterval {
		m.reload.due = true
		return false
	}
	m.reload.last = now
	m.reload.due = false
	m.stats.Reloads.Add(1)
	cfg, err := m.opts.Reload()
	if err != nil {
		m.log.Error("reloading configuration; keeping the previous one", "error", err)
		return false
	}
	providers := make([]string, 0, len(m.reload.providers))
	for p := range m.reload.providers {
		providers = append(providers, p)
	}
	if err := cfg.Prefetch(providers); err != nil {
		m.log.Warn("reading provider configuration", "error", err)
	}
	if m.cfg.Same(cfg, providers) {
		m.log.Debug("configuration unchanged")
		return false
	}
	// Tokens of a local provider whose claims or key changed are re-minted
	// now: an admin who changes the audience expects jobs to get it.
	staleLocal := map[string]bool{}
	for _, p := range append(slices.Clone(m.cfg.LocalNames), cfg.LocalNames...) {
		a, errA := m.cfg.Local(p)
		b, errB := cfg.Local(p)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			staleLocal[p] = true
		}
	}
	m.cfg = cfg
	m.gen = m.newGeneration()
	if m.opts.CreateKeys && len(staleLocal) > 0 {
		ensureLocalKeys(cfg, m.mintLog)
	}
	m.reclassify(staleLocal)
	m.log.Info("configuration changed; reloaded")
	m.warnConfig()
	return true
}

// warnConfig logs, once each, what the configuration asks for that the
// daemon will not do as written: credential types of credmons it does not
// implement (client credentials, Vault, Pelican;
// docs/htcondor-contract.md#not-implemented), at start and after a reload
// that changed them. Per-token lines stay at debug level.
//
// The configuration's own warnings (knob values raised to a floor, local
// token lifetimes too short to schedule sanely) are logged here too, on the
// same terms: an admin sees them at start and after each reload that
// changed them.
func (m *Monitor) warnConfig() {
	msgs := append(slices.Clone(m.cfg.Warnings), m.cfg.Unimplemented()...)
	msgs = append(msgs, m.cfg.TypeWarnings()...)
	for _, msg := range msgs {
		if !slices.Contains(m.reload.warned, msg) {
			m.log.Warn(msg)
		}
	}
	m.reload.warned = msgs
}

// drainDirty collects every pending change signal, then rescans each user
// with a change we did not cause, once (a burst of events for one user
// costs one directory read).
func (m *Monitor) drainDirty(ctx context.Context, first change) {
	changes := []change{first}
	for more := true; more; {
		select {
		case c := <-m.dirty:
			changes = append(changes, c)
		default:
			more = false
		}
	}
	if m.overflow.Swap(false) {
		m.fullPass(ctx, true) // lost events may hide in-place edits
		return
	}
	users := map[string]bool{}
	for _, c := range changes {
		if c.user == "" {
			m.fullPass(ctx, true)
			return
		}
		if !users[c.user] && !m.causedByUs(c) {
			users[c.user] = true
		}
	}
	obs := make(map[string]userObs, len(users))
	for u := range users {
		obs[u] = m.listUser(u)
	}
	m.prefetch(obs)
	for u, o := range obs {
		m.applyUser(u, o, nil)
	}
}

// causedByUs reports whether a change is the rename of a file a worker
// wrote and that is still in place unchanged: then there is nothing new.
func (m *Monitor) causedByUs(c change) bool {
	if c.file == "" || c.gone {
		return false
	}
	want, ok := m.ours.Load(c.user + "/" + c.file)
	if !ok {
		return false
	}
	st, err := m.dir.StatPath(c.user, c.file)
	return err == nil && st.ID() == want.(atomicfile.ID)
}

// dispatch takes off the queues every job that may start now: local mints
// while fewer than localJobs run, then refreshes as the issuers allow
// (refreshJobs). The jobs count as running from here; Run starts each on a
// worker goroutine (worker.go start).
func (m *Monitor) dispatch() []*job {
	var jobs []*job
	for len(m.q.local) > 0 && m.q.localRun < localJobs {
		c := m.q.local[0]
		m.q.local[0] = nil
		m.q.local = m.q.local[1:]
		if c.ignore != "" {
			m.finish(c)
			continue
		}
		jobs = append(jobs, &job{c: c, user: c.user, name: c.name, cfg: m.cfg, local: m.local(c.provider)})
		m.q.localRun++
	}
	return append(jobs, m.refreshJobs()...)
}

// handleResult applies a finished job to the token's state (Run goroutine).
func (m *Monitor) handleResult(r *result) {
	var wait time.Duration
	if r.local != nil {
		m.q.localRun--
	} else {
		m.q.running--
		wait = m.issuerResult(r)
	}
	c := r.c
	if r.outcome == outPaused && c.ignore == "" {
		// Back to the front of its issuer's queue: still due, still
		// running for the passes that wait for it.
		is := r.issuer
		if len(is.queue) == 0 {
			m.q.ready = append(m.q.ready, is)
		}
		is.queue = append([]*cred{c}, is.queue...)
		return
	}
	if c.ignore == "deleted" {
		c.logger().Debug("credential vanished during refresh")
		m.finish(c)
		return
	}
	if r.refused != "" && (r.outcome == outOK || r.outcome == outFailed) && !c.state.plain {
		// Remembered until the .top, the .meta or the configuration
		// changes (evaluate, reclassify): asking again every time would
		// cost a refused request per refresh.
		c.state.plain = true
		msg := fmt.Sprintf("Provider %s refused the requested %s for %s tokens of user %s (%s); ", c.provider, r.refusedWhat, c.name, c.user, r.refused)
		if r.outcome == outOK {
			msg += "refreshed them without, as the Python credmon does"
		} else {
			msg += "the retry without them failed too"
		}
		m.oauth.Warn(msg + "; they are not requested again for this token until its .top or the configuration changes")
	}
	if r.vaultKey != "" {
		c.vault.key = r.vaultKey
	}
	if c.kind == credfile.KindRobot {
		m.noteRobotResult(c, r)
	}
	if r.outcome == outOK && r.pendingRT == "" {
		c.pending.rt = ""
	} else if r.pendingRT != "" {
		c.pending.rt, c.pending.top = r.pendingRT, r.pendingTop
	}
	switch r.outcome {
	case outOK:
		m.stats.Refreshes.Add(1)
		c.state.clearFailures()
		c.seen.top, c.seen.use, c.obs.hasUse, c.obs.useBad = r.top, r.use, true, false
		if !r.meta.IsZero() {
			c.seen.meta = r.meta
		}
		c.obs.issued, c.obs.expiry, c.obs.expiryKnown = r.issued, r.expiry, r.expiryKnown
		c.draw = m.rnd.Float64()
		c.state.stale = false
		c.state.lastRefresh = m.now()
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
		if c.kind == credfile.KindVault {
			m.noteVaultToken(c, r)
		}
		c.status = "refreshed"
		// HTCondor's own tests and admins match this sentence, exactly as
		// OAuthCredmon writes it: nothing may be appended. The details go
		// to a separate D_FULLDEBUG line.
		c.base.Info(fmt.Sprintf("Successfully refreshed %s tokens for user %s", c.name, c.user))
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
		c.work.rerun = true
	case outGone:
		// Look again rather than reschedule: without a watch event a
		// retry would spin on a directory that is gone.
		c.logger().Debug("credential vanished during refresh")
		c.work.rerun = true
	case outFailed:
		m.stats.Failures.Add(1)
		c.state.failures++
		msg := tokenclient.Describe(r.err)
		what := fmt.Sprintf("Failed to refresh %s tokens for user %s", c.name, c.user)
		until := "the credential changes"
		switch {
		case r.local != nil:
			// LocalCredmon's sentence, with the token name for handles.
			what = fmt.Sprintf("Failed to renew SciToken for user: %s (token %s)", c.user, c.name)
			until = "the configuration changes"
		case c.kind == credfile.KindVault && errors.Is(r.err, vault.ErrPermissionDenied):
			// condor_credmon_vault deletes .top and .use here; the files
			// stay, and the job keeps its last token until it expires.
			what = fmt.Sprintf("Vault refused the Vault token of %s for user %s (it expired, was revoked, or its policy does not allow this path); its files are left in place", c.name, c.user)
			until = "a new .top is stored (condor_submit runs condor_vault_storer)"
		case c.kind == credfile.KindVault:
			until = "a new .top is stored"
		}
		if r.perm {
			c.state.permanent = true
			c.setStatus(hclog.Error, what+"; not retrying until "+until, "error", msg)
		} else {
			backoff := Backoff(c.state.failures, m.cfg.MinBackoff, m.cfg.MaxBackoff, m.rnd.Float64())
			backoff = max(backoff, wait) // the issuer's Retry-After
			c.state.retryAt = m.now().Add(backoff)
			level := hclog.Warn
			if c.obs.hasUse && c.obs.expiryKnown && !m.now().Before(c.obs.expiry) {
				level = hclog.Error // the job's token has expired: say it loudly
			}
			if msg != c.state.lastErr {
				c.status = ""
			}
			c.setStatus(level, what+"; will retry",
				"error", msg, "attempt", c.state.failures, "retry_in", backoff.Round(time.Second))
		}
		if !r.top.IsZero() {
			// The failure belongs to the .top the job read; only a newer one
			// clears it (else a permanent failure would retry every pass).
			c.seen.top = r.top
		}
		c.state.lastErr = msg
	}
	m.finish(c)
	if c.ignore != "" {
		return
	}
	if c.work.rerun {
		c.work.rerun = false
		m.applyUser(c.user, m.listUser(c.user), nil)
		return
	}
	now := m.now()
	c.timer.due = m.decideFor(c, now)
	if c.pending.rt != "" && !c.timer.due.IsZero() {
		// A rotated refresh token lives only in memory: try to persist it
		// (through another refresh) soon, not at the next half-life.
		if soon := now.Add(m.cfg.MinBackoff); soon.Before(c.timer.due) {
			c.timer.due = soon
		}
	}
	m.schedule(c, nil, now)
}

// noteVaultToken records what a Vault job learned of the Vault token and
// warns, once per Vault token, when it expires within
// vaultTokenWarnBefore: nothing on this machine can renew it.
func (m *Monitor) noteVaultToken(c *cred, r *result) {
	if r.vaultID != c.vault.id {
		c.vault.id, c.vault.expiry = r.vaultID, time.Time{}
	}
	if !r.vaultExpiry.IsZero() {
		c.vault.expiry = r.vaultExpiry
	}
	if r.vaultLookupErr != nil {
		c.logger().Debug("looking up the Vault token's TTL failed; no expiry warning for now", "error", r.vaultLookupErr)
	}
	left := c.vault.expiry.Sub(m.now())
	if c.vault.expiry.IsZero() || left >= vaultTokenWarnBefore || c.vault.warned == c.vault.id {
		return
	}
	c.vault.warned = c.vault.id
	c.logger().Warn(fmt.Sprintf("The Vault token of %s for user %s expires in %s (%s); this daemon cannot renew it: after that its jobs get no new tokens until the user submits again (condor_vault_storer stores a new Vault token) or a robot runs igwn-robot-get --condor",
		c.name, c.user, left.Round(time.Hour), c.vault.expiry.UTC().Format(time.RFC3339)))
}

// finish marks c idle and releases the passes waiting for it.
func (m *Monitor) finish(c *cred) {
	c.work.running = false
	delete(m.q.busy, c)
	waiters := c.work.waiters
	c.work.waiters = nil
	for _, p := range waiters {
		p.pending--
		m.maybeComplete(p)
	}
}

// schedule queues c now or arms its timer for c.timer.due. A token whose due
// time did not change keeps its heap entry, so a pass over 10,000 idle
// tokens pushes nothing.
func (m *Monitor) schedule(c *cred, p *pass, now time.Time) {
	switch {
	case c.timer.due.IsZero():
		c.timer.gen++
		c.timer.at = time.Time{}
	case !c.timer.due.After(now):
		m.enqueue(c, p)
	case c.timer.due.Equal(c.timer.at):
	default:
		c.timer.gen++
		c.timer.at = c.timer.due
		heap.Push(&m.timers, timerEntry{at: c.timer.due, c: c, gen: c.timer.gen})
	}
}

// decideFor runs decide for c and logs what it says.
func (m *Monitor) decideFor(c *cred, now time.Time) time.Time {
	// The configuration as decide needs it for c (no more than it reads).
	cv := configView{kind: c.kind}
	switch {
	case c.obs.odd != "":
		// decide looks no further
	case c.kind == credfile.KindLocal:
		cv.localErr = m.local(c.provider).err
		cv.policy = m.policyFor(c)
	case c.kind == credfile.KindVault:
		cv.policy = m.policyFor(c)
		cv.vaultMinimum = m.cfg.VaultMinimum
	case c.kind == credfile.KindRobot:
		m.robotView(c, &cv)
		cv.policy = m.policyFor(c)
	case c.kind == credfile.KindClient || c.kind == credfile.KindPelican:
		cv.providerProblem = m.typedProblem(c)
		cv.policy = m.policyFor(c)
	default:
		if c.obs.meta == nil && c.obs.metaErr == nil {
			cv.providerProblem = m.providerProblem(c.provider)
		}
		cv.policy = m.policyFor(c)
	}
	due, st := decide(c.tokenID, c.state, c.obs, cv, now, c.draw)
	if st.msg != "" {
		c.setStatus(st.level, st.msg, st.args...)
	}
	if st.floor != c.state.floor {
		c.state.floor = st.floor
		if st.floorNote != "" {
			c.logger().Warn(st.floorNote)
		}
	}
	return due
}

// tokenURL is where c's refreshes go as far as the loop knows: the .meta's
// token URL, else the provider's configured one ("" when discovery must
// find it, or nothing is configured).
func (m *Monitor) tokenURL(c *cred) string {
	switch c.kind {
	case credfile.KindVault:
		return "" // Vault's; a stray .meta names no client of its
	case credfile.KindRobot:
		return "" // found by discovery at the robot's trusted issuer
	case credfile.KindClient, credfile.KindPelican:
		tokenURL, _ := m.typedIssuerURL(c)
		return tokenURL
	}
	if c.obs.meta != nil {
		return c.obs.meta.TokenURL
	}
	if pi := m.provider(c.provider); pi.cfg != nil {
		return pi.cfg.TokenURL
	}
	return ""
}

func (m *Monitor) policyFor(c *cred) Policy {
	return Policy{
		Fraction:    fractionFor(m.tokenURL(c), m.cfg.RefreshFraction),
		Jitter:      m.cfg.RefreshJitter,
		Safety:      m.cfg.SecCredentialRefresh + m.cfg.RefreshMargin,
		MinInterval: m.cfg.MinRefreshInterval,
	}
}

// enqueue queues c for refresh (or a local mint) unless it is queued or
// running already; the pass (if any) waits for it.
func (m *Monitor) enqueue(c *cred, p *pass) {
	if p != nil {
		c.work.waiters = append(c.work.waiters, p)
		p.pending++
	}
	if c.work.running {
		return
	}
	c.work.running = true
	c.timer.gen++
	c.timer.at = time.Time{}
	m.q.busy[c] = struct{}{}
	if c.kind == credfile.KindLocal {
		m.q.local = append(m.q.local, c)
		return
	}
	m.queueRefresh(c)
}

// runDue queues every token whose refresh time has come.
func (m *Monitor) runDue() {
	now := m.now()
	for m.timers.Len() > 0 && !m.timers[0].at.After(now) {
		e := heap.Pop(&m.timers).(timerEntry)
		if e.gen != e.c.timer.gen || e.c.ignore != "" {
			continue // rescheduled or forgotten since
		}
		m.enqueue(e.c, nil)
	}
}

func (m *Monitor) resetTimer(t clock.Timer) {
	for m.timers.Len() > 0 {
		e := m.timers[0]
		if e.gen == e.c.timer.gen && e.c.ignore == "" {
			break
		}
		heap.Pop(&m.timers)
	}
	var at time.Time
	if m.timers.Len() > 0 {
		at = m.timers[0].at
	}
	if wake := m.nextIssuerWake(); !wake.IsZero() && (at.IsZero() || wake.Before(at)) {
		at = wake // a paused issuer's probe is due then (dispatch sends it)
	}
	d := time.Hour
	if !at.IsZero() {
		d = max(at.Sub(m.now()), 0)
	}
	t.Reset(d)
}

type timerEntry struct {
	at  time.Time
	c   *cred
	gen int
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }

func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// providerInfo caches one provider's configuration per config generation.
type providerInfo struct {
	cfg *knobs.Provider
	err error
}

func (m *Monitor) provider(p string) *providerInfo {
	if pi, ok := m.gen.providers[p]; ok {
		return pi
	}
	cfg, err := m.cfg.Provider(p)
	pi := &providerInfo{cfg: cfg, err: err}
	m.gen.providers[p] = pi
	return pi
}

// providerProblem says why tokens of p without .meta cannot be refreshed
// from configuration, or "" when they can.
func (m *Monitor) providerProblem(p string) string {
	pi := m.provider(p)
	knob := strings.ToUpper(p) // knobs are case-insensitive; admins grep upper case
	switch {
	case pi.err != nil:
		return pi.err.Error()
	case pi.cfg.ClientID == "":
		return knob + "_CLIENT_ID is not set"
	case pi.cfg.TokenURL == "" && pi.cfg.Issuer == "":
		return "neither " + knob + "_TOKEN_URL nor " + knob + "_ISSUER is set"
	}
	return ""
}

package credmon

import (
	"container/heap"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/internal/clock"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
)

// cred is the daemon's memory of one token (<user>/<name>). It is owned by
// the Run goroutine; workers get copies of what they need.
type cred struct {
	user, name, provider string
	kind                 credfile.Kind
	ignore               string // why this token is not ours to refresh; "" if it is

	top, use, meta atomicfile.ID // versions last evaluated (zero: absent)
	hasUse         bool
	useBad         bool // .use unreadable or unparseable: refresh now
	issued, expiry time.Time
	expiryKnown    bool
	jitter         float64 // draw for this .use version (see Policy.RefreshAt)
	metaInfo       *credfile.Meta
	metaErr        error
	odd            string // tokenObs.odd when last evaluated

	due       time.Time // next refresh; zero = not scheduled
	timerGen  int
	scheduled time.Time // time of the live heap entry (zero: none)
	failures  int
	retryAt   time.Time
	permanent bool // last failure needs a new .top/.meta (or config) to retry
	// stale: the local issuer's configuration changed since this token's
	// .use was minted; mint again now.
	stale   bool
	lastErr string
	// plain: the issuer refused the .top's scopes/audience (invalid_target
	// or invalid_scope), so this token is refreshed without them, as the
	// Python credmon does, until its .top, .meta or the configuration
	// changes.
	plain bool

	running bool
	rerun   bool // inputs changed while running: evaluate again after
	waiters []*pass

	// pendingRT is a rotated refresh token we could not persist to .top
	// (the write failed); it applies while .top is still version pendingTop.
	pendingRT  string
	pendingTop atomicfile.ID

	// lastRefresh is when this daemon last refreshed (or minted) the token
	// from its current .top and .meta: the minimum interval is counted from
	// it, whatever the token's own dates say. Zero after new input.
	lastRefresh time.Time
	// floor is the reason last logged for a refresh time set by the minimum
	// interval (noteFloor), so it is logged once per token and reason.
	floor Floor

	status string // last logged state, to log state changes only once
	base   hclog.Logger
}

// logger returns a logger tagged with the token; built on use, since most
// tokens never log and 10,000 tagged loggers would cost megabytes.
func (c *cred) logger() hclog.Logger { return c.base.With("user", c.user, "token", c.name) }

func (m *Monitor) newCred(user, name string) *cred {
	c := &cred{user: user, name: name, base: m.oauth}
	m.classify(c)
	return c
}

// classify decides whether c is an OAuth2 token this daemon refreshes,
// using the current configuration (credd's CredSorter rules).
func (m *Monitor) classify(c *cred) {
	c.ignore, c.kind = "", credfile.KindUnknown
	provider, _, ok := credfile.SplitName(c.name, m.cfg.AllowSpecialNames)
	if !ok {
		c.ignore = "name has no valid provider (or ends in \"_\")"
		c.setStatus(hclog.Warn, fmt.Sprintf("Skipping token %s for user %s: invalid token name", c.name, c.user))
		return
	}
	c.provider = provider
	c.kind = m.cfg.Sorter().Sort(provider)
	c.base = m.oauth
	if c.kind == credfile.KindLocal {
		c.base = m.mintLog
	}
	if c.kind != credfile.KindOAuth2 && c.kind != credfile.KindLocal {
		// Client, Vault and Pelican tokens belong to other credmon types;
		// unknown ones are plain credentials nobody refreshes.
		c.ignore = "owned by the " + c.kind.String() + " credmon type"
		c.setStatus(hclog.Debug, "not an OAuth2 token; leaving it alone", "kind", c.kind.String())
	}
}

// reclassify applies a new configuration to every known token in place
// (never by recreating state: a token with a refresh in flight must keep
// its single in-flight marker, or rotation could be raced). Failures are
// forgotten, since the configuration may have fixed their cause.
func (m *Monitor) reclassify(staleLocal map[string]bool) {
	for _, us := range m.users {
		for _, c := range us.creds {
			if c.ignore == "deleted" {
				continue
			}
			m.classify(c)
			c.stale = c.kind == credfile.KindLocal && staleLocal[c.provider]
			c.failures, c.permanent, c.retryAt, c.lastErr = 0, false, time.Time{}, ""
			c.plain = false
			c.timerGen++ // the next pass schedules it again under the new policy
			c.scheduled = time.Time{}
			c.top, c.meta, c.use = atomicfile.ID{}, atomicfile.ID{}, atomicfile.ID{}
		}
	}
}

// setStatus logs a state change once; the same state again is silent.
func (c *cred) setStatus(level hclog.Level, msg string, args ...any) {
	if c.status == msg {
		c.logger().Debug(msg, args...)
		return
	}
	c.status = msg
	c.logger().Log(level, msg, args...)
}

// evaluate brings c up to date with the files observed and decides when it
// must be refreshed.
func (m *Monitor) evaluate(c *cred, o *tokenObs, p *pass) {
	if c.ignore != "" {
		return
	}
	if c.running {
		if o.top.ID() != c.top || idOf(o.meta) != c.meta || o.odd != c.odd {
			c.rerun = true
		}
		if p != nil {
			c.waiters = append(c.waiters, p)
			p.pending++
		}
		return
	}
	now := m.now()
	topID, metaID, useID := o.top.ID(), idOf(o.meta), idOf(o.use)
	if topID != c.top || metaID != c.meta || o.odd != c.odd {
		// New input (a new login, a re-stored token, a new .meta): forget
		// the failures of the old one.
		if c.permanent || c.failures > 0 {
			c.logger().Debug("credential changed; clearing backoff")
		}
		c.failures, c.permanent, c.retryAt, c.lastErr = 0, false, time.Time{}, ""
		c.plain = false
		if !c.top.IsZero() {
			// A new .top or .meta (not a reload, which zeroes c.top): the
			// daemon has not refreshed this input yet.
			c.lastRefresh = time.Time{}
		}
		c.top = topID
		c.odd = o.odd
		if metaID != c.meta {
			c.meta = metaID
			c.metaInfo, c.metaErr = nil, nil
			if o.meta != nil {
				c.metaInfo, c.metaErr = m.readMeta(c)
			}
		}
	}
	if useID != c.use {
		c.use = useID
		c.hasUse = o.use != nil
		c.useBad, c.expiryKnown = false, false
		c.jitter = m.rnd.Float64()
		if o.use != nil {
			m.readUse(c, o.use)
		}
	}
	c.due = m.dueTime(c, now)
	m.schedule(c, p, now)
}

// schedule queues c now or arms its timer for c.due. A token whose due
// time did not change keeps its heap entry, so a pass over 10,000 idle
// tokens pushes nothing.
func (m *Monitor) schedule(c *cred, p *pass, now time.Time) {
	switch {
	case c.due.IsZero():
		c.timerGen++
		c.scheduled = time.Time{}
	case !c.due.After(now):
		m.enqueue(c, p)
	case c.due.Equal(c.scheduled):
	default:
		c.timerGen++
		c.scheduled = c.due
		heap.Push(&m.timers, timerEntry{at: c.due, c: c, gen: c.timerGen})
	}
}

func idOf(st *atomicfile.Stat) atomicfile.ID {
	if st == nil {
		return atomicfile.ID{}
	}
	return st.ID()
}

// dueTime is the refresh policy applied to c; zero means "never, until
// something changes".
func (m *Monitor) dueTime(c *cred, now time.Time) time.Time {
	if c.odd != "" {
		// Local: no retry can fix it, and a refresh would rotate the grant
		// and then fail to write. Waits until the files change.
		c.setStatus(hclog.Error, fmt.Sprintf("Cannot refresh %s for user %s: %s; remove it", c.name, c.user, c.odd))
		return time.Time{}
	}
	if c.kind == credfile.KindLocal {
		return m.localDueTime(c, now)
	}
	if c.metaErr != nil {
		c.setStatus(hclog.Error, fmt.Sprintf("Cannot refresh %s for user %s: unusable .meta", c.name, c.user), "error", c.metaErr)
		return time.Time{}
	}
	if c.metaInfo != nil && !c.metaInfo.UseRefreshToken {
		c.setStatus(hclog.Debug, "not refreshing: .meta says use_refresh_token is false")
		return time.Time{}
	}
	if c.metaInfo == nil {
		if why := m.providerProblem(c.provider); why != "" {
			c.setStatus(hclog.Warn, fmt.Sprintf("Cannot refresh %s for user %s: no .meta and %s", c.name, c.user, why))
			return time.Time{}
		}
	}
	if c.permanent {
		return time.Time{}
	}
	return m.usualDueTime(c, now)
}

// usualDueTime applies the refresh policy to the .use as observed.
func (m *Monitor) usualDueTime(c *cred, now time.Time) time.Time {
	due := now
	if c.hasUse && !c.useBad {
		t := Times{Issued: c.issued, Expiry: c.expiry, LastRefresh: c.lastRefresh}
		if !c.expiryKnown {
			// A .use that says nothing about its expiry: refresh it as if it
			// lived UnknownLifetime.
			t.Expiry = c.issued.Add(UnknownLifetime)
		}
		var why Floor
		due, why = m.policyFor(c).RefreshAt(t, now, c.jitter)
		m.noteFloor(c, why, now)
	}
	// A .use that is missing or unreadable is written at once, floor or
	// not: a job cannot start without it, and only a local hand (never an
	// issuer or a clock) removes or garbles it.
	if c.retryAt.After(due) {
		due = c.retryAt
	}
	return due
}

// noteFloor logs, once per token and reason, that the minimum interval and
// not the token's lifetime set its refresh time: the token would otherwise
// be refreshed in a loop.
func (m *Monitor) noteFloor(c *cred, why Floor, now time.Time) {
	if why == c.floor {
		return
	}
	c.floor = why
	interval := max(m.cfg.MinRefreshInterval, MinIntervalFloor)
	var msg string
	switch why {
	case FloorNone:
		return
	case FloorExpired:
		msg = fmt.Sprintf("Token %s for user %s was already expired when received (expired %s ago by this machine's clock): the issuer returned an expired token, or the clocks of this machine and the issuer differ by at least that; refreshing it every %s (MIN_REFRESH_INTERVAL) until that changes",
			c.name, c.user, now.Sub(c.expiry).Round(time.Second), interval)
	case FloorShortLife:
		msg = fmt.Sprintf("Token %s for user %s lives %s, less than SEC_CREDENTIAL_REFRESH + REFRESH_MARGIN (%s) plus MIN_REFRESH_INTERVAL: refreshing it every %s; ask for longer-lived tokens or lower SEC_CREDENTIAL_REFRESH",
			c.name, c.user, c.expiry.Sub(c.issued).Round(time.Second), m.cfg.SecCredentialRefresh+m.cfg.RefreshMargin, interval)
	case FloorSkew:
		msg = fmt.Sprintf("Token %s for user %s was issued at %s, long before this machine's clock says it was received: the clocks of this machine and the issuer differ; refreshing it every %s (MIN_REFRESH_INTERVAL) at most",
			c.name, c.user, c.issued.UTC().Format(time.RFC3339), interval)
	}
	c.logger().Warn(msg)
}

// UnknownLifetime is assumed for a .use with no expires_in, expires_at or
// JWT exp: HTCondor's default local token lifetime (20 min), so such a
// token is refreshed about every 10 minutes rather than never or always.
const UnknownLifetime = 20 * time.Minute

// tokenURL is where c's refreshes go as far as the loop knows: the .meta's
// token URL, else the provider's configured one ("" when discovery must
// find it, or nothing is configured).
func (m *Monitor) tokenURL(c *cred) string {
	if c.metaInfo != nil {
		return c.metaInfo.TokenURL
	}
	if pi := m.provider(c.provider); pi.cfg != nil {
		return pi.cfg.TokenURL
	}
	return ""
}

func (m *Monitor) policyFor(c *cred) Policy {
	return Policy{
		Fraction:    FractionFor(m.tokenURL(c), m.cfg.RefreshFraction),
		Jitter:      m.cfg.RefreshJitter,
		Safety:      m.cfg.SecCredentialRefresh + m.cfg.RefreshMargin,
		MinInterval: m.cfg.MinRefreshInterval,
	}
}

func (m *Monitor) readMeta(c *cred) (*credfile.Meta, error) {
	d, err := m.dir.OpenDir(c.user)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, _, err := d.ReadFile(c.name+credfile.SuffixMeta, maxCredFile)
	if err != nil {
		return nil, err
	}
	return credfile.ParseMeta(b)
}

// maxCredFile bounds what we read of any credential file; real ones are a
// few KiB (credd itself caps credentials at 64 KiB).
const maxCredFile = 1 << 20

func (m *Monitor) readUse(c *cred, st *atomicfile.Stat) {
	d, err := m.dir.OpenDir(c.user)
	if err != nil {
		c.useBad = true
		return
	}
	defer d.Close()
	b, fst, err := d.ReadFile(c.name+credfile.SuffixUse, maxCredFile)
	if err != nil {
		c.useBad = true
		c.logger().Debug("reading .use", "error", err)
		return
	}
	u, err := credfile.ParseUse(b)
	if err != nil && c.kind == credfile.KindLocal && m.localUseLifetime(c, b, fst.Mtime) {
		return
	}
	if err != nil {
		c.useBad = true
		c.setStatus(hclog.Warn, fmt.Sprintf("Access token %s for user %s is unparseable; refreshing it", c.name, c.user), "error", err)
		return
	}
	c.issued, c.expiry, c.expiryKnown = u.Lifetime(fst.Mtime)
	if !c.expiryKnown {
		c.issued = fst.Mtime
	}
}

// forget drops a token whose .top is gone (credd delete or sweep).
func (m *Monitor) forget(c *cred) {
	m.ours.Delete(c.user + "/" + c.name + credfile.SuffixTop)
	m.ours.Delete(c.user + "/" + c.name + credfile.SuffixUse)
	c.ignore = "deleted"
	c.timerGen++
	c.scheduled = time.Time{}
	c.logger().Debug("credential removed")
}

// enqueue queues c for refresh (or a local mint) unless it is queued or
// running already; the pass (if any) waits for it.
func (m *Monitor) enqueue(c *cred, p *pass) {
	if p != nil {
		c.waiters = append(c.waiters, p)
		p.pending++
	}
	if c.running {
		return
	}
	c.running = true
	c.timerGen++
	c.scheduled = time.Time{}
	m.busy[c] = struct{}{}
	if c.kind == credfile.KindLocal {
		m.localQueue = append(m.localQueue, c)
		return
	}
	m.queueRefresh(c)
}

// runDue queues every token whose refresh time has come.
func (m *Monitor) runDue() {
	now := m.now()
	for m.timers.Len() > 0 && !m.timers[0].at.After(now) {
		e := heap.Pop(&m.timers).(timerEntry)
		if e.gen != e.c.timerGen || e.c.ignore != "" {
			continue // rescheduled or forgotten since
		}
		m.enqueue(e.c, nil)
	}
}

func (m *Monitor) resetTimer(t clock.Timer) {
	for m.timers.Len() > 0 {
		e := m.timers[0]
		if e.gen == e.c.timerGen && e.c.ignore == "" {
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
	if pi, ok := m.providers[p]; ok {
		return pi
	}
	cfg, err := m.cfg.Provider(p)
	pi := &providerInfo{cfg: cfg, err: err}
	m.providers[p] = pi
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

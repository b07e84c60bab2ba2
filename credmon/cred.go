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
// the Run goroutine; workers get copies of what they need. Its fields are
// grouped by who reads them: decide reads obs and state, the timer heap
// reads timer, dispatch and the passes read work.
type cred struct {
	tokenID
	provider string
	kind     credfile.Kind
	ignore   string // why this token is not ours to refresh; "" if it is

	seen  versions    // the files' versions last evaluated
	obs   observation // what they said
	state state       // what they cannot say: failures, backoff, last refresh
	draw  float64     // uniform draw for this .use version (Policy.RefreshAt)
	timer timerSlot
	work  workSlot
	// pending is a rotated refresh token we could not persist to .top (the
	// write failed); it applies while .top is still version pending.top.
	pending rotated

	status string // last logged state, to log state changes only once
	base   hclog.Logger
}

// versions identifies the files of one token (zero: absent).
type versions struct{ top, use, meta atomicfile.ID }

// timerSlot is a token's place in the timer heap.
type timerSlot struct {
	due time.Time // next refresh; zero = not scheduled
	gen int       // bumped to invalidate heap entries
	at  time.Time // time of the live heap entry (zero: none)
}

// workSlot is a token's place in the queues and the passes.
type workSlot struct {
	running bool // queued or running
	rerun   bool // inputs changed while running: evaluate again after
	waiters []*pass
}

// rotated is a refresh token kept in memory for one .top version.
type rotated struct {
	rt  string
	top atomicfile.ID
}

// logger returns a logger tagged with the token; built on use, since most
// tokens never log and 10,000 tagged loggers would cost megabytes.
func (c *cred) logger() hclog.Logger { return c.base.With("user", c.user, "token", c.name) }

func (m *Monitor) newCred(user, name string) *cred {
	c := &cred{tokenID: tokenID{user, name}, base: m.oauth}
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
			c.state.stale = c.kind == credfile.KindLocal && staleLocal[c.provider]
			c.state.clearFailures()
			c.state.plain = false
			c.timer.gen++ // the next pass schedules it again under the new policy
			c.timer.at = time.Time{}
			c.seen.top, c.seen.meta, c.seen.use = atomicfile.ID{}, atomicfile.ID{}, atomicfile.ID{}
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
	if c.work.running {
		if o.top.ID() != c.seen.top || idOf(o.meta) != c.seen.meta || o.odd != c.obs.odd {
			c.work.rerun = true
		}
		if p != nil {
			c.work.waiters = append(c.work.waiters, p)
			p.pending++
		}
		return
	}
	now := m.now()
	topID, metaID, useID := o.top.ID(), idOf(o.meta), idOf(o.use)
	if topID != c.seen.top || metaID != c.seen.meta || o.odd != c.obs.odd {
		// New input (a new login, a re-stored token, a new .meta): forget
		// the failures of the old one.
		if c.state.permanent || c.state.failures > 0 {
			c.logger().Debug("credential changed; clearing backoff")
		}
		c.state.clearFailures()
		c.state.plain = false
		if !c.seen.top.IsZero() {
			// A new .top or .meta (not a reload, which zeroes c.seen.top): the
			// daemon has not refreshed this input yet.
			c.state.lastRefresh = time.Time{}
		}
		c.seen.top = topID
		c.obs.odd = o.odd
		if metaID != c.seen.meta {
			c.seen.meta = metaID
			c.obs.meta, c.obs.metaErr = nil, nil
			if o.meta != nil {
				c.obs.meta, c.obs.metaErr = m.readMeta(c)
			}
		}
	}
	if useID != c.seen.use {
		c.seen.use = useID
		c.obs.hasUse = o.use != nil
		c.obs.useBad, c.obs.expiryKnown = false, false
		c.draw = m.rnd.Float64()
		if o.use != nil {
			m.readUse(c, o.use)
		}
	}
	c.timer.due = m.decideFor(c, now)
	m.schedule(c, p, now)
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

func idOf(st *atomicfile.Stat) atomicfile.ID {
	if st == nil {
		return atomicfile.ID{}
	}
	return st.ID()
}

// decideFor runs decide for c and logs what it says.
func (m *Monitor) decideFor(c *cred, now time.Time) time.Time {
	due, st := decide(c.tokenID, c.state, c.obs, m.configView(c), now, c.draw)
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

// configView is the configuration as decide needs it for c.
func (m *Monitor) configView(c *cred) configView {
	cv := configView{kind: c.kind}
	switch {
	case c.obs.odd != "":
		return cv // decide looks no further
	case c.kind == credfile.KindLocal:
		cv.localErr = m.local(c.provider).err
	case c.obs.meta == nil && c.obs.metaErr == nil:
		cv.providerProblem = m.providerProblem(c.provider)
	}
	cv.policy = m.policyFor(c)
	return cv
}

// tokenURL is where c's refreshes go as far as the loop knows: the .meta's
// token URL, else the provider's configured one ("" when discovery must
// find it, or nothing is configured).
func (m *Monitor) tokenURL(c *cred) string {
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
		c.obs.useBad = true
		return
	}
	defer d.Close()
	b, fst, err := d.ReadFile(c.name+credfile.SuffixUse, maxCredFile)
	if err != nil {
		c.obs.useBad = true
		c.logger().Debug("reading .use", "error", err)
		return
	}
	u, err := credfile.ParseUse(b)
	if err != nil && c.kind == credfile.KindLocal && m.localUseLifetime(c, b, fst.Mtime) {
		return
	}
	if err != nil {
		c.obs.useBad = true
		c.setStatus(hclog.Warn, fmt.Sprintf("Access token %s for user %s is unparseable; refreshing it", c.name, c.user), "error", err)
		return
	}
	c.obs.issued, c.obs.expiry, c.obs.expiryKnown = u.Lifetime(fst.Mtime)
	if !c.obs.expiryKnown {
		c.obs.issued = fst.Mtime
	}
}

// forget drops a token whose .top is gone (credd delete or sweep).
func (m *Monitor) forget(c *cred) {
	m.ours.Delete(c.user + "/" + c.name + credfile.SuffixTop)
	m.ours.Delete(c.user + "/" + c.name + credfile.SuffixUse)
	c.ignore = "deleted"
	c.timer.gen++
	c.timer.at = time.Time{}
	c.logger().Debug("credential removed")
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

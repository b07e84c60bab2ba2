package credmon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/internal/clock"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
)

// Version is reported in logs and the User-Agent; set at link time.
var Version = "dev"

// ReloadInterval rate-limits configuration reloads: credd sends a SIGHUP for
// every new credential, and a reload may run condor_config_val.
const ReloadInterval = 5 * time.Second

// Options are the monitor's collaborators. Only Config and Dir are required.
type Options struct {
	// Config is the configuration snapshot to start with.
	Config *knobs.Credmon
	// Reload re-reads configuration on SIGHUP (rate-limited). nil: never.
	Reload func() (*knobs.Credmon, error)
	// Dir is the open credential directory (see PrepareCredDir).
	Dir *atomicfile.Dir
	// Logger receives the daemon's log lines; nil discards them.
	Logger hclog.Logger
	// Clock tells the time and makes the loop's timers; nil is the system
	// clock. Tests pass a fake one (credmon/internal/clock) to drive the
	// schedule without sleeping.
	Clock Clock
	// HTTPClient makes token requests; nil builds one with the configured
	// connect timeout.
	HTTPClient *http.Client
	// Rand draws jitter; nil uses a randomly seeded source.
	Rand *rand.Rand
	// NoWatch disables fsnotify (periodic scans and SIGHUP still work).
	NoWatch bool
	// Pid is written to the pid file; 0 means os.Getpid().
	Pid int
	// CreateKeys generates a missing local-issuer key pair at start and
	// after a configuration change (EnsureLocalKeys), as the Python credmon
	// does at start-up. The command sets it; library users and tests
	// normally manage keys themselves.
	CreateKeys bool
}

// Monitor is the credential monitor daemon: it keeps every OAuth2 .use in
// its credential directory fresh. Create it with New and run it with Run.
type Monitor struct {
	opts  Options
	dir   *atomicfile.Dir
	log   hclog.Logger
	oauth hclog.Logger
	// mintLog is the local issuer's logger (LocalCredmon's lines).
	mintLog hclog.Logger
	clock   Clock
	rnd     *rand.Rand
	http    *http.Client
	rescan  chan struct{}
	dirty   chan change
	// ours records the identity of every file a worker wrote (key
	// "user/file"), so the events our own writes cause are recognised and
	// cost one stat instead of a directory listing.
	ours sync.Map
	// overflow is set when the dirty channel was full: a full rescan then
	// replaces the lost per-user signals.
	overflow atomic.Bool

	// Everything below is owned by the Run goroutine.
	cfg        *knobs.Credmon
	lastReload time.Time
	reloadDue  bool
	users      map[string]*userState
	localQueue []*cred // local mints: CPU and disk only, never behind issuers
	localRun   int
	busy       map[*cred]struct{} // queued or running
	running    int                // refresh jobs in flight, all issuers
	// issuers isolate the issuers from each other (issuers.go); ready are
	// those with queued tokens, in dispatch order.
	issuers   map[string]*issuerState
	ready     []*issuerState
	results   chan *result
	timers    timerHeap
	passes    map[int]*pass
	nextPass  int
	providers map[string]*providerInfo
	locals    map[string]*localIssuer
	// seenProviders are all providers of tokens ever seen: their knobs are
	// prefetched once and compared on reload.
	seenProviders map[string]bool
	watch         *watcher
	workers       sync.WaitGroup
	stats         stats
	tempMaxAge    time.Duration // 0 during the first pass: see staleTemp
	discovery     *discoveryCache
	// unimplemented are the warnings about credential types of other
	// credmons last logged (see warnConfig).
	unimplemented []string
}

// Stats are counters for tests and benchmarks.
type Stats struct {
	Passes, Refreshes, Failures, Superseded int64
	Listings                                int64 // user directories read
	// Completed counts passes whose every refresh has finished (each one
	// touched CREDMON_COMPLETE).
	Completed int64
	// Reloads counts configuration reads (Options.Reload calls), which
	// SIGHUP triggers at most once per ReloadInterval.
	Reloads int64
	// IssuerPauses counts the times an issuer was paused by its circuit
	// breaker or its Retry-After.
	IssuerPauses int64
}

type stats struct {
	Passes, Refreshes, Failures, Superseded, Listings, Completed, Reloads, IssuerPauses atomic.Int64
}

// New builds a monitor. It starts nothing; Run does.
func New(opts Options) (*Monitor, error) {
	if opts.Config == nil || opts.Dir == nil {
		return nil, fmt.Errorf("credmon: Options.Config and Options.Dir are required")
	}
	m := &Monitor{
		opts:          opts,
		dir:           opts.Dir,
		log:           opts.Logger,
		clock:         opts.Clock,
		rnd:           opts.Rand,
		http:          opts.HTTPClient,
		cfg:           opts.Config,
		rescan:        make(chan struct{}, 1),
		dirty:         make(chan change, 4096),
		users:         make(map[string]*userState),
		busy:          make(map[*cred]struct{}),
		results:       make(chan *result, 64),
		passes:        make(map[int]*pass),
		providers:     make(map[string]*providerInfo),
		locals:        make(map[string]*localIssuer),
		seenProviders: map[string]bool{},
		discovery:     newDiscoveryCache(),
		issuers:       make(map[string]*issuerState),
	}
	if m.log == nil {
		m.log = hclog.NewNullLogger()
	}
	m.oauth = m.log.Named("oauth")
	m.mintLog = m.log.Named("local")
	if m.clock == nil {
		m.clock = clock.Real()
	}
	if m.rnd == nil {
		m.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if m.http == nil {
		m.http = newHTTPClient(opts.Config)
	}
	return m, nil
}

// Clock is the daemon's time source (see Options.Clock).
type Clock = clock.Clock

// now is the monitor's clock reading.
func (m *Monitor) now() time.Time { return m.clock.Now() }

func newHTTPClient(c *knobs.Credmon) *http.Client {
	dialer := &net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   c.ConnectTimeout,
			ResponseHeaderTimeout: c.HTTPTimeout,
			MaxIdleConnsPerHost:   c.Workers,
			// Shorter than the 5 s keep-alive of Node and Apache servers: a
			// refresh POST that dies on a connection the server just closed
			// cannot be retried safely (the refresh token may have rotated).
			IdleConnTimeout:   4 * time.Second,
			ForceAttemptHTTP2: true,
		},
		// Never follow a redirect with a refresh token in the body to
		// another place; token endpoints do not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Rescan asks for a full pass as soon as possible. Calls coalesce: any
// number of calls during a pass cause at most one more pass. It never
// blocks, so it is safe from a signal-handling goroutine.
func (m *Monitor) Rescan() {
	select {
	case m.rescan <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot of the counters; safe to call while Run runs.
func (m *Monitor) Stats() Stats {
	return Stats{Passes: m.stats.Passes.Load(), Refreshes: m.stats.Refreshes.Load(),
		Failures: m.stats.Failures.Load(), Superseded: m.stats.Superseded.Load(), Listings: m.stats.Listings.Load(),
		Completed: m.stats.Completed.Load(), Reloads: m.stats.Reloads.Load(), IssuerPauses: m.stats.IssuerPauses.Load()}
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
		EnsureLocalKeys(m.cfg, m.mintLog)
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
		m.dispatch(workCtx)
		m.resetTimer(timer)
		select {
		case <-ctx.Done():
			if m.running > 0 {
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
			} else if m.reloadDue && reloadTimer == nil {
				reloadTimer = m.clock.NewTimer(ReloadInterval - m.now().Sub(m.lastReload)).C()
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
			m.fullPass(workCtx, ticks%DeepPassEvery == 0)
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
	if !m.lastReload.IsZero() && now.Sub(m.lastReload) < ReloadInterval {
		m.reloadDue = true
		return false
	}
	m.lastReload = now
	m.reloadDue = false
	m.stats.Reloads.Add(1)
	cfg, err := m.opts.Reload()
	if err != nil {
		m.log.Error("reloading configuration; keeping the previous one", "error", err)
		return false
	}
	providers := make([]string, 0, len(m.seenProviders))
	for p := range m.seenProviders {
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
	m.locals = make(map[string]*localIssuer)
	if m.opts.CreateKeys && len(staleLocal) > 0 {
		EnsureLocalKeys(cfg, m.mintLog)
	}
	m.providers = make(map[string]*providerInfo)
	m.discovery = newDiscoveryCache()
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
	for _, msg := range msgs {
		if !slices.Contains(m.unimplemented, msg) {
			m.log.Warn(msg)
		}
	}
	m.unimplemented = msgs
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

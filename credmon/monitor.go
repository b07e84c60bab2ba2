package credmon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/internal/clock"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/tokenclient"
)

// Version is reported in logs and the User-Agent; set at link time.
var Version = "dev"

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
	// VaultDial, if set, replaces the TCP connect to a Vault server's
	// address (ip:port). Tests use it to reach a Vault test server on its
	// own port: a credd-stored vault_url must name port 8200.
	VaultDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// CreateKeys generates a missing local-issuer key pair at start and
	// after a configuration change (ensureLocalKeys), as the Python credmon
	// does at start-up. The command sets it; library users and tests
	// normally manage keys themselves.
	CreateKeys bool
	// OnComplete, if set, is called each time a full pass completes, right
	// after CREDMON_COMPLETE was touched: the moment the Python credmon
	// tells condor_master it is ready. It runs on the loop goroutine and
	// must not block.
	OnComplete func()
}

// Monitor is the credential monitor daemon: it keeps every OAuth2 .use in
// its credential directory fresh. Create it with New and run it with Run.
type Monitor struct {
	// Set by New and safe from any goroutine.
	opts  Options
	dir   *atomicfile.Dir
	log   hclog.Logger
	oauth hclog.Logger
	// mintLog is the local issuer's logger (LocalCredmon's lines).
	mintLog hclog.Logger
	// vaultLog is the Vault credentials' logger.
	vaultLog hclog.Logger
	// clientLog and pelicanLog are the client-credentials and Pelican
	// types' (typed.go).
	clientLog, pelicanLog hclog.Logger
	clock                 Clock
	rnd                   *rand.Rand
	// worker is what the worker goroutines share (worker.go).
	worker *worker
	rescan chan struct{}
	dirty  chan change
	// ours records the identity of every file a worker wrote (key
	// "user/file"), so the events our own writes cause are recognised and
	// cost one stat instead of a directory listing.
	ours sync.Map
	// overflow is set when the dirty channel was full: a full rescan then
	// replaces the lost per-user signals.
	overflow atomic.Bool

	workers sync.WaitGroup // the watcher and the worker goroutines
	results chan *result   // workers → loop
	stats   stats

	// Everything below is owned by the Run goroutine (loop.go).
	cfg    *knobs.Credmon
	reload reloadState
	gen    generation // caches of the current configuration
	users  map[string]*userState
	q      queues
	timers timerHeap
	scan   scanState
	watch  *watcher
	state  *stateWriter // the state snapshot for credmon status (state.go)
}

// reloadState is what the loop remembers between configuration reloads.
type reloadState struct {
	last time.Time // last Options.Reload call
	due  bool      // a reload was refused by the rate limit
	// providers are all providers of tokens ever seen: their knobs are
	// prefetched once and compared on reload.
	providers map[string]bool
	// warned are the configuration warnings last logged (see warnConfig).
	warned []string
}

// generation holds what is derived from one configuration and dropped
// when it changes.
type generation struct {
	providers map[string]*providerInfo
	locals    map[string]*localIssuer
	discovery *tokenclient.Cache
	vaults    *vaultClients
	// clients and pelicans: the client-credentials and Pelican providers
	// (typed.go).
	clients  map[string]*clientProvider
	pelicans map[string]*pelicanProvider
}

func (m *Monitor) newGeneration() generation {
	return generation{
		providers: map[string]*providerInfo{},
		locals:    map[string]*localIssuer{},
		discovery: &tokenclient.Cache{TTL: discoveryTTL, Now: m.clock.Now},
		vaults:    newVaultClients(m.cfg, m.clock.Now, m.opts.VaultDial),
		clients:   map[string]*clientProvider{},
		pelicans:  map[string]*pelicanProvider{},
	}
}

// queues are the tokens due and the jobs in flight.
type queues struct {
	local    []*cred // local mints: CPU and disk only, never behind issuers
	localRun int
	busy     map[*cred]struct{} // queued or running
	running  int                // refresh jobs in flight, all issuers
	// issuers isolate the issuers from each other (issuers.go); ready are
	// those with queued tokens, in dispatch order.
	issuers map[string]*issuerState
	ready   []*issuerState
}

// scanState numbers the passes and tracks those not yet complete.
type scanState struct {
	passes     map[int]*pass
	next       int
	tempMaxAge time.Duration // 0 during the first pass: see staleTemp
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
		opts:    opts,
		dir:     opts.Dir,
		log:     opts.Logger,
		clock:   opts.Clock,
		rnd:     opts.Rand,
		cfg:     opts.Config,
		rescan:  make(chan struct{}, 1),
		dirty:   make(chan change, 4096),
		results: make(chan *result, 64),
		users:   make(map[string]*userState),
		reload:  reloadState{providers: map[string]bool{}},
		q:       queues{busy: make(map[*cred]struct{}), issuers: make(map[string]*issuerState)},
		scan:    scanState{passes: make(map[int]*pass)},
	}
	if m.log == nil {
		m.log = hclog.NewNullLogger()
	}
	m.oauth = m.log.Named("oauth")
	m.vaultLog = m.log.Named("vault")
	m.mintLog = m.log.Named("local")
	m.clientLog = m.oauth.Named("client")
	m.pelicanLog = m.oauth.Named("pelican")
	if m.clock == nil {
		m.clock = clock.Real()
	}
	m.gen = m.newGeneration()
	if m.rnd == nil {
		m.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = newHTTPClient(opts.Config)
	}
	m.worker = &worker{dir: m.dir, http: hc, clock: m.clock, log: m.oauth, ours: &m.ours}
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

// Stats returns a snapshot of the counters; safe to call while Run runs.
func (m *Monitor) Stats() Stats {
	return Stats{Passes: m.stats.Passes.Load(), Refreshes: m.stats.Refreshes.Load(),
		Failures: m.stats.Failures.Load(), Superseded: m.stats.Superseded.Load(), Listings: m.stats.Listings.Load(),
		Completed: m.stats.Completed.Load(), Reloads: m.stats.Reloads.Load(), IssuerPauses: m.stats.IssuerPauses.Load()}
}

package credmon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
)

// Issuers are isolated from each other: each has its own queue of due
// tokens, its own cap on jobs and its own network slots (Workers), and a
// circuit breaker. A hung or black-holed issuer can hold only its own slots
// and, once paused, not even those, so the tokens of every healthy issuer
// are served on time whatever another one does.
//
// The breaker: breakerThreshold requests in a row that got no answer
// (timeout, refused or reset connection, 5xx, 429) pause the issuer for a
// backoff (MIN_BACKOFF doubling to MAX_BACKOFF, with jitter); a Retry-After
// on the answer pauses it for that long (capped at retryAfterCap). Its
// tokens stay queued, keeping their schedule: no failure is counted
// against them while it is paused. When the pause ends one probe request
// goes out; an answer resumes the issuer, silence pauses it again for
// longer.

// breakerThreshold is how many requests in a row must go unanswered before
// an issuer is paused.
const breakerThreshold = 3

// retryAfterCap bounds how long an issuer's Retry-After can pause it and
// delay a token: a misconfigured issuer must not stop refreshes for days.
const retryAfterCap = 10 * time.Minute

// MaxJobs bounds refresh jobs in flight over all issuers (goroutines and
// open files); each issuer is bounded far below it by jobsPerWorker·Workers.
const MaxJobs = 1024

// issuerState is one issuer's share of the daemon, owned by the Run
// goroutine except paused, which its workers read.
type issuerState struct {
	key   string // scheme://host[:port] of its token endpoint or issuer
	queue []*cred
	jobs  int           // dispatched, not yet handled
	sem   chan struct{} // network slots (Workers)

	unanswered int       // requests in a row without an answer
	openUntil  time.Time // paused until then; zero: not paused
	opens      int       // pauses in a row, for the backoff
	probing    bool      // the pause is over and one probe is out
	// paused tells workers already waiting for a network slot not to send
	// their request: they hand the token back to the queue instead.
	paused atomic.Bool
}

// issuerKey names the issuer a token's refreshes go to: the scheme and
// host of its token URL (from .meta, else configuration), or of the
// configured issuer when discovery finds the token URL. Tokens with no
// usable URL share the "" issuer; their jobs fail before any request.
func (m *Monitor) issuerKey(c *cred) string {
	switch c.kind {
	case credfile.KindVault:
		return c.vault.key // the Vault host of its vault_url
	case credfile.KindClient, credfile.KindPelican:
		tokenURL, issuer := m.typedIssuerURL(c)
		if tokenURL == "" {
			tokenURL = issuer
		}
		return hostKey(tokenURL)
	}
	raw := m.tokenURL(c)
	if pi := m.provider(c.provider); raw == "" && c.obs.meta == nil && pi.cfg != nil {
		raw = pi.cfg.Issuer // discovery will find the token URL there
	}
	if c.kind == credfile.KindRobot {
		raw = c.robot.iss // idem, at the robot's (trusted) issuer
	}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return strings.ToLower(u.Scheme + "://" + u.Host)
	}
	return raw
}

// issuer returns the state of the issuer named key, creating it.
func (m *Monitor) issuer(key string) *issuerState {
	is := m.q.issuers[key]
	if is == nil {
		is = &issuerState{key: key}
		m.q.issuers[key] = is
	}
	if cap(is.sem) != m.cfg.Workers {
		is.sem = make(chan struct{}, m.cfg.Workers) // jobs in flight keep the old one
	}
	return is
}

// queueRefresh puts c on its issuer's queue.
func (m *Monitor) queueRefresh(c *cred) {
	is := m.issuer(m.issuerKey(c))
	if len(is.queue) == 0 {
		m.q.ready = append(m.q.ready, is)
	}
	is.queue = append(is.queue, c)
}

// canStart reports whether is may start a job now, and whether that job is
// the probe of a paused issuer.
func (is *issuerState) canStart(now time.Time, maxJobs int) (ok, probe bool) {
	if is.jobs >= maxJobs {
		return false, false
	}
	if is.openUntil.IsZero() {
		return true, false
	}
	if now.Before(is.openUntil) || is.probing {
		return false, false
	}
	return true, true
}

// refreshJobs takes queued refreshes, one per issuer in turn, while each
// issuer has room.
func (m *Monitor) refreshJobs() []*job {
	var jobs []*job
	now := m.now()
	perIssuer := jobsPerWorker * m.cfg.Workers
	for progress := true; progress && m.q.running < MaxJobs; {
		progress = false
		for _, is := range m.q.ready {
			if len(is.queue) == 0 || m.q.running >= MaxJobs {
				continue
			}
			ok, probe := is.canStart(now, perIssuer)
			if !ok {
				continue
			}
			c := is.queue[0]
			is.queue[0] = nil
			is.queue = is.queue[1:]
			progress = true
			if c.ignore != "" {
				m.finish(c)
				continue
			}
			if probe {
				is.probing = true
			}
			j := &job{c: c, user: c.user, name: c.name, cfg: m.cfg, pendingRT: c.pending.rt, pendingTop: c.pending.top,
				issuer: is, netSem: is.sem, probe: probe, plain: c.state.plain, discovery: m.gen.discovery,
				meta: c.obs.meta, metaErr: c.obs.metaErr, metaID: c.seen.meta}
			switch c.kind {
			case credfile.KindVault:
				j.vault, j.vaults, j.vaultID, j.vaultExpiry = true, m.gen.vaults, c.vault.id, c.vault.expiry
				j.meta, j.metaErr = nil, nil // a Vault credential has no client of its own
			case credfile.KindClient:
				j.client, j.meta, j.metaErr = m.clientProv(c.provider), nil, nil
			case credfile.KindPelican:
				j.pelican, j.meta, j.metaErr = m.pelicanProv(c.provider), nil, nil
			}
			if c.kind == credfile.KindRobot {
				j.robot = true // its client is in its .top
			}
			if pi := m.provider(c.provider); pi.err == nil {
				j.provider = pi.cfg
			}
			is.jobs++
			m.q.running++
			jobs = append(jobs, j)
		}
	}
	live := m.q.ready[:0]
	for _, is := range m.q.ready {
		if len(is.queue) > 0 {
			live = append(live, is)
		}
	}
	clear(m.q.ready[len(live):])
	m.q.ready = live
	return jobs
}

// nextIssuerWake returns when the earliest paused issuer with queued
// tokens may send its probe (zero: none).
func (m *Monitor) nextIssuerWake() time.Time {
	var at time.Time
	for _, is := range m.q.ready {
		if len(is.queue) > 0 && !is.openUntil.IsZero() && !is.probing && (at.IsZero() || is.openUntil.Before(at)) {
			at = is.openUntil
		}
	}
	return at
}

// issuerResult updates the breaker of the issuer a finished job talked to
// (Run goroutine). It returns how long the issuer asked us to wait
// (Retry-After, capped), zero if it did not.
func (m *Monitor) issuerResult(r *result) time.Duration {
	is := r.issuer
	is.jobs--
	if r.probe {
		is.probing = false
	}
	if !r.asked {
		return 0
	}
	now := m.now()
	var wait time.Duration
	if d, ok := retryAfter(r.netErr, now); ok && d > 0 {
		wait = min(d, retryAfterCap)
	}
	switch {
	case wait > 0:
		is.unanswered = 0
		m.pauseIssuer(is, now.Add(wait), fmt.Sprintf("it asked to retry after %s (Retry-After)", wait.Round(time.Second)))
	case unanswered(r.netErr):
		is.unanswered++
		if is.unanswered >= breakerThreshold || r.probe {
			is.opens++
			pause := Backoff(is.opens, m.cfg.MinBackoff, m.cfg.MaxBackoff, m.rnd.Float64())
			m.pauseIssuer(is, now.Add(pause), fmt.Sprintf("%d requests in a row got no answer (last: %s)", is.unanswered, tokenclient.Describe(r.netErr)))
		}
	default:
		if !is.openUntil.IsZero() {
			m.log.Info(fmt.Sprintf("Issuer %s answers again; resuming its %d queued tokens", is.key, len(is.queue)))
		}
		is.unanswered, is.opens, is.openUntil = 0, 0, time.Time{}
		is.paused.Store(false)
	}
	return wait
}

// pauseIssuer stops new requests to is until until, and says so once per
// pause.
func (m *Monitor) pauseIssuer(is *issuerState, until time.Time, why string) {
	if until.Before(is.openUntil) {
		return
	}
	is.openUntil = until
	is.paused.Store(true)
	m.stats.IssuerPauses.Add(1)
	m.log.Warn(fmt.Sprintf("Issuer %s paused for %s: %s; its tokens wait, keeping their schedule, and other issuers are not affected",
		is.key, until.Sub(m.now()).Round(time.Second), why))
}

// unanswered reports whether a request failed without an answer from the
// issuer itself: a timeout, a connection that failed or broke, a 5xx from
// it or a proxy in front of it, or 429. An OAuth error is an answer.
func unanswered(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *tokenclient.PermanentError
	if errors.As(err, &pe) {
		return false
	}
	var ve *vault.Error
	if errors.As(err, &ve) {
		return ve.Status >= 500 || ve.Status == http.StatusTooManyRequests
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response == nil {
			return true
		}
		s := re.Response.StatusCode
		return s >= 500 || s == http.StatusTooManyRequests
	}
	return true
}

// retryAfter is how long the issuer (a token endpoint or a Vault) asked
// us to wait, read from the answer behind err.
func retryAfter(err error, now time.Time) (time.Duration, bool) {
	if d, ok := vault.RetryAfter(err, now); ok {
		return d, ok
	}
	return tokenclient.RetryAfter(err, now)
}

// jobsPerWorker bounds refreshes in flight (reading, waiting for an issuer
// slot, or writing) at this multiple of Workers; only Workers of them talk
// to issuers at a time.
const jobsPerWorker = 4

package renewer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Reload asks a running Watch to re-read the configuration file (what the
// CLI does on SIGHUP). It never blocks; several calls before Watch gets
// to them count as one. A file that does not parse is logged and the old
// configuration kept.
func (r *Renewer) Reload() {
	select {
	case r.reloadChan() <- struct{}{}:
	default:
	}
}

func (r *Renewer) reloadChan() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reloadCh == nil {
		r.reloadCh = make(chan struct{}, 1)
	}
	return r.reloadCh
}

// watchState is the schedule of one token.
type watchState struct {
	next     time.Time
	failures int
	key      string // watchKey of the section it was made for
}

// watchKey identifies what a token section asks for, so a reload keeps the
// schedule of unchanged sections.
func watchKey(t *Token) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%v\x00%d", t.Account, t.Path, t.Audience, t.Scope, t.HasMinLifetime, t.MinLifetime)
}

// ReadyEvent is what Watch tells OnReady.
type ReadyEvent struct {
	// Reload is false for the start-up, true after a Reload.
	Reload bool
	// Err is why a reload kept the old configuration; nil otherwise.
	Err error
	// Tokens is how many tokens are watched.
	Tokens int
}

// Watch renews every token shortly before it is needed and returns nil
// when ctx is done. Each token is scheduled from its own expiry
// (nextRenewal: half-life with jitter, or min_lifetime plus a margin
// before expiry, whichever is sooner); at start a token whose file is
// still usable is scheduled from that file without any request. Failures
// are retried after a capped exponential backoff with jitter. Due tokens
// are renewed as RunOnce would (same lock, accounts kept decrypted
// between rounds and re-read when their file changes), except that the
// min_lifetime skip does not apply: a due token is renewed. OnReport gets
// each round's report. When ctx is done, a round in progress finishes the
// requests it has sent (never cut off mid-refresh) before Watch returns.
func (r *Renewer) Watch(ctx context.Context) error {
	cfg := r.config()
	if cfg == nil {
		return errors.New("renewer: no configuration")
	}
	log := r.log().Named("watch")
	pol := schedulePolicy{ratio: defaultRenewRatio, jitter: defaultJitter, margin: defaultMargin, minInterval: r.minInterval}
	if pol.minInterval <= 0 {
		pol.minInterval = defaultMinInterval
	}
	lo, hi := r.backoffMin, r.backoffMax
	if lo <= 0 {
		lo = defaultBackoffMin
	}
	if hi < lo {
		hi = max(defaultBackoffMax, lo)
	}
	cache := newAccountCache()
	sched := map[string]*watchState{}
	initial := func(t *Token, now time.Time) *watchState {
		info, err := readTokenFile(t.Path)
		if err != nil {
			return &watchState{next: now}
		}
		if ok, _ := satisfies(info, t, now); !ok {
			return &watchState{next: now}
		}
		return &watchState{next: nextRenewal(pol, info.IssuedAt, info.Expiry, now, t.MinLifetime, rand.Float64())}
	}
	rebuild := func(now time.Time) {
		old := sched
		sched = map[string]*watchState{}
		for _, t := range cfg.Tokens {
			if s, ok := old[t.Name]; ok && s.key == watchKey(t) {
				sched[t.Name] = s // unchanged section: keep its schedule
				continue
			}
			s := initial(t, now)
			s.key = watchKey(t)
			sched[t.Name] = s
		}
	}
	rebuild(r.now())
	// ready is what OnReady is told at the next wait: set at start and by
	// each reload, cleared once told.
	ready := &ReadyEvent{}
	reload := r.reloadChan()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := r.now()
		var due []*Token
		next := time.Time{}
		for _, t := range cfg.Tokens {
			s := sched[t.Name]
			if !s.next.After(now) {
				due = append(due, t)
			} else if next.IsZero() || s.next.Before(next) {
				next = s.next
			}
		}
		if len(due) > 0 {
			cache.nextRound()
			l, err := r.lock(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Warn("cannot take the renewal lock, retrying", logError, err, logBackoff, lo)
				for _, t := range due {
					sched[t.Name].next = now.Add(lo)
				}
				continue
			}
			// A stop (ctx done) lets the requests already sent finish,
			// each within its token's timeout, and starts no new ones:
			// cancelling a refresh the issuer has received can leave it
			// holding a rotated refresh token that was never saved, and
			// the account then needs a human. A restart on upgrade stops
			// the watch unit in the middle of rounds.
			started := r.now()
			results := r.renew(context.WithoutCancel(ctx), ctx.Done(), cfg, due, true, cache)
			if ctx.Err() == nil {
				// Not on shutdown: tokens not attempted because of it
				// would be recorded as failures, which would mislead.
				r.report(&Report{Started: started, Finished: r.now(), Tokens: results})
			}
			l.release()
			if ctx.Err() != nil {
				return nil
			}
			now = r.now()
			for i, t := range due {
				s, res := sched[t.Name], results[i]
				if res.Outcome == Failed {
					s.failures++
					perm := res.Class != ClassTransient && res.Class != ClassWrite
					d := backoffDelay(s.failures, perm, lo, hi, rand.Float64())
					s.next = now.Add(d)
					log.Warn("renewal failed, will retry", logToken, t.Name, logClass, res.Class, logBackoff, d)
					continue
				}
				s.failures = 0
				s.next = nextRenewal(pol, res.IssuedAt, res.Expiry, now, t.MinLifetime, rand.Float64())
				log.Debug("next renewal", logToken, t.Name, logNext, s.next.Sub(now).Round(time.Second))
			}
			continue
		}
		wait := time.Hour // nothing scheduled: wait for a reload
		if !next.IsZero() {
			wait = next.Sub(now)
		}
		if ready != nil {
			ready.Tokens = len(cfg.Tokens)
			if r.OnReady != nil {
				r.OnReady(*ready)
			}
			ready = nil
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-reload:
			timer.Stop() // Go ≥ 1.23: no stale tick is delivered after Stop
			ready = &ReadyEvent{Reload: true}
			if cfg.Path == "" {
				log.Warn("configuration has no file name, nothing to reload")
				continue
			}
			nc, err := LoadConfig(cfg.Path)
			if err != nil {
				log.Error("reloading configuration failed, keeping the old one", logError, err)
				ready.Err = err
				continue
			}
			r.mu.Lock()
			r.Config = nc
			r.mu.Unlock()
			cfg = nc
			cache = newAccountCache()
			rebuild(r.now())
			log.Info("configuration reloaded", "tokens", len(cfg.Tokens))
		case <-timer.C:
		}
	}
}

package credmon

import (
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
)

// The decision: when to refresh one token and what to say about it. decide
// is a pure function of its arguments (no logging, no configuration read,
// no I/O, no clock, no random draw of its own), so the schedule is tested
// case by case without a directory or an issuer (decide_test.go). The loop
// gathers the arguments, logs what decide returns and arms the timer.

// tokenID names one token: <user>/<name> in the credential directory.
type tokenID struct{ user, name string }

// state is what the loop remembers of a token across visits: what its
// files cannot say.
type state struct {
	failures  int       // failed attempts in a row on the current inputs
	retryAt   time.Time // no attempt before then (backoff); zero: none
	permanent bool      // the last failure needs a new .top/.meta (or configuration)
	// stale: the local issuer's configuration changed since this token's
	// .use was minted, or a Pelican .top is newer than its .use (a new
	// subject token); mint or exchange again now.
	stale bool
	// lastRefresh is when this daemon last refreshed (or minted) the token
	// from its current .top and .meta: the minimum interval is counted from
	// it, whatever the token's own dates say. Zero after new input.
	lastRefresh time.Time
	// floor is the minimum-interval reason last logged, so it is logged
	// once per token and reason.
	floor   Floor
	lastErr string // the last failure's description, to log changes once
	// plain: the issuer refused the .top's scopes/audience (invalid_target
	// or invalid_scope), so this token is refreshed without them, as the
	// Python credmon does, until its .top, .meta or the configuration
	// changes.
	plain bool
}

// clearFailures forgets the failures of older inputs (a new .top or .meta,
// a new configuration, a success).
func (s *state) clearFailures() {
	s.failures, s.permanent, s.retryAt, s.lastErr = 0, false, time.Time{}, ""
}

// observation is what the token's files said when last read.
type observation struct {
	// odd names a file no retry can fix (tokenObs.odd); "" if none.
	odd     string
	meta    *credfile.Meta // the parsed .meta; nil: none, or metaErr
	metaErr error
	hasUse  bool
	useBad  bool // .use unreadable or unparseable: refresh now
	// issued and expiry bound the .use's lifetime; expiryKnown is false
	// for a .use that says nothing about its expiry.
	issued, expiry time.Time
	expiryKnown    bool
}

// configView is the configuration as it applies to one token; the loop
// builds it (decideFor in loop.go).
type configView struct {
	kind   credfile.Kind
	policy Policy
	// providerProblem says why an OAuth2 token without .meta, or any
	// client-credentials or Pelican token, cannot be refreshed from its
	// provider's configuration ("" when it can).
	providerProblem string
	// localErr: a local token's issuer is misconfigured.
	localErr error
	// vaultMinimum is the minimum_seconds a Vault credential's requests
	// send (CREDMON_OAUTH_TOKEN_MINIMUM).
	vaultMinimum time.Duration
	// A robot token's .top is unusable (robotErr), or names an issuer
	// (robotUntrusted) that the knob robotKnob does not list.
	robotErr                  error
	robotUntrusted, robotKnob string
}

// status is what the loop logs about a decision: a state line (msg, once
// per change: cred.setStatus) and the minimum-interval reason now in force
// with, when it changed, its one-time warning.
type status struct {
	level     hclog.Level
	msg       string
	args      []any
	floor     Floor
	floorNote string
}

// unknownLifetime is assumed for a .use with no expires_in, expires_at or
// JWT exp: HTCondor's default local token lifetime (20 min), so such a
// token is refreshed about every 10 minutes rather than never or always.
const unknownLifetime = 20 * time.Minute

// decide returns when token id should next be refreshed (or minted; zero:
// not until something changes) and what to log about it. draw is the
// token's uniform draw in [0,1) for this .use version (Policy.RefreshAt).
func decide(id tokenID, s state, o observation, cv configView, now time.Time, draw float64) (time.Time, status) {
	st := status{floor: s.floor}
	stop := func(level hclog.Level, msg string, args ...any) (time.Time, status) {
		st.level, st.msg, st.args = level, msg, args
		return time.Time{}, st
	}
	local := cv.kind == credfile.KindLocal
	// Only an OAuth2 token has a client of its own (.meta, or its
	// provider's knobs); a Vault credential's client is Vault.
	oauth := cv.kind == credfile.KindOAuth2
	switch {
	case o.odd != "":
		// Local: no retry can fix it, and a refresh would rotate the grant
		// and then fail to write. Waits until the files change.
		return stop(hclog.Error, fmt.Sprintf("Cannot refresh %s for user %s: %s; remove it", id.name, id.user, o.odd))
	case local && cv.localErr != nil:
		return stop(hclog.Error, fmt.Sprintf("Cannot mint %s for user %s: the local issuer is misconfigured", id.name, id.user), "error", cv.localErr)
	case (local || cv.kind == credfile.KindPelican) && s.stale && !s.permanent:
		// Claims changed (local), or a new subject token arrived
		// (Pelican): mint or exchange again at once (after any backoff).
		if s.retryAt.After(now) {
			return s.retryAt, st
		}
		return now, st
	case oauth && o.metaErr != nil:
		return stop(hclog.Error, fmt.Sprintf("Cannot refresh %s for user %s: unusable .meta", id.name, id.user), "error", o.metaErr)
	case oauth && o.meta != nil && !o.meta.UseRefreshToken:
		return stop(hclog.Debug, "not refreshing: .meta says use_refresh_token is false")
	case oauth && o.meta == nil && cv.providerProblem != "":
		return stop(hclog.Warn, fmt.Sprintf("Cannot refresh %s for user %s: no .meta and %s", id.name, id.user, cv.providerProblem))
	case cv.kind == credfile.KindRobot && cv.robotErr != nil:
		return stop(hclog.Error, fmt.Sprintf("Cannot refresh %s for user %s: unusable self-describing .top", id.name, id.user), "error", cv.robotErr)
	case cv.kind == credfile.KindRobot && cv.robotUntrusted != "":
		// No request at all: the daemon runs as root and must not send a
		// refresh token or client secret where a user's file points it.
		return stop(hclog.Warn, fmt.Sprintf("Leaving %s for user %s alone: its .top names issuer %s, which %s does not list", id.name, id.user, cv.robotUntrusted, cv.robotKnob))
	case (cv.kind == credfile.KindClient || cv.kind == credfile.KindPelican) && cv.providerProblem != "":
		// A client-credentials or Pelican provider's knobs are unusable.
		return stop(hclog.Error, fmt.Sprintf("Cannot refresh %s for user %s: %s", id.name, id.user, cv.providerProblem))
	case s.permanent:
		return time.Time{}, st // until a new .top, .meta or configuration
	}
	// The policy, applied to the .use as observed.
	due := now
	if o.hasUse && !o.useBad {
		t := Times{Issued: o.issued, Expiry: o.expiry, LastRefresh: s.lastRefresh}
		if !o.expiryKnown {
			// A .use that says nothing about its expiry: refresh it as if it
			// lived unknownLifetime.
			t.Expiry = o.issued.Add(unknownLifetime)
		}
		var why Floor
		due, why = cv.policy.RefreshAt(t, now, draw)
		if why != s.floor {
			st.floor = why
			st.floorNote = floorNote(id, o, cv.policy, why, now)
		}
		if cv.kind == credfile.KindVault && o.expiryKnown && cv.vaultMinimum > 0 {
			// Vault hands back its cached token while that has
			// minimum_seconds left: asking sooner gets the same token
			// again. So not before then, if that is still before the
			// job's copy needs a new one (with a minimum below the safety
			// margin, Vault cannot help it: the policy's time stays).
			useful := o.expiry.Add(-cv.vaultMinimum + time.Second)
			if !useful.After(o.expiry.Add(-cv.policy.Safety)) && due.Before(useful) {
				due = useful
			}
		}
	}
	// A .use that is missing or unreadable is written at once, floor or
	// not: a job cannot start without it, and only a local hand (never an
	// issuer or a clock) removes or garbles it.
	if s.retryAt.After(due) {
		due = s.retryAt
	}
	return due, st
}

// floorNote explains that the minimum interval and not the token's
// lifetime set its refresh time (the token would otherwise be refreshed in
// a loop); "" for FloorNone.
func floorNote(id tokenID, o observation, p Policy, why Floor, now time.Time) string {
	interval := max(p.MinInterval, MinIntervalFloor)
	switch why {
	case FloorExpired:
		return fmt.Sprintf("Token %s for user %s was already expired when received (expired %s ago by this machine's clock): the issuer returned an expired token, or the clocks of this machine and the issuer differ by at least that; refreshing it every %s (MIN_REFRESH_INTERVAL) until that changes",
			id.name, id.user, now.Sub(o.expiry).Round(time.Second), interval)
	case FloorShortLife:
		return fmt.Sprintf("Token %s for user %s lives %s, less than SEC_CREDENTIAL_REFRESH + REFRESH_MARGIN (%s) plus MIN_REFRESH_INTERVAL: refreshing it every %s; ask for longer-lived tokens or lower SEC_CREDENTIAL_REFRESH",
			id.name, id.user, o.expiry.Sub(o.issued).Round(time.Second), p.Safety, interval)
	case FloorSkew:
		return fmt.Sprintf("Token %s for user %s was issued at %s, long before this machine's clock says it was received: the clocks of this machine and the issuer differ; refreshing it every %s (MIN_REFRESH_INTERVAL) at most",
			id.name, id.user, o.issued.UTC().Format(time.RFC3339), interval)
	}
	return ""
}

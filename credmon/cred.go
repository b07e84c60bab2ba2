package credmon

import (
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
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
	// vault is what the loop knows of a Vault credential's Vault token.
	vault vaultState
	// robot is what the loop knows of its .top as a robot's (robot.go).
	robot robotState

	status string // last logged state, to log state changes only once
	// statusLevel is status's level: Warn and above with nothing
	// scheduled is what `credmon status` reports as needing a human.
	statusLevel hclog.Level
	base        hclog.Logger
}

// versions identifies the files of one token (zero: absent). parent is
// the .top a Vault handle takes its Vault token from (zero: none, or the
// token has its own).
type versions struct{ top, use, meta, parent atomicfile.ID }

// vaultState is what the loop remembers of a Vault credential's Vault
// token, by fingerprint (vaultTokenID), never the token itself.
type vaultState struct {
	// key is the issuer key of its vault_url (the Vault host), read by
	// the listing; inherits: its .top has no vault_token of its own.
	key      string
	inherits bool
	// isTop: the .top has a vault_url (checked: for that version);
	// byContent: the token is a Vault one for that reason alone, its name
	// belonging to no credmon type.
	isTop, byContent bool
	checked          atomicfile.ID
	id               string    // the Vault token's fingerprint; "" until a job saw it
	expiry           time.Time // when it expires (zero: not known)
	warned           string    // the fingerprint last warned about its expiry
}

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
	// credd stores any JSON credential with a vault_url as a Vault .top,
	// whatever CredSorter says of its name (a robot's condor_store_cred
	// add-oauth on an access point without SEC_CREDENTIAL_STORER), and
	// condor_credmon_vault services it unless VAULT_CREDMON_PROVIDER_NAMES
	// lists others: so does this daemon.
	c.vault.byContent = c.kind == credfile.KindUnknown && c.vault.isTop && m.cfg.VaultAll
	if c.vault.byContent {
		c.kind = credfile.KindVault
	}
	// A robot's self-describing .top without .meta (robot.go) under a
	// name of a type that has no client for it.
	if c.robot.content && c.robot.noMeta && robotCandidate(c.kind) {
		c.kind = credfile.KindRobot
	}
	c.base = m.oauth
	switch c.kind {
	case credfile.KindLocal:
		c.base = m.mintLog
	case credfile.KindVault:
		c.base = m.vaultLog
	case credfile.KindClient:
		c.base = m.clientLog
	case credfile.KindPelican:
		c.base = m.pelicanLog
	}
	if c.kind == credfile.KindUnknown {
		// Plain credentials nobody refreshes.
		c.ignore = "owned by the " + c.kind.String() + " credmon type"
		c.setStatus(hclog.Debug, "not a token of this credmon; leaving it alone", "kind", c.kind.String())
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
	c.statusLevel = level
	if c.status == msg {
		c.logger().Debug(msg, args...)
		return
	}
	c.status = msg
	c.logger().Log(level, msg, args...)
}

func idOf(st *atomicfile.Stat) atomicfile.ID {
	if st == nil {
		return atomicfile.ID{}
	}
	return st.ID()
}

// maxCredFile bounds what we read of any credential file; real ones are a
// few KiB (credd itself caps credentials at 64 KiB).
const maxCredFile = 1 << 20

// forget drops a token whose .top is gone (credd delete or sweep).
func (m *Monitor) forget(c *cred) {
	m.ours.Delete(c.user + "/" + c.name + credfile.SuffixTop)
	m.ours.Delete(c.user + "/" + c.name + credfile.SuffixUse)
	c.ignore = "deleted"
	c.timer.gen++
	c.timer.at = time.Time{}
	c.logger().Debug("credential removed")
}

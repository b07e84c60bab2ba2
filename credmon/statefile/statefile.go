package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Version is the schema version written in State.Version. Fields are only
// ever added within a version.
const Version = 1

// Mode is the state file's mode: it holds user and token names and error
// messages (no secret), so the daemon's user and the group of the
// directory it is in (condor, for $(LOCK)) may read it, others not.
const Mode = 0o640

// MaxSize bounds what Read reads (a snapshot of 10,000 tokens is about
// 4 MiB).
const MaxSize = 64 << 20

// StaleAfter: a running daemon rewrites the file at least once per scan
// interval, but not more often than WriteInterval; a file older than
// StaleAfter times the longer of the two is stale.
const StaleAfter = 2

// WriteInterval is the shortest time between two snapshots the daemon
// writes outside a pass end.
const WriteInterval = 5 * time.Second

// State is the whole snapshot.
type State struct {
	Version   int       `json:"version"`
	Daemon    string    `json:"daemon"` // the daemon (subsystem) name, e.g. CREDMON_OAUTH
	Pid       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	WrittenAt time.Time `json:"written_at"`
	// Stopped is set in the last snapshot a daemon writes as it exits.
	Stopped bool `json:"stopped,omitempty"`
	// ScanIntervalSec is <NAME>_SCAN_INTERVAL: the daemon rewrites the
	// file at least this often while it runs.
	ScanIntervalSec int64        `json:"scan_interval_seconds"`
	CredDir         string       `json:"cred_dir"`
	Credentials     []Credential `json:"credentials"`
}

// Types of Credential.Type: credfile.Kind's names.
const (
	TypeOAuth2  = "oauth2"
	TypeLocal   = "local"
	TypeVault   = "vault"
	TypeClient  = "client"
	TypePelican = "pelican"
	TypeRobot   = "robot"
	TypeUnknown = "unknown" // stored as .use only; no credmon type refreshes it
)

// Credential is one token (<user>/<token>.top and its .use). Field names
// follow `credmon-token status --json` where they mean the same (token,
// expiry, remaining_seconds, error, last_run).
type Credential struct {
	User     string `json:"user"`
	Token    string `json:"token"` // the token name: <provider>[_<handle>]
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type"`
	// Present: a .use exists. Expiry is its expiry (zero: unknown or
	// none); RemainingSec is Expiry - WrittenAt, negative when expired.
	Present      bool      `json:"present"`
	Expiry       time.Time `json:"expiry,omitzero"`
	RemainingSec int64     `json:"remaining_seconds,omitempty"`
	// LastRefresh is when this daemon last refreshed or minted it from
	// its current inputs (zero: not since they changed or it started).
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	// NextRefresh is when it is due next (zero: not scheduled — nothing to
	// do until its files or the configuration change).
	NextRefresh time.Time `json:"next_refresh,omitzero"`
	// Failures in a row on the current inputs, the last one's message
	// (Error, as logged: no secret), and the backoff: no attempt before
	// RetryAt.
	Failures int       `json:"failures,omitempty"`
	Error    string    `json:"error,omitempty"`
	RetryAt  time.Time `json:"retry_at,omitzero"`
	// NeedsHuman says what an admin or the user must do; empty when the
	// daemon copes on its own.
	NeedsHuman string `json:"needs_human,omitempty"`
	// Ignored says why the daemon leaves it alone (not its type), if so.
	Ignored string `json:"ignored,omitempty"`
}

// Read reads and parses the state file at path.
func Read(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxSize)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("%s: schema version %d, this credmon reads %d", path, s.Version, Version)
	}
	return &s, nil
}

// Liveness is what Assess concludes about the daemon that wrote a state.
type Liveness string

const (
	// Running: the pid runs and the file is fresh.
	Running Liveness = "running"
	// Stopped: the daemon wrote its last snapshot on exit, or its pid no
	// longer runs.
	Stopped Liveness = "stopped"
	// Stale: the pid runs (or cannot be checked) but the file is older
	// than StaleAfter scan intervals: the daemon is stuck, or the pid was
	// reused.
	Stale Liveness = "stale"
)

// Assess tells whether s describes a running daemon at now. alive reports
// whether a pid runs (nil: PidAlive).
func Assess(s *State, now time.Time, alive func(pid int) bool) (Liveness, string) {
	if alive == nil {
		alive = PidAlive
	}
	age := now.Sub(s.WrittenAt).Round(time.Second)
	switch {
	case s.Stopped:
		return Stopped, fmt.Sprintf("the daemon (pid %d) stopped at %s; this is its last state", s.Pid, s.WrittenAt.Format(time.RFC3339))
	case !alive(s.Pid):
		return Stopped, fmt.Sprintf("the daemon (pid %d) is not running; this state is from %s (%s ago)", s.Pid, s.WrittenAt.Format(time.RFC3339), age)
	}
	interval := time.Duration(s.ScanIntervalSec) * time.Second
	if interval <= 0 {
		interval = time.Minute
	}
	interval = max(interval, WriteInterval)
	if age > StaleAfter*interval {
		return Stale, fmt.Sprintf("the state was written %s ago, more than %d scan intervals (%s): the daemon (pid %d) is stuck or its pid was reused", age, StaleAfter, interval, s.Pid)
	}
	return Running, fmt.Sprintf("the daemon (pid %d) is running; state written %s ago", s.Pid, age)
}

// PidAlive reports whether process pid exists (signal 0; EPERM means it
// exists under another user).
func PidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ForUser returns the credentials of user (all when user is "").
func (s *State) ForUser(user string) []Credential {
	if user == "" {
		return s.Credentials
	}
	var out []Credential
	for _, c := range s.Credentials {
		if c.User == user {
			out = append(out, c)
		}
	}
	return out
}

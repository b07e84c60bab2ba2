package credmon

// The state snapshot for `credmon status` (package statefile has the
// schema; docs/htcondor-contract.md#state-file). The loop owns every
// token's state, so the snapshot is built on the loop goroutine — plain
// copies of a few fields per token, never a token, refresh token or secret
// — and handed to one writer goroutine, which keeps only the newest and
// writes it through atomicfile (temp file, fsync, rename: a reader sees
// the old snapshot or the new one).

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/statefile"
	"github.com/credmon/credmon/internal/atomicfile"
)

// stateInterval: the loop builds a snapshot at most this often, except at
// the end of a pass and at exit. It wakes at least once per scan interval
// (the scan ticker), so a running daemon's file is never older than that
// (statefile.StaleAfter).
const stateInterval = statefile.WriteInterval

// stateWriter is the loop's side (last, pid, started: loop goroutine
// only) and the writer goroutine's (ch, done, warned).
type stateWriter struct {
	ch      chan stateJob
	done    chan struct{}
	last    time.Time
	started time.Time
	pid     int
	log     hclog.Logger
	warned  string // the write error last logged (writer goroutine)
}

type stateJob struct {
	path string
	st   *statefile.State
}

// startStateWriter starts the writer goroutine (Run).
func (m *Monitor) startStateWriter(pid int) {
	w := &stateWriter{ch: make(chan stateJob, 1), done: make(chan struct{}), started: m.now(), pid: pid, log: m.log}
	m.state = w
	go func() {
		defer close(w.done)
		for j := range w.ch {
			w.write(j)
		}
	}()
}

// stopStateWriter waits for the writer and writes the last snapshot,
// marked stopped, synchronously (Run's exit).
func (m *Monitor) stopStateWriter() {
	w := m.state
	if w == nil {
		return
	}
	close(w.ch)
	<-w.done
	if m.cfg.StateFile != "" {
		st := m.snapshot()
		st.Stopped = true
		w.write(stateJob{path: m.cfg.StateFile, st: st})
	}
}

// saveState hands a snapshot to the writer when stateInterval has passed
// since the last one, or always when force (a pass ended). Loop goroutine.
func (m *Monitor) saveState(force bool) {
	w := m.state
	if w == nil || m.cfg.StateFile == "" {
		return
	}
	now := m.now()
	if !force && now.Sub(w.last) < stateInterval {
		return
	}
	w.last = now
	j := stateJob{path: m.cfg.StateFile, st: m.snapshot()}
	select {
	case w.ch <- j:
	default:
		// The writer is behind: the newest snapshot replaces the queued
		// one (only this goroutine sends, so the slot is then free).
		select {
		case <-w.ch:
		default:
		}
		w.ch <- j
	}
}

func (w *stateWriter) write(j stateJob) {
	data, err := marshalState(j.st)
	if err == nil {
		err = atomicfile.Replace(j.path, data, atomicfile.Options{Mode: statefile.Mode, Owner: stateOwner(j.path), SkipDirSync: true})
	}
	if err == nil {
		w.warned = ""
		return
	}
	msg := err.Error()
	if msg == w.warned {
		return
	}
	w.warned = msg
	if errors.Is(err, fs.ErrNotExist) {
		// The default is in $(LOCK), which the master creates; a daemon
		// run without one (tests, a bare install) only says so.
		w.log.Info(fmt.Sprintf("not writing the state file %s (its directory does not exist; credmon status will not work): create %s or set %s_STATE_FILE",
			j.path, filepath.Dir(j.path), j.st.Daemon))
		return
	}
	w.log.Warn(fmt.Sprintf("writing the state file %s for credmon status", j.path), "error", err)
}

// stateOwner gives the state file the group of its directory ($(LOCK):
// condor) when the daemon runs as root, so that group may read it (mode
// 0640); otherwise the file is the process's.
func stateOwner(path string) *atomicfile.Owner {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &atomicfile.Owner{UID: -1, GID: int(st.Gid)}
}

// snapshot copies what `credmon status` shows of every token. Loop
// goroutine.
func (m *Monitor) snapshot() *statefile.State {
	now := m.now()
	st := &statefile.State{
		Version: statefile.Version, Daemon: m.cfg.Name, Pid: m.state.pid, StartedAt: m.state.started, WrittenAt: now,
		ScanIntervalSec: int64(m.cfg.ScanInterval / time.Second), CredDir: m.dir.Path(), Credentials: []statefile.Credential{},
	}
	for _, us := range m.users {
		for _, c := range us.creds {
			if c.ignore == "deleted" {
				continue
			}
			st.Credentials = append(st.Credentials, c.snapshot(now))
		}
	}
	slices.SortFunc(st.Credentials, func(a, b statefile.Credential) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Token, b.Token))
	})
	return st
}

func (c *cred) snapshot(now time.Time) statefile.Credential {
	s := statefile.Credential{
		User: c.user, Token: c.name, Provider: c.provider, Type: c.kind.String(),
		Present: c.obs.hasUse, LastRefresh: c.state.lastRefresh, NextRefresh: c.timer.due,
		Failures: c.state.failures, Error: c.state.lastErr, Ignored: c.ignore,
	}
	if c.obs.hasUse && c.obs.expiryKnown {
		s.Expiry = c.obs.expiry
		s.RemainingSec = int64(c.obs.expiry.Sub(now) / time.Second)
	}
	if c.state.retryAt.After(now) {
		s.RetryAt = c.state.retryAt
	}
	if c.ignore != "" {
		if c.kind == credfile.KindUnknown {
			s.Ignored = "no credmon type owns this name: credd stored a plain .use, which is never refreshed"
		}
		return s
	}
	expired := c.obs.hasUse && c.obs.expiryKnown && !now.Before(c.obs.expiry)
	switch {
	case c.statusLevel >= hclog.Warn && (c.timer.due.IsZero() || c.state.permanent):
		s.NeedsHuman = c.status
	case expired && c.state.failures > 0:
		s.NeedsHuman = fmt.Sprintf("its .use expired at %s and refreshing keeps failing (%d attempts): %s",
			c.obs.expiry.UTC().Format(time.RFC3339), c.state.failures, c.state.lastErr)
	}
	return s
}

// marshalState is the file's content: indented JSON, one newline at the
// end, for admins who read it with less.
func marshalState(st *statefile.State) ([]byte, error) {
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

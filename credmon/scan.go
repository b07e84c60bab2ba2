package credmon

import (
	"context"
	"errors"
	"io/fs"
	"sort"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/atomicfile"
	"github.com/credmon/credmon/credmon/credfile"
)

// tokenObs is what one listing saw of a token name: the status of each of
// its files, nil when absent.
type tokenObs struct {
	top, use, meta *atomicfile.Stat
}

// userObs maps token name to observation; nil means the user directory is
// gone (or is not a directory we may enter).
type userObs map[string]*tokenObs

type userState struct {
	creds map[string]*cred
}

// pass is one full scan: CREDMON_COMPLETE is touched when its scan is done
// and every refresh it started has finished.
type pass struct {
	id       int
	pending  int
	scanDone bool
}

// fullPass lists the whole directory, reconciles every token, cleans up
// stale key and temp files, and arranges for CREDMON_COMPLETE.
func (m *Monitor) fullPass(ctx context.Context) {
	m.stats.Passes.Add(1)
	m.nextPass++
	p := &pass{id: m.nextPass}
	m.passes[p.id] = p
	now := m.now()

	entries, err := m.dir.ReadDir()
	if err != nil {
		m.log.Error("listing credential directory", "error", err)
	}
	all := make(map[string]userObs)
	for _, e := range entries {
		switch {
		case e.Type.IsDir():
			if credfile.OkayForFilename(e.Name) {
				all[e.Name] = m.listUser(e.Name)
			}
		case e.Type.IsRegular() && (credfile.IsKeyFile(e.Name) || atomicfile.IsTemp(e.Name)):
			st, err := m.dir.Stat(e.Name)
			if err != nil {
				continue
			}
			if staleKeyFile(e.Name, st, now, condorcfg.KeyFileLifetime) || staleTemp(e.Name, st, now, m.tempMaxAge) {
				if err := m.dir.Remove(e.Name); err != nil {
					m.log.Warn("removing stale file", "file", e.Name, "error", err)
				} else {
					m.log.Debug("removed stale file", "file", e.Name)
				}
			}
		}
	}
	m.tempMaxAge = TempMaxAge
	m.prefetch(all)
	for user, obs := range all {
		m.applyUser(user, obs, p)
	}
	for user := range m.users {
		if _, ok := all[user]; !ok {
			m.applyUser(user, nil, p)
		}
	}
	if m.watch != nil {
		m.watch.sync(all)
	}
	p.scanDone = true
	m.maybeComplete(p)
}

func (m *Monitor) maybeComplete(p *pass) {
	if !p.scanDone || p.pending > 0 {
		return
	}
	delete(m.passes, p.id)
	if err := markComplete(m.dir); err != nil {
		m.log.Error("touching CREDMON_COMPLETE", "error", err)
	}
}

// listUser reads one user directory. Entries that are not regular files
// (symlinks, FIFOs, directories) are never token files.
func (m *Monitor) listUser(user string) userObs {
	d, err := m.dir.OpenDir(user)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Debug("skipping user directory", "user", user, "error", err)
		}
		return nil
	}
	defer d.Close()
	entries, err := d.ReadDir()
	if err != nil {
		m.log.Warn("listing user directory", "user", user, "error", err)
		return nil
	}
	now := m.now()
	obs := make(userObs)
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name) {
			if st, err := d.Stat(e.Name); err == nil && staleTemp(e.Name, st, now, m.tempMaxAge) {
				_ = d.Remove(e.Name)
			}
			continue
		}
		name, suffix, ok := credfile.TokenFile(e.Name)
		if !ok {
			continue
		}
		st, err := d.Stat(e.Name)
		if err != nil || !st.IsRegular() {
			continue
		}
		o := obs[name]
		if o == nil {
			o = &tokenObs{}
			obs[name] = o
		}
		s := st
		switch suffix {
		case credfile.SuffixTop:
			o.top = &s
		case credfile.SuffixUse:
			o.use = &s
		case credfile.SuffixMeta:
			o.meta = &s
		}
	}
	return obs
}

// prefetch loads the knobs of every provider seen, in one batch.
func (m *Monitor) prefetch(all map[string]userObs) {
	seen := map[string]bool{}
	var providers []string
	for _, obs := range all {
		for name, o := range obs {
			if o.top == nil {
				continue
			}
			p, _, ok := credfile.SplitName(name, m.cfg.AllowSpecialNames)
			if ok && !seen[p] {
				seen[p] = true
				if !m.seenProviders[p] {
					m.seenProviders[p] = true
					providers = append(providers, p)
				}
			}
		}
	}
	if len(providers) == 0 {
		return
	}
	sort.Strings(providers)
	if err := m.cfg.Prefetch(providers); err != nil {
		m.log.Warn("reading provider configuration", "error", err)
	}
}

// applyUser reconciles the known tokens of user with an observation.
func (m *Monitor) applyUser(user string, obs userObs, p *pass) {
	us := m.users[user]
	if obs == nil {
		if us != nil {
			for _, c := range us.creds {
				m.forget(c)
			}
			delete(m.users, user)
		}
		return
	}
	if us == nil {
		us = &userState{creds: make(map[string]*cred)}
		m.users[user] = us
	}
	for name, o := range obs {
		if o.top == nil {
			continue // plain .use (credd -P) or orphan .meta: not a credmon's
		}
		c := us.creds[name]
		if c == nil {
			c = m.newCred(user, name)
			if c == nil {
				continue
			}
			us.creds[name] = c
		}
		m.evaluate(c, o, p)
	}
	for name, c := range us.creds {
		if o, ok := obs[name]; !ok || o.top == nil {
			m.forget(c)
			delete(us.creds, name)
		}
	}
	if len(us.creds) == 0 {
		delete(m.users, user)
	}
}

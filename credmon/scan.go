package credmon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/atomicfile"
)

// tokenObs is what one listing saw of a token name: the status of each of
// its files, nil when absent.
type tokenObs struct {
	top, use, meta *atomicfile.Stat
	// odd names a .meta that is not a regular file (we never read through a
	// symlink or from a FIFO) or a .use that is a directory (no rename can
	// replace it): no refresh can succeed until someone removes it.
	odd string
	// The contents of the .meta and the .use, read during the listing
	// when the loop has not seen their versions yet (listUser), so a visit
	// opens the user directory once and parses the .meta once.
	metaInfo *credfile.Meta
	metaErr  error
	useData  []byte
	useRead  atomicfile.Stat // the .use as read (its mtime dates it)
	useErr   error
	// A Vault credential's .top, read when its version is new: the issuer
	// key of its vault_url and whether it inherits its parent's Vault
	// token (vaultRead says these were read). parent is that parent's
	// .top (applyUser).
	vaultRead     bool
	vaultTop      bool // a .top with a vault_url
	vaultKey      string
	vaultInherits bool
	parent        *atomicfile.Stat
	// A .top that may be a robot's (robot.go), read when its version is
	// new: whether it is self-describing, its iss, why it is unusable.
	robotRead, robotTop bool
	robotIss            string
	robotErr            error
}

// userObs is one listing of a user directory; nil means the directory is
// gone (or is not a directory we may enter).
type userObs = *userListing

type userListing struct {
	dir    atomicfile.ID // identity of the directory, taken before listing
	tokens map[string]*tokenObs
}

type userState struct {
	creds map[string]*cred
	dir   atomicfile.ID // the user directory's identity when last listed
}

// deepPassEvery makes every n-th periodic pass a deep one (30 minutes at
// the default 60 s interval). The others are shallow: they list only user
// directories whose identity (inode, mtime) changed, which every writer
// HTCondor has (credd, the web app, this daemon) causes, since they all
// replace files by rename. A deep pass re-reads everything; it only
// matters for an in-place edit whose inotify event was lost without an
// overflow report, and costs ~0.3 CPU-s per 10,000 users, so it is rare.
const deepPassEvery = 30

// pass is one full scan: CREDMON_COMPLETE is touched when its scan is done
// and every refresh it started has finished.
type pass struct {
	id       int
	pending  int
	scanDone bool
}

// fullPass lists the whole directory, reconciles every token, cleans up
// stale key and temp files, and arranges for CREDMON_COMPLETE. A shallow
// pass (deep false) skips user directories that did not change since they
// were last listed.
func (m *Monitor) fullPass(ctx context.Context, deep bool) {
	m.stats.Passes.Add(1)
	m.scan.next++
	p := &pass{id: m.scan.next}
	m.scan.passes[p.id] = p
	now := m.now()

	entries, err := m.dir.ReadDir()
	if err != nil {
		m.log.Error("listing credential directory", "error", err)
	}
	listed := make(map[string]userObs)
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		switch {
		case e.Type.IsDir():
			if !credfile.OkayForFilename(e.Name) {
				continue
			}
			present[e.Name] = true
			if !deep {
				if us := m.users[e.Name]; us != nil {
					if st, err := m.dir.Stat(e.Name); err == nil && st.ID() == us.dir {
						continue // unchanged since listed
					}
				}
			}
			listed[e.Name] = m.listUser(e.Name)
		case e.Type.IsRegular() && (credfile.IsKeyFile(e.Name) || atomicfile.IsTemp(e.Name)):
			st, err := m.dir.Stat(e.Name)
			if err != nil {
				continue
			}
			if staleKeyFile(e.Name, st, now, knobs.KeyFileLifetime) || staleTemp(e.Name, st, now, m.scan.tempMaxAge) {
				if err := m.dir.Remove(e.Name); err != nil {
					m.log.Warn("removing stale file", "file", e.Name, "error", err)
				} else {
					m.log.Debug("removed stale file", "file", e.Name)
				}
			}
		}
	}
	m.scan.tempMaxAge = TempMaxAge
	m.prefetch(listed)
	for user, obs := range listed {
		m.applyUser(user, obs, p)
	}
	for user := range m.users {
		if !present[user] {
			m.applyUser(user, nil, p)
		}
	}
	if m.watch != nil {
		m.watch.sync(present)
	}
	// The pass is complete only when every refresh in flight is done, also
	// those of tokens this (shallow) pass did not need to look at.
	for c := range m.q.busy {
		if n := len(c.work.waiters); n == 0 || c.work.waiters[n-1] != p {
			c.work.waiters = append(c.work.waiters, p)
			p.pending++
		}
	}
	p.scanDone = true
	m.maybeComplete(p)
}

func (m *Monitor) maybeComplete(p *pass) {
	if !p.scanDone || p.pending > 0 {
		return
	}
	delete(m.scan.passes, p.id)
	if err := markComplete(m.dir); err != nil {
		m.log.Error("touching CREDMON_COMPLETE", "error", err)
	} else if m.opts.OnComplete != nil {
		m.opts.OnComplete()
	}
	m.saveState(true)
	m.stats.Completed.Add(1)
}

// listUser reads one user directory. Entries that are not regular files
// (symlinks, FIFOs, directories) are never token files.
func (m *Monitor) listUser(user string) userObs {
	m.stats.Listings.Add(1)
	d, err := m.dir.OpenDir(user)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Debug("skipping user directory", "user", user, "error", err)
		}
		return nil
	}
	defer d.Close()
	// Identity first: a change during the listing shows up next pass.
	self, err := d.Self()
	if err != nil {
		return nil
	}
	entries, err := d.ReadDir()
	if err != nil {
		level := hclog.Warn
		if errors.Is(err, fs.ErrNotExist) {
			level = hclog.Debug // removed while we listed it: credd's sweep
		}
		m.log.Log(level, "listing user directory", "user", user, "error", err)
		return nil
	}
	now := m.now()
	obs := &userListing{dir: self.ID(), tokens: make(map[string]*tokenObs)}
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name) {
			if st, err := d.Stat(e.Name); err == nil && staleTemp(e.Name, st, now, m.scan.tempMaxAge) {
				_ = d.Remove(e.Name)
			}
			continue
		}
		name, suffix, ok := credfile.TokenFile(e.Name)
		if !ok {
			continue
		}
		st, err := d.Stat(e.Name)
		if err != nil {
			continue
		}
		o := obs.tokens[name]
		if o == nil {
			o = &tokenObs{}
			obs.tokens[name] = o
		}
		if !st.IsRegular() {
			// A .meta we cannot read, or a .use directory that no rename
			// can replace (a symlink or FIFO at .use is simply replaced).
			if suffix == credfile.SuffixMeta || (suffix == credfile.SuffixUse && st.IsDir()) {
				o.odd = e.Name + " is " + fileType(st)
			}
			continue
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
	// Read, through the same descriptor, the .meta and .use versions the
	// loop has not seen (a token not known yet: all of them). Files of a
	// token that is not ours to refresh are never read.
	var known map[string]*cred
	if us := m.users[user]; us != nil {
		known = us.creds
	}
	var sorter *credfile.Sorter
	for name, o := range obs.tokens {
		c := known[name]
		if o.top == nil {
			continue
		}
		// A Vault credential's queue is its Vault host's, which only its
		// .top names; and a .top under a name no credmon type owns is a
		// Vault one if it has a vault_url (credd's rule when it stored
		// it). The Vault token itself is not kept.
		var vaultish, robotish bool
		switch {
		case c == nil:
			if sorter == nil {
				sorter = m.cfg.Sorter()
			}
			k := m.kindOfName(sorter, name)
			vaultish = k == credfile.KindVault || k == credfile.KindUnknown && m.cfg.VaultAll
			robotish = robotCandidate(k)
		case c.kind == credfile.KindVault:
			vaultish = o.top.ID() != c.seen.top
		case c.kind == credfile.KindUnknown:
			vaultish = m.cfg.VaultAll && o.top.ID() != c.vault.checked
		case c.kind == credfile.KindRobot:
			// Read anyway (below): it may have become a Vault .top.
			vaultish = o.top.ID() != c.robot.checked
		}
		// A robot's .top is read once per version, and only without .meta.
		robotish = o.meta == nil && (robotish || c != nil && robotCandidate(c.kind) && o.top.ID() != c.robot.checked)
		if vaultish {
			o.vaultRead = true
		}
		if vaultish || robotish {
			if b, _, err := d.ReadFile(name+credfile.SuffixTop, maxCredFile); err == nil {
				if t, err := credfile.ParseVaultTop(b); vaultish && err == nil {
					o.vaultTop, o.vaultKey, o.vaultInherits = true, vaultIssuerKey(t.URL), t.Token == ""
				}
				if robotish {
					o.readRobot(b)
				}
			}
		}
		if c != nil && c.ignore != "" {
			continue
		}
		if o.meta != nil && (c == nil || o.meta.ID() != c.seen.meta) {
			var b []byte
			if b, _, o.metaErr = d.ReadFile(name+credfile.SuffixMeta, maxCredFile); o.metaErr == nil {
				o.metaInfo, o.metaErr = credfile.ParseMeta(b)
			}
		}
		if o.use != nil && (c == nil || o.use.ID() != c.seen.use) {
			o.useData, o.useRead, o.useErr = d.ReadFile(name+credfile.SuffixUse, maxCredFile)
		}
	}
	return obs
}

// kindOfName is the credmon type sorter gives the token name (unknown for
// a name without a valid provider).
func (m *Monitor) kindOfName(sorter *credfile.Sorter, name string) credfile.Kind {
	p, _, ok := credfile.SplitName(name, m.cfg.AllowSpecialNames)
	if !ok {
		return credfile.KindUnknown
	}
	return sorter.Sort(p)
}

// prefetch loads the knobs of every provider seen, in one batch.
func (m *Monitor) prefetch(all map[string]userObs) {
	seen := map[string]bool{}
	var providers []string
	for _, obs := range all {
		if obs == nil {
			continue
		}
		for name, o := range obs.tokens {
			if o.top == nil {
				continue
			}
			p, _, ok := credfile.SplitName(name, m.cfg.AllowSpecialNames)
			if ok && !seen[p] {
				seen[p] = true
				if !m.reload.providers[p] {
					m.reload.providers[p] = true
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
	us.dir = obs.dir
	for name, o := range obs.tokens {
		if o.top == nil {
			continue // plain .use (credd -P) or orphan .meta: not a credmon's
		}
		c := us.creds[name]
		if c == nil {
			c = &cred{tokenID: tokenID{user, name}, base: m.oauth}
			c.vault.isTop = o.vaultTop
			c.noteRobot(o)
			m.classify(c)
			us.creds[name] = c
		} else if o.vaultRead && o.vaultTop != c.vault.isTop && (c.kind == credfile.KindUnknown || c.vault.byContent || c.kind == credfile.KindRobot) {
			// Its .top became (or stopped being) a Vault one.
			c.vault.isTop = o.vaultTop
			c.noteRobot(o)
			m.classify(c)
		} else if c.noteRobot(o) {
			m.classify(c) // it became (or stopped being) a robot token
		}
		if o.vaultRead {
			c.vault.checked = o.top.ID()
		}
		if c.kind == credfile.KindVault && (o.vaultInherits || !o.vaultRead && c.vault.inherits) {
			// A new Vault token in the parent is new input for the handle.
			if parent, ok := credfile.VaultParent(name); ok && obs.tokens[parent] != nil {
				o.parent = obs.tokens[parent].top
			}
		}
		m.evaluate(c, o, p)
	}
	for name, c := range us.creds {
		if o, ok := obs.tokens[name]; !ok || o.top == nil {
			m.forget(c)
			delete(us.creds, name)
		}
	}
}

// fileType names a non-regular file's type for an error message.
func fileType(st atomicfile.Stat) string {
	switch {
	case st.IsDir():
		return "a directory"
	case st.Mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case st.Mode&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case st.Mode&fs.ModeSocket != 0:
		return "a socket"
	case st.Mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// evaluate brings c up to date with the files observed and decides when it
// must be refreshed.
func (m *Monitor) evaluate(c *cred, o *tokenObs, p *pass) {
	if c.ignore != "" {
		return
	}
	if c.work.running {
		if o.top.ID() != c.seen.top || idOf(o.meta) != c.seen.meta || o.odd != c.obs.odd || idOf(o.parent) != c.seen.parent {
			c.work.rerun = true
		}
		if p != nil {
			c.work.waiters = append(c.work.waiters, p)
			p.pending++
		}
		return
	}
	now := m.now()
	topID, metaID, useID, parentID := o.top.ID(), idOf(o.meta), idOf(o.use), idOf(o.parent)
	if o.vaultRead {
		c.vault.key, c.vault.inherits = o.vaultKey, o.vaultInherits
	}
	if topID != c.seen.top || metaID != c.seen.meta || o.odd != c.obs.odd || parentID != c.seen.parent {
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
		if c.kind == credfile.KindPelican && o.use != nil &&
			(topID != c.seen.top && !c.seen.top.IsZero() || o.top.Mtime.After(o.use.Mtime)) {
			// The storer replaced the .top (our own .top writes are
			// recorded in seen.top; at start or after a reload, a .top
			// newer than its .use, as PelicanCredmon's ctime test):
			// exchange the new subject token now.
			c.state.stale = true
		}
		c.seen.top, c.seen.parent = topID, parentID
		c.obs.odd = o.odd
		if metaID != c.seen.meta {
			c.seen.meta = metaID
			c.obs.meta, c.obs.metaErr = o.metaInfo, o.metaErr
		}
	}
	if useID != c.seen.use {
		c.seen.use = useID
		c.obs.hasUse = o.use != nil
		c.obs.useBad, c.obs.expiryKnown = false, false
		c.draw = m.rnd.Float64()
		if o.use != nil {
			m.parseUse(c, o)
		}
	}
	c.timer.due = m.decideFor(c, now)
	m.schedule(c, p, now)
}

// parseUse takes in the .use the listing read (listUser).
func (m *Monitor) parseUse(c *cred, o *tokenObs) {
	b, fst, err := o.useData, o.useRead, o.useErr
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

package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/credmon/credmon/credmon/credfile"
)

// credDirKnob names the knob the credential directory came from.
func (c *checker) credDirKnob() string {
	if _, ok := c.cfg.Lookup("SEC_CREDENTIAL_DIRECTORY_OAUTH"); ok {
		return "SEC_CREDENTIAL_DIRECTORY_OAUTH"
	}
	if _, ok := c.cfg.Lookup("SEC_CREDENTIAL_DIRECTORY"); ok {
		return "SEC_CREDENTIAL_DIRECTORY"
	}
	return "SEC_CREDENTIAL_DIRECTORY_OAUTH"
}

// checkCredDir applies the daemon's start-up rule (credmon.PrepareCredDir:
// no "other" bit, rwx for the daemon) and the layout the master and the
// RPM create (root:condor 02770, spec §2.1), without creating anything.
func (c *checker) checkCredDir() {
	knob, dir := c.credDirKnob(), c.cm.CredDir
	if dir == "" {
		c.errorf(knob, "is not set: the daemon has no credential directory",
			"add `use feature:OAUTH` or set SEC_CREDENTIAL_DIRECTORY_OAUTH = /var/lib/condor/oauth_credentials")
		return
	}
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		c.warnf(knob, dir+" does not exist", "condor_master creates it (root:condor 02770) at start, and so does the daemon; or create it with install -d -m 2770 -o root -g condor "+dir)
		return
	}
	if err != nil {
		c.errorf(knob, fmt.Sprintf("%s cannot be resolved: %v", dir, err), "")
		return
	}
	fi, err := os.Lstat(real)
	if err != nil {
		c.errorf(knob, fmt.Sprintf("%s: %v", real, err), "")
		return
	}
	if !fi.IsDir() {
		c.errorf(knob, real+" is not a directory", "point it at a directory (root:condor 02770)")
		return
	}
	perm := fi.Mode().Perm()
	if perm&0o007 != 0 {
		c.errorf(knob, fmt.Sprintf("%s has mode %04o: other users can reach the tokens and the daemon refuses to start", real, perm),
			"chmod 2770 "+real)
	} else if perm&0o070 != 0o070 || fi.Mode()&fs.ModeSetgid == 0 {
		c.warnf(knob, fmt.Sprintf("%s has mode %s, not 02770 (group rwx, setgid): credd and the condor group may not share it as HTCondor expects", real, modeString(fi.Mode())),
			"chmod 2770 "+real)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if c.euid == 0 && st.Uid != 0 {
			c.warnf(knob, fmt.Sprintf("%s is owned by uid %d, not root", real, st.Uid), "chown root:condor "+real)
		}
		if g, err := user.LookupGroup("condor"); err == nil && strconv.FormatUint(uint64(st.Gid), 10) != g.Gid {
			c.warnf(knob, fmt.Sprintf("%s has group gid %d, not condor (gid %s)", real, st.Gid, g.Gid), "chgrp condor "+real)
		}
	}
	if c.euid == os.Geteuid() {
		if err := unix.Access(real, unix.R_OK|unix.W_OK|unix.X_OK); err != nil {
			c.errorf(knob, fmt.Sprintf("%s is not readable, writable and searchable by uid %d: %v", real, c.euid, err),
				"run the daemon as root (the master does) or give its user rwx on the directory")
		}
	}
}

// modeString prints a mode as octal with the setgid/setuid/sticky digit.
func modeString(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}

// tokenNames lists the token names (base names of .top files) in every
// user directory of the credential directory, so that providers claimed
// only by "*" lists (every name with a <P>_CLIENT_ID is OAuth2) are checked
// too. Unreadable directories are skipped: checkCredDir reports them.
func tokenNames(dir string) []string {
	users, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	for _, u := range users {
		if !u.IsDir() || !credfile.OkayForFilename(u.Name()) {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, u.Name()))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if n, suffix, ok := credfile.TokenFile(e.Name()); ok && suffix == credfile.SuffixTop && !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func credfileSplit(v string) []string { return credfile.SplitList(v) }

// checkStateFile: the state file's directory exists, so `credmon status`
// will have something to read (the daemon only logs an info line).
func (c *checker) checkStateFile() {
	path := c.cm.StateFile
	if path == "" {
		c.warnf(c.cm.Name+"_STATE_FILE", "no state file (NONE, or LOCK unset): credmon status cannot report", "set "+c.cm.Name+"_STATE_FILE or LOCK")
		return
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		c.warnf(c.cm.Name+"_STATE_FILE", fmt.Sprintf("the directory of %s: %v: the daemon writes no state and credmon status cannot report", path, err),
			"create "+dir+" (condor_master creates $(LOCK) at start) or set "+c.cm.Name+"_STATE_FILE")
	case !fi.IsDir():
		c.errorf(c.cm.Name+"_STATE_FILE", dir+" is not a directory", "set "+c.cm.Name+"_STATE_FILE to a file in a directory")
	}
}

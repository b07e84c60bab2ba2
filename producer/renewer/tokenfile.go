package renewer

import (
	"io/fs"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/producer/bearer"
)

// readTokenFile reads and decodes the token at path with credmon-token
// get's reader (bearer.ReadInfo), except that a symlink at path reads as
// "no usable token": writeTokenFile replaces such a link, so the file
// judged is the one that would be replaced.
func readTokenFile(path string) (*bearer.Info, error) {
	return bearer.ReadInfo(path, bearer.ReadOptions{NoFollow: true})
}

// satisfies reports whether the token info describes still does what t
// asks for: at least min_lifetime left (bearer.MinLeftFloor at the least)
// and t's audiences and scopes, by bearer.Satisfies, the rule get's
// --minsecs uses too. A scope the issuer expands (CILogon's
// wlcg.capabilityset) is never covered, which degrades to renewing every
// run, osg-token-renewer's behaviour.
func satisfies(info *bearer.Info, t *Token, now time.Time) (ok bool, why string) {
	return bearer.Satisfies(info, now, t.MinLifetime, strings.Fields(t.Audience), strings.Fields(t.Scope))
}

// fresh reports whether a run may keep the token file instead of renewing
// it: only when the section sets min_lifetime (without it every run
// renews, as osg-token-renewer does), and the file satisfies t.
func fresh(info *bearer.Info, t *Token, now time.Time) bool {
	if info == nil || !t.HasMinLifetime {
		return false
	}
	ok, _ := satisfies(info, t, now)
	return ok
}

// writeSpec says how a token file is written.
type writeSpec struct {
	uid, gid int          // -1: default
	mode     *fs.FileMode // nil: keep the existing file's, else 0600
}

// defaultTokenMode is osg-token-renewer's mode for a new token file
// (os.open(..., 0o600)).
const defaultTokenMode fs.FileMode = 0o600

// writeTokenFile atomically replaces path with data (atomicfile.Replace:
// temporary file, chown, chmod, write, fsync, rename, directory fsync).
// Readers see the old token or the new one, never a truncated one
// (osg-token-renewer truncates in place). A symlink at path is replaced,
// never followed: the configuration says where the token lives, and a link
// planted there must neither redirect the write nor stop the renewal; a
// directory or other non-regular file there is an error.
//
// Without owner/group/mode settings the result matches what
// osg-token-renewer's in-place rewrite leaves: an existing file's mode and
// owner and group are kept (best effort: what the process may chown to), a
// new file gets 0600 and the process's ids.
func writeTokenFile(path string, data []byte, ws writeSpec) error {
	o := atomicfile.Options{Mode: defaultTokenMode, KeepMode: true, Symlink: atomicfile.ReplaceSymlink}
	if ws.mode != nil {
		o.Mode, o.KeepMode = *ws.mode, false
	}
	if ws.uid >= 0 || ws.gid >= 0 {
		o.Owner = &atomicfile.Owner{UID: ws.uid, GID: ws.gid}
	} else {
		o.KeepOwner = true
	}
	return atomicfile.Replace(path, data, o)
}

package renewer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sys/unix"

	"github.com/credmon/credmon/internal/atomicfile"
)

// maxTokenFileBytes bounds how much of an existing token file is read.
// WLCG access tokens are a few KiB.
const maxTokenFileBytes = 1 << 20

// tokenInfo is what an access token says about itself, read without
// verifying it (as osg-token-renewer reads the old token's exp).
type tokenInfo struct {
	Expiry   time.Time
	IssuedAt time.Time // zero when the token has no iat
	Audience []string
	Scopes   []string
}

// parseToken decodes a JWT access token without checking its signature.
func parseToken(tok string) (*tokenInfo, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(tok), claims); err != nil {
		return nil, err
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, errors.New("token has no exp claim")
	}
	ti := &tokenInfo{Expiry: exp.Time}
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		ti.IssuedAt = iat.Time
	}
	if aud, err := claims.GetAudience(); err == nil {
		ti.Audience = aud
	}
	switch s := claims["scope"].(type) {
	case string:
		ti.Scopes = strings.Fields(s)
	}
	if ti.Scopes == nil {
		if l, ok := claims["scp"].([]any); ok {
			for _, v := range l {
				if s, ok := v.(string); ok {
					ti.Scopes = append(ti.Scopes, s)
				}
			}
		}
	}
	return ti, nil
}

// readTokenFile reads the token at path without following a symlink at
// path (a symlink reads as "no usable token").
func readTokenFile(path string) (*tokenInfo, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTokenFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxTokenFileBytes)
	}
	return parseToken(string(data))
}

// covers reports whether have contains every word of want (a
// space-separated list; empty wants nothing).
func covers(have []string, want string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range strings.Fields(want) {
		if !set[w] {
			return false
		}
	}
	return true
}

// fresh reports whether the token file may be kept: it says it is valid
// for more than minLifetime after now and has the audiences and scopes
// the token section asks for. A scope the issuer expands (CILogon's
// wlcg.capabilityset) never matches, which degrades to renewing every run,
// osg-token-renewer's behaviour.
func fresh(ti *tokenInfo, t *Token, now time.Time) bool {
	if ti == nil || !t.HasMinLifetime {
		return false
	}
	return ti.Expiry.Sub(now) > t.MinLifetime && covers(ti.Audience, t.Audience) && covers(ti.Scopes, t.Scope)
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

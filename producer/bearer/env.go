package bearer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Environment variables and fallback directory of WLCG Bearer Token
// Discovery (BTD steps 1–4).
const (
	EnvBearerToken     = "BEARER_TOKEN"
	EnvBearerTokenFile = "BEARER_TOKEN_FILE"
	envXDGRuntimeDir   = "XDG_RUNTIME_DIR"
	tmpDir             = "/tmp"
)

// ErrNoToken is returned by Find when no discovery step yields a token.
var ErrNoToken = errors.New("credmon: no bearer token found")

// Env abstracts the environment (os.LookupEnv in production); empty
// variables count as unset. A nil Env means os.LookupEnv.
type Env func(string) (string, bool)

// lookup returns the value of name and whether it is set and non-empty.
// Treating "" as unset follows htdecodetoken's ${XDG_RUNTIME_DIR:-/tmp}
// and avoids the "/bt_u<uid>" (htgettoken) and relative "bt_u<uid>"
// (igwn-auth-utils) paths that set-but-empty variables produce there.
func (e Env) lookup(name string) (string, bool) {
	if e == nil {
		e = os.LookupEnv
	}
	v, ok := e(name)
	if !ok || v == "" {
		return "", false
	}
	return v, true
}

// runtimeDir returns $XDG_RUNTIME_DIR when it is usable: set, non-empty
// and absolute. The XDG Base Directory spec says a relative path in these
// variables is invalid and must be ignored.
func (e Env) runtimeDir() (string, bool) {
	d, ok := e.lookup(envXDGRuntimeDir)
	if !ok || !filepath.IsAbs(d) {
		return "", false
	}
	return d, true
}

// Location is where a token is read from or written to and why.
type Location struct {
	// Path is the file; empty when Source is EnvBearerToken.
	Path string
	// Source is "BEARER_TOKEN", "BEARER_TOKEN_FILE", "XDG_RUNTIME_DIR",
	// "/tmp" or "-o".
	Source string
}

// String returns "path (source)" for logs.
func (l Location) String() string {
	if l.Path == "" {
		return "$" + l.Source
	}
	return l.Path + " (" + l.Source + ")"
}

// fileName returns the BTD per-user file name "bt_u<uid>".
func fileName(uid int) string { return "bt_u" + strconv.Itoa(uid) }

// WritePath returns where a producer writes the token: $BEARER_TOKEN_FILE,
// else $XDG_RUNTIME_DIR/bt_u<uid>, else /tmp/bt_u<uid> (BTD steps 2–4;
// htgettoken's and igwn-robot-get's -o default). uid should be the
// effective uid, as BTD says. BEARER_TOKEN is ignored: a producer cannot
// write into its caller's environment.
func WritePath(env Env, uid int) Location { return writePath(env, uid, tmpDir) }

func writePath(env Env, uid int, tmp string) Location {
	if p, ok := env.lookup(EnvBearerTokenFile); ok {
		return Location{Path: p, Source: EnvBearerTokenFile}
	}
	if d, ok := env.runtimeDir(); ok {
		return Location{Path: filepath.Join(d, fileName(uid)), Source: envXDGRuntimeDir}
	}
	return Location{Path: filepath.Join(tmp, fileName(uid)), Source: tmpDir}
}

// Find runs the discovery a consumer uses and returns the token (whitespace
// stripped, RFC 6750 b64token) and where it came from:
//
//  1. $BEARER_TOKEN, the token itself;
//  2. the file $BEARER_TOKEN_FILE; a missing or unreadable file is an
//     error, not a reason to look further, so a mistyped variable is not
//     masked by an old token elsewhere;
//  3. $XDG_RUNTIME_DIR/bt_u<uid>, if that file exists;
//  4. /tmp/bt_u<uid>.
//
// As BTD says, an empty (all-whitespace) token moves on to the next step
// and an invalid one stops with an error. Step 3 falling through to step 4
// when the file is absent goes beyond BTD's "Otherwise": it makes a login
// shell (XDG_RUNTIME_DIR set) find the token a cron job (XDG_RUNTIME_DIR
// unset) wrote to /tmp. A file that
// exists but is refused by ReadTokenFile stops the search with that error.
func Find(env Env, uid int) (token string, loc Location, err error) {
	return find(env, uid, tmpDir)
}

// find is Find with the step-4 directory as a parameter, for tests.
func find(env Env, uid int, tmp string) (token string, loc Location, err error) {
	if v, ok := env.lookup(EnvBearerToken); ok {
		loc = Location{Source: EnvBearerToken}
		tok, err := parseContent([]byte(v))
		switch {
		case err == nil:
			return tok, loc, nil
		case !errors.Is(err, ErrEmptyToken):
			return "", loc, fmt.Errorf("$%s: %w", EnvBearerToken, err)
		}
	}
	var tried []string
	if p, ok := env.lookup(EnvBearerTokenFile); ok {
		loc = Location{Path: p, Source: EnvBearerTokenFile}
		tok, err := ReadTokenFile(p)
		switch {
		case err == nil:
			return tok, loc, nil
		case !errors.Is(err, ErrEmptyToken):
			return "", loc, fmt.Errorf("$%s: %w", EnvBearerTokenFile, err)
		}
		tried = append(tried, p+" (empty)")
	}
	// The per-user locations: a missing or empty file moves on to the
	// next; any other refusal stops the search.
	var dirs []Location
	if d, ok := env.runtimeDir(); ok {
		dirs = append(dirs, Location{Path: filepath.Join(d, fileName(uid)), Source: envXDGRuntimeDir})
	}
	dirs = append(dirs, Location{Path: filepath.Join(tmp, fileName(uid)), Source: tmpDir})
	for _, l := range dirs {
		loc = l
		tok, err := ReadTokenFile(loc.Path)
		switch {
		case err == nil:
			return tok, loc, nil
		case errors.Is(err, ErrEmptyToken):
			tried = append(tried, loc.Path+" (empty)")
		case errors.Is(err, fs.ErrNotExist):
			tried = append(tried, loc.Path)
		default:
			return "", loc, err
		}
	}
	return "", loc, fmt.Errorf("%w (tried %s)", ErrNoToken, strings.Join(tried, ", "))
}

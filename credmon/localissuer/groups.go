package localissuer

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// GroupsFor returns the groups of user in an AUTHZ_GROUP_MAPFILE, as
// LocalCredmon's get_user_groups finds them:
//
//   - the file is read as lines, with "\n", "\r\n" and "\r" all ending a
//     line (Python text-mode universal newlines);
//   - each line is split on runs of whitespace (Python str.split(): Go's
//     unicode.IsSpace plus the separators U+001C..U+001F);
//   - lines with fewer than three tokens, or whose first token is not
//     exactly "*", are ignored;
//   - the first line whose second token equals user wins: its third token
//     split on "," is the result, empty names included ("a,,b" gives "a",
//     "", "b"), and tokens after the third are ignored.
//
// found reports whether such a line exists; a user without one has no
// groups (Python returns []). Invalid UTF-8 is read leniently here (each bad
// byte is one non-space character); ParseGroupMapfile rejects it, as
// Python's decoder does.
func GroupsFor(mapfile []byte, user string) (groups []string, found bool) {
	data := mapfile
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		u, gs, ok := parseMapLine(line)
		if ok && u == user {
			return gs, true
		}
	}
	return nil, false
}

// GroupMap is a parsed AUTHZ_GROUP_MAPFILE: user to groups, first line
// wins. Parse once per mint pass instead of scanning the file per user.
type GroupMap map[string][]string

// ErrMapfileEncoding is returned by ParseGroupMapfile for a file that is
// not UTF-8. Python opens the mapfile in text mode (UTF-8 under the
// credmon's locale) and fails with UnicodeDecodeError, so no group scopes
// are added and, with AUTHZ_GROUP_REQUIREMENT, no token is minted.
var ErrMapfileEncoding = errors.New("localissuer: group mapfile is not valid UTF-8")

// ParseGroupMapfile parses a whole mapfile with the rules of GroupsFor.
func ParseGroupMapfile(mapfile []byte) (GroupMap, error) {
	if !utf8.Valid(mapfile) {
		return nil, ErrMapfileEncoding
	}
	m := GroupMap{}
	data := mapfile
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		if u, gs, ok := parseMapLine(line); ok {
			if _, dup := m[u]; !dup {
				m[u] = gs
			}
		}
	}
	return m, nil
}

// Groups returns the groups of user and whether the mapfile lists the user.
func (m GroupMap) Groups(user string) ([]string, bool) {
	gs, ok := m[user]
	return gs, ok
}

// nextLine splits off the first line, without its terminator.
func nextLine(data []byte) (line, rest []byte) {
	for i, c := range data {
		switch c {
		case '\n':
			return data[:i], data[i+1:]
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				return data[:i], data[i+2:]
			}
			return data[:i], data[i+1:]
		}
	}
	return data, nil
}

// parseMapLine returns the user and groups of a "* <user> <g1,g2>" line.
func parseMapLine(line []byte) (user string, groups []string, ok bool) {
	tokens := pyFields(string(line), 3)
	if len(tokens) < 3 || tokens[0] != "*" {
		return "", nil, false
	}
	return tokens[1], strings.Split(tokens[2], ","), true
}

// pyFields splits s like Python's str.split() with no separator, stopping
// after max tokens (the rest of the line is never needed).
func pyFields(s string, max int) []string {
	var out []string
	i := 0
	for i < len(s) && len(out) < max {
		// Skip whitespace.
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isPySpace(r) {
				break
			}
			i += size
		}
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if isPySpace(r) {
				break
			}
			i += size
		}
		out = append(out, s[start:i])
	}
	return out
}

// isPySpace reports whether Python's str.isspace() is true for r: Go's
// White_Space set plus the information separators U+001C..U+001F, which
// Python counts because their bidirectional class is B or S. (Checked
// against CPython 3.11 over all code points.) utf8.RuneError from an
// invalid byte is not a space, as it is not in either set.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// SplitAudience splits a TOKEN_AUDIENCE value as LocalCredmon does
// (token_aud.strip().split(), Python whitespace).
func SplitAudience(s string) []string {
	return pyFields(s, len(s)+1)
}

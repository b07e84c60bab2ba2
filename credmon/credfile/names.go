package credfile

import (
	"strings"

	"github.com/credmon/credmon/internal/credname"
)

// File suffixes of the credential directory.
const (
	SuffixTop  = ".top"
	SuffixUse  = ".use"
	SuffixMeta = ".meta"
)

// Names of the daemon's own contract in the credential directory root. The
// scan leaves every other name that is not a user directory or a credd key
// file alone (README.credentials, wsgi_session_key, *.mark, ...).
const (
	PidFile          = "pid"
	CompleteFile     = "CREDMON_COMPLETE"
	keyFileNameChars = "0123456789abcdef"
)

// OkayForFilename reports whether s may be a user, service or handle name,
// using the rule credd applies before it writes anything
// (okay_for_oauth_filename: [A-Za-z0-9-+=_.]). The names "." and ".." and
// names starting with "." are refused as well: credd never writes them and
// they would be directory tricks or hidden files here.
func OkayForFilename(s string) bool {
	return s != "" && s[0] != '.' && credname.OkayForOAuthFilename(s)
}

// ValidProviderName reports whether a configured provider name is acceptable
// (HTCONDOR-2860, since 25.13.2): ^[A-Za-z0-9-]+$ or "*", unless special
// characters are allowed (CREDMON_ALLOW_SPECIAL_CHAR_NAMES), in which case any
// name credd could have written is accepted.
func ValidProviderName(p string, allowSpecial bool) bool {
	if p == "*" {
		return true
	}
	if allowSpecial {
		return OkayForFilename(p)
	}
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SplitName splits a token name (file base name without suffix) into
// provider and handle the way the Python credmon does: at the first "_"
// unless special characters are allowed, in which case the whole name is the
// provider and handles are not supported. ok is false for names that must be
// skipped: empty, ending in "_" (an empty handle), or not a valid file name.
func SplitName(name string, allowSpecial bool) (provider, handle string, ok bool) {
	if !OkayForFilename(name) {
		return "", "", false
	}
	if allowSpecial {
		return name, "", true
	}
	if strings.HasSuffix(name, "_") {
		return "", "", false
	}
	provider, handle, _ = strings.Cut(name, "_")
	if !ValidProviderName(provider, false) {
		return "", "", false
	}
	return provider, handle, true
}

// TokenFile splits a directory entry name into token name and suffix when it
// is one of .top, .use or .meta. Our own temp files, hidden files and
// anything else give ok == false.
func TokenFile(entry string) (name, suffix string, ok bool) {
	if entry == "" || entry[0] == '.' {
		return "", "", false
	}
	for _, s := range [...]string{SuffixTop, SuffixUse, SuffixMeta} {
		if n, found := strings.CutSuffix(entry, s); found && n != "" {
			return n, s, true
		}
	}
	return "", "", false
}

// IsKeyFile reports whether a name in the cred-dir root is a credd key file:
// exactly 64 lowercase hex characters (randomHexKey(32)). Only these are
// garbage-collected by the credmon.
func IsKeyFile(name string) bool {
	if len(name) != 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !strings.ContainsRune(keyFileNameChars, rune(name[i])) {
			return false
		}
	}
	return true
}

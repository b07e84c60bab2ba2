package kerberos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultCCache is MIT's default ticket cache: $KRB5CCNAME, else
// FILE:/tmp/krb5cc_<uid>. (A default_ccache_name in krb5.conf is not read:
// gokrb5's parser does not keep it, and the robots this package serves set
// KRB5CCNAME or pass --ccache when they do not want the default.)
func DefaultCCache() string {
	if v := os.Getenv("KRB5CCNAME"); v != "" {
		return v
	}
	return "FILE:/tmp/krb5cc_" + strconv.Itoa(os.Getuid())
}

// ParseCCacheName returns the file of a ticket cache name as MIT spells it:
// "FILE:/path" or a bare path. Other cache types (KCM:, KEYRING:, DIR:,
// MEMORY:, API:) are refused: only a file cache can be read without the
// MIT library.
func ParseCCacheName(name string) (string, error) {
	return parseFileName("ticket cache", name, "FILE")
}

// ParseKeytabName returns the file of a keytab name as MIT spells it:
// "FILE:/path", "WRFILE:/path" or a bare path.
func ParseKeytabName(name string) (string, error) {
	return parseFileName("keytab", name, "FILE", "WRFILE")
}

// parseFileName splits MIT's "TYPE:residual" names. As in MIT, a prefix
// containing a slash is part of a path, not a type, so "./a:b" is a file.
func parseFileName(what, name string, fileTypes ...string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty %s name", what)
	}
	typ, residual, ok := strings.Cut(name, ":")
	if !ok || typ == "" || strings.Contains(typ, "/") {
		return name, nil
	}
	for _, ft := range fileTypes {
		if typ == ft {
			if residual == "" {
				return "", fmt.Errorf("%s name %q has no file name after the %s: prefix", what, name, typ)
			}
			return residual, nil
		}
	}
	return "", fmt.Errorf("%s type %s: is not supported; use a file (%s:/path)", what, typ, fileTypes[0])
}

// Principal is a Kerberos principal name: its components (the parts
// between slashes, e.g. ["robot", "host.example.org"]) and its realm.
type Principal struct {
	Components []string
	Realm      string
}

// String is the principal in MIT's form, name/instance@REALM.
func (p Principal) String() string {
	return strings.Join(p.Components, "/") + "@" + p.Realm
}

// ParsePrincipal parses "name[/instance...][@REALM]"; a principal without
// a realm is in defaultRealm. MIT's backslash escapes (a literal "/" or "@"
// inside a component) are refused rather than half-supported: no robot
// principal uses them.
func ParsePrincipal(s, defaultRealm string) (Principal, error) {
	if s == "" {
		return Principal{}, fmt.Errorf("empty principal name")
	}
	for _, r := range s {
		if r == '\\' || r <= ' ' || r == 0x7f {
			return Principal{}, fmt.Errorf("principal %q: escapes, spaces and control characters are not supported", s)
		}
	}
	name, realm, hasRealm := strings.Cut(s, "@")
	if hasRealm {
		if realm == "" || strings.Contains(realm, "@") {
			return Principal{}, fmt.Errorf("principal %q: want name@REALM", s)
		}
	} else {
		if defaultRealm == "" {
			return Principal{}, fmt.Errorf("principal %q has no realm and krb5.conf sets no default_realm: write it as %s@REALM", s, s)
		}
		realm = defaultRealm
	}
	comps := strings.Split(name, "/")
	for _, c := range comps {
		if c == "" {
			return Principal{}, fmt.Errorf("principal %q has an empty component", s)
		}
	}
	return Principal{Components: comps, Realm: realm}, nil
}

package condorcfg

import "strings"

// macroKind identifies what a $...( ) reference is, mirroring the special
// macro ids in HTCondor's src/condor_utils/config.cpp.
type macroKind int

const (
	kindNone macroKind = iota
	kindNormal
	kindEnv
	kindRandomChoice
	kindRandomInteger
	kindChoice
	kindSubstr
	kindInt
	kindReal
	kindString
	kindEval
	kindBasename
	kindDirname
	kindFilename
)

// bodyMode says which characters may appear between the parentheses. A
// reference whose body breaks the rule is not a reference at all: HTCondor
// leaves it as literal text and keeps scanning inside it.
type bodyMode int

const (
	bodyAnything bodyMode = iota // up to the first ')'
	bodyIDColon                  // name chars, then optionally ':' and a default
	bodyMetaArg                  // digits and ?#+, then optionally ':' and a default
)

// specialFuncs are the $NAME( prefixes HTCondor recognises (case-sensitive).
var specialFuncs = map[string]macroKind{
	"ENV":            kindEnv,
	"RANDOM_CHOICE":  kindRandomChoice,
	"RANDOM_INTEGER": kindRandomInteger,
	"CHOICE":         kindChoice,
	"SUBSTR":         kindSubstr,
	"INT":            kindInt,
	"REAL":           kindReal,
	"STRING":         kindString,
	"EVAL":           kindEval,
	"BASENAME":       kindBasename,
	"DIRNAME":        kindDirname,
}

// configPrefix classifies the text from '$' up to '(' for ordinary expansion.
// "$$" references are never matched: they belong to the submit/startd side and
// must survive configuration expansion untouched.
func configPrefix(prefix string) (macroKind, bodyMode) {
	if prefix == "$" {
		return kindNormal, bodyIDColon
	}
	if prefix[1] == '$' {
		return kindNone, 0
	}
	if prefix[1] == 'F' && strings.Trim(strings.ToLower(prefix[2:]), "pnxdqabfwu") == "" {
		return kindFilename, bodyAnything
	}
	k := specialFuncs[prefix[1:]]
	if k == kindEnv {
		return k, bodyIDColon
	}
	return k, bodyAnything
}

// metaArgPrefix matches only the $(<n>) metaknob argument references.
func metaArgPrefix(prefix string) (macroKind, bodyMode) {
	if prefix == "$" {
		return kindNormal, bodyMetaArg
	}
	return kindNone, 0
}

// macroRef locates one reference in a string.
type macroRef struct {
	kind   macroKind
	dollar int // index of '$'
	body   int // index just after '('
	colon  int // index just after the first ':' in a name body, or -1
	right  int // index just after ')'
}

func (m macroRef) fn(s string) string { return s[m.dollar+1 : m.body-1] }

func (m macroRef) bodyText(s string) string { return s[m.body : m.right-1] }

// name is the body up to the default separator.
func (m macroRef) name(s string) string {
	if m.colon >= 0 {
		return s[m.body : m.colon-1]
	}
	return m.bodyText(s)
}

func (m macroRef) def(s string) (string, bool) {
	if m.colon < 0 {
		return "", false
	}
	return s[m.colon : m.right-1], true
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '/'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// colonDefExtra are the characters HTCondor (before and after 8.9.7) allows
// in a $(NAME:default) default besides name characters.
const colonDefExtra = "$ ,\\:"

// findMacro returns the first reference at or after from, following
// next_config_macro in config.cpp exactly: a candidate is "$", optionally a
// second "$", then [A-Za-z0-9_]*, then "(". classify decides whether that
// prefix is a reference and how its body is scanned; skip lets callers ignore
// references by kind and body (for $(DOLLAR), self references, ...).
func findMacro(s string, from int, classify func(string) (macroKind, bodyMode), skip func(macroKind, string) bool) (macroRef, bool) {
	t := from
	// No reference can close after the last ')': checking that first keeps
	// "$F($F($F(..." without a ')' linear instead of quadratic.
	lastClose := strings.LastIndexByte(s, ')')
	for {
		var ref macroRef
		var mode bodyMode
		found := false
		for !found {
			i := strings.IndexByte(s[t:], '$')
			if i < 0 {
				return macroRef{}, false
			}
			d := t + i
			p := d + 1
			if p < len(s) && s[p] == '$' {
				p++
			}
			for p < len(s) && (isAlnum(s[p]) || s[p] == '_') {
				p++
			}
			if p < len(s) && s[p] == '(' {
				if k, m := classify(s[d:p]); k != kindNone {
					ref, mode, found = macroRef{kind: k, dollar: d, body: p + 1, colon: -1}, m, true
					continue
				}
			}
			t = p
		}
		if ref.body > lastClose {
			return macroRef{}, false
		}
		v := ref.body
		ok := true
		switch mode {
		case bodyAnything:
			v += strings.IndexByte(s[v:], ')') // found: lastClose >= v
		default:
			for v < len(s) && s[v] != ')' {
				c := s[v]
				v++
				if c == ':' && ref.colon < 0 {
					ref.colon = v
					continue
				}
				if ref.colon >= 0 {
					if c == '(' {
						if j := strings.IndexByte(s[v:], ')'); j >= 0 {
							v += j + 1
							continue
						}
					} else if mode == bodyMetaArg || strings.IndexByte(colonDefExtra, c) >= 0 {
						continue
					}
				}
				if mode == bodyMetaArg {
					ok = isDigit(c) || c == '?' || c == '#' || c == '+'
				} else {
					ok = isIDChar(c)
				}
				if !ok {
					break
				}
			}
		}
		if !ok || v >= len(s) {
			t = ref.body // not a reference; rescan inside it
			continue
		}
		ref.right = v + 1
		if skip != nil && skip(ref.kind, s[ref.body:v]) {
			t = v
			continue
		}
		return ref, true
	}
}

// isDollarBody reports whether a normal reference is $(DOLLAR), which
// HTCondor replaces by "$" only after all other expansion.
func isDollarBody(k macroKind, body string) bool {
	return k == kindNormal && strings.EqualFold(body, "DOLLAR")
}

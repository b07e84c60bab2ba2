package classad

import (
	"fmt"
	"regexp"
	"strings"
)

// HTCondor compiles regexp(), regexps(), replace() and friends with PCRE;
// this package uses Go's regexp (RE2 syntax). Common patterns behave the
// same. The differences that matter:
//
//   - no backreferences (\1 in a pattern), lookahead/lookbehind, atomic
//     groups, possessive quantifiers or \Z: such patterns fail to compile
//     and the function returns ERROR with the reason;
//   - without the "m" option, $ matches only at the very end of the
//     target (PCRE also matches before a final newline);
//   - the "x" (extended) option is not available: ERROR;
//   - with the "g" option, empty matches are found with Go's rule (an
//     empty match right after a previous match is skipped), not PCRE's
//     retry-at-the-same-position loop; results differ only for patterns
//     that can match the empty string.
//
// Options are letters, case-insensitive, unknown ones ignored (manual):
// i (ignore case), m (multi-line ^ $), s (dot matches newline), and for
// substitution f (return the full target with the substitution applied)
// and g (substitute every match).

// regexCache holds a pattern compiled at parse time, when the pattern and
// the options are literals.
type regexCache struct {
	re  *regexp.Regexp
	err Value // ERROR when the literal pattern does not compile
}

type regexOptions struct {
	flags      string // Go inline flags, e.g. "is"
	extended   bool
	full, glob bool
}

func parseRegexOptions(opts string) regexOptions {
	var o regexOptions
	for i := 0; i < len(opts); i++ {
		switch lowerByte(opts[i]) {
		case 'i':
			o.flags += "i"
		case 'm':
			o.flags += "m"
		case 's':
			o.flags += "s"
		case 'x':
			o.extended = true
		case 'f':
			o.full = true
		case 'g':
			o.glob = true
		}
	}
	return o
}

func compileRegex(pattern string, o regexOptions) (*regexp.Regexp, Value) {
	if o.extended {
		return nil, NewError(`regular expression option "x" (extended) is not supported by Go's regexp`)
	}
	p := pattern
	if o.flags != "" {
		p = "(?" + o.flags + ")" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, NewError(fmt.Sprintf("invalid regular expression %q: %v (Go RE2 syntax: no backreferences or lookaround)", pattern, err))
	}
	return re, Value{}
}

// precompile compiles a literal pattern, with literal or absent options at
// args[optsIdx], at parse time.
func precompile(args []Expr, optsIdx int) *regexCache {
	pat, ok := literalString(args[0])
	if !ok {
		return nil
	}
	opts := ""
	if optsIdx < len(args) {
		if opts, ok = literalString(args[optsIdx]); !ok {
			return nil
		}
	}
	re, errv := compileRegex(pat, parseRegexOptions(opts))
	return &regexCache{re: re, err: errv}
}

func literalString(e Expr) (string, bool) {
	if l, ok := e.(*literal); ok {
		return l.v.StringValue()
	}
	return "", false
}

// regex returns the compiled pattern for a call: the parse-time one, or a
// fresh compile of the evaluated arguments.
func (c *call) regex(pattern string, o regexOptions) (*regexp.Regexp, Value) {
	if c.re != nil {
		return c.re.re, c.re.err
	}
	return compileRegex(pattern, o)
}

// substitute implements the replacement part of regexps/replace/replaceall
// (fnCall.cpp regexp_helper): \0..\9 insert groups, a backslash before
// anything else is kept, a group beyond the last one that matched is ERROR.
func substitute(re *regexp.Regexp, target, repl string, o regexOptions) Value {
	var matches [][]int
	if o.glob {
		matches = re.FindAllStringSubmatchIndex(target, -1)
	} else if m := re.FindStringSubmatchIndex(target); m != nil {
		matches = [][]int{m}
	}
	if len(matches) == 0 {
		if o.full {
			return NewString(target)
		}
		return NewString("")
	}
	var out strings.Builder
	prev := 0
	for _, m := range matches {
		if o.full {
			out.WriteString(target[prev:m[0]])
		}
		ngroups := 0 // as pcre_exec's return: highest group that matched, plus one
		for g := 0; 2*g < len(m); g++ {
			if m[2*g] >= 0 {
				ngroups = g + 1
			}
		}
		for i := 0; i < len(repl); i++ {
			if repl[i] != '\\' || i+1 >= len(repl) || !isDigit(repl[i+1]) {
				out.WriteByte(repl[i])
				continue
			}
			i++
			g := int(repl[i] - '0')
			if g >= ngroups {
				return NewError(fmt.Sprintf("replacement refers to group \\%d but the highest group that matched is \\%d", g, ngroups-1))
			}
			if m[2*g] >= 0 {
				out.WriteString(target[m[2*g]:m[2*g+1]])
			}
		}
		prev = m[1]
	}
	if o.full {
		out.WriteString(target[prev:])
	}
	return NewString(out.String())
}

package condorcfg

import (
	"fmt"
	"strconv"
	"strings"
)

// The config language's if/elif conditions are deliberately tiny: after
// macro expansion a condition must be a number, true/false (or yes/no/t/f),
// "defined <name>", "defined use <category>[:<name>]" or "version <op> x.y[.z]",
// optionally preceded by "!". HTCondor rejects anything else ("complex
// conditionals are not supported"), and so do we. See Characterize_config_if_
// expression and Evaluate_config_if in src/condor_utils/config.cpp.

type condClass int

const (
	condEmpty condClass = iota
	condNumber
	condBool
	condIdentifier
	condMacro
	condVersion
	condDefined
	condComplex
)

// Character classes, as in Characterize_config_if_expression.
const (
	ctSpace = 1 << iota
	ctDigit
	ctAlpha
	ctIdent
	ctCmp
	ctSum
	ctLogic
	ctGroup
	ctMoney
	ctColon
	ctOther
	ctFloat
	ctMacro
)

func isCSpace(c byte) bool { return strings.IndexByte(" \t\n\v\f\r", c) >= 0 }

// matchesLiteral compares s to a lower-case literal ignoring case and
// surrounding space; with more=true the literal may be followed by a
// non-alphanumeric character instead of the end.
func matchesLiteral(s, lit string, more bool) bool {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if len(s) < len(lit) || !strings.EqualFold(s[:len(lit)], lit) {
		return false
	}
	rest := s[len(lit):]
	if !more {
		return strings.TrimLeft(rest, " \t\n\v\f\r") == ""
	}
	return rest == "" || !isAlnum(rest[0])
}

func classifyCond(expr string, keywords bool) condClass {
	p := strings.TrimLeft(expr, " \t\n\v\f\r")
	if p == "" {
		return condEmpty
	}
	begin := p
	if p[0] == '-' {
		p = p[1:]
	}
	set := 0
	for i := 0; i < len(p); i++ {
		ch := p[i]
		var next byte
		if i+1 < len(p) {
			next = p[i+1]
		}
		switch {
		case isDigit(ch):
			set |= ctDigit
		case ch == '.':
			if set == ctDigit || next == 0 || isDigit(next) {
				set |= ctFloat
			} else {
				set |= ctIdent
			}
		case ch == 'e' || ch == 'E':
			if set&^ctFloat == ctDigit {
				set |= ctFloat
			} else {
				set |= ctAlpha
			}
		case ch == '-' || ch == '+':
			if set != ctDigit|ctFloat {
				set |= ctSum
			}
		case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			set |= ctAlpha
		case ch == '_' || ch == '/':
			set |= ctIdent
		case ch >= '<' && ch <= '>':
			set |= ctCmp
		case ch == '!' && next == '=':
			set |= ctCmp
		case ch == '$':
			set |= ctMoney
			if next == '(' {
				set |= ctMacro
			}
		case isCSpace(ch):
			if next != 0 && !isCSpace(next) {
				set |= ctSpace
			}
		case ch == '&' || ch == '|':
			set |= ctLogic
		case ch >= '{' && ch <= '}', ch == '(' || ch == ')', ch == '[' || ch == ']':
			set |= ctGroup
		case ch == ':':
			set |= ctColon
		default:
			set |= ctOther
		}
	}
	switch set {
	case 0:
		return condEmpty
	case ctDigit, ctDigit | ctFloat:
		return condNumber
	case ctAlpha:
		if matchesLiteral(expr, "false", false) || matchesLiteral(expr, "true", false) {
			return condBool
		}
		if keywords && matchesLiteral(begin, "version", false) {
			return condVersion
		}
		if keywords && matchesLiteral(begin, "defined", false) {
			return condDefined
		}
		return condIdentifier
	case ctAlpha | ctDigit, ctAlpha | ctDigit | ctFloat, ctAlpha | ctIdent,
		ctAlpha | ctIdent | ctDigit, ctAlpha | ctIdent | ctDigit | ctFloat:
		return condIdentifier
	case ctAlpha | ctSpace | ctCmp | ctDigit, ctAlpha | ctSpace | ctCmp | ctDigit | ctFloat:
		if keywords && matchesLiteral(begin, "version", true) {
			return condVersion
		}
		return condComplex
	case ctAlpha | ctSpace, ctAlpha | ctSpace | ctColon, ctAlpha | ctSpace | ctIdent,
		ctAlpha | ctSpace | ctIdent | ctColon, ctAlpha | ctSpace | ctDigit,
		ctAlpha | ctSpace | ctDigit | ctIdent, ctAlpha | ctSpace | ctDigit | ctFloat,
		ctAlpha | ctSpace | ctDigit | ctIdent | ctFloat:
		if keywords && matchesLiteral(begin, "defined", true) {
			return condDefined
		}
		return condComplex
	}
	if set&ctMacro != 0 && set&^(ctMoney|ctIdent|ctAlpha|ctDigit|ctMacro|ctColon) == 0 {
		return condMacro
	}
	return condComplex
}

func cruftyBool(s string) (val, ok bool) {
	switch {
	case matchesLiteral(s, "yes", false) || matchesLiteral(s, "t", false):
		return true, true
	case matchesLiteral(s, "no", false) || matchesLiteral(s, "f", false):
		return false, true
	}
	return false, false
}

// condEnv is what evaluating a condition needs from the loader.
type condEnv interface {
	expandAll(s string) (string, error)
	rawLookup(name string) (string, bool)
	hasMetaknob(category, item string) bool
	version() condorVersion
}

// testCond evaluates the text after "if"/"elif".
func testCond(expr string, env condEnv) (bool, error) {
	expanded := false
	if strings.Contains(expr, "$") {
		v, err := env.expandAll(expr)
		if err != nil {
			return false, err
		}
		expr, expanded = strings.TrimRight(v, " \t\n\v\f\r"), true
	}
	expr = strings.TrimLeft(expr, " \t\n\v\f\r")
	inverted := false
	if strings.HasPrefix(expr, "!") {
		inverted = true
		expr = strings.TrimLeft(expr[1:], " \t\n\v\f\r")
	}
	if expanded && expr == "" {
		// An undefined $(X) is false, so "if $(X)" tests for truthiness.
		return inverted, nil
	}
	v, err := evalCond(expr, env)
	return v != inverted, err
}

func evalCond(expr string, env condEnv) (bool, error) {
	switch classifyCond(expr, true) {
	case condNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(expr), 64)
		if err != nil {
			return false, fmt.Errorf("%q is not a number", expr)
		}
		return f != 0, nil
	case condBool:
		return matchesLiteral(expr, "true", false), nil
	case condIdentifier:
		if v, ok := cruftyBool(expr); ok {
			return v, nil
		}
	case condVersion:
		return evalVersion(strings.TrimLeft(expr, " \t\n\v\f\r")[len("version"):], env.version())
	case condDefined:
		return evalDefined(strings.TrimLeft(expr, " \t\n\v\f\r")[len("defined"):], env)
	case condComplex:
		return false, fmt.Errorf("complex conditionals are not supported (use a number, true/false, defined <knob>, or version <op> <x.y.z>)")
	}
	return false, fmt.Errorf("expression is not a conditional")
}

func evalDefined(rest string, env condEnv) (bool, error) {
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return false, nil
	}
	switch classifyCond(rest, false) {
	case condIdentifier:
		v, ok := env.rawLookup(rest)
		if !ok {
			_, cruft := cruftyBool(rest)
			return cruft, nil
		}
		return v != "", nil
	case condNumber, condBool:
		return true, nil
	}
	if len(rest) >= 4 && strings.EqualFold(rest[:4], "use ") {
		meta := strings.TrimLeft(rest[4:], " \t\n\v\f\r")
		if strings.ContainsAny(meta, " \t\r") {
			return false, fmt.Errorf("defined use meta argument with internal spaces will never match")
		}
		cat, item, _ := strings.Cut(meta, ":")
		return env.hasMetaknob(cat, item), nil
	}
	return false, fmt.Errorf("defined argument must be param name, boolean, or number")
}

// condorVersion is the HTCondor version "if version" compares against.
type condorVersion struct{ major, minor, sub int }

func (v condorVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.sub) }

func (v condorVersion) cmp(o condorVersion) int {
	switch {
	case v.major != o.major:
		return sign(v.major - o.major)
	case v.minor != o.minor:
		return sign(v.minor - o.minor)
	}
	return sign(v.sub - o.sub)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// scanInts reads up to three dot-separated integers like sscanf("%d.%d.%d").
func scanInts(s string) []int {
	var out []int
	for len(out) < 3 {
		s = strings.TrimLeft(s, " \t\n\v\f\r")
		n, ok := strtol(s)
		if !ok {
			break
		}
		out = append(out, int(n))
		i := 0
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		s = s[i:]
		if len(out) < 3 {
			if !strings.HasPrefix(s, ".") {
				break
			}
			s = s[1:]
		}
	}
	return out
}

func parseVersion(s string) (condorVersion, bool) {
	f := scanInts(s)
	if len(f) < 2 || f[0] < 6 {
		return condorVersion{}, false
	}
	v := condorVersion{major: f[0], minor: f[1], sub: -1}
	if len(f) == 3 {
		v.sub = f[2]
	}
	return v, true
}

// evalVersion handles "version <op> <literal>", where op is one of
// < <= = == > >= != (HTCondor also reads a few odd spellings the same way).
func evalVersion(rest string, ours condorVersion) (bool, error) {
	p := strings.TrimLeft(rest, " \t\n\v\f\r")
	negated := strings.HasPrefix(p, "!")
	if negated {
		p = p[1:]
	}
	op, orEqual := 0, false
	if p != "" && p[0] >= '<' && p[0] <= '>' {
		op = int(p[0]) - '='
		p = p[1:]
	}
	if strings.HasPrefix(p, "=") {
		orEqual = true
		p = p[1:]
	}
	p = strings.TrimLeft(p, " \t\n\v\f\r")
	if p != "" && (p[0] == 'v' || p[0] == 'V') {
		p = p[1:]
	}
	lit, ok := parseVersion(p)
	if !ok {
		return false, fmt.Errorf("the version literal is invalid")
	}
	if lit.sub < 0 {
		lit.sub = ours.sub // HTCondor lets x.y stand for x.y.<our sub-minor>
	}
	diff := ours.cmp(lit)
	res := diff == op || (orEqual && diff == 0)
	return res != negated, nil
}

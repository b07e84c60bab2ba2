package condorcfg

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// function evaluates a macro function reference ($ENV(), $INT(), $Fp(), ...)
// the way HTCondor's param() path does (evaluate_macro_func in config.cpp).
// Functions whose result needs the ClassAd language ($STRING, $EVAL) are
// refused rather than approximated.
func (x *expander) function(s string, m macroRef, chain []string, depth int) (string, error) {
	body := m.bodyText(s)
	switch m.kind {
	case kindEnv:
		if v, ok := x.env.get(m.name(s)); ok {
			return v, nil
		}
		if d, ok := m.def(s); ok {
			return d, nil
		}
		return "UNDEFINED", nil // sic: HTCondor's value for an unset variable
	case kindInt, kindReal:
		return x.numberFunc(m, body, chain, depth)
	case kindChoice:
		return x.choice(body, chain, depth)
	case kindRandomChoice:
		return x.randomChoice(body, chain, depth)
	case kindRandomInteger:
		return randomInteger(body)
	case kindSubstr:
		return x.substr(body, chain, depth)
	case kindBasename, kindDirname, kindFilename:
		v, err := x.argValue(body, chain, depth)
		if err != nil {
			return "", err
		}
		return filenameParts(m.kind, m.fn(s), v), nil
	case kindString, kindEval:
		return "", fmt.Errorf("$%s() needs ClassAd evaluation: %w", m.fn(s), ErrUnsupported)
	}
	return "", fmt.Errorf("$%s(): unknown macro function", m.fn(s))
}

// argValue implements HTCondor's "name or literal" argument rule: if arg
// names a knob its value is used, otherwise arg itself; either is expanded.
func (x *expander) argValue(arg string, chain []string, depth int) (string, error) {
	if v, ok, err := x.lookupExpand(arg, chain, depth); ok || err != nil {
		return v, err
	}
	if !strings.Contains(arg, "$") {
		return arg, nil
	}
	return x.expand(arg, chain, depth+1)
}

func (x *expander) numberFunc(m macroRef, body string, chain []string, depth int) (string, error) {
	fn := "$INT()"
	if m.kind == kindReal {
		fn = "$REAL()"
	}
	name, format, hasFmt := strings.Cut(body, ",")
	if hasFmt {
		return "", fmt.Errorf("%s format argument %q: %w", fn, format, ErrUnsupported)
	}
	v, err := x.argValue(name, chain, depth)
	if err != nil {
		return "", err
	}
	if m.kind == kindInt {
		n, err := parseInteger(v)
		if err != nil {
			return "", fmt.Errorf("%s: %s does not evaluate to an integer", fn, v)
		}
		return strconv.FormatInt(n, 10), nil
	}
	f, err := parseReal(v)
	if err != nil {
		return "", fmt.Errorf("%s: %s does not evaluate to a real", fn, v)
	}
	return strconv.FormatFloat(f, 'G', 16, 64), nil // printf("%.16G")
}

// splitList splits like HTCondor's StringList with "," delimiters: items are
// trimmed and empty items dropped unless keepEmpty.
func splitList(s string, keepEmpty bool) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		it = strings.TrimSpace(it)
		if it != "" || keepEmpty {
			out = append(out, it)
		}
	}
	return out
}

func (x *expander) choice(body string, chain []string, depth int) (string, error) {
	args := splitList(body, true)
	if len(args) == 0 || args[0] == "" {
		return "", fmt.Errorf("$CHOICE(): no index")
	}
	iv, err := x.argValue(args[0], chain, depth)
	if err != nil {
		return "", err
	}
	idx, err := parseInteger(iv)
	if err != nil || idx < 0 || idx >= 1<<31-1 {
		return "", fmt.Errorf("$CHOICE(): %s is an invalid index", iv)
	}
	items := args[1:]
	if len(args) == 2 {
		lv, ok, err := x.lookupExpand(args[1], chain, depth)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("$CHOICE(): no list named %s", args[1])
		}
		items = splitList(lv, true)
	}
	if idx >= int64(len(items)) {
		return "", fmt.Errorf("$CHOICE(): index %d is out of range", idx)
	}
	return items[idx], nil
}

func (x *expander) randomChoice(body string, chain []string, depth int) (string, error) {
	items := splitList(body, false)
	if len(items) == 1 {
		if lv, ok, err := x.lookupExpand(items[0], chain, depth); err != nil {
			return "", err
		} else if ok {
			items = splitList(lv, false)
		}
	}
	if len(items) == 0 {
		return "", fmt.Errorf("$RANDOM_CHOICE(): empty list")
	}
	return items[rand.IntN(len(items))], nil
}

// strtol returns the leading base-10 integer of s (after optional space and
// sign), as C's strtol would, and whether any digit was consumed.
func strtol(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	start := end
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	if end == start {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	return n, err == nil
}

func randomInteger(body string) (string, error) {
	args := splitList(body, false)
	get := func(i int, what string) (int64, error) {
		if i >= len(args) {
			return 0, fmt.Errorf("$RANDOM_INTEGER(): invalid %s", what)
		}
		n, ok := strtol(args[i])
		if !ok {
			return 0, fmt.Errorf("$RANDOM_INTEGER(): invalid %s", what)
		}
		return n, nil
	}
	lo, err := get(0, "min")
	if err != nil {
		return "", err
	}
	hi, err := get(1, "max")
	if err != nil {
		return "", err
	}
	step := int64(1)
	if len(args) > 2 {
		if step, err = get(2, "step"); err != nil {
			return "", err
		}
	}
	if step < 1 {
		return "", fmt.Errorf("$RANDOM_INTEGER(): invalid step")
	}
	if lo > hi {
		return "", fmt.Errorf("$RANDOM_INTEGER(): min > max")
	}
	num := (step + hi - lo) / step
	if num <= 0 {
		return "", fmt.Errorf("$RANDOM_INTEGER(): invalid range")
	}
	return strconv.FormatInt(lo+rand.Int64N(num)*step, 10), nil
}

// substr implements $SUBSTR(name, start[, length]); negative values count
// from the end, as in HTCondor.
func (x *expander) substr(body string, chain []string, depth int) (string, error) {
	name, rest, ok := strings.Cut(body, ",")
	if !ok {
		return "", fmt.Errorf("$SUBSTR(): no length specified")
	}
	startArg, lenArg, hasLen := strings.Cut(rest, ",")
	num := func(arg, what string) (int, error) {
		v, err := x.argValue(arg, chain, depth)
		if err != nil {
			return 0, err
		}
		n, err := parseInteger(v)
		if err != nil || n < -(1<<31) || n >= 1<<31-1 {
			return 0, fmt.Errorf("$SUBSTR(): %s is an invalid %s", v, what)
		}
		return int(n), nil
	}
	start, err := num(startArg, "start index")
	if err != nil {
		return "", err
	}
	length := 1 << 30
	if hasLen {
		if length, err = num(lenArg, "length"); err != nil {
			return "", err
		}
	}
	v, found, err := x.lookupExpand(name, chain, depth)
	if err != nil || !found {
		return "", err
	}
	n := len(v)
	if start < 0 {
		start += n
	}
	start = max(0, min(start, n))
	v = v[start:]
	n = len(v)
	if length < 0 {
		length += n
	}
	length = max(0, min(length, n))
	return v[:length], nil
}

// filenameParts implements $BASENAME(), $DIRNAME() and the $F[pnxdqabfwu]()
// family: p directory with trailing slash, n base name without extension,
// x extension with its dot, d parent directory (repeatable), b bare (no
// trailing slash / leading dot), q/a double/single quote the result, w/u
// convert to \ or / separators. f (make absolute) is a no-op for
// configuration, which has no current directory in HTCondor's evaluation.
func filenameParts(kind macroKind, fn, value string) string {
	parts, numDirs := 0, 0
	var quote, toSep byte
	bare, argQuote, quoted := false, false, false
	switch kind {
	case kindBasename:
		parts = 1 | 2
	case kindDirname:
		parts = 4
	default:
		for i := 1; i < len(fn); i++ {
			switch fn[i] | 0x20 {
			case 'x':
				parts |= 1
			case 'n':
				parts |= 2
			case 'p':
				parts |= 4
			case 'd':
				parts |= 8
				numDirs++
			case 'a':
				argQuote = true
			case 'b':
				bare = true
			case 'w':
				toSep = '\\'
			case 'u':
				toSep = '/'
			case 'q':
				quoted = true
			}
		}
	}
	if quoted {
		quote = '"'
		if argQuote {
			quote = '\''
		}
	}
	p := unquote(value)
	if toSep != 0 {
		from := byte('/')
		if toSep == '/' {
			from = '\\'
		}
		p = strings.ReplaceAll(p, string(from), string(toSep))
	}
	ixn := strings.LastIndexAny(p, "/\\") + 1 // start of the file name
	ixx := len(p)                             // start of the extension
	if dot := strings.LastIndexByte(p[ixn:], '.'); dot >= 0 {
		ixx = ixn + dot
	}
	if ixn == 0 && parts&(2|1) != 0 {
		parts &^= 4 | 8
	}
	var out string
	switch parts & 0xF {
	case 1:
		out = p[ixx:]
		if bare && ixx < len(p) {
			out = out[1:]
		}
	case 2 | 1:
		out = p[ixn:]
	case 2:
		out = p[ixn:ixx]
	case 0, 4 | 2 | 1, 4 | 1:
		out = p
	case 4:
		end := ixn
		if bare && ixn > 0 {
			end--
		}
		out = p[:end]
	case 4 | 2:
		out = p[:ixx]
	default:
		if ixn > 0 {
			start := basenamePlusDirs(p, numDirs)
			end := len(p)
			switch parts & 3 {
			case 2:
				end = ixx
			case 0:
				end = ixn
				if bare {
					end--
				}
			}
			if end < start {
				end = start
			}
			out = p[start:end]
		}
	}
	if quote != 0 {
		out = string(quote) + out + string(quote)
	}
	return out
}

// unquote strips one pair of matching surrounding quotes.
func unquote(s string) string {
	if len(s) > 1 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// basenamePlusDirs returns the index where the file name plus numDirs parent
// directories starts (condor_basename_plus_dirs).
func basenamePlusDirs(p string, numDirs int) int {
	var seps []int
	i := 0
	if strings.HasPrefix(p, `\\`) {
		if strings.HasPrefix(p[2:], `.\`) {
			seps, i = append(seps, 4), 4
		} else {
			seps, i = append(seps, 2), 2
		}
	}
	for ; i < len(p); i++ {
		if p[i] == '/' || p[i] == '\\' {
			seps = append(seps, i+1)
		}
	}
	seps = seps[:max(0, len(seps)-numDirs)]
	if len(seps) > 0 {
		return seps[len(seps)-1]
	}
	return 0
}

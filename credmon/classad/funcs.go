package classad

import (
	"fmt"
	"math"
	"strings"
)

// function is a built-in. Argument counts are checked by Parse. impl gets
// the unevaluated arguments, so ifThenElse can be lazy.
type function struct {
	name             string // canonical spelling, for messages
	minArgs, maxArgs int    // maxArgs < 0: no limit
	regexOpts        int    // >0: args[0] is a pattern, args[regexOpts] its options
	impl             func(ev *evaluator, c *call) Value
}

// functions maps lower-cased names to built-ins. Semantics follow
// HTCondor's implementation (src/classad/fnCall.cpp and, for the
// string-list and split functions, src/condor_utils/compat_classad.cpp)
// where it differs from the manual; docs/reimplementations.md#classad
// lists those differences.
var functions = func() map[string]*function {
	fs := []*function{
		{name: "isUndefined", minArgs: 1, maxArgs: 1, impl: isKind(Undefined)},
		{name: "isError", minArgs: 1, maxArgs: 1, impl: isKind(Error)},
		{name: "isString", minArgs: 1, maxArgs: 1, impl: isKind(String)},
		{name: "isInteger", minArgs: 1, maxArgs: 1, impl: isKind(Int)},
		{name: "isReal", minArgs: 1, maxArgs: 1, impl: isKind(Real)},
		{name: "isBoolean", minArgs: 1, maxArgs: 1, impl: isKind(Bool)},
		{name: "isList", minArgs: 1, maxArgs: 1, impl: isKind(List)},
		// No ClassAd or time values exist here, so these are always false.
		{name: "isClassAd", minArgs: 1, maxArgs: 1, impl: isKind(-1)},
		{name: "isAbsTime", minArgs: 1, maxArgs: 1, impl: isKind(-1)},
		{name: "isRelTime", minArgs: 1, maxArgs: 1, impl: isKind(-1)},

		{name: "member", minArgs: 2, maxArgs: 2, impl: member(false)},
		{name: "identicalMember", minArgs: 2, maxArgs: 2, impl: member(true)},
		{name: "size", minArgs: 1, maxArgs: 1, impl: fnSize},
		{name: "sum", minArgs: 1, maxArgs: 1, impl: sumAvg(false)},
		{name: "avg", minArgs: 1, maxArgs: 1, impl: sumAvg(true)},
		{name: "min", minArgs: 1, maxArgs: 1, impl: minMax(opLt)},
		{name: "max", minArgs: 1, maxArgs: 1, impl: minMax(opGt)},
		{name: "anyCompare", minArgs: 3, maxArgs: 3, impl: listCompare(false)},
		{name: "allCompare", minArgs: 3, maxArgs: 3, impl: listCompare(true)},

		{name: "strcat", minArgs: 0, maxArgs: -1, impl: strcat(false)},
		{name: "join", minArgs: 0, maxArgs: -1, impl: strcat(true)},
		{name: "toUpper", minArgs: 1, maxArgs: 1, impl: changeCase(asciiUpper)},
		{name: "toLower", minArgs: 1, maxArgs: 1, impl: changeCase(asciiLower)},
		{name: "substr", minArgs: 2, maxArgs: 3, impl: fnSubstr},
		{name: "strcmp", minArgs: 2, maxArgs: 2, impl: strcmp(false)},
		{name: "stricmp", minArgs: 2, maxArgs: 2, impl: strcmp(true)},

		{name: "regexp", minArgs: 2, maxArgs: 3, regexOpts: 2, impl: fnRegexp},
		{name: "regexpMember", minArgs: 2, maxArgs: 3, regexOpts: 2, impl: fnRegexpMember},
		{name: "regexps", minArgs: 3, maxArgs: 4, regexOpts: 3, impl: substPattern("")},
		{name: "replace", minArgs: 3, maxArgs: 4, regexOpts: 3, impl: substPattern("f")},
		{name: "replaceAll", minArgs: 3, maxArgs: 4, regexOpts: 3, impl: substPattern("fg")},

		{name: "int", minArgs: 1, maxArgs: 1, impl: convert(toIntValue)},
		{name: "real", minArgs: 1, maxArgs: 1, impl: convert(toRealValue)},
		{name: "string", minArgs: 1, maxArgs: 1, impl: convert(toStringValue)},
		{name: "bool", minArgs: 1, maxArgs: 1, impl: convert(toBoolValue)},
		{name: "floor", minArgs: 1, maxArgs: 1, impl: round(math.Floor)},
		{name: "ceiling", minArgs: 1, maxArgs: 1, impl: round(math.Ceil)},
		{name: "ceil", minArgs: 1, maxArgs: 1, impl: round(math.Ceil)},
		{name: "round", minArgs: 1, maxArgs: 1, impl: round(math.RoundToEven)},

		{name: "ifThenElse", minArgs: 3, maxArgs: 3, impl: fnIfThenElse},

		{name: "stringListSize", minArgs: 1, maxArgs: 2, impl: fnStringListSize},
		{name: "stringListMember", minArgs: 2, maxArgs: 3, impl: stringListMember(false)},
		{name: "stringListIMember", minArgs: 2, maxArgs: 3, impl: stringListMember(true)},
		{name: "stringListsIntersect", minArgs: 2, maxArgs: 3, impl: fnStringListsIntersect},
		{name: "split", minArgs: 1, maxArgs: 2, impl: fnSplit},
		{name: "splitUserName", minArgs: 1, maxArgs: 1, impl: splitAt(false)},
		{name: "splitSlotName", minArgs: 1, maxArgs: 1, impl: splitAt(true)},
	}
	m := make(map[string]*function, len(fs))
	for _, f := range fs {
		m[strings.ToLower(f.name)] = f
	}
	return m
}()

// unsupportedFunctions are HTCondor built-ins this package does not
// implement; Parse names them as unsupported rather than unknown.
var unsupportedFunctions = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, n := range []string{
		// need ClassAd values, the config, the clock, randomness or the OS
		"eval", "unparse", "unresolved", "debug", "random",
		"time", "currentTime", "timeZoneOffset", "dayTime", "getYear", "getMonth",
		"getDayOfYear", "getDayOfMonth", "getDayOfWeek", "getDays", "getHours",
		"getMinutes", "getSeconds", "splitTime", "formatTime", "interval",
		"absTime", "relTime", "userMap", "userHome", "envV1ToV2",
		"mergeEnvironment", "listToArgs", "argsToList", "evalInEachContext",
		"countMatches",
		// not implemented here
		"pow", "quantize", "versioncmp", "versionLE", "versionLT", "versionGE",
		"versionGT", "versionEQ", "version_in_range", "stringListSum",
		"stringListAvg", "stringListMin", "stringListMax",
		"stringListSubsetMatch", "stringListISubsetMatch",
		"stringList_regexpMember",
	} {
		m[strings.ToLower(n)] = struct{}{}
	}
	return m
}()

func isKind(k Kind) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		return NewBool(ev.eval(c.args[0]).kind == k)
	}
}

// operate applies a comparison operator to two values, with the strictness
// rules of the operator.
func operate(op opKind, x, y Value) Value {
	if op == opIs || op == opIsnt {
		same, err := identical(x, y)
		if err != nil {
			return *err
		}
		return NewBool(same == (op == opIs))
	}
	if v, ok := strict(x, y); ok {
		return v
	}
	return compare(op, x, y)
}

func isTrue(v Value) bool { return v.kind == Bool && v.b }

// member(m, l) and identicalMember(m, l): is m == (or =?=) some element.
func member(useIs bool) func(*evaluator, *call) Value {
	op := opEq
	if useIs {
		op = opIs
	}
	return func(ev *evaluator, c *call) Value {
		m, l := ev.eval(c.args[0]), ev.eval(c.args[1])
		if l.kind == Undefined {
			return l
		}
		if !useIs && m.kind == Undefined {
			return m
		}
		if l.kind != List {
			return NewError(fmt.Sprintf("second argument of member is a %s, not a list", l.kind))
		}
		if m.kind == List {
			return NewError("first argument of member is a list, not a scalar")
		}
		if !useIs && m.kind == Error {
			return m
		}
		for i := range l.l.elems {
			if isTrue(operate(op, ev.elem(l.l, i), m)) {
				return NewBool(true)
			}
		}
		return NewBool(false)
	}
}

func fnSize(ev *evaluator, c *call) Value {
	v := ev.eval(c.args[0])
	switch v.kind {
	case Undefined:
		return v
	case String:
		return NewInt(int64(len(v.s)))
	case List:
		return NewInt(int64(len(v.l.elems)))
	case Error:
		return v
	}
	return NewError(fmt.Sprintf("size of a %s", v.kind))
}

// listArg evaluates a list argument: UNDEFINED passes through, anything
// else but a list is ERROR.
func listArg(ev *evaluator, c *call, i int) (*listValue, Value, bool) {
	v := ev.eval(c.args[i])
	switch v.kind {
	case List:
		return v.l, v, true
	case Undefined, Error:
		return nil, v, false
	}
	return nil, NewError(fmt.Sprintf("argument %d of %s is a %s, not a list", i+1, c.fn.name, v.kind)), false
}

func isNumber(v Value) bool { return v.kind == Int || v.kind == Real }

func sumAvg(avg bool) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		l, bad, ok := listArg(ev, c, 0)
		if !ok {
			return bad
		}
		result := NewInt(0)
		for i := range l.elems {
			e := ev.elem(l, i)
			if !isNumber(e) {
				return NewError(fmt.Sprintf("element %d of the list given to %s is a %s, not a number", i, c.fn.name, e.kind))
			}
			if i == 0 {
				result = e
			} else {
				result = arith(opAdd, result, e)
			}
		}
		if avg && len(l.elems) > 0 {
			return arith(opDiv, result, NewReal(float64(len(l.elems))))
		}
		return result
	}
}

// minMax keeps the type of the winning element (fnCall.cpp minMax), so
// max({1, 2.5}) is 2.5 and max({3, 2.5}) is 3.
func minMax(op opKind) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		l, bad, ok := listArg(ev, c, 0)
		if !ok {
			return bad
		}
		result := NewUndefined(c.fn.name + " of an empty list")
		for i := range l.elems {
			e := ev.elem(l, i)
			if !isNumber(e) {
				return NewError(fmt.Sprintf("element %d of the list given to %s is a %s, not a number", i, c.fn.name, e.kind))
			}
			if i == 0 || isTrue(compare(op, e, result)) {
				result = e
			}
		}
		return result
	}
}

var compareOps = map[string]opKind{
	"<": opLt, "<=": opLe, "!=": opNe, "==": opEq, ">": opGt, ">=": opGe, "is": opIs, "isnt": opIsnt,
}

// listCompare is anyCompare/allCompare(op, list, value). Like fnCall.cpp,
// an UNDEFINED comparison ends the scan with false.
func listCompare(all bool) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		opv := ev.eval(c.args[0])
		if opv.kind == Undefined {
			return opv
		}
		op, ok := compareOps[opv.s]
		if opv.kind != String || !ok {
			return NewError(fmt.Sprintf("first argument of %s must be one of < <= == != > >= is isnt, not %s", c.fn.name, opv.describe()))
		}
		l, bad, ok := listArg(ev, c, 1)
		if !ok {
			return bad
		}
		t := ev.eval(c.args[2])
		for i := range l.elems {
			r := operate(op, ev.elem(l, i), t)
			switch {
			case r.kind == Undefined:
				return NewBool(false)
			case r.kind != Bool:
				return r
			case r.b && !all:
				return NewBool(true)
			case !r.b && all:
				return NewBool(false)
			}
		}
		return NewBool(all)
	}
}

// strcat converts every argument with string() and concatenates them;
// join does the same with the first argument as separator, or joins the
// elements of a list given as the last of one or two arguments. The first
// UNDEFINED or ERROR argument, in order, is the result (fnCall.cpp strCat;
// the manual says ERROR for both).
func strcat(isJoin bool) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		items := make([]func() Value, 0, len(c.args))
		for _, a := range c.args {
			items = append(items, func() Value { return ev.eval(a) })
		}
		if n := len(c.args); isJoin && n > 0 && n <= 2 {
			last := ev.eval(c.args[n-1])
			if last.kind == List {
				sep := func() Value { return NewString("") }
				if n == 2 {
					sep = items[0]
				}
				items = append(items[:0], sep)
				for i := range last.l.elems {
					items = append(items, func() Value { return ev.elem(last.l, i) })
				}
			} else {
				items[n-1] = func() Value { return last }
			}
		}
		var b strings.Builder
		sep := ""
		for i, item := range items {
			s, bad, ok := toStringConv(item())
			if !ok {
				return bad
			}
			if isJoin {
				if i == 0 {
					sep = s
					continue
				}
				if i > 1 {
					b.WriteString(sep)
				}
			}
			b.WriteString(s)
		}
		return NewString(b.String())
	}
}

func changeCase(f func(string) string) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		s, bad, ok := toStringConv(ev.eval(c.args[0]))
		if !ok {
			return bad
		}
		return NewString(f(s))
	}
}

// fnSubstr is substr(s, offset[, length]), Perl-like: a negative offset
// counts from the end, a negative length stops that many characters
// before the end, and only the part inside the string is returned.
// Offsets and lengths count bytes, as in HTCondor.
func fnSubstr(ev *evaluator, c *call) Value {
	args := evalArgs(ev, c)
	for _, a := range args {
		if a.kind == Undefined {
			return a
		}
	}
	if args[0].kind != String || args[1].kind != Int || (len(args) == 3 && args[2].kind != Int) {
		return NewError("substr takes a string and one or two integers")
	}
	s := args[0].s
	n := int64(len(s))
	start := args[1].i
	if start < 0 {
		start += n
	} else if start > n {
		start = n
	}
	end := n
	if len(args) == 3 {
		switch l := args[2].i; {
		case l == 0:
			return NewString("")
		case l < 0:
			end = n + l
		case l < n-start:
			end = start + l
		}
	}
	start = max(start, 0)
	if end <= start {
		return NewString("")
	}
	return NewString(s[start:end])
}

func evalArgs(ev *evaluator, c *call) []Value {
	vs := make([]Value, len(c.args))
	for i, a := range c.args {
		vs[i] = ev.eval(a)
	}
	return vs
}

// strcmp and stricmp return -1, 0 or 1 after converting both arguments
// with string().
func strcmp(fold bool) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		x, y := ev.eval(c.args[0]), ev.eval(c.args[1])
		if x.kind == Undefined {
			return x
		}
		if y.kind == Undefined {
			return y
		}
		a, bad, ok := toStringConv(x)
		if !ok {
			return bad
		}
		b, bad, ok := toStringConv(y)
		if !ok {
			return bad
		}
		if fold {
			return NewInt(int64(compareFold(a, b)))
		}
		return NewInt(int64(strings.Compare(a, b)))
	}
}

// regexArgs evaluates the pattern, target-like arguments and options of a
// regexp function: any ERROR wins, then any UNDEFINED (fnCall.cpp
// matchPattern, substPattern). nStr arguments must then be strings.
func regexArgs(ev *evaluator, c *call, nStr int) ([]Value, regexOptions, Value, bool) {
	args := evalArgs(ev, c)
	for _, a := range args {
		if a.kind == Error {
			return nil, regexOptions{}, a, false
		}
	}
	for _, a := range args {
		if a.kind == Undefined {
			return nil, regexOptions{}, a, false
		}
	}
	opts := ""
	if len(args) > c.fn.regexOpts {
		o := args[c.fn.regexOpts]
		if o.kind != String {
			return nil, regexOptions{}, NewError(fmt.Sprintf("options of %s are a %s, not a string", c.fn.name, o.kind)), false
		}
		opts = o.s
	}
	for i := 0; i < nStr; i++ {
		if args[i].kind != String {
			return nil, regexOptions{}, NewError(fmt.Sprintf("argument %d of %s is a %s, not a string", i+1, c.fn.name, args[i].kind)), false
		}
	}
	return args, parseRegexOptions(opts), Value{}, true
}

func fnRegexp(ev *evaluator, c *call) Value {
	args, o, bad, ok := regexArgs(ev, c, 2)
	if !ok {
		return bad
	}
	re, errv := c.regex(args[0].s, o)
	if re == nil {
		return errv
	}
	return NewBool(re.MatchString(args[1].s))
}

// fnRegexpMember is regexpMember(pattern, list[, options]): true if some
// string element matches; UNDEFINED elements make a no-match UNDEFINED,
// other non-strings are ERROR.
func fnRegexpMember(ev *evaluator, c *call) Value {
	args, o, bad, ok := regexArgs(ev, c, 1)
	if !ok {
		return bad
	}
	if args[1].kind != List {
		return NewError(fmt.Sprintf("second argument of regexpMember is a %s, not a list", args[1].kind))
	}
	re, errv := c.regex(args[0].s, o)
	if re == nil {
		return errv
	}
	l := args[1].l
	sawUndefined := false
	for i := range l.elems {
		e := ev.elem(l, i)
		switch e.kind {
		case String:
			if re.MatchString(e.s) {
				return NewBool(true)
			}
		case Undefined:
			sawUndefined = true
		default:
			return NewError(fmt.Sprintf("element %d of the list given to regexpMember is a %s, not a string", i, e.kind))
		}
	}
	if sawUndefined {
		return NewUndefined("no element matched and some were undefined")
	}
	return NewBool(false)
}

// substPattern is regexps (no implied options), replace ("f") and
// replaceAll ("fg").
func substPattern(implied string) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		args, o, bad, ok := regexArgs(ev, c, 3)
		if !ok {
			return bad
		}
		if implied != "" {
			o.full = true
			o.glob = o.glob || strings.Contains(implied, "g")
		}
		re, errv := c.regex(args[0].s, o)
		if re == nil {
			return errv
		}
		return substitute(re, args[1].s, args[2].s, o)
	}
}

func convert(f func(Value) Value) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value { return f(ev.eval(c.args[0])) }
}

// round is floor, ceiling and round: integers unchanged, anything else
// converted with real() first; UNDEFINED becomes ERROR (fnCall.cpp
// doRound). round() rounds half to even, like rint().
func round(f func(float64) float64) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		v := ev.eval(c.args[0])
		if v.kind == Int {
			return v
		}
		r := toRealValue(v)
		if r.kind != Real {
			if r.kind == Error {
				return r
			}
			return NewError(fmt.Sprintf("%s of %s", c.fn.name, v.describe()))
		}
		return truncInt(f(r.r))
	}
}

// fnIfThenElse evaluates only the branch it returns. An UNDEFINED
// condition is UNDEFINED; a string or list condition is ERROR.
func fnIfThenElse(ev *evaluator, c *call) Value {
	cv := ev.eval(c.args[0])
	if isExceptional(cv) {
		return cv
	}
	b, ok := boolEquiv(cv)
	if !ok {
		return NewError(fmt.Sprintf("condition of ifThenElse is a %s", cv.kind))
	}
	if b {
		return ev.eval(c.args[1])
	}
	return ev.eval(c.args[2])
}

// defaultDelims separate string-list items unless a delimiter argument is
// given: "The default delimiter contains the comma and space characters"
// (manual, string list functions).
const defaultDelims = ", "

// splitStringList splits s at any byte of delims, dropping empty items;
// with trim, white space around items is removed first (StringList).
func splitStringList(s, delims string, trim bool) []string {
	var items []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		if trim {
			f = strings.TrimFunc(f, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
		}
		if f != "" {
			items = append(items, f)
		}
	}
	return items
}

// fnStringListSize is stringListSize(list[, delims]); both must be
// strings, UNDEFINED included (compat_classad.cpp).
func fnStringListSize(ev *evaluator, c *call) Value {
	args := evalArgs(ev, c)
	for i, a := range args {
		if a.kind != String {
			if a.kind == Error {
				return a
			}
			return NewError(fmt.Sprintf("argument %d of stringListSize is a %s, not a string", i+1, a.kind))
		}
	}
	delims := defaultDelims
	if len(args) == 2 {
		delims = args[1].s
	}
	return NewInt(int64(len(splitStringList(args[0].s, delims, true))))
}

// stringListMember is stringListMember / stringListIMember(item, list
// [, delims]). An UNDEFINED item or list acts as "", both UNDEFINED give
// UNDEFINED, an UNDEFINED delimiter means the default (compat_classad.cpp).
func stringListMember(fold bool) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		args := evalArgs(ev, c)
		for i, a := range args {
			if a.kind != String && a.kind != Undefined {
				if a.kind == Error {
					return a
				}
				return NewError(fmt.Sprintf("argument %d of %s is a %s, not a string", i+1, c.fn.name, a.kind))
			}
		}
		if args[0].kind == Undefined && args[1].kind == Undefined {
			return args[0]
		}
		delims := defaultDelims
		if len(args) == 3 && args[2].kind == String {
			delims = args[2].s
		}
		for _, item := range splitStringList(args[1].s, delims, true) {
			if item == args[0].s || fold && compareFold(item, args[0].s) == 0 {
				return NewBool(true)
			}
		}
		return NewBool(false)
	}
}

// fnStringListsIntersect is stringListsIntersect(list1, list2[, delims]):
// any ERROR wins, then any UNDEFINED; an empty delimiter string means the
// default; items are not trimmed (fnCall.cpp).
func fnStringListsIntersect(ev *evaluator, c *call) Value {
	args := evalArgs(ev, c)
	if v, ok := firstExceptional(args); ok {
		return v
	}
	for i, a := range args {
		if a.kind != String {
			return NewError(fmt.Sprintf("argument %d of stringListsIntersect is a %s, not a string", i+1, a.kind))
		}
	}
	delims := defaultDelims
	if len(args) == 3 && args[2].s != "" {
		delims = args[2].s
	}
	set := make(map[string]bool)
	for _, item := range splitStringList(args[1].s, delims, false) {
		set[item] = true
	}
	for _, item := range splitStringList(args[0].s, delims, false) {
		if set[item] {
			return NewBool(true)
		}
	}
	return NewBool(false)
}

// firstExceptional returns the first ERROR, else the first UNDEFINED.
func firstExceptional(vs []Value) (Value, bool) {
	for _, v := range vs {
		if v.kind == Error {
			return v, true
		}
	}
	for _, v := range vs {
		if v.kind == Undefined {
			return v, true
		}
	}
	return Value{}, false
}

// fnSplit is split(s[, separators]) (compat_classad.cpp splitArb_func):
// the default separators are comma, space and tab; runs of white space,
// and single separators surrounded by white space, split once, but two
// identical non-space separators in a row produce an empty item between
// them: "a, b" and "a ,b" give {"a","b"}, "a,,b" gives {"a","","b"}.
func fnSplit(ev *evaluator, c *call) Value {
	args := evalArgs(ev, c)
	for i, a := range args {
		if a.kind != String {
			if a.kind == Error {
				return a
			}
			return NewError(fmt.Sprintf("argument %d of split is a %s, not a string", i+1, a.kind))
		}
	}
	s, seps := args[0].s, ", \t"
	if len(args) == 2 {
		seps = args[1].s
	}
	var items []Value
	last := 0
	if seps != "" {
		var prevSep byte // last non-space separator seen; 0: none yet
		havePrev := false
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(seps, s[i]) < 0 {
				continue
			}
			if i > last {
				items = append(items, NewString(s[last:i]))
			} else if havePrev && !isSpace(prevSep) && prevSep == s[i] {
				items = append(items, NewString(""))
			}
			if !isSpace(s[i]) {
				prevSep, havePrev = s[i], true
			}
			last = i + 1
		}
	}
	if len(s) > last {
		items = append(items, NewString(s[last:]))
	}
	return NewList(items...)
}

// splitAt is splitUserName ("user@domain" → {"user","domain"}, no @ →
// {name,""}) and splitSlotName (no @ → {"",name}).
func splitAt(slot bool) func(*evaluator, *call) Value {
	return func(ev *evaluator, c *call) Value {
		v := ev.eval(c.args[0])
		if v.kind != String {
			if v.kind == Error {
				return v
			}
			return NewError(fmt.Sprintf("argument of %s is a %s, not a string", c.fn.name, v.kind))
		}
		if i := strings.IndexByte(v.s, '@'); i >= 0 {
			return NewList(NewString(v.s[:i]), NewString(v.s[i+1:]))
		}
		if slot {
			return NewList(NewString(""), NewString(v.s))
		}
		return NewList(NewString(v.s), NewString(""))
	}
}

package classad

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the type of a Value.
type Kind int

// The value kinds this evaluator produces. ClassAd, absolute-time and
// relative-time values do not exist here: expressions that would need them
// are rejected by Parse.
const (
	Undefined Kind = iota // the zero Value
	Error
	Bool
	Int // int64
	Real
	String
	List
)

// String names the kind the way the ClassAd manual does.
func (k Kind) String() string {
	switch k {
	case Undefined:
		return "undefined"
	case Error:
		return "error"
	case Bool:
		return "boolean"
	case Int:
		return "integer"
	case Real:
		return "real"
	case String:
		return "string"
	case List:
		return "list"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is the result of evaluating an expression. The zero Value is
// Undefined. Values are immutable and safe to copy.
type Value struct {
	kind Kind
	b    bool
	i    int64
	r    float64
	s    string // string payload, or the reason of an Undefined/Error value
	l    *listValue
}

// listValue is a ClassAd list: like HTCondor, it holds the element
// expressions, not their values, and evaluates them on access in the ad the
// list was written in. So string({1+1}) is "{ 1 + 1 }", as in HTCondor.
type listValue struct {
	elems []Expr
	ad    *Ad
}

// NewUndefined returns an Undefined value. The reason, which may be empty,
// is kept for diagnostics only and never affects evaluation.
func NewUndefined(reason string) Value { return Value{kind: Undefined, s: reason} }

// NewError returns an Error value carrying reason for diagnostics.
func NewError(reason string) Value { return Value{kind: Error, s: reason} }

// NewBool returns a boolean value.
func NewBool(b bool) Value { return Value{kind: Bool, b: b} }

// NewInt returns an integer value.
func NewInt(i int64) Value { return Value{kind: Int, i: i} }

// NewReal returns a real value.
func NewReal(r float64) Value { return Value{kind: Real, r: r} }

// NewString returns a string value. ClassAd strings are byte strings; they
// need not be valid UTF-8.
func NewString(s string) Value { return Value{kind: String, s: s} }

// NewList returns a list of the given values.
func NewList(elems ...Value) Value {
	exprs := make([]Expr, len(elems))
	for i, v := range elems {
		exprs[i] = &literal{v: v}
	}
	return Value{kind: List, l: &listValue{elems: exprs}}
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsUndefined reports whether v is Undefined.
func (v Value) IsUndefined() bool { return v.kind == Undefined }

// IsError reports whether v is Error.
func (v Value) IsError() bool { return v.kind == Error }

// Reason explains an Error or Undefined value ("division by zero",
// `attribute "Usrname" is not in the ad`). It is empty for other kinds and
// for the literals error and undefined.
func (v Value) Reason() string {
	if v.kind == Error || v.kind == Undefined {
		return v.s
	}
	return ""
}

// StringValue returns the string payload and true if v is a string.
func (v Value) StringValue() (string, bool) {
	if v.kind != String {
		return "", false
	}
	return v.s, true
}

// BoolValue returns the boolean payload and true if v is a boolean.
func (v Value) BoolValue() (bool, bool) { return v.b, v.kind == Bool }

// IntValue returns the integer payload and true if v is an integer.
func (v Value) IntValue() (int64, bool) { return v.i, v.kind == Int }

// RealValue returns the real payload and true if v is a real.
func (v Value) RealValue() (float64, bool) { return v.r, v.kind == Real }

// List evaluates and returns the elements of a list value, and true if v is
// a list.
func (v Value) List() ([]Value, bool) {
	if v.kind != List {
		return nil, false
	}
	ev := newEvaluator(v.l.ad)
	out := make([]Value, len(v.l.elems))
	for i := range v.l.elems {
		out[i] = ev.elem(v.l, i)
	}
	return out, true
}

// String returns v in ClassAd syntax: "undefined", "error", true, 42,
// 1.5, "a \"quoted\" string", { 1,"x" }. Reals use the shortest form that
// reads back to the same float64 (HTCondor writes %1.15E; both are valid
// ClassAd syntax). A list shows its element expressions unevaluated, as
// HTCondor does ({ 1 + 1 }); use List for the element values. Reasons are
// not part of the syntax and are omitted.
func (v Value) String() string {
	var b strings.Builder
	writeValue(&b, v, formatRealShortest)
	return b.String()
}

// describe renders v for an error message: its kind, and its value or reason.
func (v Value) describe() string {
	switch v.kind {
	case Undefined, Error:
		if v.s != "" {
			return v.kind.String() + " (" + v.s + ")"
		}
		return v.kind.String()
	}
	s := v.String()
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return v.kind.String() + " " + s
}

// realFormat writes a float64 as ClassAd real syntax.
type realFormat func(float64) string

// formatRealShortest is the unparse form: shortest round-tripping digits,
// always recognisably real.
func formatRealShortest(r float64) string {
	if s, ok := specialReal(r); ok {
		return s
	}
	var s string
	if a := math.Abs(r); a == 0 || a >= 1e-4 && a < 1e21 {
		s = strconv.FormatFloat(r, 'f', -1, 64)
	} else {
		s = strconv.FormatFloat(r, 'e', -1, 64)
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// formatRealHTCondor is what HTCondor's string conversion (string(),
// strcat(), join()) produces: sprintf("%1.15E"), and "%.1f" for zero
// (sink.cpp ClassAdUnParser::Unparse).
func formatRealHTCondor(r float64) string {
	if s, ok := specialReal(r); ok {
		return s
	}
	if r == 0 {
		if math.Signbit(r) {
			return "-0.0"
		}
		return "0.0"
	}
	return strconv.FormatFloat(r, 'E', 15, 64)
}

// specialReal spells the reals that have no literal syntax the way
// HTCondor's unparser does; real() reads them back.
func specialReal(r float64) (string, bool) {
	switch {
	case math.IsNaN(r):
		return `real("NaN")`, true
	case math.IsInf(r, 1):
		return `real("INF")`, true
	case math.IsInf(r, -1):
		return `real("-INF")`, true
	case r == 0 && math.Signbit(r):
		return "-0.0", true
	}
	return "", false
}

func writeValue(b *strings.Builder, v Value, rf realFormat) {
	switch v.kind {
	case Undefined:
		b.WriteString("undefined")
	case Error:
		b.WriteString("error")
	case Bool:
		if v.b {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Int:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case Real:
		b.WriteString(rf(v.r))
	case String:
		writeQuoted(b, v.s, '"')
	case List:
		writeList(b, v.l.elems, rf)
	default:
		fmt.Fprintf(b, "<%v>", v.kind)
	}
}

// writeList uses HTCondor's list layout, "{ a,b }" (sink.cpp).
func writeList(b *strings.Builder, elems []Expr, rf realFormat) {
	b.WriteString("{ ")
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		e.unparse(b, rf)
	}
	b.WriteString(" }")
}

// writeQuoted writes s between delim quotes with ClassAd escapes: the
// delimiter, backslash and the C control escapes get backslash forms, other
// control bytes and invalid UTF-8 get 3-digit octal escapes, printable UTF-8
// is written as is. The lexer reads every form back to the same bytes.
func writeQuoted(b *strings.Builder, s string, delim byte) {
	b.WriteByte(delim)
	for i := 0; i < len(s); {
		c := s[i]
		if c == delim {
			b.WriteByte('\\')
			b.WriteByte(c)
			i++
			continue
		}
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
				break
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if c >= 0x80 && r != utf8.RuneError && isPrintRune(r) {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			fmt.Fprintf(b, `\%03o`, c)
		}
		i++
	}
	b.WriteByte(delim)
}

// isPrintRune is unicode.IsPrint without the table lookup for the common
// case; non-ASCII letters and symbols are printed, format and control
// characters escaped.
func isPrintRune(r rune) bool {
	if r < 0xa0 {
		return false // C1 controls and NBSP-adjacent controls
	}
	return strconv.IsPrint(r)
}

package classad

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Conversions between kinds, after value.cpp convertValueTo*Value.

// toStringConv converts v to its string form: strings as they are,
// booleans, numbers and lists unparsed (reals as HTCondor writes them,
// %1.15E). UNDEFINED and ERROR do not convert and are returned as the
// second result.
func toStringConv(v Value) (string, Value, bool) {
	switch v.kind {
	case String:
		return v.s, v, true
	case Undefined, Error:
		return "", v, false
	case List:
		var b strings.Builder
		writeList(&b, v.l.elems, formatRealHTCondor)
		return b.String(), v, true
	}
	var b strings.Builder
	writeValue(&b, v, formatRealHTCondor)
	return b.String(), v, true
}

// toStringValue is string(): UNDEFINED stays UNDEFINED, ERROR stays ERROR.
func toStringValue(v Value) Value {
	s, bad, ok := toStringConv(v)
	if !ok {
		return bad
	}
	return NewString(s)
}

// toRealValue is real(): strings are read like C strtod (leading white
// space, optional sign, decimal or 0x hex, inf, nan; trailing text
// ignored) and scaled by a B/K/M/G/T suffix (powers of 1024).
func toRealValue(v Value) Value {
	switch v.kind {
	case Undefined, Error:
		return v
	case List:
		return NewError("cannot convert a list to real")
	case Bool:
		if v.b {
			return NewReal(1)
		}
		return NewReal(0)
	case Int:
		return NewReal(float64(v.i))
	case Real:
		return v
	}
	r, rest, ok := parseCFloat(v.s)
	if !ok {
		return NewError("string " + strconv.Quote(v.s) + " is not a number")
	}
	return NewReal(r * scaleFactor(rest))
}

// toIntValue is int(): reals truncate toward zero; strings are read like
// real() but truncated before the suffix is applied, as value.cpp does.
// A NaN, infinite or out-of-range result is ERROR (undefined behaviour in
// the C++).
func toIntValue(v Value) Value {
	switch v.kind {
	case Undefined, Error:
		return v
	case List:
		return NewError("cannot convert a list to integer")
	case Bool:
		if v.b {
			return NewInt(1)
		}
		return NewInt(0)
	case Int:
		return v
	case Real:
		return truncInt(v.r)
	}
	r, rest, ok := parseCFloat(v.s)
	if !ok {
		return NewError("string " + strconv.Quote(v.s) + " is not a number")
	}
	i := truncInt(r)
	if i.kind != Int {
		return i
	}
	return truncInt(float64(i.i) * scaleFactor(rest))
}

// truncInt converts a float64 to an integer toward zero, or ERROR when it
// does not fit.
func truncInt(r float64) Value {
	t := math.Trunc(r)
	if math.IsNaN(t) || t < -(1<<63) || t >= 1<<63 {
		return NewError("real " + formatRealShortest(r) + " does not fit in an integer")
	}
	return NewInt(int64(t))
}

// toBoolValue is bool(): numbers are compared with zero, "true" and
// "false" (any case) convert, other strings are UNDEFINED, lists ERROR
// (fnCall.cpp convBool).
func toBoolValue(v Value) Value {
	switch v.kind {
	case Undefined, Error, Bool:
		return v
	case Int:
		return NewBool(v.i != 0)
	case Real:
		return NewBool(v.r != 0)
	case String:
		switch asciiLower(v.s) {
		case "true":
			return NewBool(true)
		case "false":
			return NewBool(false)
		}
		return NewUndefined("string " + strconv.Quote(v.s) + " is neither \"true\" nor \"false\"")
	}
	return NewError("cannot convert a list to boolean")
}

// scaleFactor is Value::ScaleFactor for the suffix letter that may follow
// a number in a string being converted.
func scaleFactor(rest string) float64 {
	if rest == "" {
		return 1
	}
	switch rest[0] {
	case 'k', 'K':
		return 1024
	case 'm', 'M':
		return 1024 * 1024
	case 'g', 'G':
		return 1024 * 1024 * 1024
	case 't', 'T':
		return 1024 * 1024 * 1024 * 1024
	}
	return 1 // includes 'B'
}

// parseCFloat reads the longest prefix of s that C strtod accepts and
// returns its value and the rest of s; ok is false when no number starts s.
func parseCFloat(s string) (float64, string, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	neg := i > start && s[start] == '-'
	word := strings.ToLower(s[i:min(len(s), i+8)])
	switch {
	case strings.HasPrefix(word, "infinity"):
		return math.Inf(sign(neg)), s[i+8:], true
	case strings.HasPrefix(word, "inf"):
		return math.Inf(sign(neg)), s[i+3:], true
	case strings.HasPrefix(word, "nan"):
		return math.NaN(), s[i+3:], true
	}
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		if r, end, ok := parseHexFloat(s, i+2); ok {
			if neg {
				r = -r
			}
			return r, s[end:], true
		}
		// "0x" without hex digits: strtod reads just the 0.
		return 0, s[i+1:], true
	}
	i, digits := scanMantissa(s, i, isDigit)
	if digits == 0 {
		return 0, s, false
	}
	i = scanExponent(s, i, "eE")
	r, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, s, false
	}
	return r, s[i:], true
}

// parseHexFloat reads hex digits [. hex digits] [p exponent] at s[i:].
func parseHexFloat(s string, i int) (float64, int, bool) {
	start := i
	i, digits := scanMantissa(s, i, isHex)
	if digits == 0 {
		return 0, 0, false
	}
	mant := s[start:i]
	exp := "p0"
	if j := scanExponent(s, i, "pP"); j > i {
		exp, i = s[i:j], j
	}
	r, err := strconv.ParseFloat("0x"+mant+exp, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, 0, false
	}
	return r, i, true
}

// scanMantissa skips digits [. digits] at s[i:], digits being those isD
// accepts, and returns where it stopped and how many digits it saw.
func scanMantissa(s string, i int, isD func(byte) bool) (end, digits int) {
	for i < len(s) && isD(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isD(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	return i, digits
}

// scanExponent returns the end of an exponent at s[i:]: one of marks, an
// optional sign and at least one decimal digit. Without the digits it
// returns i, as strtod then stops before the mark.
func scanExponent(s string, i int, marks string) int {
	if i >= len(s) || strings.IndexByte(marks, s[i]) < 0 {
		return i
	}
	j := i + 1
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	if j >= len(s) || !isDigit(s[j]) {
		return i
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j
}

func sign(neg bool) int {
	if neg {
		return -1
	}
	return 1
}

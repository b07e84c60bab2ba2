package classad

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNotString is wrapped by the error EvalString returns when the
// expression evaluates to something other than a string.
var ErrNotString = errors.New("classad: result is not a string")

// maxRefDepth bounds chains of attribute references, like the
// depth_remaining counter of HTCondor's EvalState; past it the reference
// is ERROR.
const maxRefDepth = 1000

// Eval evaluates e in ad. A nil ad is an empty ad. Evaluation never fails:
// problems are Error values, whose Reason says what went wrong.
func Eval(e Expr, ad *Ad) Value {
	if e == nil {
		return NewError("nil expression")
	}
	return newEvaluator(ad).eval(e)
}

// EvalString parses src, evaluates it in ad and returns the resulting
// string. A parse error is returned as is; a result of any other kind is
// an error wrapping ErrNotString that says what the result was.
func EvalString(src string, ad *Ad) (string, error) {
	e, err := Parse(src)
	if err != nil {
		return "", err
	}
	v := Eval(e, ad)
	if s, ok := v.StringValue(); ok {
		return s, nil
	}
	return "", fmt.Errorf("%w: evaluated to %s", ErrNotString, v.describe())
}

// evaluator carries the state of one evaluation: the ad, and the
// attributes being evaluated, to turn circular references into ERROR
// (HTCondor manual, "Attribute References", rule 3).
type evaluator struct {
	ad         *Ad
	inProgress []string // folded names of the attributes being evaluated
}

func newEvaluator(ad *Ad) *evaluator { return &evaluator{ad: ad} }

func (ev *evaluator) eval(e Expr) Value { return e.eval(ev) }

// elem evaluates element i of a list in the ad the list was written in.
func (ev *evaluator) elem(l *listValue, i int) Value {
	if l.ad == ev.ad {
		return l.elems[i].eval(ev)
	}
	return l.elems[i].eval(newEvaluator(l.ad))
}

func (e *literal) eval(*evaluator) Value { return e.v }

func (e *paren) eval(ev *evaluator) Value { return e.x.eval(ev) }

func (e *listExpr) eval(ev *evaluator) Value {
	return Value{kind: List, l: &listValue{elems: e.elems, ad: ev.ad}}
}

func (e *call) eval(ev *evaluator) Value { return e.fn.impl(ev, e) }

func (e *attrRef) eval(ev *evaluator) Value {
	if e.scope == scopeTarget {
		return NewUndefined(fmt.Sprintf("%s.%s: there is no target ad", e.prefix, e.name))
	}
	x, ok := ev.ad.lookupKey(e.key)
	if !ok {
		return missingAttr(e.name)
	}
	if slices.Contains(ev.inProgress, e.key) {
		return NewError(fmt.Sprintf("circular reference to attribute %q", e.name))
	}
	if len(ev.inProgress) >= maxRefDepth {
		return NewError(fmt.Sprintf("attribute references nested more than %d deep", maxRefDepth))
	}
	ev.inProgress = append(ev.inProgress, e.key)
	v := x.eval(ev)
	ev.inProgress = ev.inProgress[:len(ev.inProgress)-1]
	return v
}

// missingAttr is the value of a reference to an attribute the ad lacks.
// HTCondor resolves a few names specially when they are not attributes
// (classad.cpp LookupInScope); those would need ClassAd or time values.
func missingAttr(name string) Value {
	switch foldName(name) {
	case "currenttime":
		return NewError("CurrentTime is time-dependent and not supported by this evaluator")
	case "my", "self", "root", "toplevel":
		return NewError(fmt.Sprintf("%s refers to the ClassAd itself; ClassAd values are not supported", name))
	}
	return NewUndefined(fmt.Sprintf("attribute %q is not in the ad", name))
}

// boolEquiv is Value::IsBooleanValueEquiv: booleans, and numbers compared
// with zero.
func boolEquiv(v Value) (bool, bool) {
	switch v.kind {
	case Bool:
		return v.b, true
	case Int:
		return v.i != 0, true
	case Real:
		return v.r != 0, true
	}
	return false, false
}

func isExceptional(v Value) bool { return v.kind == Undefined || v.kind == Error }

func (e *unary) eval(ev *evaluator) Value {
	v := e.x.eval(ev)
	if isExceptional(v) { // all unary operators are strict
		return v
	}
	switch e.op {
	case opNeg:
		switch v.kind {
		case Int:
			return NewInt(-v.i)
		case Real:
			return NewReal(-v.r)
		}
	case opPos:
		if v.kind == Int || v.kind == Real {
			return v
		}
	case opNot:
		if b, ok := boolEquiv(v); ok {
			return NewBool(!b)
		}
	case opBitNot:
		if v.kind == Int {
			return NewInt(^v.i)
		}
	}
	return NewError(fmt.Sprintf("operator %s is not defined on %s", e.op, v.kind))
}

func (e *cond) eval(ev *evaluator) Value {
	c := e.c.eval(ev)
	if e.t == nil { // c ?: f
		if c.kind != Undefined {
			return c
		}
		return e.f.eval(ev)
	}
	if isExceptional(c) {
		return c
	}
	b, ok := boolEquiv(c)
	if !ok {
		return NewError(fmt.Sprintf("condition of ?: is a %s", c.kind))
	}
	if b {
		return e.t.eval(ev)
	}
	return e.f.eval(ev)
}

func (e *subscript) eval(ev *evaluator) Value {
	x, i := e.x.eval(ev), e.i.eval(ev)
	if v, ok := strict(x, i); ok {
		return v
	}
	if x.kind != List || i.kind != Int {
		return NewError(fmt.Sprintf("cannot subscript a %s with a %s", x.kind, i.kind))
	}
	if i.i < 0 || i.i >= int64(len(x.l.elems)) {
		return NewError(fmt.Sprintf("subscript %d out of range for a list of %d", i.i, len(x.l.elems)))
	}
	return ev.elem(x.l, int(i.i))
}

// strict implements the rule shared by strict operators: ERROR if either
// operand is ERROR, else UNDEFINED if either is UNDEFINED (operators.cpp
// _doOperation checks both errors before both undefineds).
func strict(x, y Value) (Value, bool) {
	switch {
	case x.kind == Error:
		return x, true
	case y.kind == Error:
		return y, true
	case x.kind == Undefined:
		return x, true
	case y.kind == Undefined:
		return y, true
	}
	return Value{}, false
}

func (e *binary) eval(ev *evaluator) Value {
	switch e.op {
	case opAnd:
		x := e.x.eval(ev)
		if b, ok := boolEquiv(x); ok && !b {
			return NewBool(false)
		}
		return logicalAnd(x, e.y.eval(ev))
	case opOr:
		x := e.x.eval(ev)
		if b, ok := boolEquiv(x); ok && b {
			return NewBool(true)
		}
		return logicalOr(x, e.y.eval(ev))
	case opIs, opIsnt:
		same, err := identical(e.x.eval(ev), e.y.eval(ev))
		if err != nil {
			return *err
		}
		return NewBool(same == (e.op == opIs))
	}
	x, y := e.x.eval(ev), e.y.eval(ev)
	if v, ok := strict(x, y); ok {
		return v
	}
	switch e.op {
	case opEq, opNe, opLt, opLe, opGt, opGe:
		return compare(e.op, x, y)
	case opAdd, opSub, opMul, opDiv, opMod:
		return arith(e.op, x, y)
	}
	return bitwise(e.op, x, y)
}

// asLogical coerces numbers to booleans and reports whether the operand is
// acceptable to && and || (boolean, UNDEFINED or ERROR); strings and lists
// are not (operators.cpp doLogical).
func asLogical(v Value) (Value, bool) {
	if b, ok := boolEquiv(v); ok {
		return NewBool(b), true
	}
	return v, isExceptional(v)
}

// logicalAnd is the non-strict &&: false && x is false for any x, and
// UNDEFINED && false is false.
func logicalAnd(x, y Value) Value {
	x, okx := asLogical(x)
	y, oky := asLogical(y)
	switch {
	case !okx:
		return NewError(fmt.Sprintf("operand of && is a %s", x.kind))
	case !oky:
		return NewError(fmt.Sprintf("operand of && is a %s", y.kind))
	case x.kind == Bool && !x.b:
		return x
	case x.kind == Error:
		return x
	case x.kind == Bool: // true && y
		return y
	case y.kind != Bool: // UNDEFINED && UNDEFINED/ERROR
		return y
	case !y.b:
		return y
	}
	return x // UNDEFINED && true
}

// logicalOr is the non-strict ||: true || x is true for any x, and
// UNDEFINED || true is true.
func logicalOr(x, y Value) Value {
	x, okx := asLogical(x)
	y, oky := asLogical(y)
	switch {
	case !okx:
		return NewError(fmt.Sprintf("operand of || is a %s", x.kind))
	case !oky:
		return NewError(fmt.Sprintf("operand of || is a %s", y.kind))
	case x.kind == Bool && x.b:
		return x
	case x.kind == Error:
		return x
	case x.kind == Bool: // false || y
		return y
	case y.kind != Bool:
		return y
	case y.b:
		return y
	}
	return x // UNDEFINED || false
}

// identical implements =?= (is): same kind and same value, strings compared
// case-sensitively; never UNDEFINED. Lists cannot be compared: ERROR, as
// in operators.cpp doComparison.
func identical(x, y Value) (bool, *Value) {
	if x.kind != y.kind {
		return false, nil
	}
	switch x.kind {
	case Undefined, Error:
		return true, nil
	case String:
		return x.s == y.s, nil
	case Int:
		return x.i == y.i, nil
	case Real:
		return x.r == y.r, nil
	case Bool:
		return x.b == y.b, nil
	}
	v := NewError("=?= and =!= are not defined on lists")
	return false, &v
}

// compare implements == != < <= > >= on non-exceptional operands: strings
// with strings, case-insensitively; numbers with numbers, booleans counting
// as 0 and 1; anything else is ERROR.
func compare(op opKind, x, y Value) Value {
	if x.kind == List || y.kind == List {
		return NewError(fmt.Sprintf("operator %s is not defined on lists", op))
	}
	var c int
	switch {
	case x.kind == String && y.kind == String:
		c = compareFold(x.s, y.s)
	case x.kind == String || y.kind == String:
		return NewError(fmt.Sprintf("cannot compare %s with %s", x.kind, y.kind))
	default:
		x, y = boolToInt(x), boolToInt(y)
		if x.kind == Int && y.kind == Int {
			c = cmpInt(x.i, y.i)
		} else {
			a, b := toFloat(x), toFloat(y)
			switch op { // NaN compares unequal and unordered
			case opEq:
				return NewBool(a == b)
			case opNe:
				return NewBool(a != b)
			case opLt:
				return NewBool(a < b)
			case opLe:
				return NewBool(a <= b)
			case opGt:
				return NewBool(a > b)
			}
			return NewBool(a >= b)
		}
	}
	switch op {
	case opEq:
		return NewBool(c == 0)
	case opNe:
		return NewBool(c != 0)
	case opLt:
		return NewBool(c < 0)
	case opLe:
		return NewBool(c <= 0)
	case opGt:
		return NewBool(c > 0)
	}
	return NewBool(c >= 0)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFold is strcasecmp: bytes compared after ASCII lower-casing.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lowerByte(a[i]), lowerByte(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return cmpInt(int64(len(a)), int64(len(b)))
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func boolToInt(v Value) Value {
	if v.kind == Bool {
		if v.b {
			return NewInt(1)
		}
		return NewInt(0)
	}
	return v
}

func toFloat(v Value) float64 {
	if v.kind == Int {
		return float64(v.i)
	}
	return v.r
}

// arith implements + - * / % (operators.cpp doArithmetic): integers stay
// integers (wrapping like the C++), a real operand makes the result real,
// booleans count as 0 and 1, strings and lists are ERROR.
func arith(op opKind, x, y Value) Value {
	for _, v := range []Value{x, y} {
		if v.kind != Int && v.kind != Real && v.kind != Bool {
			return NewError(fmt.Sprintf("operator %s is not defined on %s", op, v.kind))
		}
	}
	x, y = boolToInt(x), boolToInt(y)
	if x.kind == Int && y.kind == Int {
		a, b := x.i, y.i
		switch op {
		case opAdd:
			return NewInt(a + b)
		case opSub:
			return NewInt(a - b)
		case opMul:
			return NewInt(a * b)
		case opDiv:
			if b == 0 {
				return NewError("integer division by zero")
			}
			if a == math.MinInt64 && b == -1 {
				return NewInt(math.MaxInt64) // as operators.cpp, to avoid SIGFPE
			}
			return NewInt(a / b)
		}
		if b == 0 {
			return NewError("integer modulus by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return NewInt(0)
		}
		return NewInt(a % b)
	}
	a, b := toFloat(x), toFloat(y)
	var r float64
	switch op {
	case opAdd:
		r = a + b
	case opSub:
		r = a - b
	case opMul:
		r = a * b
	case opDiv:
		r = a / b
	default:
		return NewError("operator % is not defined on reals")
	}
	if math.IsInf(r, 1) { // doRealArithmetic: comp == HUGE_VAL
		return NewError(fmt.Sprintf("result of real %s is infinite", op))
	}
	return NewReal(r)
}

// bitwise implements & | ^ << >> >>> on integers only. Shift counts must
// be non-negative; counts of 64 or more shift everything out.
func bitwise(op opKind, x, y Value) Value {
	if x.kind != Int || y.kind != Int {
		return NewError(fmt.Sprintf("operator %s is only defined on integers, not %s and %s", op, x.kind, y.kind))
	}
	a, b := x.i, y.i
	switch op {
	case opBitAnd:
		return NewInt(a & b)
	case opBitOr:
		return NewInt(a | b)
	case opBitXor:
		return NewInt(a ^ b)
	}
	if b < 0 {
		return NewError(fmt.Sprintf("negative shift count %d", b))
	}
	n := uint64(b)
	switch op {
	case opShl:
		if n >= 64 {
			return NewInt(0)
		}
		return NewInt(a << n)
	case opShr:
		if n >= 64 {
			n = 63
		}
		return NewInt(a >> n)
	}
	if n >= 64 {
		return NewInt(0)
	}
	return NewInt(int64(uint64(a) >> n))
}

package classad

import (
	"strings"
)

// Expr is a parsed ClassAd expression. Expressions are immutable once
// parsed and safe to evaluate from several goroutines at once.
//
// String unparses the expression in ClassAd syntax. Parentheses are kept
// as written and operators are spelled canonically (is → =?=, isnt → =!=),
// so Parse(e.String()) yields an expression with the same String.
type Expr interface {
	String() string
	unparse(b *strings.Builder, rf realFormat)
	eval(ev *evaluator) Value
	height() int
}

// opKind enumerates the operators.
type opKind int

const (
	// unary
	opNeg opKind = iota
	opPos
	opNot
	opBitNot
	// binary, loosest first within each group
	opOr
	opAnd
	opBitOr
	opBitXor
	opBitAnd
	opEq
	opNe
	opIs
	opIsnt
	opLt
	opLe
	opGt
	opGe
	opShl
	opShr
	opUShr
	opAdd
	opSub
	opMul
	opDiv
	opMod
)

var opText = [...]string{
	opNeg: "-", opPos: "+", opNot: "!", opBitNot: "~",
	opOr: "||", opAnd: "&&", opBitOr: "|", opBitXor: "^", opBitAnd: "&",
	opEq: "==", opNe: "!=", opIs: "=?=", opIsnt: "=!=",
	opLt: "<", opLe: "<=", opGt: ">", opGe: ">=",
	opShl: "<<", opShr: ">>", opUShr: ">>>",
	opAdd: "+", opSub: "-", opMul: "*", opDiv: "/", opMod: "%",
}

func (o opKind) String() string { return opText[o] }

func exprString(e Expr) string {
	var b strings.Builder
	e.unparse(&b, formatRealShortest)
	return b.String()
}

// literal is a constant: a number, string, boolean, undefined or error.
type literal struct{ v Value }

func (e *literal) String() string                            { return exprString(e) }
func (e *literal) unparse(b *strings.Builder, rf realFormat) { writeValue(b, e.v, rf) }
func (e *literal) height() int                               { return 1 }

// scopeKind says where an attribute reference looks.
type scopeKind int

const (
	scopeLocal  scopeKind = iota // Name
	scopeMy                      // MY.Name or SELF.Name: the evaluation ad
	scopeTarget                  // TARGET.Name: no target ad here, always undefined
	scopeRoot                    // .Name: the root ad, which is the evaluation ad
)

// attrRef is an attribute reference.
type attrRef struct {
	scope  scopeKind
	prefix string // MY, SELF or TARGET as written
	name   string
	key    string // foldName(name)
}

func newAttrRef(scope scopeKind, prefix, name string) *attrRef {
	return &attrRef{scope: scope, prefix: prefix, name: name, key: foldName(name)}
}

func (e *attrRef) String() string { return exprString(e) }
func (e *attrRef) height() int    { return 1 }
func (e *attrRef) unparse(b *strings.Builder, _ realFormat) {
	switch e.scope {
	case scopeMy, scopeTarget:
		b.WriteString(e.prefix)
		b.WriteByte('.')
	case scopeRoot:
		b.WriteByte('.')
	}
	writeName(b, e.name)
}

// writeName writes an attribute name, quoting it ('a b') when it is not a
// plain identifier or is a reserved word.
func writeName(b *strings.Builder, name string) {
	if isPlainIdent(name) && keywordToken(name) == tokIdent {
		b.WriteString(name)
		return
	}
	writeQuoted(b, name, '\'')
}

func isPlainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || c == '_' || (i > 0 && isDigit(c)) {
			continue
		}
		return false
	}
	return true
}

// unary is -x, +x, !x or ~x.
type unary struct {
	op opKind
	x  Expr
	h  int
}

func (e *unary) String() string { return exprString(e) }
func (e *unary) height() int    { return e.h }
func (e *unary) unparse(b *strings.Builder, rf realFormat) {
	b.WriteString(e.op.String())
	if e.op == opNeg {
		// "-5" would lex as one negative literal, and -0 reads back as 0.
		var sub strings.Builder
		e.x.unparse(&sub, rf)
		if s := sub.String(); s != "" && (isDigit(s[0]) || s[0] == '.') {
			b.WriteByte(' ')
		}
		b.WriteString(sub.String())
		return
	}
	e.x.unparse(b, rf)
}

// binary is x op y.
type binary struct {
	op   opKind
	x, y Expr
	h    int
}

func (e *binary) String() string { return exprString(e) }
func (e *binary) height() int    { return e.h }
func (e *binary) unparse(b *strings.Builder, rf realFormat) {
	e.x.unparse(b, rf)
	b.WriteByte(' ')
	b.WriteString(e.op.String())
	b.WriteByte(' ')
	e.y.unparse(b, rf)
}

// cond is c ? t : f, or the "elvis" form c ?: f when t is nil.
type cond struct {
	c, t, f Expr
	h       int
}

func (e *cond) String() string { return exprString(e) }
func (e *cond) height() int    { return e.h }
func (e *cond) unparse(b *strings.Builder, rf realFormat) {
	e.c.unparse(b, rf)
	if e.t == nil {
		b.WriteString(" ?: ")
	} else {
		b.WriteString(" ? ")
		e.t.unparse(b, rf)
		b.WriteString(" : ")
	}
	e.f.unparse(b, rf)
}

// paren is (x); kept so that unparsing reproduces the grouping.
type paren struct {
	x Expr
	h int
}

func (e *paren) String() string { return exprString(e) }
func (e *paren) height() int    { return e.h }
func (e *paren) unparse(b *strings.Builder, rf realFormat) {
	b.WriteByte('(')
	e.x.unparse(b, rf)
	b.WriteByte(')')
}

// listExpr is { a, b, c }.
type listExpr struct {
	elems []Expr
	h     int
}

func (e *listExpr) String() string                            { return exprString(e) }
func (e *listExpr) height() int                               { return e.h }
func (e *listExpr) unparse(b *strings.Builder, rf realFormat) { writeList(b, e.elems, rf) }

// subscript is x[i].
type subscript struct {
	x, i Expr
	h    int
}

func (e *subscript) String() string { return exprString(e) }
func (e *subscript) height() int    { return e.h }
func (e *subscript) unparse(b *strings.Builder, rf realFormat) {
	e.x.unparse(b, rf)
	b.WriteByte('[')
	e.i.unparse(b, rf)
	b.WriteByte(']')
}

// call is name(args...). fn is resolved at parse time; unknown names are a
// parse error.
type call struct {
	name string // as written
	fn   *function
	args []Expr
	re   *regexCache // compiled pattern when the pattern and options are literals
	h    int
}

func (e *call) String() string { return exprString(e) }
func (e *call) height() int    { return e.h }
func (e *call) unparse(b *strings.Builder, rf realFormat) {
	b.WriteString(e.name)
	b.WriteByte('(')
	for i, a := range e.args {
		if i > 0 {
			b.WriteByte(',')
		}
		a.unparse(b, rf)
	}
	b.WriteByte(')')
}

func maxHeight(es ...Expr) int {
	h := 0
	for _, e := range es {
		if e != nil && e.height() > h {
			h = e.height()
		}
	}
	return h + 1
}

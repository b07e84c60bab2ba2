package classad

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported is wrapped by a *SyntaxError whose input is valid
// HTCondor ClassAd syntax that this evaluator deliberately does not
// implement (userMap(), time functions, nested ClassAds, ...), as opposed
// to input HTCondor would reject or evaluate to ERROR as well.
var ErrUnsupported = errors.New("classad: not supported by this evaluator")

// SyntaxError reports why Parse or ParseAd rejected its input.
type SyntaxError struct {
	Offset      int    // byte offset into the source
	Msg         string // what was expected, or what is not supported
	Unsupported bool   // see ErrUnsupported
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("classad: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns ErrUnsupported for unsupported constructs, so callers can
// test errors.Is(err, ErrUnsupported).
func (e *SyntaxError) Unwrap() error {
	if e.Unsupported {
		return ErrUnsupported
	}
	return nil
}

// maxDepth bounds expression nesting. HTCondor's parser stops at the same
// depth ("years of careful research", source.cpp parseExpression); it
// keeps hostile input from exhausting the stack.
const maxDepth = 1000

// Parse parses one ClassAd expression in new-ClassAd syntax. Errors are
// *SyntaxError values naming the byte offset and what was expected or is
// not supported. Unknown functions, functions this package does not
// implement, and wrong argument counts are rejected here rather than
// evaluating to ERROR as they would in HTCondor.
func Parse(src string) (Expr, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "end of expression")
	}
	return e, nil
}

// MustParse is like Parse but panics on error. It is meant for expressions
// that are constants of the program.
func MustParse(src string) Expr {
	e, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return e
}

// ParseAd parses a ClassAd in new-ClassAd syntax: "[ a = 1; b = "x" ]".
// Empty statements are allowed; a repeated name replaces the earlier one.
func ParseAd(src string) (*Ad, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tokLBox {
		return nil, p.unexpected(t, "'[' to start a ClassAd")
	}
	ad := NewAd()
	for {
		t := p.next()
		switch t.kind {
		case tokSemi:
			continue
		case tokRBox:
			if t := p.peek(); t.kind != tokEOF {
				return nil, p.unexpected(t, "end of input after ']'")
			}
			return ad, nil
		case tokIdent:
		default:
			return nil, p.unexpected(t, "attribute name or ']'")
		}
		if eq := p.next(); eq.kind != tokAssign {
			return nil, p.unexpected(eq, "'=' after attribute name")
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		ad.Set(t.text, e)
		if t := p.peek(); t.kind != tokSemi && t.kind != tokRBox {
			return nil, p.unexpected(t, "';' or ']'")
		}
	}
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func newParser(src string) (*parser, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) unexpected(t token, want string) error {
	msg := fmt.Sprintf("expected %s, found %s", want, t.describe())
	if t.kind == tokAssign {
		msg += " (use == to compare)"
	}
	return &SyntaxError{Offset: t.pos, Msg: msg}
}

func (p *parser) expect(k tokKind, want string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.unexpected(t, want)
	}
	return t, nil
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return &SyntaxError{Offset: pos, Msg: fmt.Sprintf("expression nested more than %d levels deep", maxDepth)}
	}
	return nil
}

// checkHeight bounds trees built by loops (a+b+c+...), which the
// recursion guard does not see.
func checkHeight(e Expr, pos int) error {
	if e.height() > maxDepth {
		return &SyntaxError{Offset: pos, Msg: fmt.Sprintf("expression nested more than %d levels deep", maxDepth)}
	}
	return nil
}

// expr parses Expression ::= OrExpr | OrExpr '?' Expr ':' Expr | OrExpr '?' ':' Expr.
func (p *parser) expr() (Expr, error) {
	start := p.peek().pos
	if err := p.enter(start); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	c, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokQuestion {
		return c, nil
	}
	p.next()
	var t Expr
	if p.peek().kind == tokColon {
		p.next()
	} else {
		if t, err = p.expr(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tokColon, "':' in conditional expression"); err != nil {
			return nil, err
		}
	}
	f, err := p.expr()
	if err != nil {
		return nil, err
	}
	e := &cond{c: c, t: t, f: f, h: maxHeight(c, t, f)}
	return e, checkHeight(e, start)
}

// binaryLevels lists the binary operators from loosest to tightest binding,
// as in source.cpp (LogicalOR ... Multiplicative).
var binaryLevels = [][]opKind{
	{opOr},
	{opAnd},
	{opBitOr},
	{opBitXor},
	{opBitAnd},
	{opEq, opNe, opIs, opIsnt},
	{opLt, opLe, opGt, opGe},
	{opShl, opShr, opUShr},
	{opAdd, opSub},
	{opMul, opDiv, opMod},
}

func (p *parser) binary(level int) (Expr, error) {
	if level == len(binaryLevels) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokOp || !hasOp(binaryLevels[level], t.op) {
			return x, nil
		}
		p.next()
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = &binary{op: t.op, x: x, y: y, h: maxHeight(x, y)}
		if err := checkHeight(x, t.pos); err != nil {
			return nil, err
		}
	}
}

func hasOp(ops []opKind, op opKind) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// unary parses UnaryExpr ::= PostfixExpr | ('-'|'+'|'!'|'~') UnaryExpr.
func (p *parser) unary() (Expr, error) {
	t := p.peek()
	if t.kind != tokOp {
		return p.postfix()
	}
	var op opKind
	switch t.op {
	case opSub:
		op = opNeg
	case opAdd:
		op = opPos
	case opNot, opBitNot:
		op = t.op
	default:
		return p.postfix()
	}
	p.next()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &unary{op: op, x: x, h: maxHeight(x)}, nil
}

// postfix parses PostfixExpr ::= Primary | PostfixExpr '[' Expr ']'.
// General selection (expr.name) needs ClassAd values and is rejected.
func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch t.kind {
		case tokLBox:
			p.next()
			i, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokRBox, "']' after subscript"); err != nil {
				return nil, err
			}
			x = &subscript{x: x, i: i, h: maxHeight(x, i)}
			if err := checkHeight(x, t.pos); err != nil {
				return nil, err
			}
		case tokDot:
			return nil, &SyntaxError{Offset: t.pos, Unsupported: true,
				Msg: "attribute selection (expr.name) is not supported: there are no nested ClassAds here; only the MY., SELF. and TARGET. prefixes are"}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tokInt:
		return &literal{v: NewInt(t.i)}, nil
	case tokReal:
		return &literal{v: NewReal(t.r)}, nil
	case tokString:
		return &literal{v: NewString(t.text)}, nil
	case tokTrue:
		return &literal{v: NewBool(true)}, nil
	case tokFalse:
		return &literal{v: NewBool(false)}, nil
	case tokUndefined:
		return &literal{v: NewUndefined("")}, nil
	case tokError:
		return &literal{v: NewError("")}, nil
	case tokIdent:
		switch p.peek().kind {
		case tokLParen:
			return p.call(t)
		case tokDot:
			if scope, ok := scopePrefix(t); ok {
				p.next()
				name, err := p.expect(tokIdent, "attribute name after "+t.text+".")
				if err != nil {
					return nil, err
				}
				return newAttrRef(scope, t.text, name.text), nil
			}
		}
		return newAttrRef(scopeLocal, "", t.text), nil
	case tokDot:
		name, err := p.expect(tokIdent, "attribute name after '.'")
		if err != nil {
			return nil, err
		}
		return newAttrRef(scopeRoot, "", name.text), nil
	case tokLParen:
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return &paren{x: x, h: maxHeight(x)}, nil
	case tokLBrace:
		elems, err := p.exprList(tokRBrace, "',' or '}' in list")
		if err != nil {
			return nil, err
		}
		return &listExpr{elems: elems, h: maxHeight(elems...)}, nil
	case tokLBox:
		return nil, &SyntaxError{Offset: t.pos, Unsupported: true,
			Msg: "nested ClassAd literals ([ name = expr; ... ]) are not supported"}
	}
	return nil, p.unexpected(t, "an expression")
}

// scopePrefix recognises the MY., SELF. and TARGET. prefixes. With a single
// ad, MY and SELF name it (classad.cpp LookupInScope) and TARGET names
// nothing, so TARGET.x is UNDEFINED, as the HTCondor manual says for
// single-ad evaluation.
func scopePrefix(t token) (scopeKind, bool) {
	if t.quoted {
		return 0, false
	}
	switch strings.ToLower(t.text) {
	case "my", "self":
		return scopeMy, true
	case "target":
		return scopeTarget, true
	}
	return 0, false
}

// exprList parses "e1, e2, ...)" or "... }" after the opening token.
func (p *parser) exprList(closer tokKind, want string) ([]Expr, error) {
	var elems []Expr
	if p.peek().kind == closer {
		p.next()
		return elems, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
		t := p.next()
		if t.kind == closer {
			return elems, nil
		}
		if t.kind != tokComma {
			return nil, p.unexpected(t, want)
		}
	}
}

func (p *parser) call(name token) (Expr, error) {
	p.next() // '('
	args, err := p.exprList(tokRParen, "',' or ')' in argument list")
	if err != nil {
		return nil, err
	}
	fn, err := lookupFunction(name, len(args))
	if err != nil {
		return nil, err
	}
	c := &call{name: name.text, fn: fn, args: args, h: maxHeight(args...)}
	if fn.regexOpts > 0 {
		c.re = precompile(args, fn.regexOpts)
	}
	return c, checkHeight(c, name.pos)
}

func lookupFunction(name token, nargs int) (*function, error) {
	key := strings.ToLower(name.text)
	fn, ok := functions[key]
	if !ok {
		if _, known := unsupportedFunctions[key]; known {
			return nil, &SyntaxError{Offset: name.pos, Unsupported: true,
				Msg: fmt.Sprintf("unsupported function %q: HTCondor provides it but this evaluator does not", name.text)}
		}
		return nil, &SyntaxError{Offset: name.pos, Msg: fmt.Sprintf("unknown function %q", name.text)}
	}
	if nargs < fn.minArgs || (fn.maxArgs >= 0 && nargs > fn.maxArgs) {
		return nil, &SyntaxError{Offset: name.pos,
			Msg: fmt.Sprintf("function %s takes %s, got %d", fn.name, arity(fn), nargs)}
	}
	return fn, nil
}

func arity(fn *function) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", n)
	}
	switch {
	case fn.maxArgs < 0:
		return "at least " + plural(fn.minArgs)
	case fn.minArgs == fn.maxArgs:
		return plural(fn.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", fn.minArgs, fn.maxArgs)
}

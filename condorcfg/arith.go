package condorcfg

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// HTCondor's param_integer/param_double/param_boolean first try a plain
// literal and then evaluate the value as a ClassAd expression (for example
// "128*1024" or "1 + 1"). We evaluate the arithmetic and logical subset of
// the ClassAd language that needs no ClassAd: numbers, true/false, unary
// - + !, * / %, + -, comparisons, && ||, and parentheses. Anything else
// (attribute references, strings, function calls) is an error, not a guess.

var errNotExpr = errors.New("not a supported constant expression")

type valKind int

const (
	vInt valKind = iota
	vReal
	vBool
)

type value struct {
	k valKind
	i int64
	f float64
	b bool
}

func (v value) float() float64 {
	if v.k == vInt {
		return float64(v.i)
	}
	return v.f
}

// ParseInteger is parseInteger for callers that looked the value up themselves.
func ParseInteger(s string) (int64, error) { return parseInteger(s) }

// parseInteger follows string_is_long_param: a base-10 literal, else a
// constant expression whose integer, real (truncated) or boolean (0/1) value
// is used, as ClassAd EvalInteger does.
func parseInteger(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return n, nil
	} else if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of range for a 64-bit integer", t)
	}
	v, err := evalExpr(t)
	if err != nil {
		return 0, err
	}
	switch v.k {
	case vReal:
		if math.IsNaN(v.f) || v.f >= 1<<63 || v.f < -(1<<63) {
			return 0, fmt.Errorf("%q is out of range for a 64-bit integer", t)
		}
		return int64(v.f), nil
	case vBool:
		if v.b {
			return 1, nil
		}
		return 0, nil
	}
	return v.i, nil
}

// parseReal follows string_is_double_param.
func parseReal(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil && !strings.ContainsRune(t, '_') {
		return f, nil
	}
	v, err := evalExpr(t)
	if err != nil {
		return 0, err
	}
	if v.k == vBool {
		if v.b {
			return 1, nil
		}
		return 0, nil
	}
	return v.float(), nil
}

// ParseBool is parseBool for callers that looked the value up themselves.
func ParseBool(s string) (bool, error) { return parseBool(s) }

// parseBool accepts what HTCondor accepts anywhere for a boolean: true/false
// and 1/0 (param_boolean), t/f (param_boolean_crufty) and yes/no (the
// config language's own if-statement booleans), all case-insensitive, then
// falls back to a constant expression whose non-zero value is true.
func parseBool(s string) (bool, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "true", "t", "yes", "1":
		return true, nil
	case "false", "f", "no", "0":
		return false, nil
	}
	v, err := evalExpr(t)
	if err != nil {
		return false, err
	}
	switch v.k {
	case vBool:
		return v.b, nil
	case vReal:
		return v.f != 0, nil
	}
	return v.i != 0, nil
}

// evalExpr evaluates a constant expression.
func evalExpr(s string) (value, error) {
	p := exprParser{s: s}
	v, err := p.or()
	if err != nil {
		return value{}, err
	}
	p.space()
	if p.i != len(p.s) {
		return value{}, errNotExpr
	}
	return v, nil
}

type exprParser struct {
	s     string
	i     int
	depth int
}

func (p *exprParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n\v\f", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *exprParser) eat(op string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], op) {
		p.i += len(op)
		return true
	}
	return false
}

func (p *exprParser) or() (value, error) {
	l, err := p.and()
	for err == nil && p.eat("||") {
		var r value
		if r, err = p.and(); err == nil {
			if l.k != vBool || r.k != vBool {
				return value{}, errNotExpr
			}
			l = value{k: vBool, b: l.b || r.b}
		}
	}
	return l, err
}

func (p *exprParser) and() (value, error) {
	l, err := p.cmp()
	for err == nil && p.eat("&&") {
		var r value
		if r, err = p.cmp(); err == nil {
			if l.k != vBool || r.k != vBool {
				return value{}, errNotExpr
			}
			l = value{k: vBool, b: l.b && r.b}
		}
	}
	return l, err
}

func (p *exprParser) cmp() (value, error) {
	l, err := p.sum()
	if err != nil {
		return l, err
	}
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if !p.eat(op) {
			continue
		}
		r, err := p.sum()
		if err != nil {
			return r, err
		}
		if l.k == vBool || r.k == vBool {
			if (op != "==" && op != "!=") || l.k != r.k {
				return value{}, errNotExpr
			}
			return value{k: vBool, b: (l.b == r.b) == (op == "==")}, nil
		}
		a, b := l.float(), r.float()
		if l.k == vInt && r.k == vInt {
			a, b = 0, 0
			switch {
			case l.i < r.i:
				a = -1
			case l.i > r.i:
				a = 1
			}
		}
		res := map[string]bool{"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
		return value{k: vBool, b: res}, nil
	}
	return l, nil
}

func (p *exprParser) sum() (value, error) {
	l, err := p.product()
	for err == nil {
		var op byte
		switch {
		case p.eat("+"):
			op = '+'
		case p.eat("-"):
			op = '-'
		default:
			return l, nil
		}
		var r value
		if r, err = p.product(); err == nil {
			l, err = arith(op, l, r)
		}
	}
	return l, err
}

func (p *exprParser) product() (value, error) {
	l, err := p.unary()
	for err == nil {
		var op byte
		switch {
		case p.eat("*"):
			op = '*'
		case p.eat("/"):
			op = '/'
		case p.eat("%"):
			op = '%'
		default:
			return l, nil
		}
		var r value
		if r, err = p.unary(); err == nil {
			l, err = arith(op, l, r)
		}
	}
	return l, err
}

func arith(op byte, l, r value) (value, error) {
	if l.k == vBool || r.k == vBool {
		return value{}, errNotExpr
	}
	if l.k == vInt && r.k == vInt {
		switch op {
		case '+':
			return value{i: l.i + r.i}, nil
		case '-':
			return value{i: l.i - r.i}, nil
		case '*':
			return value{i: l.i * r.i}, nil
		}
		if r.i == 0 {
			return value{}, fmt.Errorf("division by zero")
		}
		if op == '/' {
			return value{i: l.i / r.i}, nil
		}
		return value{i: l.i % r.i}, nil
	}
	a, b := l.float(), r.float()
	switch op {
	case '+':
		return value{k: vReal, f: a + b}, nil
	case '-':
		return value{k: vReal, f: a - b}, nil
	case '*':
		return value{k: vReal, f: a * b}, nil
	case '/':
		if b == 0 {
			return value{}, fmt.Errorf("division by zero")
		}
		return value{k: vReal, f: a / b}, nil
	}
	return value{}, errNotExpr // ClassAd % is integer-only
}

func (p *exprParser) unary() (value, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 100 {
		return value{}, errNotExpr
	}
	switch {
	case p.eat("!"):
		v, err := p.unary()
		if err != nil || v.k != vBool {
			return value{}, errNotExpr
		}
		return value{k: vBool, b: !v.b}, nil
	case p.eat("-"):
		v, err := p.unary()
		if err != nil || v.k == vBool {
			return value{}, errNotExpr
		}
		return value{k: v.k, i: -v.i, f: -v.f}, nil
	case p.eat("+"):
		v, err := p.unary()
		if err != nil || v.k == vBool {
			return value{}, errNotExpr
		}
		return v, nil
	case p.eat("("):
		v, err := p.or()
		if err != nil {
			return v, err
		}
		if !p.eat(")") {
			return value{}, errNotExpr
		}
		return v, nil
	}
	return p.primary()
}

func (p *exprParser) primary() (value, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (isAlnum(p.s[p.i]) || p.s[p.i] == '_' || p.s[p.i] == '.') {
		p.i++
	}
	// an exponent sign belongs to the number: 1e+5
	for p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') && p.i > start &&
		(p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E') && isDigit(p.s[start]) {
		p.i++
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
	}
	tok := p.s[start:p.i]
	switch {
	case tok == "":
		return value{}, errNotExpr
	case strings.EqualFold(tok, "true"):
		return value{k: vBool, b: true}, nil
	case strings.EqualFold(tok, "false"):
		return value{k: vBool}, nil
	case !isDigit(tok[0]) && tok[0] != '.':
		return value{}, errNotExpr
	}
	if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return value{i: n}, nil
	}
	if strings.ContainsAny(tok, "xXpP_") {
		return value{}, errNotExpr
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return value{}, errNotExpr
	}
	return value{k: vReal, f: f}, nil
}

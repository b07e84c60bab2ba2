package classad

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The lexer follows HTCondor's src/classad/lexer.cpp (new ClassAd syntax):
// C-like operators, // and /* */ comments, "..." strings with C escapes
// and adjacent-literal concatenation, '...' quoted attribute names, and a
// '-' that starts a negative number literal unless it follows a value.

type tokKind int

const (
	tokEOF tokKind = iota
	tokInt
	tokReal
	tokString
	tokIdent
	tokTrue
	tokFalse
	tokUndefined
	tokError
	tokOp // an operator; token.op says which
	tokDot
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
	tokLBox
	tokRBox
	tokComma
	tokSemi
	tokQuestion
	tokColon
	tokAssign
)

type token struct {
	kind   tokKind
	op     opKind
	pos    int
	text   string // identifier name or string contents, escapes converted
	quoted bool   // identifier written as 'name'
	i      int64
	r      float64
}

// describe names the token for "expected X, found Y" messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokInt:
		return "integer " + strconv.FormatInt(t.i, 10)
	case tokReal:
		return "real " + formatRealShortest(t.r)
	case tokString:
		return "string literal"
	case tokIdent:
		return fmt.Sprintf("identifier %q", t.text)
	case tokTrue:
		return "true"
	case tokFalse:
		return "false"
	case tokUndefined:
		return "undefined"
	case tokError:
		return "error"
	case tokOp:
		if t.text != "" { // is, isnt
			return "'" + t.text + "'"
		}
		return "'" + t.op.String() + "'"
	}
	return "'" + punctText[t.kind] + "'"
}

var punctText = map[tokKind]string{
	tokDot: ".", tokLParen: "(", tokRParen: ")", tokLBrace: "{", tokRBrace: "}",
	tokLBox: "[", tokRBox: "]", tokComma: ",", tokSemi: ";", tokQuestion: "?",
	tokColon: ":", tokAssign: "=",
}

// keywordToken classifies a bare word; reserved words are case-insensitive.
func keywordToken(word string) tokKind {
	switch strings.ToLower(word) {
	case "true":
		return tokTrue
	case "false":
		return tokFalse
	case "undefined":
		return tokUndefined
	case "error":
		return tokError
	case "is", "isnt":
		return tokOp
	}
	return tokIdent
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// isSpace is C isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

type lexer struct {
	src  string
	pos  int
	prev tokKind // kind of the previous token, for the '-' rule
	toks []token
	// old selects old-ClassAd string literals, as HTCondor's lexer reads
	// them in old-ClassAd mode (compat_classad Insert): a backslash escapes
	// only a double quote and otherwise stands for itself, so the
	// "C:\dir" written by sPrintAd reads back unchanged.
	old bool
}

func lex(src string) ([]token, error) { return lexMode(src, false) }

func lexMode(src string, old bool) ([]token, error) {
	// HTCondor's lexer stops at a NUL, silently dropping the rest.
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, &SyntaxError{Offset: i, Msg: "unexpected NUL byte"}
	}
	lx := &lexer{src: src, prev: tokEOF, old: old}
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		lx.toks = append(lx.toks, t)
		if t.kind == tokEOF {
			return lx.toks, nil
		}
		lx.prev = t.kind
	}
}

func (lx *lexer) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func (lx *lexer) peekByte(off int) byte {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

// skipSpace skips white space and comments.
func (lx *lexer) skipSpace() error {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case isSpace(c):
			lx.pos++
		case c == '/' && lx.peekByte(1) == '/':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '/' && lx.peekByte(1) == '*':
			end := strings.Index(lx.src[lx.pos+2:], "*/")
			if end < 0 {
				return lx.errorf(lx.pos, "unterminated /* comment")
			}
			lx.pos += 2 + end + 2
		default:
			return nil
		}
	}
	return nil
}

// afterValue reports whether the previous token ends an operand, in which
// case '-' is the binary operator (lexer.cpp PeekToken).
func (lx *lexer) afterValue() bool {
	switch lx.prev {
	case tokInt, tokReal, tokString, tokIdent, tokTrue, tokFalse, tokUndefined,
		tokError, tokDot, tokRBox, tokRParen, tokRBrace:
		return true
	}
	return false
}

func (lx *lexer) next() (token, error) {
	if err := lx.skipSpace(); err != nil {
		return token{}, err
	}
	start := lx.pos
	if lx.pos >= len(lx.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := lx.src[lx.pos]
	switch {
	case c == '-' && !lx.afterValue() &&
		(isDigit(lx.peekByte(1)) || lx.peekByte(1) == '.' && isDigit(lx.peekByte(2))):
		return lx.number()
	case isDigit(c) || c == '.' && isDigit(lx.peekByte(1)):
		return lx.number()
	case isAlpha(c) || c == '_':
		for lx.pos < len(lx.src) && (isAlpha(lx.src[lx.pos]) || isDigit(lx.src[lx.pos]) || lx.src[lx.pos] == '_') {
			lx.pos++
		}
		word := lx.src[start:lx.pos]
		k := keywordToken(word)
		t := token{kind: k, pos: start, text: word}
		if k == tokOp {
			t.op = opIs
			if len(word) == 4 {
				t.op = opIsnt
			}
		}
		return t, nil
	case c == '"' || c == '\'':
		s, err := lx.quoted(c)
		if err != nil {
			return token{}, err
		}
		if c == '"' {
			return token{kind: tokString, pos: start, text: s}, nil
		}
		if s == "" {
			return token{}, lx.errorf(start, "empty quoted attribute name")
		}
		return token{kind: tokIdent, pos: start, text: s, quoted: true}, nil
	}
	return lx.punct()
}

// number scans an integer or real literal, with an optional leading '-'.
func (lx *lexer) number() (token, error) {
	start := lx.pos
	if lx.src[lx.pos] == '-' {
		lx.pos++
	}
	digitsStart := lx.pos
	if lx.src[lx.pos] == '0' && (lx.peekByte(1) == 'x' || lx.peekByte(1) == 'X') {
		lx.pos += 2
		hexStart := lx.pos
		for lx.pos < len(lx.src) && isHex(lx.src[lx.pos]) {
			lx.pos++
		}
		if lx.pos == hexStart {
			return token{}, lx.errorf(start, "expected hexadecimal digits after 0x")
		}
		if lx.peekByte(0) == '.' {
			return token{}, lx.errorf(lx.pos, "hexadecimal real literals are not supported")
		}
		if err := lx.checkSuffix(); err != nil {
			return token{}, err
		}
		u, err := strconv.ParseUint(lx.src[hexStart:lx.pos], 16, 64)
		neg := digitsStart != start
		if err != nil || (!neg && u > 1<<63-1) || (neg && u > 1<<63) {
			return token{}, lx.errorf(start, "integer literal %s out of range", lx.src[start:lx.pos])
		}
		i := int64(u)
		if neg {
			i = -i
		}
		return token{kind: tokInt, pos: start, i: i}, nil
	}
	isReal := false
	for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
		lx.pos++
	}
	intDigits := lx.src[digitsStart:lx.pos]
	if lx.peekByte(0) == '.' {
		if !isDigit(lx.peekByte(1)) {
			return token{}, lx.errorf(lx.pos, "expected digit after '.' in number")
		}
		lx.pos++
		for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
			lx.pos++
		}
		isReal = true
	}
	if c := lx.peekByte(0); c == 'e' || c == 'E' {
		lx.pos++
		if c := lx.peekByte(0); c == '+' || c == '-' {
			lx.pos++
		}
		if !isDigit(lx.peekByte(0)) {
			return token{}, lx.errorf(lx.pos, "expected digits in exponent")
		}
		for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
			lx.pos++
		}
		isReal = true
	}
	if err := lx.checkSuffix(); err != nil {
		return token{}, err
	}
	text := lx.src[start:lx.pos]
	if isReal {
		r, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return token{}, lx.errorf(start, "malformed real literal %s", text)
		}
		// Out of range reals become ±Inf or 0, as strtod does.
		return token{kind: tokReal, pos: start, r: r}, nil
	}
	if len(intDigits) > 1 && intDigits[0] == '0' {
		// lexer.cpp reads 0-prefixed integers as octal with new-ClassAd
		// semantics but as decimal with the old-ClassAd semantics HTCondor
		// daemons enable by default; refuse to guess.
		return token{}, lx.errorf(start, "integer literal %s has a leading zero, which HTCondor reads as octal or decimal depending on configuration; write it without the zero", text)
	}
	i, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{}, lx.errorf(start, "integer literal %s out of range", text)
	}
	return token{kind: tokInt, pos: start, i: i}, nil
}

// checkSuffix rejects HTCondor's size-factor suffixes (10K, 2G, ...).
func (lx *lexer) checkSuffix() error {
	switch lx.peekByte(0) {
	case 'b', 'B', 'k', 'K', 'm', 'M', 'g', 'G', 't', 'T':
		return &SyntaxError{Offset: lx.pos, Unsupported: true,
			Msg: fmt.Sprintf("number suffix %q (size factor) is not supported", lx.src[lx.pos:lx.pos+1])}
	}
	return nil
}

// quoted scans a "string" or 'name' starting at the opening delimiter.
// Adjacent literals separated only by white space are joined before
// escapes are converted, as lexer.cpp tokenizeString does.
func (lx *lexer) quoted(delim byte) (string, error) {
	start := lx.pos
	var raw strings.Builder
	for {
		lx.pos++ // opening delimiter
		segStart := lx.pos
		for {
			if lx.pos >= len(lx.src) {
				what := "string literal"
				if delim == '\'' {
					what = "quoted attribute name"
				}
				return "", lx.errorf(start, "unterminated %s", what)
			}
			c := lx.src[lx.pos]
			if c == '\\' && lx.pos+1 < len(lx.src) && (!lx.old || lx.src[lx.pos+1] == delim) {
				lx.pos += 2
				continue
			}
			if c == delim {
				break
			}
			lx.pos++
		}
		raw.WriteString(lx.src[segStart:lx.pos])
		lx.pos++ // closing delimiter
		p := lx.pos
		for p < len(lx.src) && isSpace(lx.src[p]) {
			p++
		}
		if p < len(lx.src) && lx.src[p] == delim {
			lx.pos = p
			continue
		}
		break
	}
	if lx.old {
		return strings.ReplaceAll(raw.String(), `\`+string(delim), string(delim)), nil
	}
	s, ok := convertEscapes(raw.String())
	if !ok {
		return "", lx.errorf(start, "literal contains a NUL character (\\0 escape)")
	}
	return s, nil
}

// convertEscapes implements util.cpp convert_escapes: C escapes, up to
// three octal digits (a third only while the value is below 040), and any
// other escaped character stands for itself. A NUL result is invalid.
func convertEscapes(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			out = append(out, c)
			continue
		}
		i++
		c = s[i]
		switch c {
		case 'a':
			c = '\a'
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'v':
			c = '\v'
		default:
			if isOctal(c) {
				n := int(c - '0')
				if i+1 < len(s) && isOctal(s[i+1]) {
					i++
					n = n<<3 + int(s[i]-'0')
					if n < 0x20 && i+1 < len(s) && isOctal(s[i+1]) {
						i++
						n = n<<3 + int(s[i]-'0')
					}
				}
				if n == 0 {
					return "", false
				}
				c = byte(n)
			}
		}
		out = append(out, c)
	}
	return string(out), true
}

func (lx *lexer) punct() (token, error) {
	start := lx.pos
	c := lx.src[lx.pos]
	lx.pos++
	t := token{pos: start}
	op := func(o opKind) (token, error) { t.kind, t.op = tokOp, o; return t, nil }
	simple := func(k tokKind) (token, error) { t.kind = k; return t, nil }
	switch c {
	case '.':
		return simple(tokDot)
	case '(':
		return simple(tokLParen)
	case ')':
		return simple(tokRParen)
	case '{':
		return simple(tokLBrace)
	case '}':
		return simple(tokRBrace)
	case '[':
		return simple(tokLBox)
	case ']':
		return simple(tokRBox)
	case ',':
		return simple(tokComma)
	case ';':
		return simple(tokSemi)
	case '?':
		return simple(tokQuestion)
	case ':':
		return simple(tokColon)
	case '*':
		return op(opMul)
	case '/':
		return op(opDiv)
	case '%':
		return op(opMod)
	case '+':
		return op(opAdd)
	case '-':
		return op(opSub)
	case '~':
		return op(opBitNot)
	case '^':
		return op(opBitXor)
	case '&':
		if lx.peekByte(0) == '&' {
			lx.pos++
			return op(opAnd)
		}
		return op(opBitAnd)
	case '|':
		if lx.peekByte(0) == '|' {
			lx.pos++
			return op(opOr)
		}
		return op(opBitOr)
	case '<':
		switch lx.peekByte(0) {
		case '=':
			lx.pos++
			return op(opLe)
		case '<':
			lx.pos++
			return op(opShl)
		}
		return op(opLt)
	case '>':
		switch lx.peekByte(0) {
		case '=':
			lx.pos++
			return op(opGe)
		case '>':
			lx.pos++
			if lx.peekByte(0) == '>' {
				lx.pos++
				return op(opUShr)
			}
			return op(opShr)
		}
		return op(opGt)
	case '=':
		switch {
		case lx.peekByte(0) == '=':
			lx.pos++
			return op(opEq)
		case lx.peekByte(0) == '?':
			if lx.peekByte(1) != '=' {
				return token{}, lx.errorf(start, "expected '=?='")
			}
			lx.pos += 2
			return op(opIs)
		case lx.peekByte(0) == '!' && lx.peekByte(1) == '=':
			lx.pos += 2
			return op(opIsnt)
		}
		return simple(tokAssign)
	case '!':
		if lx.peekByte(0) == '=' {
			lx.pos++
			return op(opNe)
		}
		return op(opNot)
	}
	if c == 0 {
		return token{}, lx.errorf(start, "unexpected NUL byte")
	}
	if c >= 0x80 {
		return token{}, lx.errorf(start, "unexpected non-ASCII byte 0x%02x outside a string literal", c)
	}
	return token{}, lx.errorf(start, "unexpected character %q", c)
}

package classad

import (
	"fmt"
	"strings"
)

// ParseOldAds parses old-ClassAd text: one "Name = expression" per line,
// ads separated by one or more blank lines, as HTCondor's sPrintAd writes
// them and credd writes its OAuth2 key files (docs/htcondor-contract.md,
// spec §3.5). Lines starting with '#' are comments. String literals follow
// the old-ClassAd rule: a backslash escapes only a double quote. A repeated
// name replaces the earlier one. Errors name the line.
func ParseOldAds(src string) ([]*Ad, error) {
	var ads []*Ad
	var cur *Ad
	// An ad's entries and string literals come from one allocation each
	// (slabs sized for the ad): a key file is parsed per /key visit.
	var ents []adEntry
	var lits []literal
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		t := strings.TrimSpace(line)
		if t == "" {
			cur = nil
			continue
		}
		if t[0] == '#' {
			continue
		}
		if cur == nil {
			n := 1 // the ad's lines, up to the next blank one
			for _, l := range lines[i+1:] {
				if strings.TrimSpace(l) == "" {
					break
				}
				n++
			}
			cur = &Ad{attrs: make(map[string]*adEntry, n), order: make([]*adEntry, 0, n)}
			ads = append(ads, cur)
			ents, lits = make([]adEntry, 0, n), make([]literal, 0, n)
		}
		var expr Expr
		name, text, ok := parseOldStringLine(t)
		if ok {
			lits = append(lits, literal{v: NewString(text)})
			expr = &lits[len(lits)-1]
		} else {
			var err error
			if name, expr, err = parseOldLine(t); err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
		}
		ents = append(ents, adEntry{}) // unused when name repeats an earlier one
		cur.set(name, expr, &ents[len(ents)-1])
	}
	return ads, nil
}

// parseOldLine parses one "Name = expression" line.
func parseOldLine(line string) (string, Expr, error) {
	toks, err := lexMode(line, true)
	if err != nil {
		return "", nil, err
	}
	p := &parser{toks: toks}
	t := p.next()
	if t.kind != tokIdent {
		return "", nil, p.unexpected(t, "attribute name")
	}
	if eq := p.next(); eq.kind != tokAssign {
		return "", nil, p.unexpected(eq, "'=' after attribute name")
	}
	e, err := p.expr()
	if err != nil {
		return "", nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return "", nil, p.unexpected(t, "end of line")
	}
	return t.text, e, nil
}

// parseOldStringLine is parseOldLine's fast path for the line credd writes
// for nearly every attribute of a key file: `Name = "text"`, nothing but
// white space after the closing quote, the text without a NUL and with the
// old-ClassAd escape only (\" is a quote, any other backslash is itself).
// Its text is exactly the string the lexer and parser would make the
// value (FuzzOldStringLine holds the two together), without a token list or a parse tree's
// recursion: credmon-web parses a key file on every /key visit. ok is
// false for anything else, which then goes the general way.
func parseOldStringLine(line string) (name, text string, ok bool) {
	i := 0
	for i < len(line) && (isAlpha(line[i]) || line[i] == '_' || i > 0 && isDigit(line[i])) {
		i++
	}
	if i == 0 || isKeyword(line[:i]) {
		return "", "", false
	}
	name = line[:i]
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if i+1 >= len(line) || line[i] != '=' || line[i+1] == '=' {
		return "", "", false
	}
	for i++; i < len(line) && isSpace(line[i]); i++ {
	}
	if i >= len(line) || line[i] != '"' {
		return "", "", false
	}
	i++
	start, escaped := i, false
	for ; i < len(line) && line[i] != '"'; i++ {
		switch {
		case line[i] == 0:
			return "", "", false
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '"':
			escaped = true
			i++
		}
	}
	if i >= len(line) {
		return "", "", false // unterminated: the general way says where
	}
	text = line[start:i]
	for _, c := range []byte(line[i+1:]) {
		if !isSpace(c) {
			return "", "", false
		}
	}
	if escaped {
		text = strings.ReplaceAll(text, `\"`, `"`)
	}
	return name, text, true
}

// isKeyword reports whether word is one of the words the lexer does not
// take as an identifier (keywordToken), without lower-casing it.
func isKeyword(word string) bool {
	switch len(word) {
	case 2, 4, 5, 9:
		for _, k := range [...]string{"true", "false", "undefined", "error", "is", "isnt"} {
			if strings.EqualFold(word, k) {
				return true
			}
		}
	}
	return false
}

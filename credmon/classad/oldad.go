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
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, "\r")
		t := strings.TrimSpace(line)
		if t == "" {
			cur = nil
			continue
		}
		if t[0] == '#' {
			continue
		}
		name, expr, err := parseOldLine(t)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if cur == nil {
			cur = NewAd()
			ads = append(ads, cur)
		}
		cur.Set(name, expr)
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

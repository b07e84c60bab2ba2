package classad

import (
	"reflect"
	"testing"
)

// FuzzOldStringLine holds parseOldLine's fast path to the general one:
// whatever line the fast path takes, the lexer and parser must give the
// same name and the same tree.
func FuzzOldStringLine(f *testing.F) {
	for _, s := range []string{
		`Provider = "box"`, `ClientSecret = "a\"b"`, `A="x"`, "A =\t\"x\"  \r", `A = "x" "y"`, `A = "x" // c`,
		`True = "x"`, `isnt = "x"`, `_a1 = ""`, `1a = "x"`, `A == "x"`, `A = "x`, "A = \"\x00\"", `A = "x" + 1`,
		`'A' = "x"`, `A = "é"`, `A = "\\"`, `A = "a\\\"b\\c"`, `A = "\"`, `Undefined9 = "x"`, `A = "x"]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, text, ok := parseOldStringLine(line)
		e := &literal{v: NewString(text)}
		if !ok {
			return
		}
		toks, err := lexMode(line, true)
		if err != nil {
			t.Fatalf("fast path took %q, the lexer refuses it: %v", line, err)
		}
		p := &parser{toks: toks}
		n := p.next()
		if n.kind != tokIdent || p.next().kind != tokAssign {
			t.Fatalf("fast path took %q, the parser sees no `Name =`", line)
		}
		want, err := p.expr()
		if err != nil || p.peek().kind != tokEOF {
			t.Fatalf("fast path took %q, the parser refuses it: %v", line, err)
		}
		if name != n.text || !reflect.DeepEqual(e, want) {
			t.Fatalf("%q: fast path %q = %#v, general %q = %#v", line, name, e, n.text, want)
		}
	})
}

// TestOldStringLineTakesCreddLines checks the fast path is taken for what
// credd writes (else the benchmark it exists for measures nothing), and
// refused for what it must leave to the general parser.
func TestOldStringLineTakesCreddLines(t *testing.T) {
	for _, l := range []string{`Provider = "box"`, `Scopes = "read:/ write:/"`, `Handle = ""`, `TokenUrl = "https://x/t?a=b"`,
		`ClientSecret = "s3cr\"et\\x"`, `A = "\\\""`} {
		if _, _, ok := parseOldStringLine(l); !ok {
			t.Errorf("fast path refuses %q", l)
		}
	}
	for _, l := range []string{`A = "x" "y"`, `A = "a\"`, `A = 3`, `error = "x"`, `A = "x" // c`, `A == "x"`, `A = "x`} {
		if _, _, ok := parseOldStringLine(l); ok {
			t.Errorf("fast path takes %q", l)
		}
	}
}

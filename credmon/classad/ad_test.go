package classad_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

func TestAdSetLookup(t *testing.T) {
	ad := classad.NewAd()
	ad.SetString("Username", "alice")
	ad.SetInt("Count", 3)
	ad.SetBool("Flag", true)
	ad.SetReal("Ratio", 0.5)
	ad.Set("Expr", classad.MustParse("Count * 2"))
	ad.SetValue("L", classad.NewList(classad.NewInt(1)))

	for _, name := range []string{"username", "USERNAME", "UserName"} {
		e, ok := ad.Lookup(name)
		if !ok || e.String() != `"alice"` {
			t.Errorf("Lookup(%q) = %v, %v; want \"alice\"", name, e, ok)
		}
	}
	if _, ok := ad.Lookup("nope"); ok {
		t.Error(`Lookup("nope") ok = true`)
	}
	if v := ad.Eval("expr"); render(v) != "6" {
		t.Errorf(`Eval("expr") = %s; want 6`, render(v))
	}

	// Replacing keeps the first spelling and position.
	ad.SetString("USERNAME", "bob")
	if v := ad.Eval("Username"); render(v) != `"bob"` {
		t.Errorf("after replace, Username = %s; want \"bob\"", render(v))
	}
	want := []string{"Username", "Count", "Flag", "Ratio", "Expr", "L"}
	if got := ad.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q; want %q", got, want)
	}
	const wantStr = `[ Username = "bob"; Count = 3; Flag = true; Ratio = 0.5; Expr = Count * 2; L = { 1 } ]`
	if got := ad.String(); got != wantStr {
		t.Errorf("String() = %s; want %s", got, wantStr)
	}
	back, err := classad.ParseAd(ad.String())
	if err != nil {
		t.Fatalf("ParseAd(String()) = %v", err)
	}
	if back.String() != ad.String() {
		t.Errorf("ParseAd(String()).String() = %s; want %s", back, ad)
	}

	var nilAd *classad.Ad
	if _, ok := nilAd.Lookup("x"); ok {
		t.Error("nil Ad Lookup ok = true")
	}
	if got := classad.NewAd().String(); got != "[  ]" {
		t.Errorf("empty ad String() = %q", got)
	}
}

func TestAdQuotedNames(t *testing.T) {
	ad := classad.NewAd()
	ad.SetInt("has space", 1)
	ad.SetInt("true", 2)
	ad.SetInt("it's", 3)
	if got := ad.String(); got != `[ 'has space' = 1; 'true' = 2; 'it\'s' = 3 ]` {
		t.Errorf("String() = %s", got)
	}
	back := mustParseAd(t, ad.String())
	runEval(t, back, []evalCase{{"'has space' + 'TRUE' + 'it\\'s'", "6"}})
}

func TestParseAd(t *testing.T) {
	ad := mustParseAd(t, `[ ; a = 1;; b = a + 1 ; a = 5; ]`)
	runEval(t, ad, []evalCase{{"a", "5"}, {"b", "6"}})
	if got := mustParseAd(t, "[]").Names(); len(got) != 0 {
		t.Errorf("ParseAd([]) names = %q", got)
	}
	if got := mustParseAd(t, "[ x = 1 ]").String(); got != "[ x = 1 ]" {
		t.Errorf("ParseAd([ x = 1 ]) = %s", got)
	}

	bad := []struct{ src, msg string }{
		{"", "expected '[' to start a ClassAd, found end of input"},
		{"a = 1", "expected '[' to start a ClassAd"},
		{"[ a = 1", "expected ';' or ']'"},
		{"[ a 1 ]", "expected '=' after attribute name, found integer 1"},
		{"[ a = ]", "expected an expression, found ']'"},
		{"[ true = 1 ]", "expected attribute name or ']', found true"},
		{"[ a = 1 b = 2 ]", "expected ';' or ']', found identifier \"b\""},
		{"[ a = 1 ] x", "expected end of input after ']'"},
		{"[ a = [ b = 1 ] ]", "nested ClassAd literals"},
		{`[ a = "x ]`, "unterminated string"},
	}
	for _, tt := range bad {
		_, err := classad.ParseAd(tt.src)
		var se *classad.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseAd(%q) = %v; want *SyntaxError containing %q", tt.src, err, tt.msg)
		}
	}
}

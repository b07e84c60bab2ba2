package classad_test

import (
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// fuzzSeeds cover every token and node kind, the AUTHZ_TEMPLATE_EXPR
// forms and known edge cases of the lexer.
var fuzzSeeds = []string{
	`strcat("read:/user/", Username, " write:/user/", Username)`,
	`ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username))`,
	`Username =?= "root" ? "" : join(" ", {strcat("read:/user/", Username), "read:/public"})`,
	`regexps("^([a-z]+)[0-9]*$", Username, "\\1", "fg")`,
	`replaceAll("x*", "abc", "-") + substr("abcdef", -2, -1)`,
	`stringListMember(Username, "a, b") && stringListIMember("A", "a;b", ";")`,
	`split("a,,b c", ", ")[1] ?: splitUserName("u@d")[0]`,
	`{1, 2.5, "x", true, undefined, error, {}}[0] + -3 * (4 % 3) / 2.0`,
	`0x7fffffffffffffff + -9223372036854775808 - .5e-3 + 1E+10`,
	`1 << 3 >> 1 >>> 2 | 5 ^ 3 & ~0`,
	`a is b && c isnt d || e =?= f && g =!= h`,
	`!x == y != z < 1 <= 2 > 3 >= 4`,
	`MY.a + SELF.b + TARGET.c + .d + 'quoted name' + 'it\'s'`,
	`"esc \" \\ \n \t \a \b \f \r \v \101 \7 \400 \q" "concat"`,
	`/* comment */ 1 // line comment`,
	`member(1, {1}) && identicalMember(1.0, {1}) || anyCompare("<", {1}, 2)`,
	`int("12K") + real("1e3") + floor(2.5) + round(-2.5) + ceiling(0.1)`,
	`string(1.5) + bool("true") + size("x") + sum({1}) + avg({}) + max({1, 2})`,
	`isUndefined(x) && isError(y) && isString(z) && isInteger(1) && isReal(1.0)`,
	`regexpMember("^a", {"a"}, "i") && regexp("a", "A", "i") && stricmp("a", "B") < 0`,
	`toUpper(toLower(strcat()))`,
	`a ? b : c ? d : e ?: f`,
	`x[0][1]`,
	`l[2][2][0] + size(l) + cyc`,
	`((((1))))`,
	`- - -1`,
	`3 - -2`,
	`1.`, `0x`, `010`, `10K`, `"unterminated`, `'`, `a.b`, `[a=1]`, `userMap("x", y)`,
	`1e999`, `-0.0`, `1e-400`, `"\xff\x00"`, "\x00", "\"\\0\"",
}

// FuzzParse checks that Parse never panics, that what it accepts unparses
// to text it accepts again with the same unparse, and that evaluation of
// both trees never panics and agrees.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	ad := classad.NewAd()
	ad.SetString("Username", "alice")
	ad.SetInt("a", 1)
	ad.Set("cyc", classad.MustParse("cyc + 1"))
	ad.Set("l", classad.MustParse(`{1, "x", l}`))
	f.Fuzz(func(t *testing.T, src string) {
		e, err := classad.Parse(src)
		if err != nil {
			if _, ok := err.(*classad.SyntaxError); !ok {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError", src, err)
			}
			return
		}
		s1 := e.String()
		e2, err := classad.Parse(s1)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but reparse of %q = %v", src, s1, err)
		}
		if s2 := e2.String(); s2 != s1 {
			t.Fatalf("Parse(%q): unparse %q reparses to %q", src, s1, s2)
		}
		v1, v2 := classad.Eval(e, ad), classad.Eval(e2, ad)
		if v1.Kind() != v2.Kind() || render(v1) != render(v2) {
			t.Fatalf("Parse(%q): Eval = %s, Eval of reparse = %s", src, render(v1), render(v2))
		}
	})
}

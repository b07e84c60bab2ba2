package classad_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// TestParseUnparse checks the canonical unparse of parsed expressions:
// grouping as written, operators spelled canonically, literals normalised.
func TestParseUnparse(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"integer", "42", "42"},
		{"negative literal", "-42", "-42"},
		{"hex", "0x1F", "31"},
		{"hex upper prefix", "0XfF", "255"},
		{"negative hex", "-0x10", "-16"},
		{"zero", "0", "0"},
		{"max int", "9223372036854775807", "9223372036854775807"},
		{"min int", "-9223372036854775808", "-9223372036854775808"},
		{"real", "1.5", "1.5"},
		{"real leading dot", ".5", "0.5"},
		{"real exponent", "1e3", "1000.0"},
		{"real signed exponent", "2.5E-3", "0.0025"},
		{"real big", "1e300", "1e+300"},
		{"real overflow is inf", "1e999", `real("INF")`},
		{"real leading zero ok", "01.5", "1.5"},
		{"negative zero", "-0.0", "-0.0"},
		{"string", `"abc"`, `"abc"`},
		{"string escapes", `"a\"b\\c\n\t"`, `"a\"b\\c\n\t"`},
		{"string other escape is literal", `"\d\q"`, `"dq"`},
		{"string octal", `"\101\102"`, `"AB"`},
		{"string octal 3rd digit only below 040", `"\400"`, `" 0"`},
		{"string single quote", `"it's"`, `"it's"`},
		{"string control byte", `"\001"`, `"\001"`},
		{"string utf8 kept", `"héllo"`, `"héllo"`},
		{"adjacent strings concatenate", `"ab" "cd"`, `"abcd"`},
		{"adjacent strings across newline", "\"ab\"\n  \"cd\"", `"abcd"`},
		{"booleans any case", "TRUE || False", "true || false"},
		{"undefined and error", "UNDEFINED =?= Error", "undefined =?= error"},
		{"attribute", "Username", "Username"},
		{"quoted attribute", `'user name'`, `'user name'`},
		{"quoted reserved word", `'true'`, `'true'`},
		{"quoted plain name unquoted", `'Username'`, `Username`},
		{"my prefix", "MY.Username", "MY.Username"},
		{"self prefix", "self.x", "self.x"},
		{"target prefix", "TARGET.Owner", "TARGET.Owner"},
		{"absolute", ".Username", ".Username"},
		{"is and isnt", "a is b && c isnt d", "a =?= b && c =!= d"},
		{"precedence kept flat", "a || b && c == d + e * f", "a || b && c == d + e * f"},
		{"parens kept", "(a || b) && c", "(a || b) && c"},
		{"unary", "-x + !y - ~z + +w", "-x + !y - ~z + +w"},
		{"unary minus literal", "- 5", "- 5"},
		{"unary minus zero", "- 0", "- 0"},
		{"negative literal zero", "-0", "0"},
		{"minus after value is binary", "x-1", "x - 1"},
		{"minus after paren is binary", "(x)-1", "(x) - 1"},
		{"double minus", "3 - -2", "3 - -2"},
		{"ternary", "a ? b : c ? d : e", "a ? b : c ? d : e"},
		{"elvis", "a ?: b", "a ?: b"},
		{"list", "{1, 2, 3}", "{ 1,2,3 }"},
		{"empty list", "{}", "{  }"},
		{"nested list", "{{1}, {}}", "{ { 1 },{  } }"},
		{"subscript", "l[0][1]", "l[0][1]"},
		{"call", `strcat( "a" , b )`, `strcat("a",b)`},
		{"call no args", "strcat()", "strcat()"},
		{"call name case kept", "IfThenElse(a, 1, 2)", "IfThenElse(a,1,2)"},
		{"bitwise and shifts", "a | b ^ c & d << 1 >> 2 >>> 3", "a | b ^ c & d << 1 >> 2 >>> 3"},
		{"comparisons", "a < b <= c > d >= e != f", "a < b <= c > d >= e != f"},
		{"comments", "1 /* one */ + // rest\n 2", "1 + 2"},
		{"whitespace", " \t\n1\r\n", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := classad.Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.src, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %s; want %s", tt.src, got, tt.want)
			}
			e2, err := classad.Parse(e.String())
			if err != nil {
				t.Fatalf("Parse(%q) (reparse) = %v", e.String(), err)
			}
			if e2.String() != e.String() {
				t.Errorf("reparse of %s = %s", e.String(), e2.String())
			}
		})
	}
}

// TestPrecedence checks grouping through evaluation, so it does not depend
// on how trees print.
func TestPrecedence(t *testing.T) {
	runEval(t, nil, []evalCase{
		{"1 + 2 * 3", "7"},
		{"(1 + 2) * 3", "9"},
		{"10 - 4 - 3", "3"},
		{"100 / 10 / 5", "2"},
		{"7 % 4 * 2", "6"},
		{"-2 * 3", "-6"},
		{"- 2 * 3", "-6"},
		{"!false && false", "false"},
		{"!(false && false)", "true"},
		{"1 + 1 == 2", "true"},
		{"1 < 2 == 2 < 3", "true"},
		{"true || false && false", "true"},
		{"(true || false) && false", "false"},
		{"1 | 2 ^ 3 & 1", "3"},
		{"1 << 2 + 1", "8"},
		{"1 == 1 && 2 == 2 ? 10 : 20", "10"},
		{"false ? 1 : true ? 2 : 3", "2"},
		{"true ? false ? 1 : 2 : 3", "2"},
		{"{1, 2}[0] + 1", "2"},
		{"-{5}[0]", "-5"},
		{"3 - -2", "5"},
		{"3--2", "5"},
		{"2 * -3", "-6"},
		{"~0 & 7", "7"},
		{"undefined ?: 1 + 1", "2"},
		{"1 < 2 && 2 < 3 || false", "true"},
	})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		offset      int
		msg         string
		unsupported bool
	}{
		{"empty", "", 0, "expected an expression, found end of input", false},
		{"trailing tokens", "1 2", 2, "expected end of expression, found integer 2", false},
		{"assignment", "a = 1", 2, "found '=' (use == to compare)", false},
		{"unclosed paren", "(1 + 2", 6, "expected ')', found end of input", false},
		{"unclosed list", "{1, 2", 5, "expected ',' or '}' in list", false},
		{"unclosed call", "strcat(a", 8, "expected ',' or ')' in argument list", false},
		{"missing colon", "a ? b", 5, "expected ':' in conditional expression", false},
		{"dangling operator", "1 +", 3, "expected an expression", false},
		{"unterminated string", `"abc`, 0, "unterminated string literal", false},
		{"unterminated escape", `"abc\"`, 0, "unterminated string literal", false},
		{"unterminated quoted name", `'abc`, 0, "unterminated quoted attribute name", false},
		{"empty quoted name", `''`, 0, "empty quoted attribute name", false},
		{"nul escape", `"a\0b"`, 0, "NUL", false},
		{"nul escape 000", `"\000"`, 0, "NUL", false},
		{"nul byte", "1 +\x00 2", 3, "NUL byte", false},
		{"non-ascii outside string", "héllo", 1, "non-ASCII byte", false},
		{"bad char", "a $ b", 2, "unexpected character '$'", false},
		{"unterminated comment", "1 /* x", 2, "unterminated /* comment", false},
		{"bad meta op", "a =? b", 2, "expected '=?='", false},
		{"dot without digit", "1.", 1, "expected digit after '.'", false},
		{"exponent without digits", "1e+", 3, "expected digits in exponent", false},
		{"hex without digits", "0x", 0, "expected hexadecimal digits", false},
		{"hex real", "0x1.5", 3, "hexadecimal real", false},
		{"hex out of range", "0x8000000000000000", 0, "out of range", false},
		{"int out of range", "9223372036854775808", 0, "out of range", false},
		{"leading zero", "010", 0, "leading zero", false},
		{"leading zeros", "00", 0, "leading zero", false},
		{"size suffix", "10K", 2, `number suffix "K"`, true},
		{"size suffix lower", "2g", 1, `number suffix "g"`, true},
		{"unknown function", "frobnicate(1)", 0, `unknown function "frobnicate"`, false},
		{"no sprintf in HTCondor", `sprintf("%s", a)`, 0, `unknown function "sprintf"`, false},
		{"no length in HTCondor", `length("abc")`, 0, `unknown function "length"`, false},
		{"userMap", `userMap("groups", Username)`, 0, `unsupported function "userMap"`, true},
		{"userMap any case", `USERMAP("groups", Username)`, 0, `unsupported function "USERMAP"`, true},
		{"time", "time()", 0, `unsupported function "time"`, true},
		{"formatTime nested", `strcat("x", formatTime(0))`, 12, `unsupported function "formatTime"`, true},
		{"eval", `eval("1")`, 0, `unsupported function "eval"`, true},
		{"too few args", `substr("a")`, 0, "function substr takes 2 to 3 arguments, got 1", false},
		{"too many args", "isUndefined(1, 2)", 0, "function isUndefined takes 1 argument, got 2", false},
		{"ifThenElse arity", "ifThenElse(1, 2)", 0, "function ifThenElse takes 3 arguments, got 2", false},
		{"nested ad", "[a = 1]", 0, "nested ClassAd literals", true},
		{"selection", "a.b", 1, "attribute selection", true},
		{"selection after prefix", "MY.a.b", 4, "attribute selection", true},
		{"prefix without name", "MY.", 3, "expected attribute name after MY.", false},
		{"absolute without name", ". 1", 2, "expected attribute name after '.'", false},
		{"deep parens", strings.Repeat("(", 2000) + "1" + strings.Repeat(")", 2000), 1000, "nested more than 1000 levels", false},
		{"deep unary", strings.Repeat("!", 2000) + "x", 999, "nested more than 1000 levels", false},
		{"long chain", strings.Repeat("1 + ", 1500) + "1", 3998, "nested more than 1000 levels", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := classad.Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse(%q) = %s; want error", tt.src, e)
			}
			var se *classad.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError", tt.src, err)
			}
			if se.Offset != tt.offset {
				t.Errorf("Parse(%q) offset = %d; want %d (%v)", tt.src, se.Offset, tt.offset, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse(%q) = %q; want it to contain %q", tt.src, err, tt.msg)
			}
			if got := errors.Is(err, classad.ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v; want %v", err, got, tt.unsupported)
			}
		})
	}
}

func TestMustParse(t *testing.T) {
	if got := classad.MustParse("1 + 1").String(); got != "1 + 1" {
		t.Errorf("MustParse(1 + 1) = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse(bad) did not panic")
		}
	}()
	classad.MustParse("1 +")
}

// TestParseErrorTokens checks how each kind of token is named in errors.
func TestParseErrorTokens(t *testing.T) {
	for src, want := range map[string]string{
		"1 2.5":       "found real 2.5",
		`1 "s"`:       "found string literal",
		"1 true":      "found true",
		"1 false":     "found false",
		"1 undefined": "found undefined",
		"1 error":     "found error",
		"1 b":         `found identifier "b"`,
		"1 (":         "found '('",
		"1 ;":         "found ';'",
		"1 :":         "found ':'",
		"l[1":         "expected ']' after subscript, found end of input",
		"1 ! 2":       "found '!'",
		"isnt":        "found 'isnt'",
		"'MY'.x":      "attribute selection",
		"f(1,)":       "expected an expression, found ')'",
	} {
		_, err := classad.Parse(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want error containing %q", src, err, want)
		}
	}
}

package classad_test

import (
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// TestLogic checks the non-strict && and || (operators.cpp doLogical and
// shortCircuit) over every pair of operand kinds that matters.
func TestLogic(t *testing.T) {
	runEval(t, nil, []evalCase{
		// manual: "UNDEFINED && FALSE evaluates to FALSE, but UNDEFINED ||
		// FALSE evaluates to UNDEFINED"
		{"undefined && false", "false"},
		{"undefined || false", "undefined"},
		{"undefined && true", "undefined"},
		{"undefined || true", "true"},
		{"false && undefined", "false"},
		{"true || undefined", "true"},
		{"true && undefined", "undefined"},
		{"false || undefined", "undefined"},
		{"undefined && undefined", "undefined"},
		{"undefined || undefined", "undefined"},
		{"false && error", "false"},
		{"true || error", "true"},
		{"error && false", "error"},
		{"error || true", "error"},
		{"true && error", "error"},
		{"undefined && error", "error"},
		{"error && undefined", "error"},
		{"undefined || error", "error"},
		// numbers are boolean-equivalent; the result is a boolean
		{"1 && 2", "true"},
		{"0.0 || 0", "false"},
		{"true && 5", "true"},
		{"true && 0.0", "false"},
		// manual: "TRUE && "foobar" evaluates to ERROR"
		{`true && "foobar"`, "error"},
		{`false && "foobar"`, "false"},
		{`true || "foobar"`, "true"},
		{`"foobar" && false`, "error"},
		{`"foobar" || true`, "error"},
		{`undefined && "x"`, "error"},
		{"{1} && true", "error"},
		{"!true", "false"},
		{"!0", "true"},
		{"!2.5", "false"},
		{"!undefined", "undefined"},
		{"!error", "error"},
		{`!"x"`, "error"},
		{"!{}", "error"},
	})
}

// TestStrictness checks that strict operators give ERROR over UNDEFINED,
// whichever side they are on (operators.cpp _doOperation).
func TestStrictness(t *testing.T) {
	runEval(t, nil, []evalCase{
		{"1 + undefined", "undefined"},
		{"undefined - 1", "undefined"},
		{"1 + error", "error"},
		{"undefined + error", "error"},
		{"error + undefined", "error"},
		{"undefined * undefined", "undefined"},
		{`"a" == undefined`, "undefined"},
		{`undefined != "a"`, "undefined"},
		{"undefined < 1", "undefined"},
		{`error == "a"`, "error"},
		{"-undefined", "undefined"},
		{"-error", "error"},
		{"+undefined", "undefined"},
		{"~undefined", "undefined"},
		{"undefined & 1", "undefined"},
		{"{1}[undefined]", "undefined"},
		{"undefined[0]", "undefined"},
		{"error[undefined]", "error"},
		{"undefined ? 1 : 2", "undefined"},
		{"error ? 1 : 2", "error"},
		{`"s" ? 1 : 2`, "error"},
		{"{} ? 1 : 2", "error"},
		{"0.0 ? 1 : 2", "2"},
		{"-1 ? 1 : 2", "1"},
		{"undefined ?: 2", "2"},
		{"error ?: 2", "error"},
		{"false ?: 2", "false"},
		{"0 ?: 2", "0"},
		{"undefined ?: undefined", "undefined"},
		{"true ? 1 : error", "1"},
		{"false ? error : 2", "2"},
	})
}

// TestComparison checks ==, !=, the orderings, =?= and =!=.
func TestComparison(t *testing.T) {
	runEval(t, nil, []evalCase{
		{`"abc" == "ABC"`, "true"},
		{`"abc" != "ABC"`, "false"},
		{`"a" < "B"`, "true"},
		{`"B" < "a"`, "false"},
		{`"abc" < "abcd"`, "true"},
		{`"b" >= "B"`, "true"},
		{`"é" == "É"`, "false"}, // ASCII folding only, as strcasecmp
		{"1 == 1.0", "true"},
		{"1 < 1.5", "true"},
		{"2.5 >= 2", "true"},
		{"true == 1", "true"},
		{"true > false", "true"},
		{"false < 0.5", "true"},
		{`1 == "1"`, "error"},
		{`"1" < 2`, "error"},
		{`true == "true"`, "error"},
		{"{1} == {1}", "error"},
		{"{} != 1", "error"},
		{`real("NaN") == real("NaN")`, "false"},
		{`real("NaN") != real("NaN")`, "true"},
		{`real("NaN") < 1`, "false"},
		{`"abc" =?= "abc"`, "true"},
		{`"abc" =?= "ABC"`, "false"},
		{`"abc" =!= "ABC"`, "true"},
		{"1 =?= 1.0", "false"},
		{"1 =!= 1.0", "true"},
		{"true =?= 1", "false"},
		{"true is true", "true"},
		{"undefined is undefined", "true"},
		{"error is error", "true"},
		{"undefined isnt error", "true"},
		{"1 isnt undefined", "true"},
		{"2.5 =?= 2.5", "true"},
		{"{1} =?= {1}", "error"},
		{"{1} =!= 2", "true"},
		{`missing =?= undefined`, "true"},
	})
}

// TestArithmetic checks + - * / % and the bitwise operators.
func TestArithmetic(t *testing.T) {
	runEval(t, nil, []evalCase{
		{"7 / 2", "3"},
		{"-7 / 2", "-3"},
		{"7 % 3", "1"},
		{"-7 % 3", "-1"},
		{"7.0 / 2", "3.5"},
		{"1 + 2.5", "3.5"},
		{"2 * 0.5", "1.0"},
		{"true + true", "2"},
		{"false * 3.5", "0.0"},
		{"1 / 0", "error"},
		{"1 % 0", "error"},
		{"1.0 / 0", "error"},         // +Inf is HUGE_VAL: ERROR
		{"-1.0 / 0", `real("-INF")`}, // -Inf is not checked by the C++
		{"0.0 / 0", `real("NaN")`},
		{"5.5 % 2", "error"},
		{"1e308 * 10", "error"},
		{"-9223372036854775808 / -1", "9223372036854775807"},
		{"-9223372036854775808 % -1", "0"},
		{"9223372036854775807 + 1", "-9223372036854775808"},
		{`1 + "x"`, "error"},
		{`"a" + "b"`, "error"},
		{"{1} + 1", "error"},
		{"-true", "error"},
		{`-"x"`, "error"},
		{"+true", "error"},
		{"+2.5", "2.5"},
		{"-(-3)", "3"},
		{"6 & 3", "2"},
		{"6 | 3", "7"},
		{"6 ^ 3", "5"},
		{"~5", "-6"},
		{"1 << 62", "4611686018427387904"},
		{"1 << 64", "0"},
		{"-8 >> 1", "-4"},
		{"-8 >> 100", "-1"},
		{"-1 >>> 60", "15"},
		{"1 >>> 64", "0"},
		{"1 << -1", "error"},
		{"true & 1", "error"},
		{"1.0 | 1", "error"},
		{"~1.0", "error"},
	})
}

// TestAttributes checks lookup, case-insensitivity, scopes and cycles.
func TestAttributes(t *testing.T) {
	ad := mustParseAd(t, `[
		Username = "alice";
		Scopes = "read:/x";
		n = 3;
		double = n * 2;
		cycA = cycB + 1;
		cycB = cycA;
		self_ref = self_ref;
		lst = { n, n + 1, Username };
		'odd name' = 7;
		'true' = "reserved";
	]`)
	runEval(t, ad, []evalCase{
		{"Username", `"alice"`},
		{"USERNAME", `"alice"`},
		{"username", `"alice"`},
		{"MY.Username", `"alice"`},
		{"my.USERNAME", `"alice"`},
		{"SELF.Username", `"alice"`},
		{".Username", `"alice"`},
		{"TARGET.Username", "undefined"},
		{"target.x", "undefined"},
		{"missing", "undefined"},
		{"MY.missing", "undefined"},
		{"double", "6"},
		{"double + n", "9"},
		{"cycA", "error"},
		{"cycB", "error"},
		{"self_ref", "error"},
		{"isError(cycA) && n == 3", "true"},
		{"lst", `{3, 4, "alice"}`},
		{"lst[2]", `"alice"`},
		{"lst[3]", "error"},
		{"lst[-1]", "error"},
		{"lst[1.0]", "error"},
		{`lst["a"]`, "error"},
		{"n[0]", "error"},
		{"'odd name' + 1", "8"},
		{"'ODD NAME'", "7"},
		{"'true'", `"reserved"`},
		{"true", "true"},
		{"CurrentTime", "error"},
		{"MY", "error"},
		{"root", "error"},
		{"parent", "undefined"},
	})
}

// TestReasons checks that Undefined and Error values say why.
func TestReasons(t *testing.T) {
	ad := mustParseAd(t, `[ a = b; b = a; n = 1 ]`)
	tests := []struct{ src, want string }{
		{"Usrname", `attribute "Usrname" is not in the ad`},
		{"strcat(\"x\", Usrname)", `attribute "Usrname" is not in the ad`},
		{"a", `circular reference to attribute "a"`},
		{"1/0", "integer division by zero"},
		{`n + "x"`, "operator + is not defined on string"},
		{"TARGET.Owner", "TARGET.Owner: there is no target ad"},
		{"CurrentTime", "CurrentTime is time-dependent"},
		{`regexp("(", "x")`, "invalid regular expression"},
		{`regexp("(?<=a)b", "ab")`, "Go RE2 syntax"},
		{`regexp("a", "a", "x")`, `option "x"`},
		{"error", ""},
		{"undefined", ""},
		{"{1}[5]", "subscript 5 out of range for a list of 1"},
	}
	for _, tt := range tests {
		v := classad.Eval(classad.MustParse(tt.src), ad)
		if got := v.Reason(); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("Eval(%s).Reason() = %q; want %q", tt.src, got, tt.want)
		}
	}
}

// TestAttributeDepthLimit checks that a long chain of references is ERROR
// past the limit instead of exhausting the stack.
func TestAttributeDepthLimit(t *testing.T) {
	ad := classad.NewAd()
	const n = 1500
	for i := 0; i < n; i++ {
		ad.Set("a"+itoa(i), classad.MustParse("a"+itoa(i+1)+" + 1"))
	}
	ad.SetInt("a"+itoa(n), 0)
	if v := ad.Eval("a" + itoa(n-10)); render(v) != "10" {
		t.Errorf("short chain = %s; want 10", render(v))
	}
	v := ad.Eval("a0")
	if !v.IsError() || !strings.Contains(v.Reason(), "nested more than 1000") {
		t.Errorf("long chain = %s (%s); want error about nesting", render(v), v.Reason())
	}
}

func itoa(i int) string {
	return classad.NewInt(int64(i)).String()
}

// TestListsAreLazy checks that a list holds expressions, as in HTCondor:
// converting it to a string unparses the elements, and elements are
// evaluated where the list was written.
func TestListsAreLazy(t *testing.T) {
	ad := mustParseAd(t, `[ Username = "bob"; l = { Username, 1 + 1 }; self = { self }[0] ]`)
	runEval(t, ad, []evalCase{
		{"string(l)", `"{ Username,1 + 1 }"`},
		{"l", `{"bob", 2}`},
		{"size({ missing, 1/0 })", "2"},
		{"self", "error"},
	})
}

func TestEvalNil(t *testing.T) {
	if v := classad.Eval(nil, nil); !v.IsError() {
		t.Errorf("Eval(nil, nil) = %s; want error", render(v))
	}
	if v := classad.Eval(classad.MustParse("x"), nil); !v.IsUndefined() {
		t.Errorf("Eval(x, nil) = %s; want undefined", render(v))
	}
}

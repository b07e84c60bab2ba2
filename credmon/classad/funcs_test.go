package classad_test

import (
	"testing"
)

const funcAd = `[
	Username = "alice";
	Groups = "cms, atlas,dune";
	n = 3;
	r = 2.5;
	l = { 1, 2.5, "a" };
	nums = { 3, 1, 2 };
	empty = {};
]`

func TestTypePredicates(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{"isUndefined(missing)", "true"},
		{"isUndefined(undefined)", "true"},
		{"isUndefined(error)", "false"},
		{"isUndefined(0)", "false"},
		{"isError(error)", "true"},
		{"isError(1/0)", "true"},
		{"isError(undefined)", "false"},
		{"isString(Username)", "true"},
		{"isString(1)", "false"},
		{"isInteger(n)", "true"},
		{"isInteger(r)", "false"},
		{"isInteger(true)", "false"},
		{"isReal(r)", "true"},
		{"isReal(1)", "false"},
		{"isBoolean(true)", "true"},
		{"isBoolean(1)", "false"}, // fnCall.cpp: boolean kind only
		{"isList(l)", "true"},
		{"isList(empty)", "true"},
		{`isList("a,b")`, "false"},
		{"isClassAd(l)", "false"},
		{"isAbsTime(1)", "false"},
		{"isRelTime(1)", "false"},
		{"ISUNDEFINED(missing)", "true"},
	})
}

func TestMembership(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{"member(1, l)", "true"},
		{"member(2.5, l)", "true"},
		{`member("A", l)`, "true"}, // == is case-insensitive
		{"member(1.0, l)", "true"},
		{"member(4, l)", "false"},
		{"member(4, empty)", "false"},
		{"member(undefined, l)", "undefined"},
		{"member(1, undefined)", "undefined"},
		{"member(1, missing)", "undefined"},
		{"member(error, l)", "error"},
		{"member(1, 1)", "error"},
		{"member(l, l)", "error"},
		{"member(1, { undefined, 1 })", "true"},
		{"identicalMember(1, l)", "true"},
		{"identicalMember(1.0, l)", "false"},
		{`identicalMember("A", l)`, "false"},
		{`identicalMember("a", l)`, "true"},
		{"identicalMember(undefined, { undefined })", "true"},
		{"identicalMember(error, { error })", "true"},
		{"identicalMember(1, undefined)", "undefined"},
		{"identicalMember(1, 2)", "error"},
	})
}

func TestListFunctions(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{"size(l)", "3"},
		{"size(empty)", "0"},
		{`size("héllo")`, "6"}, // bytes
		{`size("")`, "0"},
		{"size(undefined)", "undefined"},
		{"size(error)", "error"},
		{"size(5)", "error"},
		{"sum(nums)", "6"},
		{"sum({1, 2.5})", "3.5"},
		{"sum(empty)", "0"},
		{"sum(l)", "error"},
		{"sum(undefined)", "undefined"},
		{"sum(1)", "error"},
		{"avg(nums)", "2.0"},
		{"avg(empty)", "0"},
		{"avg({1, 2})", "1.5"},
		{"min(nums)", "1"},
		{"max(nums)", "3"},
		{"max({1, 2.5})", "2.5"},
		{"max({3, 2.5})", "3"},
		{"min(empty)", "undefined"},
		{"min(l)", "error"},
		{"max(undefined)", "undefined"},
		{"max({1, true})", "error"},
		{`anyCompare("<", nums, 2)`, "true"},
		{`anyCompare(">", nums, 3)`, "false"},
		{`allCompare(">", nums, 0)`, "true"},
		{`allCompare(">", nums, 1)`, "false"},
		{`anyCompare("==", {"A", "b"}, "a")`, "true"},
		{`anyCompare("is", {"A", "b"}, "a")`, "false"},
		{`anyCompare("isnt", {"A"}, "a")`, "true"},
		{`allCompare("<=", empty, 1)`, "true"},
		{`anyCompare("<=", empty, 1)`, "false"},
		{`anyCompare("==", {undefined, 1}, 1)`, "false"}, // fnCall.cpp stops at UNDEFINED
		{`allCompare("==", {1, undefined}, 1)`, "false"},
		{`anyCompare("==", {"x", 1}, 1)`, "error"},
		{`anyCompare("~", nums, 1)`, "error"},
		{`anyCompare(undefined, nums, 1)`, "undefined"},
		{`anyCompare("<", undefined, 1)`, "undefined"},
		{`anyCompare("<", 5, 1)`, "error"},
	})
}

func TestStringFunctions(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{`strcat("a", "b", "c")`, `"abc"`},
		{`strcat()`, `""`},
		{`strcat("n=", n)`, `"n=3"`},
		{`strcat(true, false)`, `"truefalse"`},
		{`strcat(r)`, `"2.500000000000000E+00"`}, // HTCondor's %1.15E
		{`strcat(0.0)`, `"0.0"`},
		{`strcat(l)`, `"{ 1,2.500000000000000E+00,\"a\" }"`},
		{`strcat(undefined)`, "undefined"}, // fnCall.cpp; the manual says ERROR
		{`strcat("a", missing)`, "undefined"},
		{`strcat(error)`, "error"},
		{`strcat("a", error, undefined)`, "error"},
		{`strcat("a", undefined, error)`, "undefined"},
		{`join(", ", "a", "b", "c")`, `"a, b, c"`},
		{`join(";", l)`, `"1;2.500000000000000E+00;a"`},
		{`join(nums)`, `"312"`},
		{`join("-", empty)`, `""`},
		{`join("-")`, `""`},
		{`join("abc")`, `""`},
		{`join()`, `""`},
		{`join("-", 1)`, `"1"`},
		{`join(undefined, l)`, "undefined"},
		{`join("-", { "a", undefined })`, "undefined"},
		{`join("-", missing)`, "undefined"},
		{`join(",", "a", {1})`, `"a,{ 1 }"`},
		{`toUpper("Hello, wörld")`, `"HELLO, WöRLD"`},
		{`toLower("MiXeD 1")`, `"mixed 1"`},
		{`toUpper(12)`, `"12"`},
		{`toLower(undefined)`, "undefined"},
		{`toUpper(error)`, "error"},
		{`substr("abcdef", 2)`, `"cdef"`},
		{`substr("abcdef", 2, 3)`, `"cde"`},
		{`substr("abcdef", 2, 10)`, `"cdef"`},
		{`substr("abcdef", 0, 0)`, `""`},
		{`substr("abcdef", -2)`, `"ef"`},
		{`substr("abcdef", -3, 2)`, `"de"`},
		{`substr("abcdef", 1, -2)`, `"bcd"`},
		{`substr("abcdef", -4, -1)`, `"cde"`},
		{`substr("abcdef", 6)`, `""`},
		{`substr("abcdef", 10)`, `""`},
		{`substr("abcdef", -10)`, `"abcdef"`},
		{`substr("abcdef", -10, 5)`, `"a"`},
		{`substr("abc", -5, 2)`, `""`},
		{`substr("abcdef", 1, -10)`, `""`},
		{`substr(Username, 0, 1)`, `"a"`},
		{`substr(undefined, 1)`, "undefined"},
		{`substr("abc", undefined)`, "undefined"},
		{`substr("abc", 1, undefined)`, "undefined"},
		{`substr(5, 1)`, "error"},
		{`substr("abc", 1.0)`, "error"},
		{`substr("abc", true)`, "error"},
		{`substr(error, 1)`, "error"},
		{`strcmp("a", "b")`, "-1"},
		{`strcmp("b", "a")`, "1"},
		{`strcmp("a", "a")`, "0"},
		{`strcmp("a", "A")`, "1"},
		{`stricmp("a", "A")`, "0"},
		{`stricmp("a", "B")`, "-1"},
		{`strcmp(10, "10")`, "0"},
		{`strcmp(undefined, "a")`, "undefined"},
		{`strcmp(error, "a")`, "error"},
	})
}

func TestRegexFunctions(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{`regexp("^al", Username)`, "true"},
		{`regexp("ICE$", Username)`, "false"},
		{`regexp("ICE$", Username, "i")`, "true"},
		{`regexp("ICE$", Username, "I")`, "true"},
		{`regexp("lic", Username)`, "true"}, // unanchored search
		{`regexp("^a.c$", "a\nc")`, "false"},
		{`regexp("^a.c$", "a\nc", "s")`, "true"},
		{`regexp("^c$", "a\nc")`, "false"},
		{`regexp("^c$", "a\nc", "m")`, "true"},
		{`regexp("a", "a", "zq")`, "true"}, // unknown options ignored
		{`regexp("[", "x")`, "error"},
		{`regexp("(a)\\1", "aa")`, "error"}, // no backreferences in RE2
		{`regexp("a", "a", "x")`, "error"},
		{`regexp(undefined, "a")`, "undefined"},
		{`regexp("a", undefined)`, "undefined"},
		{`regexp("a", "a", undefined)`, "undefined"},
		{`regexp(undefined, error)`, "error"},
		{`regexp(1, "1")`, "error"},
		{`regexp("a", "a", 1)`, "error"},
		{`regexp(strcat("^", "al"), Username)`, "true"}, // compiled at evaluation
		{`regexpMember("^d", split(Groups))`, "true"},
		{`regexpMember("^z", split(Groups))`, "false"},
		{`regexpMember("^z", { "a", undefined })`, "undefined"},
		{`regexpMember("^a", { "a", undefined })`, "true"},
		{`regexpMember("^z", { "a", 1 })`, "error"},
		{`regexpMember("a", "a")`, "error"},
		{`regexps("(\\w+)@(\\w+)", "alice@example", "\\2/\\1")`, `"example/alice"`},
		{`regexps("b", "abc", "X")`, `"X"`},
		{`regexps("b", "abc", "X", "f")`, `"aXc"`},
		{`regexps("z", "abc", "X")`, `""`},
		{`regexps("z", "abc", "X", "f")`, `"abc"`},
		{`regexps("b", "abcb", "X", "g")`, `"XX"`},
		{`regexps("b", "abcb", "X", "fg")`, `"aXcX"`},
		{`regexps("(a)", "a", "\\0\\1\\x\\")`, `"aa\\x\\"`},
		{`regexps("(a)(b)?", "ac", "\\2")`, "error"},
		{`regexps("(a)(b)?(c)", "ac", "[\\2]")`, `"[]"`},
		{`replace("o", "foo boo", "0")`, `"f0o boo"`},
		{`replace("z", "foo", "0")`, `"foo"`},
		{`replaceAll("o", "foo boo", "0")`, `"f00 b00"`},
		{`replaceall("O", "foo", "0", "i")`, `"f00"`},
		{`replaceAll("x*", "abc", "-")`, `"-a-b-c-"`},
		{`replaceAll("^", "a\nb", ">", "m")`, `">a\n>b"`},
		{`replace(undefined, "a", "b")`, "undefined"},
		{`replace("a", "a", error)`, "error"},
		{`replace("a", "a", 1)`, "error"},
	})
}

func TestConversionFunctions(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{"int(3.9)", "3"},
		{"int(-3.9)", "-3"},
		{"int(true)", "1"},
		{`int("42")`, "42"},
		{`int("  -42xyz")`, "-42"},
		{`int("4.7")`, "4"},
		{`int("1e3")`, "1000"},
		{`int("0x10")`, "16"},
		{`int("2K")`, "2048"},
		{`int("1.5K")`, "1024"}, // truncated before scaling, as value.cpp
		{`int("abc")`, "error"},
		{`int("")`, "error"},
		{"int(undefined)", "undefined"}, // value.cpp; the manual says ERROR
		{"int(error)", "error"},
		{"int(l)", "error"},
		{"int(1e300)", "error"},
		{`int(real("NaN"))`, "error"},
		{"real(3)", "3.0"},
		{"real(false)", "0.0"},
		{`real("2.5")`, "2.5"},
		{`real("1.5M")`, "1572864.0"},
		{`real("-inf")`, `real("-INF")`},
		{`real("INF")`, `real("INF")`},
		{`real("nan")`, `real("NaN")`},
		{`real("x")`, "error"},
		{"real(undefined)", "undefined"},
		{"real(l)", "error"},
		{"string(3)", `"3"`},
		{"string(-2.5)", `"-2.500000000000000E+00"`},
		{"string(true)", `"true"`},
		{`string("s")`, `"s"`},
		{"string(undefined)", "undefined"},
		{"string(error)", "error"},
		{"string({})", `"{  }"`},
		{"bool(1)", "true"},
		{"bool(0)", "false"},
		{"bool(0.5)", "true"},
		{`bool("TRUE")`, "true"},
		{`bool("false")`, "false"},
		{`bool("yes")`, "undefined"},
		{"bool(undefined)", "undefined"},
		{"bool(l)", "error"},
		{"floor(2.7)", "2"},
		{"floor(-2.2)", "-3"},
		{"ceiling(2.2)", "3"},
		{"ceil(-2.7)", "-2"},
		{"round(2.5)", "2"},
		{"round(3.5)", "4"},
		{"round(-2.5)", "-2"},
		{"floor(7)", "7"},
		{`floor("3.7")`, "3"},
		{"floor(true)", "1"},
		{"floor(undefined)", "error"},
		{"floor(error)", "error"},
		{`floor("x")`, "error"},
		{"floor(1e300)", "error"},
	})
}

func TestIfThenElse(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{`ifThenElse(true, "yes", "no")`, `"yes"`},
		{`ifThenElse(false, "yes", "no")`, `"no"`},
		{`ifThenElse(1, "yes", "no")`, `"yes"`},
		{`ifThenElse(0.0, "yes", "no")`, `"no"`},
		{`ifThenElse(undefined, "yes", "no")`, "undefined"},
		{`ifThenElse(missing, "yes", "no")`, "undefined"},
		{`ifThenElse(error, "yes", "no")`, "error"},
		{`ifThenElse("true", "yes", "no")`, "error"},
		{`ifThenElse(l, "yes", "no")`, "error"},
		{`ifThenElse(true, "yes", 1/0)`, `"yes"`}, // lazy
		{`ifThenElse(false, 1/0, "no")`, `"no"`},
		{`ifThenElse(Username == "ALICE", "admin", "user")`, `"admin"`},
	})
}

func TestStringListFunctions(t *testing.T) {
	runEval(t, mustParseAd(t, funcAd), []evalCase{
		{`stringListSize("a, b,c")`, "3"},
		{`stringListSize("a,,b")`, "2"},
		{`stringListSize("")`, "0"},
		{`stringListSize(" , ")`, "0"},
		{`stringListSize("a;b c", ";")`, "2"},
		{`stringListSize(Groups)`, "3"},
		{`stringListSize(undefined)`, "error"},
		{`stringListSize(1)`, "error"},
		{`stringListSize("a", 1)`, "error"},
		{`stringListMember("atlas", Groups)`, "true"},
		{`stringListMember("ATLAS", Groups)`, "false"},
		{`stringListIMember("ATLAS", Groups)`, "true"},
		{`stringListMember("at", Groups)`, "false"},
		{`stringListMember("b c", "a;b c", ";")`, "true"},
		{`stringListMember("b", "a;b c", ";")`, "false"},
		{`stringListMember("b", " a ; b ;", ";")`, "true"}, // items trimmed
		{`stringListMember("b", "a b", undefined)`, "true"},
		{`stringListMember(undefined, "a")`, "false"},
		{`stringListMember("", "a")`, "false"},
		{`stringListMember("a", undefined)`, "false"},
		{`stringListMember(undefined, undefined)`, "undefined"},
		{`stringListMember(1, "1")`, "error"},
		{`stringListMember(error, "1")`, "error"},
		{`stringListsIntersect("a,b", "c, b")`, "true"},
		{`stringListsIntersect("a,b", "c,d")`, "false"},
		{`stringListsIntersect("a;b", "b;c", ";")`, "true"},
		{`stringListsIntersect("a b", "b", "")`, "true"}, // empty: default delimiters
		{`stringListsIntersect("a", undefined)`, "undefined"},
		{`stringListsIntersect(undefined, error)`, "error"},
		{`stringListsIntersect("a", 1)`, "error"},
		{`split("a b,c")`, `{"a", "b", "c"}`},
		{`split("a, b")`, `{"a", "b"}`},
		{`split("a ,b")`, `{"a", "b"}`},
		{`split("a,,b")`, `{"a", "", "b"}`},
		{`split("  a\tb  ")`, `{"a", "b"}`},
		{`split("")`, `{}`},
		{`split("a:b::c", ":")`, `{"a", "b", "", "c"}`},
		{`split("abc", "")`, `{"abc"}`},
		{`split(undefined)`, "error"},
		{`split("a", 1)`, "error"},
		{`splitUserName("alice@example.org")`, `{"alice", "example.org"}`},
		{`splitUserName("alice")`, `{"alice", ""}`},
		{`splitUserName("a@b@c")`, `{"a", "b@c"}`},
		{`splitSlotName("slot1@host")`, `{"slot1", "host"}`},
		{`splitSlotName("host")`, `{"", "host"}`},
		{`splitUserName(1)`, "error"},
		{`splitUserName(Username)[0]`, `"alice"`},
	})
}

// TestConversionEdges covers the strtod-like reading of strings and the
// HTCondor real format.
func TestConversionEdges(t *testing.T) {
	runEval(t, nil, []evalCase{
		{`real("0x1.8p1")`, "3.0"},
		{`real("0x10")`, "16.0"},
		{`real("-0x10")`, "-16.0"},
		{`real("0xg")`, "0.0"}, // strtod reads just the 0
		{`real("  +1.5e2xyz")`, "150.0"},
		{`real("1e")`, "1.0"},
		{`real("2B")`, "2.0"},
		{`real(".")`, "error"},
		{`real("-")`, "error"},
		{`real("infinity")`, `real("INF")`},
		{`real("-Infinity")`, `real("-INF")`},
		{`int("3G")`, "3221225472"},
		{`int("1T")`, "1099511627776"},
		{`int("inf")`, "error"},
		{`int("9e18K")`, "error"},
		{"string(-0.0)", `"-0.0"`},
		{`string(real("NaN"))`, `"real(\"NaN\")"`},
		{`string(real("-INF"))`, `"real(\"-INF\")"`},
		{"string(1e100)", `"1.000000000000000E+100"`},
		{`strcmp("a", error)`, "error"},
		{`strcmp(error, undefined)`, "undefined"}, // fnCall.cpp checks UNDEFINED first
		{`strcmp("a", undefined)`, "undefined"},
		{`stricmp("B", "a")`, "1"},
		{`false || "x"`, "error"},
		{"false || error", "error"},
		{"false || undefined", "undefined"},
		{"undefined || false", "undefined"},
		{"undefined || undefined", "undefined"},
	})
}

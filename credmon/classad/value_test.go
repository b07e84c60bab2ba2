package classad_test

import (
	"math"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

func TestValueAccessors(t *testing.T) {
	var zero classad.Value
	if zero.Kind() != classad.Undefined || !zero.IsUndefined() || zero.String() != "undefined" {
		t.Errorf("zero Value = %v %s; want undefined", zero.Kind(), zero)
	}
	if s, ok := classad.NewString("x").StringValue(); !ok || s != "x" {
		t.Errorf("NewString(x).StringValue() = %q, %v", s, ok)
	}
	if _, ok := classad.NewInt(1).StringValue(); ok {
		t.Error("NewInt(1).StringValue() ok = true")
	}
	if i, ok := classad.NewInt(-7).IntValue(); !ok || i != -7 {
		t.Errorf("NewInt(-7).IntValue() = %d, %v", i, ok)
	}
	if r, ok := classad.NewReal(2.5).RealValue(); !ok || r != 2.5 {
		t.Errorf("NewReal(2.5).RealValue() = %v, %v", r, ok)
	}
	if b, ok := classad.NewBool(true).BoolValue(); !ok || !b {
		t.Errorf("NewBool(true).BoolValue() = %v, %v", b, ok)
	}
	if _, ok := classad.NewBool(true).IntValue(); ok {
		t.Error("NewBool(true).IntValue() ok = true")
	}
	e := classad.NewError("boom")
	if !e.IsError() || e.Reason() != "boom" || e.String() != "error" {
		t.Errorf("NewError(boom) = %v %q %s", e.Kind(), e.Reason(), e)
	}
	if r := classad.NewString("x").Reason(); r != "" {
		t.Errorf("NewString(x).Reason() = %q; want empty", r)
	}
	if u := classad.NewUndefined("why"); u.Reason() != "why" || !u.IsUndefined() {
		t.Errorf("NewUndefined(why) = %v %q", u.Kind(), u.Reason())
	}
	l := classad.NewList(classad.NewInt(1), classad.NewList(classad.NewString("a")), classad.NewUndefined(""))
	if got := render(l); got != `{1, {"a"}, undefined}` {
		t.Errorf("NewList(...) = %s", got)
	}
	if got := l.String(); got != `{ 1,{ "a" },undefined }` {
		t.Errorf("NewList(...).String() = %s", got)
	}
	if _, ok := classad.NewInt(1).List(); ok {
		t.Error("NewInt(1).List() ok = true")
	}
}

func TestKindString(t *testing.T) {
	want := map[classad.Kind]string{
		classad.Undefined: "undefined", classad.Error: "error", classad.Bool: "boolean",
		classad.Int: "integer", classad.Real: "real", classad.String: "string",
		classad.List: "list", classad.Kind(99): "kind(99)",
	}
	for k, w := range want {
		if got := k.String(); got != w {
			t.Errorf("Kind(%d).String() = %q; want %q", int(k), got, w)
		}
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    classad.Value
		want string
	}{
		{classad.NewInt(math.MinInt64), "-9223372036854775808"},
		{classad.NewReal(1), "1.0"},
		{classad.NewReal(-0.5), "-0.5"},
		{classad.NewReal(0), "0.0"},
		{classad.NewReal(math.Copysign(0, -1)), "-0.0"},
		{classad.NewReal(1e21), "1e+21"},
		{classad.NewReal(1e-5), "1e-05"},
		{classad.NewReal(123456.789), "123456.789"},
		{classad.NewReal(math.NaN()), `real("NaN")`},
		{classad.NewReal(math.Inf(1)), `real("INF")`},
		{classad.NewReal(math.Inf(-1)), `real("-INF")`},
		{classad.NewBool(false), "false"},
		{classad.NewString(`a"b\c`), `"a\"b\\c"`},
		{classad.NewString("tab\there\x01\x7f"), `"tab\there\001\177"`},
		{classad.NewString("\xff\xfe"), `"\377\376"`},
		{classad.NewString("日本"), `"日本"`},
		{classad.NewString("\u200b"), `"\342\200\213"`}, // format character: escaped
		{classad.NewString("\u0085"), `"\302\205"`},     // C1 control: escaped
		{classad.NewList(), "{  }"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%v value String() = %s; want %s", tt.v.Kind(), got, tt.want)
		}
	}
}

// TestValueStringRoundTrip checks that the unparse of a value parses and
// evaluates back to the same value.
func TestValueStringRoundTrip(t *testing.T) {
	var all []byte
	for c := 1; c < 256; c++ {
		all = append(all, byte(c))
	}
	values := []classad.Value{
		classad.NewString(string(all)),
		classad.NewString("é \xc3 \xe2\x82 ok"),
		classad.NewString(`'"\`),
		classad.NewString(""),
		classad.NewReal(0.1),
		classad.NewReal(math.MaxFloat64),
		classad.NewReal(math.SmallestNonzeroFloat64),
		classad.NewReal(-123.456e-7),
		classad.NewReal(math.NaN()),
		classad.NewReal(math.Inf(-1)),
		classad.NewInt(math.MaxInt64),
		classad.NewInt(math.MinInt64),
		classad.NewList(classad.NewInt(1), classad.NewReal(2.5), classad.NewString("x")),
	}
	for _, v := range values {
		e, err := classad.Parse(v.String())
		if err != nil {
			t.Errorf("Parse(%s) = %v", v, err)
			continue
		}
		got := classad.Eval(e, nil)
		if got.Kind() != v.Kind() || render(got) != render(v) {
			t.Errorf("Eval(Parse(%s)) = %s; want %s", v, render(got), render(v))
		}
		if s, _ := v.StringValue(); v.Kind() == classad.String {
			if g, _ := got.StringValue(); g != s {
				t.Errorf("string round trip = %q; want %q", g, s)
			}
		}
	}
}

package classad_test

import (
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// render shows a value with list elements evaluated, recursively, so test
// tables can state results compactly: undefined, error, true, 3, 2.5,
// "s", {1, "a"}.
// Lists may contain themselves (l = {l}), so nesting is cut off.
func render(v classad.Value) string { return renderDepth(v, 0) }

func renderDepth(v classad.Value, depth int) string {
	elems, ok := v.List()
	if !ok {
		return v.String()
	}
	if depth > 8 {
		return "{...}"
	}
	parts := make([]string, len(elems))
	for i, e := range elems {
		parts[i] = renderDepth(e, depth+1)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func mustParseAd(t testing.TB, src string) *classad.Ad {
	t.Helper()
	ad, err := classad.ParseAd(src)
	if err != nil {
		t.Fatalf("ParseAd(%q) = %v", src, err)
	}
	return ad
}

// evalCase is one row of an evaluation table: src evaluated in the ad
// should render as want.
type evalCase struct {
	src  string
	want string
}

// runEval evaluates every case in ad as a subtest.
func runEval(t *testing.T, ad *classad.Ad, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			e, err := classad.Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tc.src, err)
			}
			v := classad.Eval(e, ad)
			if got := render(v); got != tc.want {
				t.Errorf("Eval(%s) = %s (%s); want %s", tc.src, got, v.Reason(), tc.want)
			}
		})
	}
}

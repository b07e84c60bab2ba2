package classad_test

import (
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

const benchExpr = `ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username, " write:/user/", Username))`

// BenchmarkEvalString measures the one-shot path: parse and evaluate.
func BenchmarkEvalString(b *testing.B) {
	ad := userAd("alice")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := classad.EvalString(benchExpr, ad); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEval measures evaluation of an expression parsed once, as the
// credmon does for every token it mints.
func BenchmarkEval(b *testing.B) {
	ad := userAd("alice")
	e := classad.MustParse(benchExpr)
	b.ReportAllocs()
	for b.Loop() {
		if v := classad.Eval(e, ad); !v.IsUndefined() && v.Kind() != classad.String {
			b.Fatal(v)
		}
	}
}

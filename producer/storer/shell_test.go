package storer_test

import (
	"reflect"
	"testing"

	"github.com/credmon/credmon/producer/storer"
)

// TestShellSplitAsShlex protects the reading of SEC_CREDENTIAL_GETTOKEN_OPTS
// for get --condor: Python shlex.split's words (quotes, escapes), and the
// inverse of ShellQuote.
func TestShellSplitAsShlex(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                   nil,
		"  --credkey=a/b   --role=r\t":       {"--credkey=a/b", "--role=r"},
		`--credkey='a b' "--role=x\"y" c\ d`: {"--credkey=a b", `--role=x"y`, "c d"},
		`''`:                                 {""},
		`"a\zb"`:                             {`a\zb`},
	} {
		got, err := storer.ShellSplit(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ShellSplit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'a`, `"a`, `a\`} {
		if _, err := storer.ShellSplit(bad); err == nil {
			t.Errorf("ShellSplit(%q) succeeded", bad)
		}
	}
	for _, w := range []string{"plain", "it's", "a b", `x"y`, ""} {
		if got, err := storer.ShellSplit(storer.ShellQuote(w)); err != nil || len(got) != 1 || got[0] != w {
			t.Errorf("ShellSplit(ShellQuote(%q)) = %q, %v", w, got, err)
		}
	}
}

func FuzzShellSplit(f *testing.F) {
	f.Add(`--credkey='a b' "x\"y" c\ d`)
	f.Fuzz(func(t *testing.T, s string) {
		words, err := storer.ShellSplit(s)
		if err != nil {
			return
		}
		for _, w := range words {
			got, err := storer.ShellSplit(storer.ShellQuote(w))
			if err != nil || len(got) != 1 || got[0] != w {
				t.Fatalf("ShellSplit(ShellQuote(%q)) = %q, %v", w, got, err)
			}
		}
	})
}

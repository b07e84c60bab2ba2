package cli_test

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"

	"github.com/credmon/credmon/internal/cli"
)

// flags has a value option with a short name, a switch, and an old name
// (alias) of the value option through the NormalizeFunc.
func flags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.StringP("outfile", "o", "", "")
	fs.BoolP("verbose", "v", false, "")
	fs.String("name", "", "")
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, n string) pflag.NormalizedName {
		if n == "old-out" {
			n = "outfile"
		}
		return pflag.NormalizedName(n)
	})
	return fs
}

func TestGoSpellings(t *testing.T) {
	all := cli.Spellings{Aliases: true, DoubleDashShort: true}
	for _, tc := range []struct {
		args []string
		sp   cli.Spellings
		want []string
	}{
		{[]string{"-name", "x", "-outfile=f"}, cli.Spellings{}, []string{"--name", "x", "--outfile=f"}},
		// A value is never rewritten, whatever it looks like.
		{[]string{"-o", "-name", "-name", "-verbose"}, cli.Spellings{}, []string{"-o", "-name", "--name", "-verbose"}},
		{[]string{"--outfile", "-name"}, cli.Spellings{}, []string{"--outfile", "-name"}},
		{[]string{"-vo", "-name"}, cli.Spellings{}, []string{"-vo", "-name"}},
		{[]string{"-vofile", "-name", "x"}, cli.Spellings{}, []string{"-vofile", "--name", "x"}},
		// Nothing after "--".
		{[]string{"--", "-name"}, all, []string{"--", "-name"}},
		// An alias with one dash only with Aliases.
		{[]string{"-old-out", "f"}, cli.Spellings{}, []string{"-old-out", "f"}},
		{[]string{"-old-out", "f"}, all, []string{"--old-out", "f"}},
		// A short option with two dashes only with DoubleDashShort.
		{[]string{"--o", "f", "--v"}, cli.Spellings{}, []string{"--o", "f", "--v"}},
		{[]string{"--o", "f", "--v"}, all, []string{"-o", "f", "-v"}},
		// A single letter is a short option, not a long name.
		{[]string{"-v", "-o", "f"}, all, []string{"-v", "-o", "f"}},
	} {
		got := cli.GoSpellings(flags(), slices.Clone(tc.args), tc.sp)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q %+v: %q; want %q", tc.args, tc.sp, got, tc.want)
		}
		if again := cli.GoSpellings(flags(), slices.Clone(got), tc.sp); !slices.Equal(again, got) {
			t.Errorf("%q %+v: %q, and again %q: not a fixed point", tc.args, tc.sp, got, again)
		}
		fs := flags()
		if err := fs.Parse(got); err != nil && tc.sp == all {
			t.Errorf("%q: pflag refuses the rewritten %q: %v", tc.args, got, err)
		}
	}
}

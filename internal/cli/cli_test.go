package cli_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/spf13/cobra"

	"github.com/credmon/credmon/internal/cli"
)

// tool is a command line built as the commands build theirs.
func tool() *cobra.Command {
	root := &cobra.Command{Use: "tool", Args: cli.NoSubcommand("unknown command"), RunE: func(*cobra.Command, []string) error { return nil }}
	cli.Setup(root)
	status := &cobra.Command{Use: "status", Args: cli.Positional(cobra.NoArgs), RunE: func(*cobra.Command, []string) error { return nil }}
	status.Flags().Bool("json", false, "")
	setup := &cobra.Command{Use: "setup NAME", Args: cli.Positional(cobra.MaximumNArgs(1)), RunE: func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cli.Usagef(cmd, "give the account %s", "NAME")
		}
		return nil
	}}
	plain := &cobra.Command{Use: "plain", RunE: func(*cobra.Command, []string) error { return errors.New("not a usage error") }}
	root.AddCommand(status, setup, plain)
	return root
}

func TestUsageErrorsAreOneLineAHintAndExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stauts"}, "tool: unknown command \"stauts\" (did you mean status?)\nsee tool --help\n"},
		{[]string{"zzz"}, "tool: unknown command \"zzz\"\nsee tool --help\n"},
		{[]string{"status", "extra"}, "tool status: unknown command \"extra\" for \"tool status\"\nsee tool status --help\n"},
		{[]string{"status", "--jsn"}, "tool status: unknown flag: --jsn\nsee tool status --help\n"},
		{[]string{"--frob"}, "tool: unknown flag: --frob\nsee tool --help\n"},
		{[]string{"setup"}, "tool setup: give the account NAME\nsee tool setup --help\n"},
		// Not a UsageError: the root names it.
		{[]string{"plain"}, "tool: not a usage error\nsee tool --help\n"},
	} {
		root := tool()
		var out, errb bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errb)
		root.SetArgs(tc.args)
		err := root.Execute()
		if err == nil {
			t.Errorf("%q: no error", tc.args)
			continue
		}
		var w bytes.Buffer
		if code := cli.Fail(&w, root, err); code != cli.ExitUsage || cli.ExitUsage != 2 {
			t.Errorf("%q: Fail returned %d; want 2", tc.args, code)
		}
		if w.String() != tc.want {
			t.Errorf("%q: printed %q; want %q", tc.args, w.String(), tc.want)
		}
		if out.Len()+errb.Len() != 0 {
			t.Errorf("%q: cobra printed stdout %q, stderr %q itself", tc.args, out.String(), errb.String())
		}
	}
}

func TestUsageErrorUnwraps(t *testing.T) {
	base := errors.New("base")
	err := error(cli.UsageError{Err: base})
	if !errors.Is(err, base) || err.Error() != "base" {
		t.Errorf("UsageError %v does not wrap %v", err, base)
	}
	if got := cli.FlagError(nil, base); !errors.Is(got, base) || !errors.As(got, new(cli.UsageError)) {
		t.Errorf("FlagError(%v) = %#v; want a UsageError wrapping it", base, got)
	}
}

func TestValidCommandLinesRun(t *testing.T) {
	for _, args := range [][]string{{}, {"status"}, {"status", "--json"}, {"setup", "robot"}} {
		root := tool()
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestGenMan(t *testing.T) {
	for _, fail := range []bool{false, true} {
		code := 0
		var gotDir string
		write := func(root *cobra.Command, dir string) error {
			gotDir = dir
			if root.Name() != "tool" {
				t.Errorf("gen-man wrote the pages of %q; want the root's", root.Name())
			}
			if fail {
				return errors.New("disk full")
			}
			return nil
		}
		root := tool()
		root.AddCommand(cli.GenMan("8", write, &code))
		var errb bytes.Buffer
		root.SetErr(&errb)
		root.SetArgs([]string{"gen-man", "out"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		want, wantCode := "", 0
		if fail {
			want, wantCode = "tool gen-man: disk full\n", 1
		}
		if gotDir != "out" || errb.String() != want || code != wantCode {
			t.Errorf("fail %v: wrote %q, stderr %q, code %d; want out, %q, %d", fail, gotDir, errb.String(), code, want, wantCode)
		}
	}
	root := tool()
	root.AddCommand(cli.GenMan("8", nil, new(int)))
	root.SetArgs([]string{"gen-man"})
	var w bytes.Buffer
	if err := root.Execute(); err == nil || cli.Fail(&w, root, err) != 2 || w.String() != "tool gen-man: accepts 1 arg(s), received 0\nsee tool gen-man --help\n" {
		t.Errorf("gen-man without DIR: %q", w.String())
	}
}

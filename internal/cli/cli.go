package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// ExitUsage is the exit status of a usage error (argparse's and the Go
// flag package's 2).
const ExitUsage = 2

// UsageError is a command line that cannot be run as given. Cmd is the
// command whose path the message and the hint name; nil names the root.
type UsageError struct {
	Cmd *cobra.Command
	Err error
}

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef is a UsageError of cmd with a formatted message.
func Usagef(cmd *cobra.Command, format string, args ...any) error {
	return UsageError{Cmd: cmd, Err: fmt.Errorf(format, args...)}
}

// FlagError makes a flag error a usage error (cobra's SetFlagErrorFunc).
func FlagError(cmd *cobra.Command, err error) error { return UsageError{Cmd: cmd, Err: err} }

// Positional makes the errors of cobra's argument checks usage errors.
func Positional(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return UsageError{Cmd: cmd, Err: err}
		}
		return nil
	}
}

// NoSubcommand refuses positional arguments, for a command whose
// arguments can only be subcommands: the error is what, then the first
// argument quoted, and the nearest subcommands if any ("unknown command
// "stauts" (did you mean status?)").
func NoSubcommand(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("%s %q", what, args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
		}
		return UsageError{Cmd: cmd, Err: errors.New(msg)}
	}
}

// Setup makes root's command tree report errors as this package does:
// cobra prints neither the error nor the usage (Fail prints the one
// line), flag errors are usage errors, and a mistyped subcommand is
// matched within two edits.
func Setup(root *cobra.Command) {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(FlagError)
}

// Fail prints err, an error of root's Execute, to w as one line and a
// hint where the help is, both naming the command that refused the
// command line (root unless err is a UsageError naming another), and
// returns ExitUsage.
func Fail(w io.Writer, root *cobra.Command, err error) int {
	cmd := root
	var ue UsageError
	if errors.As(err, &ue) && ue.Cmd != nil {
		cmd = ue.Cmd
	}
	fmt.Fprintf(w, "%s: %v\nsee %s --help\n", cmd.CommandPath(), err, cmd.CommandPath())
	return ExitUsage
}

// GenMan is a command tree's hidden `gen-man DIR`, which `make man` and
// `make pkg-bin` run: write writes the man pages of the tree's root into
// DIR in the manual section named (internal/manpage, from the same
// definitions as the help). A failure is one line on the command's stderr
// and sets *code to 1, the commands' exit status for a failure.
func GenMan(section string, write func(root *cobra.Command, dir string) error, code *int) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "write the man pages (section " + section + ") of every command into DIR",
		Hidden: true,
		Args:   Positional(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := write(cmd.Root(), args[0]); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", cmd.CommandPath(), err)
				*code = 1
			}
			return nil
		},
	}
}

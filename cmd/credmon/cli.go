package main

// The command line: spf13/cobra commands with pflag flags, as
// credmon-token's (help lists `-c, --cred-dir DIR` once per option, every
// command has --help, shells complete commands and flags with `credmon
// completion bash|zsh|fish`, and the man pages come from the same
// definitions: `credmon gen-man DIR`, hidden).
//
// The root command is the daemon, as condor_master starts it: its options
// are pflag flags (so -dv, -nNAME, -n=NAME and -c-c parse as argparse
// parses them), abbreviated long options are expanded by pflag's
// NormalizeFunc, and only Go's single-dash long names (-debug, -name X),
// which pflag cannot read, are rewritten by hand (argparseArgs).

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/internal/cli"
	"github.com/credmon/credmon/internal/manpage"
)

// app is one run of the command line: where it prints, the exit status
// the command chose, and what tests inject. Commands report failures
// through their documented exit statuses; cobra's errors are usage errors
// only (exit 2, one line and a hint).
type app struct {
	out, err io.Writer
	code     int
	// daemon runs the daemon with the parsed options (runDaemon; tests
	// capture the options instead).
	daemon func(*options) int
	now    func() time.Time
	alive  func(int) bool
}

const daemonLong = `credmon is the drop-in replacement for HTCondor's condor_credmon_oauth. Without a
subcommand it is the daemon, as condor_master starts it (CREDMON_OAUTH = /usr/sbin/credmon);
its options are the Python credmon's, in every spelling its argparse parser accepts
(-dv, -nNAME, --name=NAME, unambiguous prefixes such as --cred).

Exit status of the daemon: 0 on SIGTERM/SIGINT/SIGQUIT, 1 start-up error, 2 usage,
44 the log cannot be opened, 99 invalid provider names (condor_master: do not restart).
Each subcommand documents its own.`

// daemonFlags defines the daemon's options into a new flag set, for the
// root command and for argparseArgs' lookups.
func daemonFlags(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("credmon", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVarP(&o.name, "name", "n", "CREDMON_OAUTH", "daemon (subsystem) `NAME`: selects <NAME>_LOG, <NAME>_DEBUG and SUBSYS.KNOB settings")
	fs.StringVarP(&o.credDir, "cred-dir", "c", "", "credential `DIR` (default SEC_CREDENTIAL_DIRECTORY_OAUTH, then SEC_CREDENTIAL_DIRECTORY)")
	fs.StringVarP(&o.logFile, "log-file", "l", "", "log `FILE` (default <NAME>_LOG, then $(LOG)/CredmonOauthLog)")
	fs.BoolVarP(&o.debug, "debug", "d", false, "debug logging (adds D_FULLDEBUG)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log to stderr instead of the log file")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile to `FILE` until exit (for performance work)")
	fs.BoolP("help", "h", false, "help for credmon")
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	fs.SetNormalizeFunc(abbreviations(names))
	return fs
}

// abbreviations expands an unambiguous prefix of a long option, as
// argparse (allow_abbrev) does: pflag looks every long name up through
// its NormalizeFunc. An exact, unknown or ambiguous name is unchanged, so
// pflag refuses the last two.
func abbreviations(names []string) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "" || slices.Contains(names, name) {
			return pflag.NormalizedName(name)
		}
		match := ""
		for _, n := range names {
			if strings.HasPrefix(n, name) {
				if match != "" {
					return pflag.NormalizedName(name)
				}
				match = n
			}
		}
		if match == "" {
			return pflag.NormalizedName(name)
		}
		return pflag.NormalizedName(match)
	}
}

// argparseArgs rewrites the daemon's command line for pflag. pflag reads
// everything argparse accepts (-dv, -nNAME, -dvnNAME, -n=NAME, a value
// starting with "-", prefixes through abbreviations) except Go's
// single-dash long names that earlier releases of this binary accepted
// (-debug, -name X, -version): pflag reads -name as -n ame and has no
// setting for single-dash long options (its NormalizeFunc sees names, not
// dashes), so those are rewritten by hand (cli.GoSpellings, exact names
// only: the NormalizeFunc's abbreviations are argparse's, for --).
func argparseArgs(args []string) []string {
	return cli.GoSpellings(daemonFlags(&options{}), args, cli.Spellings{})
}

// newRoot builds the command tree.
func newRoot(a *app) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "credmon",
		Short: "HTCondor's OAuth credential monitor (condor_credmon_oauth) and its admin tools",
		Long:  daemonLong,
		Args:  cli.NoSubcommand("unknown command or unexpected argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.name = strings.ToUpper(o.name)
			if o.version {
				fmt.Fprintf(a.err, "credmon %s\n", credmon.Version)
				return nil
			}
			a.code = a.daemon(o)
			return nil
		},
	}
	root.SetOut(a.out)
	root.SetErr(a.err)
	root.Flags().AddFlagSet(daemonFlags(o))
	root.Flags().SortFlags = false
	root.Flags().SetNormalizeFunc(daemonFlags(&options{}).GetNormalizeFunc())
	cli.Setup(root)

	token := &cobra.Command{
		Use:   "token",
		Short: "check (verify) or show (decode) a token",
		Args:  cli.NoSubcommand("unknown command or unexpected argument"),
		// A group alone is a usage error (exit 2), as before cobra.
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Usagef(cmd, "a subcommand is required: verify or decode")
		},
	}
	token.AddCommand(newVerifyCmd(a), newDecodeCmd(a))
	root.AddCommand(newIssuerCmd(a), token, newCheckCmd(a), newStatusCmd(a), cli.GenMan("8", manPages, &a.code))
	var sortOff func(*cobra.Command)
	sortOff = func(c *cobra.Command) {
		c.Flags().SortFlags = false
		for _, s := range c.Commands() {
			sortOff(s)
		}
	}
	sortOff(root)
	return root
}

// execute runs the command line args and returns the exit status.
func (a *app) execute(args []string) int {
	root := newRoot(a)
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = argparseArgs(args) // the daemon: no positional arguments
	} else if len(args) > 0 {
		if c, _, err := root.Find(args); err == nil && c != root {
			c.InitDefaultHelpFlag()
			i := slices.Index(args, c.Name())
			if i >= 0 {
				args = append(args[:i+1:i+1], cli.GoSpellings(c.Flags(), args[i+1:], cli.Spellings{})...)
			}
		}
	}
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return cli.Fail(a.err, root, err)
	}
	return a.code
}

// manPages writes the man pages of every command into dir: `credmon
// gen-man DIR` (cli.GenMan), which `make man` and `make pkg-bin` run.
// Section 8 (system administration), not 1: credmon is a daemon in
// /usr/sbin with admin subcommands, and in section 1 the pages of
// `credmon token` and `credmon token decode` would be credmon-token.1 and
// credmon-token-decode.1, the names of the robot tool's pages.
func manPages(root *cobra.Command, dir string) error {
	return manpage.WriteSection(root, dir, "CREDMON", "8", "credmon "+credmon.Version)
}

package main

// The command line: spf13/cobra commands with pflag flags, the Go
// ecosystem's standard, so help lists `-o, --outfile FILE` once per
// option, every command has --help, shells complete the commands and
// flags (credmon-token completion bash|zsh|fish) and the man pages are
// generated from the same definitions (man.go).

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credmon/credmon/internal/cli"
)

// app is one run of the command line: where it prints, and the exit
// status the command chose. Commands report failures through their exit
// statuses (documented in doc.go), not through cobra's errors; cobra's
// errors are usage errors only.
type app struct {
	s    *stdio
	code int
	// args are the subcommand's arguments as parsed (after
	// goFlagSpellings), for messages that echo the user's spelling.
	args []string
}

// exitText is the exit statuses, for the root command's help and man page.
const exitText = `Exit status: 0 ok, 1 failure, 2 usage, 3 configuration (also an http:// issuer without --insecure;
with get --condor a SEC_CREDENTIAL_GETTOKEN_OPTS that is not this robot's, or credd holding other scopes),
4 a human must log in (run setup), 5 issuer unreachable, 6 issuer refused, 7 file permissions (also a
token path that is a directory or FIFO), 130/131/143 get or renew stopped by SIGINT/SIGQUIT/SIGTERM (renew --watch: 0):
no refresh was started after the signal, one already sent was finished and saved (bounded by get's
--timeout; renew's per-token timeout and --timeout).`

// newRoot builds the command tree. ctx is the commands' context (a stop
// signal cancels it).
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "credmon-token",
		Short: "keep robot and service tokens valid (igwn-robot-get, osg-token-renewer)",
		Long: "credmon-token keeps robot and service tokens valid without oidc-agent or Python: what igwn-robot-get\n" +
			"(cron, --minsecs, WLCG bearer token discovery) and the OSG Token Renewal Service (config.ini,\n" +
			"device-flow setup, systemd timer) do, in one static binary.\n\n" + exitText,
		Version: Version,
		Args:    cli.NoSubcommand("unknown command"),
		// No arguments: the usage on stderr, exit 2, as before cobra.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(a.s.err)
			a.code = exitUsage
			return cmd.Usage()
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetIn(a.s.in)
	root.SetOut(a.s.out)
	root.SetErr(a.s.err)
	cli.Setup(root)
	root.SetVersionTemplate("credmon-token {{.Version}}\n")
	// -V as get's (igwn-robot-get's); cobra would take -v, which get uses
	// for --verbose.
	root.Flags().BoolP("version", "V", false, "print the version and exit")
	root.SetUsageTemplate(usageTemplate)
	root.AddCommand(
		newSetupCmd(a), newGetCmd(a), newRenewCmd(a), newStatusCmd(a), newPathCmd(a), newDecodeCmd(a),
		&cobra.Command{
			Use: "version", Short: "print the version", Args: cli.Positional(cobra.NoArgs),
			RunE: func(cmd *cobra.Command, _ []string) error {
				fmt.Fprintf(a.s.out, "credmon-token %s\n", Version)
				return nil
			},
		},
		cli.GenMan("1", writeManPages, &a.code),
	)
	for _, c := range root.Commands() {
		c.Flags().SortFlags = false
	}
	return root
}

func run(args []string, in io.Reader, out, errw io.Writer) int {
	a := &app{s: &stdio{in: in, out: out, err: errw}}
	root := newRoot(a)
	if len(args) > 0 {
		if c, _, err := root.Find(args[:1]); err == nil && c != root {
			c.InitDefaultHelpFlag() // so that Go's -help is rewritten too
			args = append(args[:1:1], goFlagSpellings(c.Flags(), args[1:])...)
			a.args = args[1:]
		}
	}
	root.SetArgs(args)
	ctx, stop := notifyStop(context.Background())
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		return cli.Fail(errw, root, err)
	}
	return a.code
}

// goFlagSpellings rewrites the spellings Go's flag package accepted, and
// that scripts written for earlier credmon-token releases may use, into
// pflag's (cli.GoSpellings): a long option with one dash, an old name
// (alias) included (-account NAME, -minsecs=60), and a one-letter option
// with two (--o FILE, --v).
func goFlagSpellings(fs *pflag.FlagSet, args []string) []string {
	return cli.GoSpellings(fs, args, cli.Spellings{Aliases: true, DoubleDashShort: true})
}

// spelled reports how the flag named name was given on the command line
// (its short or its long name, or an alias), for messages that echo the
// user's words; "" when it was not given. pflag keeps only the canonical
// name of a flag that was set.
func spelled(fs *pflag.FlagSet, args []string, name string) string {
	f := fs.Lookup(name)
	if f == nil || !f.Changed {
		return ""
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return ""
		case strings.HasPrefix(arg, "--"):
			n, _, hasValue := strings.Cut(arg[2:], "=")
			g := fs.Lookup(n)
			if g == f {
				return "--" + n
			}
			if !hasValue && g != nil && g.NoOptDefVal == "" {
				i++
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			for j := 1; j < len(arg); j++ {
				g := fs.ShorthandLookup(arg[j : j+1])
				if g == f {
					return "-" + f.Shorthand
				}
				if g == nil || g.NoOptDefVal == "" {
					if j == len(arg)-1 {
						i++
					}
					break
				}
			}
		}
	}
	return "--" + f.Name
}

// aliases makes old long names spell a flag's canonical one (pflag's
// NormalizeFunc, the library's way to rename flags): they parse, and help
// and completion list only the canonical name.
func aliases(fs *pflag.FlagSet, alias map[string]string) {
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if n, ok := alias[name]; ok {
			return pflag.NormalizedName(n)
		}
		return pflag.NormalizedName(name)
	})
}

// completeFiles and completeDirs make shells complete these flags' values
// as file or directory names; completeValues offers a flag's fixed values.
func completeFiles(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagFilename(n); err != nil {
			panic(err)
		}
	}
}

func completeDirs(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagDirname(n); err != nil {
			panic(err)
		}
	}
}

func completeValues(cmd *cobra.Command, name string, values ...string) {
	if err := cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)); err != nil {
		panic(err)
	}
}

// groupAnnotation puts a flag under a heading of its command's help.
const groupAnnotation = "credmon-token/group"

// group puts the named flags under the heading title in the help.
func group(fs *pflag.FlagSet, title string, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, groupAnnotation, []string{title}); err != nil {
			panic(err) // a flag name misspelt here
		}
	}
}

// flagSections is the "Flags:" part of the help: the flags without a
// group first, then each group under its heading, in the order the
// groups were first used.
func flagSections(cmd *cobra.Command) string {
	var titles []string
	sets := map[string]*pflag.FlagSet{}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		title := "Flags"
		if g := f.Annotations[groupAnnotation]; len(g) > 0 {
			title = g[0]
		}
		fs, ok := sets[title]
		if !ok {
			fs = pflag.NewFlagSet(title, pflag.ContinueOnError)
			fs.SortFlags = false
			sets[title] = fs
			titles = append(titles, title)
		}
		fs.AddFlag(f)
	})
	// "Flags" (the general ones, and --help) last: the sources first.
	var b strings.Builder
	order := append([]string(nil), titles...)
	for i, t := range order {
		if t == "Flags" {
			order = append(append(order[:i:i], order[i+1:]...), t)
			break
		}
	}
	for _, t := range order {
		fmt.Fprintf(&b, "\n\n%s:\n%s", t, strings.TrimRight(sets[t].FlagUsagesWrapped(110), " \n"))
	}
	return b.String()
}

func init() {
	cobra.AddTemplateFunc("flagSections", flagSections)
}

// usageTemplate is cobra's default with the flags in groups
// (flagSections); cobra lists a command's flags in one block.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}{{flagSections .}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

// countFlag is a flag given several times (-v -v, -vv, --verbose), as
// argparse's "count". It is a bool-like flag to pflag (no value
// needed, none shown in the help); pflag's own count type would print
// "count" as the option's argument.
type countFlag int

func (c *countFlag) String() string { return strconv.Itoa(int(*c)) }
func (c *countFlag) Set(s string) error {
	if s == "+1" {
		*c++
		return nil
	}
	on, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if on {
		*c++
	} else {
		*c = 0
	}
	return nil
}

// Type is "bool" to pflag, so that its help shows no argument
// (pflag's own count type shows "count") and shells complete it as a
// switch.
func (c *countFlag) Type() string     { return "bool" }
func (c *countFlag) IsBoolFlag() bool { return true }

// countVarP defines a countFlag.
func countVarP(fs *pflag.FlagSet, c *countFlag, name, short, usage string) {
	f := fs.VarPF(c, name, short, usage)
	f.NoOptDefVal = "true" // each -v counts one
	f.DefValue = ""        // no "(default 0)" in the help
}

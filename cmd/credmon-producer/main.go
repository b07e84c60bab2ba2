package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/credmon/credmon/internal/manpage"
	"github.com/credmon/credmon/producer/storer"
)

const (
	exitOK      = 0
	exitFailure = 1
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// producerLong is the command's description, for --help and the man page.
const producerLong = `As SEC_CREDENTIAL_STORER (a drop-in for condor_vault_storer, now condor_credential_storer),
condor_submit runs it with the job's use_oauth_services: for each Vault service it asks credd what it
holds (condor_store_cred query-oauth), obtains the credential from Vault (a Kerberos login, else an
OIDC login on the terminal) and stores only what credd lacks or what was renewed. Services of the
local, OAuth2 or client-credentials credmons are skipped; Pelican services are refused.

Each oauth_service is an issuer optionally followed by underscore and role. Options may be added to
each oauth_service: &handle=<name> (a name added to the credential), &scopes=<scopes> (a
comma-separated list of scopes to request), &audience=<audience> (a token audience to request),
&options=<args> (extra options for the token source, htgettoken's). The words of
SEC_CREDENTIAL_VAULT_STORER_OPTS are read as options before the command line's.

With no arguments (and CONDOR_CREDENTIAL_STORER_MODE unset) it is SEC_CREDENTIAL_PRODUCER: it prints
LOCAL:<first of LOCAL_CREDMON_PROVIDER_NAMES>.

    SEC_CREDENTIAL_STORER = /usr/bin/credmon-producer
    SEC_CREDENTIAL_PRODUCER = /usr/bin/credmon-producer

Exit status: 0 success; 1 any failure (condor_submit then fails the submit), including usage errors.`

// newCommand is the command line's definition: the help, the usage
// printed with a usage error, and the man page come from it.
//
// cobra parses nothing here (DisableFlagParsing): the storer's getopts
// (storer.ParseArgs) is the one parser of condor_vault_storer's "dv"
// grammar, for the command line and SEC_CREDENTIAL_VAULT_STORER_OPTS
// alike (options only before the first service, -vd bundled, "--"), and
// every argument after the options is a service, so the command has no
// subcommands (cobra's help or completion would shadow services of those
// names). -h and --help, which getopts rejects, show the help.
func newCommand(name string) *cobra.Command {
	cmd := &cobra.Command{
		Use:                   name + " [-vd] oauth_service[&handle=H][&scopes=S][&audience=A][&options=O] ...",
		Short:                 "store a user's credentials in HTCondor's credd at submit time (condor_vault_storer)",
		Long:                  producerLong,
		DisableFlagParsing:    true,
		DisableFlagsInUseLine: true,
		SilenceErrors:         true,
		SilenceUsage:          true,
		Run:                   func(*cobra.Command, []string) {},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.BoolP("verbose", "v", false, "shows more progress than normal")
	fl.BoolP("debug", "d", false, "shows a lot of debug information (implies -v)")
	fl.BoolP("help", "h", false, "show this help and exit")
	return cmd
}

func run(ctx context.Context, argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	args := argv[1:]
	cmd := newCommand(name)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help":
			if err := cmd.Help(); err != nil {
				return exitFailure
			}
			return exitOK
		case "--gen-man":
			// make man: an option getopts rejects, so no service
			// (an argument) is shadowed.
			if len(args) != 2 {
				fmt.Fprintf(stderr, "usage: %s --gen-man DIR\n", name)
				return exitFailure
			}
			if err := manpage.Write(newCommand("credmon-producer"), args[1], "CREDMON-PRODUCER", "credmon"); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", name, err)
				return exitFailure
			}
			return exitOK
		}
	}
	term := storer.NewTerminal(stderr)
	knobs, err := storer.LoadKnobs()
	if err != nil {
		term.Printf("%s: %v", name, err)
		return exitFailure
	}
	env := storer.EnvFrom(getenv, os.Getuid())
	if len(args) == 0 && env.Mode == "" {
		return produce(name, knobs, stdout, term)
	}
	cfg := storer.ConfigFrom(knobs)
	flags, reqs, err := storer.ParseArgs(cfg.StorerOpts, args)
	if err != nil {
		term.Printf("%s: %v", name, err)
		if errors.Is(err, storer.ErrUsage) {
			term.Printf("%s", cmd.UsageString())
		}
		return exitFailure
	}
	s := &storer.Storer{
		Name:   name,
		Args:   args,
		Flags:  flags,
		Env:    env,
		Config: cfg,
		Source: newSource(),
		Store:  storer.NewStoreCred(env),
		Term:   term,
	}
	if err := s.Run(ctx, reqs); err != nil {
		s.Report(err)
		return exitFailure
	}
	return exitOK
}

// produce is SEC_CREDENTIAL_PRODUCER: the credential on stdout, nothing on
// stdout on failure (condor_submit does not look at the exit status).
func produce(name string, knobs storer.Knobs, stdout io.Writer, term *storer.Terminal) int {
	cred, err := storer.LocalCredential(knobs)
	if err != nil {
		term.Printf("%s: %v", name, err)
		return exitFailure
	}
	if _, err := io.WriteString(stdout, cred); err != nil {
		term.Printf("%s: writing the credential: %v", name, err)
		return exitFailure
	}
	return exitOK
}

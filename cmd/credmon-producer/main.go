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

func run(ctx context.Context, argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	args := argv[1:]
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
		if errors.Is(err, storer.ErrUsage) {
			term.Printf("%s: %v", name, err)
			usage(term, name)
		} else {
			term.Printf("%s: %v", name, err)
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

func usage(w io.Writer, name string) {
	fmt.Fprintf(w, "Usage: %s [-vd] oauth_service ...\n"+
		"  -v shows more progress than normal\n"+
		"  -d shows a lot of debug information\n"+
		"  Each oauth_service is an issuer optionally followed by underscore and role\n"+
		"  Options may be added to each oauth_service:\n"+
		"    &handle=<name>       A name to be added to the credential\n"+
		"    &scopes=<scopes>     A comma-separated list of scopes to request\n"+
		"    &audience=<audience> A token audience to request\n"+
		"    &options=<args>      Extra options for the token source (htgettoken's)\n"+
		"  With no arguments it prints LOCAL:<local-issuer provider> (SEC_CREDENTIAL_PRODUCER).\n", name)
}

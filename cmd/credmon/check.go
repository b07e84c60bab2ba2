package main

// credmon check: validate the configuration before condor_reconfig. The
// checks live in package credmon/check; this file is the command line.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/credmon/credmon/credmon/check"
	"github.com/credmon/credmon/credmon/knobs"
)

// Exit codes of credmon check (README, Operations).
const (
	checkOK         = 0 // no errors (warnings may have been printed)
	checkErrors     = 1 // at least one error
	checkUnreadable = 3 // the HTCondor configuration could not be read at all
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("credmon check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("n", "CREDMON_OAUTH", "daemon (subsystem) name whose configuration to read")
	credDir := fs.String("c", "", "credential directory, as the daemon's --cred-dir (default SEC_CREDENTIAL_DIRECTORY_OAUTH)")
	offline := fs.Bool("offline", false, "skip the network checks (token URLs and issuers reachable)")
	asJSON := fs.Bool("json", false, "print the report as JSON (schema in the README)")
	standalone := fs.Bool("standalone", false, "a supervisor other than condor_master (systemd) runs the daemon: do not require DAEMON_LIST to name it")
	timeout := fs.Duration("timeout", check.DefaultTimeout, "bound of each network check")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: credmon check [flags]\n\n"+
			"Reads the HTCondor configuration exactly as the daemon does and checks every\n"+
			"knob it reads. Prints each problem as KNOB: what is wrong — how to fix it,\n"+
			"errors first. Exit status: 0 no errors, 1 errors, 2 usage, 3 configuration unreadable.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, cm, err := loadConfig(*name, knobs.Overrides{CredDir: *credDir})
	if cfg == nil {
		fmt.Fprintf(stderr, "credmon check: reading HTCondor configuration: %v\n", err)
		return checkUnreadable
	}
	exe, _ := os.Executable()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep := check.Run(ctx, check.Options{Config: cfg, Credmon: cm, LoadErr: err, Executable: exe,
		Offline: *offline, Standalone: *standalone, Timeout: *timeout})
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		stdout.Write(append(b, '\n'))
	} else {
		printCheck(stdout, rep)
	}
	if !rep.OK() {
		return checkErrors
	}
	return checkOK
}

func printCheck(w io.Writer, rep *check.Report) {
	fmt.Fprintf(w, "configuration: %s\n", rep.Config)
	if rep.CredDir != "" {
		fmt.Fprintf(w, "credential directory: %s\n", rep.CredDir)
	}
	for _, p := range rep.Providers {
		fmt.Fprintf(w, "provider %s: %s\n", p.Name, p.Type)
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintf(w, "\n%d error(s):\n", len(rep.Errors))
		for _, p := range rep.Errors {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintf(w, "\n%d warning(s):\n", len(rep.Warnings))
		for _, p := range rep.Warnings {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	switch {
	case !rep.OK():
		fmt.Fprintln(w, "\nFAILED: fix the errors before condor_reconfig")
	case rep.Offline:
		fmt.Fprintln(w, "\nOK (network checks skipped: --offline)")
	default:
		fmt.Fprintln(w, "\nOK")
	}
}

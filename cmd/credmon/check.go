package main

// credmon check: validate the configuration before condor_reconfig. The
// checks live in package credmon/check; this file is the command line.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/credmon/credmon/credmon/check"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/cli"
)

// Exit codes of credmon check (README, Operations).
const (
	checkOK         = 0 // no errors (warnings may have been printed)
	checkErrors     = 1 // at least one error
	checkUnreadable = 3 // the HTCondor configuration could not be read at all
)

func newCheckCmd(a *app) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [flags]",
		Short: "check every knob the daemon reads, before condor_reconfig",
		Long: "Reads the HTCondor configuration exactly as the daemon does and checks every\n" +
			"knob it reads. Prints each problem as KNOB: what is wrong — how to fix it,\n" +
			"errors first.\n\n" +
			"Exit status: 0 no errors, 1 errors, 2 usage, 3 configuration unreadable.",
		Args: cli.Positional(cobra.NoArgs),
		RunE: func(_ *cobra.Command, _ []string) error {
			a.code = runCheck(a.out, a.err, o)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.name, "name", "n", "CREDMON_OAUTH", "daemon (subsystem) `NAME` whose configuration to read")
	f.StringVarP(&o.credDir, "cred-dir", "c", "", "credential `DIR`, as the daemon's --cred-dir (default SEC_CREDENTIAL_DIRECTORY_OAUTH)")
	f.BoolVar(&o.offline, "offline", false, "skip the network checks (token URLs and issuers reachable)")
	f.BoolVar(&o.json, "json", false, "print the report as JSON (schema in the README)")
	f.BoolVar(&o.standalone, "standalone", false, "a supervisor other than condor_master (systemd) runs the daemon: do not require DAEMON_LIST to name it")
	f.DurationVar(&o.timeout, "timeout", check.DefaultTimeout, "bound of each network check")
	_ = cmd.MarkFlagDirname("cred-dir")
	return cmd
}

type checkOptions struct {
	name, credDir             string
	offline, json, standalone bool
	timeout                   time.Duration
}

func runCheck(stdout, stderr io.Writer, o checkOptions) int {
	name, credDir, offline, asJSON, standalone, timeout := &o.name, &o.credDir, &o.offline, &o.json, &o.standalone, &o.timeout
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

package main

// credmon status: what the daemon's state file says of every credential.
// The logic (reading, staleness, filtering, the text form) is package
// credmon/statefile; this file is the command line.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/statefile"
)

// Exit codes of credmon status (README, Operations).
const (
	statusOK         = 0 // daemon running, nothing needs a human
	statusNoState    = 1 // no (readable) state file
	statusNotRunning = 3 // the daemon stopped, or its state is stale
	statusNeedsHuman = 4 // running, but some credential needs a human
)

func runStatus(args []string, stdout, stderr io.Writer) int {
	return statusCommand(args, stdout, stderr, time.Now, nil)
}

// statusCommand is runStatus with the clock and the pid check injected.
func statusCommand(args []string, stdout, stderr io.Writer, now func() time.Time, alive func(int) bool) int {
	flags := flag.NewFlagSet("credmon status", flag.ContinueOnError)
	flags.SetOutput(stderr)
	name := flags.String("n", "CREDMON_OAUTH", "daemon (subsystem) name whose configuration to read")
	user := flags.String("user", "", "show only this user's credentials")
	asJSON := flags.Bool("json", false, "print the report as JSON (schema in the README)")
	file := flags.String("file", "", "read this state file (default <NAME>_STATE_FILE, $(LOCK)/<name>-state.json)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: credmon status [flags]\n\n"+
			"Shows every credential the daemon manages, from the state file it writes:\n"+
			"type, expiry of the .use, last refresh, last error, backoff, and what needs a\n"+
			"human. Works while the daemon runs and after it stopped (then says so).\n"+
			"Exit status: 0 running and all well, 1 no state file, 2 usage, 3 daemon\n"+
			"stopped or state stale, 4 a credential needs a human.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if flags.NArg() > 0 {
		flags.Usage()
		return exitUsage
	}
	path := *file
	if path == "" {
		_, cm, err := loadConfig(*name, knobs.Overrides{})
		if cm == nil {
			fmt.Fprintf(stderr, "credmon status: reading HTCondor configuration: %v\n", err)
			return statusNoState
		}
		if path = cm.StateFile; path == "" {
			fmt.Fprintf(stderr, "credmon status: no state file: %s_STATE_FILE is NONE, or LOCK is not set\n", cm.Name)
			return statusNoState
		}
	}
	st, err := statefile.Read(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "credmon status: %s does not exist: the daemon has not written it (not started yet, an older version, or another %s_STATE_FILE)\n", path, *name)
		} else {
			fmt.Fprintf(stderr, "credmon status: %v\n", err)
		}
		return statusNoState
	}
	t := now()
	rep := statefile.NewReport(path, st, *user, t, alive)
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		stdout.Write(append(b, '\n'))
	} else {
		rep.WriteText(stdout, t)
	}
	switch {
	case rep.Liveness != statefile.Running:
		return statusNotRunning
	case rep.NeedsHuman > 0:
		return statusNeedsHuman
	}
	return statusOK
}

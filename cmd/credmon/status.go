package main

// credmon status: what the daemon's state file says of every credential.
// The logic (reading, staleness, filtering, the text form) is package
// credmon/statefile; this file is the command line.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/statefile"
	"github.com/credmon/credmon/internal/cli"
)

// Exit codes of credmon status (README, Operations).
const (
	statusOK         = 0 // daemon running, nothing needs a human
	statusNoState    = 1 // no (readable) state file
	statusNotRunning = 3 // the daemon stopped, or its state is stale
	statusNeedsHuman = 4 // running, but some credential needs a human
)

// statusCommand runs `credmon status args` with the clock and the pid
// check injected (tests).
func statusCommand(args []string, stdout, stderr io.Writer, now func() time.Time, alive func(int) bool) int {
	a := &app{out: stdout, err: stderr, now: now, alive: alive}
	return a.execute(append([]string{"status"}, args...))
}

func newStatusCmd(a *app) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status [flags]",
		Short: "show every credential the daemon manages, from its state file",
		Long: "Shows every credential the daemon manages, from the state file it writes:\n" +
			"type, expiry of the .use, last refresh, last error, backoff, and what needs a\n" +
			"human. Works while the daemon runs and after it stopped (then says so).\n\n" +
			"Exit status: 0 running and all well, 1 no state file, 2 usage, 3 daemon\n" +
			"stopped or state stale, 4 a credential needs a human.",
		Args: cli.Positional(cobra.NoArgs),
		RunE: func(_ *cobra.Command, _ []string) error {
			now := a.now
			if now == nil {
				now = time.Now
			}
			a.code = runStatus(a.out, a.err, o, now, a.alive)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.name, "name", "n", "CREDMON_OAUTH", "daemon (subsystem) `NAME` whose configuration to read")
	f.StringVar(&o.user, "user", "", "show only this `USER`'s credentials")
	f.BoolVar(&o.json, "json", false, "print the report as JSON (schema in the README)")
	f.StringVar(&o.file, "file", "", "read this state `FILE` (default <NAME>_STATE_FILE, $(LOCK)/<name>-state.json)")
	_ = cmd.MarkFlagFilename("file")
	return cmd
}

type statusOptions struct {
	name, user, file string
	json             bool
}

func runStatus(stdout, stderr io.Writer, o statusOptions, now func() time.Time, alive func(int) bool) int {
	name, user, asJSON, file := &o.name, &o.user, &o.json, &o.file
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

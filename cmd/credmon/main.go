package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/credmon/dprintf"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/ready"
)

// Exit codes shared with HTCondor (src/condor_includes/exit.h).
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitLogError  = dprintf.ExitLogError // 44, DPRINTF_ERROR
	exitNoRestart = 99                   // DAEMON_NO_RESTART: the master holds us
)

func main() {
	if isTool(os.Args[1:]) {
		os.Exit(runTool(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	name, credDir, logFile string
	debug, verbose         bool
	version                bool
	cpuProfile             string

	// The parent condor_master, from CONDOR_INHERIT (not a flag).
	master    *ready.Master
	masterErr error
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("credmon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, n := range []string{"n", "name"} {
		fs.StringVar(&o.name, n, "CREDMON_OAUTH", "daemon (subsystem) name: selects <NAME>_LOG, <NAME>_DEBUG and SUBSYS.KNOB settings")
	}
	for _, n := range []string{"c", "cred-dir"} {
		fs.StringVar(&o.credDir, n, "", "credential directory (default SEC_CREDENTIAL_DIRECTORY_OAUTH, then SEC_CREDENTIAL_DIRECTORY)")
	}
	for _, n := range []string{"l", "log-file"} {
		fs.StringVar(&o.logFile, n, "", "log file (default <NAME>_LOG, then $(LOG)/CredmonOauthLog)")
	}
	for _, n := range []string{"d", "debug"} {
		fs.BoolVar(&o.debug, n, false, "debug logging (adds D_FULLDEBUG)")
	}
	for _, n := range []string{"v", "verbose"} {
		fs.BoolVar(&o.verbose, n, false, "log to stderr instead of the log file")
	}
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file until exit (for performance work)")
	if err := fs.Parse(argparseArgs(args)); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "credmon: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return nil, errors.New("unexpected argument")
	}
	o.name = strings.ToUpper(o.name)
	return o, nil
}

// Options as the Python credmon's argparse parser defines them
// (credmon/utils/utils.py parse_args): single-letter options that take no
// value, single-letter options that take one, and every long name the
// flag set knows.
const (
	shortBools  = "dv"
	shortValues = "ncl"
)

var longOptions = []string{"name", "cred-dir", "log-file", "debug", "verbose", "version", "cpuprofile", "help"}

// longValues are the long options that take a value.
var longValues = []string{"name", "cred-dir", "log-file", "cpuprofile"}

// argparseArgs rewrites the spellings argparse accepts and the flag
// package does not into ones it does, so that a CREDMON_OAUTH_ARGS written
// for the Python credmon works unchanged:
//
//   - combined short options: -dv is -d -v, and -dvn NAME / -dvnNAME end
//     with an option that takes the rest (or the next argument) as value;
//   - a value attached to a short option: -nNAME, -c/dir, -lFILE;
//   - an unambiguous prefix of a long option: --cred /dir, --log=FILE.
//
// Everything else is left as is (--name=X, -n X, Go's single-dash long
// names such as -version), and so is anything after "--"; unknown options
// stay unknown, so the flag package reports them (exit status 2, like
// argparse).
func argparseArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		var parts []string
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case strings.HasPrefix(a, "--"):
			parts = []string{expandLong(a)}
		case len(a) > 2 && a[0] == '-' && a[2] != '=':
			parts = expandShort(a)
		default:
			parts = []string{a}
		}
		out = append(out, parts...)
		// An option still waiting for its value takes the next argument
		// as is, even if it starts with "-" (e.g. --log-file -). Only the
		// last part can be one, and not when it is the value attached to
		// the option before it (-c-c: the value "-c").
		n := len(parts)
		waiting := takesValue(parts[n-1]) && (n == 1 || !takesValue(parts[n-2]))
		if waiting && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// takesValue reports whether a (rewritten) argument is an option whose
// value is the next argument: "-n", "--name", "-name", without "=".
func takesValue(a string) bool {
	name := strings.TrimLeft(a, "-")
	if name == a || strings.Contains(name, "=") {
		return false
	}
	return (len(name) == 1 && strings.Contains(shortValues, name)) || slices.Contains(longValues, name)
}

// expandLong completes an abbreviated --option[=value]; an exact, unknown
// or ambiguous name is returned unchanged.
func expandLong(a string) string {
	name, value, hasValue := strings.Cut(a[2:], "=")
	if slices.Contains(longOptions, name) || name == "" {
		return a
	}
	match := ""
	for _, l := range longOptions {
		if strings.HasPrefix(l, name) {
			if match != "" {
				return a // ambiguous: let the flag package refuse it
			}
			match = l
		}
	}
	if match == "" {
		return a
	}
	if hasValue {
		return "--" + match + "=" + value
	}
	return "--" + match
}

// expandShort splits "-dv", "-nNAME" and "-dvnNAME" into separate options.
// A single-dash long name known to the flag set ("-version", "-name X",
// "-name=X") and anything with a letter that is not a short option are
// returned unchanged.
func expandShort(a string) []string {
	if name, _, _ := strings.Cut(a[1:], "="); slices.Contains(longOptions, name) {
		return []string{a}
	}
	var out []string
	for i := 1; i < len(a); i++ {
		c := a[i]
		switch {
		case strings.IndexByte(shortBools, c) >= 0:
			out = append(out, "-"+string(c))
		case strings.IndexByte(shortValues, c) >= 0:
			out = append(out, "-"+string(c))
			if rest := a[i+1:]; rest != "" {
				out = append(out, rest)
			}
			return out
		default:
			return []string{a}
		}
	}
	return out
}

func run(args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.version {
		fmt.Fprintf(stderr, "credmon %s\n", credmon.Version)
		return exitOK
	}
	o.master, o.masterErr = inheritedMaster()

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "credmon: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "credmon: %v\n", err)
			return exitFailure
		}
		defer pprof.StopCPUProfile()
	}

	// Catch SIGHUP before anything can tell credd our pid: its default
	// action would kill us.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)

	var cfgSource string
	var lg *dprintf.Log
	load := func() (*knobs.Credmon, error) {
		cfg, cm, err := loadConfig(o.name, knobs.Overrides{CredDir: o.credDir, LogFile: o.logFile, Debug: o.debug})
		if cfg == nil {
			return nil, err
		}
		cfgSource = cfg.Source()
		if err == nil && lg != nil {
			lg.SetTimeFormat(cm.TimeFormat) // condor_reconfig re-reads DEBUG_TIME_FORMAT, as dprintf does
		}
		return cm, err
	}
	cm, cfgErr := load()
	if cm == nil {
		fmt.Fprintf(stderr, "credmon: reading HTCondor configuration: %v\n", cfgErr)
		return exitFailure
	}

	logPath := cm.LogPath
	if o.verbose {
		logPath = "-"
	} else if logPath == "" {
		fmt.Fprintf(stderr, "credmon: no log file: set %s_LOG or LOG, or pass --log-file or -v\n", o.name)
		return exitLogError
	}
	lg, err = dprintf.Open(dprintf.Options{Path: logPath, MaxBytes: cm.MaxLog, MaxNum: cm.MaxNumLog, Debug: cm.Debug, Name: "credmon",
		TimeFormat: cm.TimeFormat})
	if err != nil {
		fmt.Fprintf(stderr, "credmon: opening log: %v\n", err)
		return exitLogError
	}
	defer lg.Close()
	log := lg.Logger()
	return serve(o, cm, cfgErr, cfgSource, load, lg, log, sigs)
}

// loadConfig reads the HTCondor configuration as the daemon named name
// does: the one loader of the daemon, its admin subcommands and `credmon
// check`. cfg is nil when the configuration could not be read at all; cm
// may be non-nil with an error (a bad knob the daemon reports and exits
// on).
func loadConfig(name string, ov knobs.Overrides) (*condorcfg.Config, *knobs.Credmon, error) {
	name = strings.ToUpper(name)
	cfg, err := condorcfg.Load(condorcfg.Options{Subsystem: name, Prefetch: knobs.KnobsFor(name)})
	if err != nil {
		return nil, nil, err
	}
	cm, err := knobs.LoadCredmon(cfg, name, ov)
	return cfg, cm, err
}

func serve(o *options, cm *knobs.Credmon, cfgErr error, cfgSource string, load func() (*knobs.Credmon, error),
	lg *dprintf.Log, log hclog.Logger, sigs chan os.Signal) int {
	log.Info(fmt.Sprintf("credmon %s (%s) reading configuration from %s", credmon.Version, o.name, cfgSource))
	if cfgErr != nil {
		log.Error("invalid configuration", "error", cfgErr)
		return exitFailure
	}
	if bad := cm.InvalidProviderNames(); len(bad) > 0 {
		// HTCONDOR-2860: the Python credmon exits 99 so the master does
		// not restart it in a loop; the admin must fix the names.
		log.Error(fmt.Sprintf("invalid provider name(s) %s: names must match ^[A-Za-z0-9-]+$ (or set CREDMON_ALLOW_SPECIAL_CHAR_NAMES = True)",
			strings.Join(bad, ", ")))
		return exitNoRestart
	}
	dir, err := credmon.PrepareCredDir(cm.CredDir)
	if err != nil {
		log.Error("credential directory unusable", "error", err)
		return exitFailure
	}
	defer dir.Close()
	if real := dir.Path(); real != filepath.Clean(cm.CredDir) {
		// A symlink to another volume is common; say where files really go.
		log.Info(fmt.Sprintf("credential directory %s resolves to %s; using %s", cm.CredDir, real, real))
	}
	if os.Geteuid() != 0 {
		log.Info(fmt.Sprintf("running as uid %d, not root: credential files will be owned by this uid", os.Geteuid()))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	announce := newAnnouncer(ctx, o.name, o.master, o.masterErr, log)
	mon, err := credmon.New(credmon.Options{Config: cm, Reload: load, Dir: dir, Logger: log, CreateKeys: true,
		OnComplete: announce.passDone})
	if err != nil {
		log.Error("starting", "error", err)
		return exitFailure
	}
	go func() {
		for sig := range sigs {
			switch sig {
			case syscall.SIGHUP:
				// condor_reconfig and credd both send SIGHUP: rescan (and
				// reload, rate-limited), and reopen the log for logrotate.
				if err := lg.Reopen(); err != nil {
					log.Warn("reopening log", "error", err)
				}
				mon.Rescan()
			default:
				log.Info(fmt.Sprintf("received %s, exiting", sig))
				cancel()
			}
		}
	}()
	if err := mon.Run(ctx); err != nil {
		log.Error("exiting on error", "error", err)
		return exitFailure
	}
	return exitOK
}

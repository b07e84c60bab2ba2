package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/credmon/dprintf"
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
	if err := fs.Parse(args); err != nil {
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
	load := func() (*condorcfg.Credmon, error) {
		cfg, err := condorcfg.Load(condorcfg.Options{Subsystem: o.name, Prefetch: condorcfg.KnobsFor(o.name)})
		if err != nil {
			return nil, err
		}
		cfgSource = cfg.Source()
		return condorcfg.LoadCredmon(cfg, o.name, condorcfg.Overrides{CredDir: o.credDir, LogFile: o.logFile, Debug: o.debug})
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
	lg, err := dprintf.Open(dprintf.Options{Path: logPath, MaxBytes: cm.MaxLog, MaxNum: cm.MaxNumLog, Debug: cm.Debug, Name: "credmon"})
	if err != nil {
		fmt.Fprintf(stderr, "credmon: opening log: %v\n", err)
		return exitLogError
	}
	defer lg.Close()
	log := lg.Logger()
	return serve(o, cm, cfgErr, cfgSource, load, lg, log, sigs)
}

func serve(o *options, cm *condorcfg.Credmon, cfgErr error, cfgSource string, load func() (*condorcfg.Credmon, error),
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
	if os.Geteuid() != 0 {
		log.Info(fmt.Sprintf("running as uid %d, not root: credential files will be owned by this uid", os.Geteuid()))
	}

	mon, err := credmon.New(credmon.Options{Config: cm, Reload: load, Dir: dir, Logger: log, CreateKeys: true})
	if err != nil {
		log.Error("starting", "error", err)
		return exitFailure
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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

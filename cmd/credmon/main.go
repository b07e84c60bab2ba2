package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon"
	"github.com/credmon/credmon/credmon/dprintf"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/cli"
	"github.com/credmon/credmon/internal/ready"
)

// Exit codes shared with HTCondor (src/condor_includes/exit.h).
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = cli.ExitUsage
	exitLogError  = dprintf.ExitLogError // 44, DPRINTF_ERROR
	exitNoRestart = 99                   // DAEMON_NO_RESTART: the master holds us
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line (cli.go): the daemon, or an admin subcommand.
func run(args []string, stdout, stderr io.Writer) int {
	a := &app{out: stdout, err: stderr, now: time.Now}
	a.daemon = func(o *options) int { return runDaemon(o, stderr) }
	return a.execute(args)
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

// parseFlags parses the daemon's command line exactly as run does (the
// same cobra root), without starting the daemon: the options, or an
// error for a usage error or --help.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	var got *options
	a := &app{out: stderr, err: stderr, daemon: func(o *options) int { got = o; return exitOK }}
	if code := a.execute(args); got == nil {
		return nil, fmt.Errorf("no daemon options (exit status %d)", code)
	}
	return got, nil
}

// runDaemon runs the daemon with its parsed options.
func runDaemon(o *options, stderr io.Writer) int {
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
	lg, err := dprintf.Open(dprintf.Options{Path: logPath, MaxBytes: cm.MaxLog, MaxNum: cm.MaxNumLog, Debug: cm.Debug, Name: "credmon",
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

package main

// Tests of the Python credmon's command line (argparse spellings) and of
// the log: DEBUG_TIME_FORMAT, exact success sentences, and a symlinked
// credential directory.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
)

func TestParseFlagsArgparseSpellings(t *testing.T) {
	type want struct {
		name, credDir, logFile string
		debug, verbose         bool
	}
	def := want{name: "CREDMON_OAUTH"}
	with := func(f func(*want)) want { w := def; f(&w); return w }
	for _, tt := range []struct {
		args []string
		want want
	}{
		{nil, def},
		{[]string{"-dv"}, with(func(w *want) { w.debug, w.verbose = true, true })},
		{[]string{"-vd"}, with(func(w *want) { w.debug, w.verbose = true, true })},
		{[]string{"-nMYCRED"}, with(func(w *want) { w.name = "MYCRED" })},
		{[]string{"-n", "mycred"}, with(func(w *want) { w.name = "MYCRED" })},
		{[]string{"--name=MYCRED"}, with(func(w *want) { w.name = "MYCRED" })},
		{[]string{"--name", "MYCRED"}, with(func(w *want) { w.name = "MYCRED" })},
		{[]string{"-n=MYCRED"}, with(func(w *want) { w.name = "MYCRED" })},
		{[]string{"--na=MYCRED"}, with(func(w *want) { w.name = "MYCRED" })},
		{[]string{"-c/var/creds", "-l/tmp/log"}, with(func(w *want) { w.credDir, w.logFile = "/var/creds", "/tmp/log" })},
		{[]string{"--cred-dir=/var/creds", "--log-file", "/tmp/log"}, with(func(w *want) { w.credDir, w.logFile = "/var/creds", "/tmp/log" })},
		{[]string{"--cred", "/var/creds", "--log=/tmp/log"}, with(func(w *want) { w.credDir, w.logFile = "/var/creds", "/tmp/log" })},
		{[]string{"-dvnMYCRED"}, with(func(w *want) { w.debug, w.verbose, w.name = true, true, "MYCRED" })},
		{[]string{"-dvc", "/var/creds"}, with(func(w *want) { w.debug, w.verbose, w.credDir = true, true, "/var/creds" })},
		{[]string{"-l", "-dv"}, with(func(w *want) { w.logFile = "-dv" })}, // a value is never split
		{[]string{"--debug", "--verbose"}, with(func(w *want) { w.debug, w.verbose = true, true })},
		{[]string{"-debug", "-name", "X"}, with(func(w *want) { w.debug, w.name = true, "X" })}, // Go's single-dash long names
	} {
		o, err := parseFlags(tt.args, io.Discard)
		if err != nil {
			t.Errorf("parseFlags(%q) = %v", tt.args, err)
			continue
		}
		got := want{o.name, o.credDir, o.logFile, o.debug, o.verbose}
		if got != tt.want {
			t.Errorf("parseFlags(%q) = %+v; want %+v", tt.args, got, tt.want)
		}
	}
	for _, bad := range [][]string{{"-dx"}, {"--ver"}, {"-x"}, {"--bogus"}, {"extra"}, {"-d", "--", "-v"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) succeeded; want a usage error", bad)
		}
	}
}

// waitFile waits until path exists (the daemon's own start-up, not a
// performance check).
func (d *daemon) waitFile(path string) {
	d.t.Helper()
	d.wait(path, func() bool { _, err := os.Stat(path); return err == nil })
}

func (d *daemon) stop() {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(20 * time.Second); code != 0 {
		d.t.Errorf("exit after SIGTERM = %d; want 0", code)
	}
}

// TestNameOption: -n/--name selects <NAME>_LOG (and the other <NAME>_
// knobs) in every spelling argparse accepts.
func TestNameOption(t *testing.T) {
	for _, args := range [][]string{{"-n", "MYCRED"}, {"-nMYCRED"}, {"--name=MYCRED"}, {"--name", "mycred"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			d := newDaemon(t, "")
			mine := filepath.Join(d.base, "log", "MyCredLog")
			d.writeConfig("MYCRED_LOG = " + mine + "\nMYCRED_SCAN_INTERVAL = 3600")
			d.start(args...)
			d.waitFile(filepath.Join(d.credDir, "pid"))
			d.wait("the MYCRED_LOG file", func() bool {
				b, _ := os.ReadFile(mine)
				return strings.Contains(string(b), "(MYCRED) reading configuration")
			})
			d.stop()
			if _, err := os.Stat(d.logFile); err == nil {
				t.Errorf("CREDMON_OAUTH_LOG was written with -n MYCRED")
			}
		})
	}
}

// TestLogFileOption: -l/--log-file names a log file that works (dprintf
// lines, the success sentence) in place of <NAME>_LOG.
func TestLogFileOption(t *testing.T) {
	for _, spelling := range []string{"-l FILE", "-lFILE", "--log-file=FILE", "--log-file FILE"} {
		t.Run(spelling, func(t *testing.T) {
			d := newDaemon(t, "LOCAL_CREDMON_TOKEN_AUDIENCE = https://aud.example.org")
			file := filepath.Join(d.base, "elsewhere.log")
			var args []string
			for _, f := range strings.Fields(spelling) {
				args = append(args, strings.ReplaceAll(f, "FILE", file))
			}
			d.start(args...)
			d.waitFile(filepath.Join(d.credDir, "pid"))
			credd := credtest.NewCredd(t, d.credDir)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := credd.CheckLocalCreds(ctx, "alice", "scitokens"); err != nil {
				t.Fatal(err)
			}
			d.wait("the success line in the -l file", func() bool {
				b, _ := os.ReadFile(file)
				return strings.Contains(string(b), "LOCAL: Successfully renewed SciToken for user: alice")
			})
			d.stop()
			b, _ := os.ReadFile(file)
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if !dprintfLine.MatchString(line) {
					t.Errorf("log line not in dprintf format: %q", line)
				}
			}
			if _, err := os.Stat(d.logFile); err == nil {
				t.Error("CREDMON_OAUTH_LOG was written despite -l")
			}
		})
	}
}

// TestDebugVerboseCombined: -dv is -d -v: debug lines, on stderr.
func TestDebugVerboseCombined(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		debug bool
	}{{[]string{"-dv"}, true}, {[]string{"-vd"}, true}, {[]string{"-v"}, false}} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			d := newDaemon(t, "LOCAL_CREDMON_TOKEN_AUDIENCE = https://aud.example.org")
			d.start(tt.args...)
			d.waitFile(filepath.Join(d.credDir, "pid"))
			credd := credtest.NewCredd(t, d.credDir)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := credd.CheckLocalCreds(ctx, "bob", "scitokens"); err != nil {
				t.Fatal(err)
			}
			d.wait("the success line on stderr", func() bool {
				return strings.Contains(d.stderr.String(), "LOCAL: Successfully renewed SciToken for user: bob")
			})
			d.stop()
			if got := strings.Contains(d.stderr.String(), "LOCAL: mint details user=bob"); got != tt.debug {
				t.Errorf("debug line on stderr = %v; want %v:\n%s", got, tt.debug, d.stderr.String())
			}
			if _, err := os.Stat(d.logFile); err == nil {
				t.Error("-v still wrote the log file")
			}
		})
	}
}

// TestDebugTimeFormatAndExactSuccessLine: DEBUG_TIME_FORMAT (strftime)
// shapes every line's time stamp, also after condor_reconfig changes it,
// and the success sentence is LocalCredmon's with nothing appended.
func TestDebugTimeFormatAndExactSuccessLine(t *testing.T) {
	const format = `DEBUG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S day %j %Q"`
	d := newDaemon(t, format+"\nLOCAL_CREDMON_TOKEN_AUDIENCE = https://aud.example.org")
	d.start()
	d.waitFile(filepath.Join(d.credDir, "pid"))
	credd := credtest.NewCredd(t, d.credDir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := credd.CheckLocalCreds(ctx, "carl", "scitokens"); err != nil {
		t.Fatal(err)
	}
	d.wait("the success line", func() bool { return strings.Contains(d.log(), "Successfully renewed SciToken for user: carl") })
	custom := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d day \d{3} %Q) (.*)$`)
	var success int
	for _, line := range strings.Split(strings.TrimSpace(d.log()), "\n") {
		m := custom.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line does not use DEBUG_TIME_FORMAT: %q", line)
			continue
		}
		if strings.Contains(m[2], "Successfully renewed") {
			success++
			if m[2] != "LOCAL: Successfully renewed SciToken for user: carl" {
				t.Errorf("success line = %q; want LocalCredmon's sentence exactly", m[2])
			}
		}
	}
	if success != 1 {
		t.Errorf("%d success lines; want 1", success)
	}

	// condor_reconfig back to the default format.
	d.writeConfig("LOCAL_CREDMON_TOKEN_AUDIENCE = https://aud.example.org")
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.wait("the reload", func() bool { return strings.Contains(d.log(), "configuration changed; reloaded") })
	d.stop()
	for _, line := range strings.Split(strings.TrimSpace(d.log()), "\n") {
		if strings.Contains(line, "configuration changed; reloaded") && !dprintfLine.MatchString(line) {
			t.Errorf("after the reconfig, line %q does not use the default format", line)
		}
	}
}

// TestSymlinkedCredDir: a credential directory configured as a symlink to
// another volume is accepted; the resolved path is logged once and used.
func TestSymlinkedCredDir(t *testing.T) {
	d := newDaemon(t, "")
	real := filepath.Join(d.base, "volume", "oauth_credentials")
	if err := os.MkdirAll(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o2770); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, d.credDir); err != nil {
		t.Fatal(err)
	}
	d.start()
	d.waitFile(filepath.Join(real, "pid"))
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(real, "CREDMON_COMPLETE")); return err == nil })
	d.stop()
	want := fmt.Sprintf("credential directory %s resolves to %s", d.credDir, real)
	if n := strings.Count(d.log(), want); n != 1 {
		t.Errorf("%q logged %d times; want once:\n%s", want, n, d.log())
	}
	if fi, err := os.Lstat(d.credDir); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the configured symlink was replaced")
	}
}

// FuzzArgparseArgs: any command line is rewritten without a panic, and the
// rewrite is idempotent (its output is already in the flag package's
// spellings), so no argument is split or joined twice.
func FuzzArgparseArgs(f *testing.F) {
	for _, seed := range []string{"-dv", "-dvnNAME", "-n\x00X", "--cred=/d", "--cred\x00/d", "-c/dir\x00--\x00-d",
		"-n\x00-dv", "--log-file\x00-", "-version", "-name=X", "--", "-", "-=", "-d=x", "--nam", "--n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		once := argparseArgs(args)
		if twice := argparseArgs(once); !slices.Equal(once, twice) {
			t.Errorf("argparseArgs(%q) = %q, and again %q", args, once, twice)
		}
	})
}

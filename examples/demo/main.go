package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/credmon/credmon/examples/internal/show"
)

func main() {
	bin := flag.String("credmon", "bin/credmon", "the credmon binary to run")
	config := flag.String("config", "examples/demo/condor_config", "the HTCondor configuration to use")
	users := flag.Int("users", 200, "users submitting at once in the burst step")
	flag.Parse()
	if err := run(*bin, *config, *users); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(bin, config string, burst int) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	config, err = filepath.Abs(config)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "credmon-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	env := append(os.Environ(), "CONDOR_CONFIG="+config, "DEMO_DIR="+tmp)
	credDir := filepath.Join(tmp, "oauth_credentials")

	conf, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	show.Step("HTCondor configuration (%s), with DEMO_DIR=%s:", config, tmp)
	fmt.Print(show.Indent(string(conf)))

	show.Step("Starting the daemon as condor_master would: %s -v  (its log lines are prefixed with |)", bin)
	daemon := exec.Command(bin, "-v")
	daemon.Env = env
	stderr, _ := daemon.StderrPipe()
	if err := daemon.Start(); err != nil {
		return err
	}
	logDone := make(chan struct{})
	var quiet atomic.Bool // during the burst: count the log lines instead
	var hidden atomic.Int64
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if quiet.Load() {
				hidden.Add(1)
				continue
			}
			fmt.Println("    | " + sc.Text())
		}
	}()
	defer daemon.Process.Kill()
	pidFile := filepath.Join(credDir, "pid")
	if err := show.WaitFor(10*time.Second, time.Millisecond, func() bool { _, err := os.Stat(pidFile); return err == nil }); err != nil {
		return fmt.Errorf("the daemon wrote no pid file: %w", err)
	}
	pidBytes, err := os.ReadFile(pidFile)
	if err != nil {
		return err
	}
	pid, _ := strconv.Atoi(string(pidBytes))
	time.Sleep(100 * time.Millisecond) // let the start-up lines print first

	show.Step("The key pair the daemon created (never overwritten once it exists):")
	for _, f := range []string{"scitokens-private.pem", "scitokens.pem"} {
		fi, err := os.Stat(filepath.Join(tmp, f))
		if err != nil {
			return fmt.Errorf("key file: %w", err)
		}
		head, _ := os.ReadFile(filepath.Join(tmp, f))
		fmt.Printf("    %-22s mode %v  %s\n", f, fi.Mode().Perm(), strings.SplitN(string(head), "\n", 2)[0])
	}

	show.Step("Playing condor_credd for `condor_submit` by alice (CREDD_CHECK_CREDS): store alice/scitokens.top, SIGHUP the pid, poll for the .use")
	took, err := checkCreds(credDir, pid, "alice")
	if err != nil {
		return err
	}
	fmt.Printf("    alice/scitokens.use appeared %v after the SIGHUP (real credd polls once a second, so submit waits ~1 s)\n", took.Round(10*time.Microsecond))
	usePath := filepath.Join(credDir, "alice", "scitokens.use")
	use, _ := os.ReadFile(usePath)
	fi, _ := os.Stat(usePath)
	show.Step("The job's token, %s (mode %v, one line of JSON; the token shortened here):", usePath, fi.Mode().Perm())
	at := strings.SplitN(strings.SplitN(string(use), `"access_token": "`, 2)[1], `"`, 2)[0]
	fmt.Print(show.Indent(strings.Replace(string(use), at, at[:32]+"…", 1)))

	show.Step("credmon token verify %s  (signature against the issuer's keys; claims with dates)", usePath)
	if err := tool(bin, env, "token", "verify", "--audience", "https://storage.demo.example.org", usePath); err != nil {
		return err
	}

	show.Step("credmon issuer  (the documents to publish at the issuer URL, so verifiers can fetch the key)")
	if err := tool(bin, env, "issuer"); err != nil {
		return err
	}

	show.Step("%d users submit at once: credd stores %d .top files and sends a SIGHUP for each", burst, burst)
	quiet.Store(true)
	start := time.Now()
	for i := 0; i < burst; i++ {
		if err := storeTop(credDir, fmt.Sprintf("user%03d", i)); err != nil {
			return err
		}
		syscall.Kill(pid, syscall.SIGHUP)
	}
	var lat []time.Duration
	if err := show.WaitFor(20*time.Second, time.Millisecond, func() bool {
		lat = lat[:0]
		for i := 0; i < burst; i++ {
			fi, err := os.Stat(filepath.Join(credDir, fmt.Sprintf("user%03d", i), "scitokens.use"))
			if err != nil {
				return false
			}
			lat = append(lat, fi.ModTime().Sub(start))
		}
		return true
	}); err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	time.Sleep(100 * time.Millisecond) // the log lines follow the files
	quiet.Store(false)
	fmt.Printf("    (%d daemon log lines not shown: one \"Successfully renewed SciToken for user: userNNN\" per user)\n", hidden.Load())
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("    all %d .use files written within %v of the first store (median %v); condor_submit's budget is ~20 s\n",
		burst, lat[len(lat)-1].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond))

	show.Step("Stopping the daemon as condor_off would (SIGTERM)")
	daemon.Process.Signal(syscall.SIGTERM)
	<-logDone
	err = daemon.Wait()
	_, pidErr := os.Stat(pidFile)
	fmt.Printf("    exit status: %v; pid file removed: %v\n", show.ExitStatus(err), os.IsNotExist(pidErr))
	fmt.Println("\nDone. On an access point: CREDMON_OAUTH = /usr/sbin/credmon (README.md). `make demo-oauth` shows OAuth2 refresh against a local IdP.")
	return nil
}

// storeTop does what credd does for a local-issuer service: the user's
// directory (0700), then <user>/scitokens.top holding "user@domain", written
// to a temp name and renamed (docs/htcondor-contract.md#handshake).
func storeTop(credDir, user string) error {
	dir := filepath.Join(credDir, user)
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	tmp := filepath.Join(dir, "scitokens.top.tmp")
	if err := os.WriteFile(tmp, []byte(user+"@ap.demo.example.org"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "scitokens.top"))
}

// checkCreds plays CREDD_CHECK_CREDS for one user and returns the time from
// the SIGHUP to the .use (polled every 100 µs to measure the daemon).
func checkCreds(credDir string, pid int, user string) (time.Duration, error) {
	if err := storeTop(credDir, user); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return 0, err
	}
	use := filepath.Join(credDir, user, "scitokens.use")
	if err := show.WaitFor(20*time.Second, 100*time.Microsecond, func() bool { _, err := os.Stat(use); return err == nil }); err != nil {
		return 0, fmt.Errorf("no .use within credd's 20 s: %w", err)
	}
	return time.Since(start), nil
}

func tool(bin string, env []string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	fmt.Print(show.Indent(string(out)))
	if err != nil {
		return fmt.Errorf("credmon %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

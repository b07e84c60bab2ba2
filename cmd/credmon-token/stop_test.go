package main

// A stop (SIGTERM, SIGINT) of get and of a one-shot renew while a refresh
// is on the wire: the issuer rotates the refresh token as soon as it reads
// the request, so the command must finish the request and save the new
// refresh token, or the next run replays the old one and the issuer
// revokes the grant.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/oidcagent"
)

// signalWhen starts credmon-token with args, sends sig once a line of its
// stderr contains marker (such as the -v line printed when a refresh
// request has been written to the issuer), then calls after (if not nil),
// and returns the exit status and stderr.
func (r *robot) signalWhen(marker string, sig syscall.Signal, after func(), args ...string) (code int, stderr string) {
	r.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = r.env
	pipe, err := cmd.StderrPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { cmd.Process.Kill() })
	var all strings.Builder
	sent := false
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if !sent && strings.Contains(sc.Text(), marker) {
			if err := cmd.Process.Signal(sig); err != nil {
				r.t.Fatal(err)
			}
			sent = true
			if after != nil {
				after()
			}
		}
	}
	io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	if !sent {
		r.t.Fatalf("%q never appeared on stderr:\n%s", marker, all.String())
	}
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	return code, all.String()
}

func (r *robot) refreshToken(name string) string {
	r.t.Helper()
	a, err := oidcagent.Load(r.acctDir, name, []byte("robot-password"))
	if err != nil {
		r.t.Fatal(err)
	}
	return a.RefreshToken()
}

// The issuer holds every refresh for 2 s; SIGTERM comes once get has sent
// its refresh. get must finish it, save the rotated refresh token and the
// access token, and exit 143; the next get (forced to refresh) must work:
// a cut-off refresh leaves the old refresh token in the account, which
// the issuer answers with invalid_grant and a revoked grant.
// SIGQUIT (condor_master's fast shutdown) and SIGINT behave the same.
func TestGetStopFinishesRefreshOnTheWire(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) { getStopFinishesRefreshOnTheWire(t, sig) })
	}
}

func getStopFinishesRefreshOnTheWire(t *testing.T, sig syscall.Signal) {
	r := newRobot(t, oidcprovider.ProviderOptions{RefreshDelay: 2 * time.Second})
	r.storeAccount("robot", "rob", oidcprovider.ClientIDBasic)
	rt0 := r.refreshToken("robot")
	bt := filepath.Join(r.base, "bt")
	args := []string{"get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure", "-o", bt}

	code, stderr := r.signalWhen("refresh request sent", sig, nil, append(args, "-v")...)
	if code != 128+int(sig) || !strings.Contains(stderr, "stopped by "+map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGQUIT: "SIGQUIT", syscall.SIGINT: "SIGINT"}[sig]) {
		t.Fatalf("get stopped mid-refresh by %v: exit %d; want %d and a line saying so\n%s", sig, code, 128+int(sig), stderr)
	}
	if rt := r.refreshToken("robot"); rt == rt0 {
		t.Fatal("the account still holds the refresh token the issuer rotated: the next refresh is a reuse")
	}
	raw, err := os.ReadFile(bt)
	if err != nil {
		t.Fatalf("the token of the finished refresh was not written: %v", err)
	}
	r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw)))

	if code, _, errOut := r.run(append(args, "--minsecs", "999999")...); code != 0 {
		t.Fatalf("get after the stop: exit %d: %s", code, errOut)
	}
}

// A stop before any refresh is sent (here: while get waits for the
// account lock that another process holds) sends none, even when the lock
// comes free right after the stop, and says so.
func TestGetStopBeforeRefreshSendsNothing(t *testing.T) {
	r := newRobot(t)
	r.storeAccount("robot", "rob", oidcprovider.ClientIDBasic)
	rt0 := r.refreshToken("robot")
	unlock, err := oidcagent.LockAccount(t.Context(), r.acctDir, "robot")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	bt := filepath.Join(r.base, "bt")
	// -v says why the token file (missing) is no use, before the lock is
	// waited for.
	code, stderr := r.signalWhen(bt+":", syscall.SIGINT, unlock,
		"get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure", "-o", bt, "-v")
	if code != 128+int(syscall.SIGINT) || !strings.Contains(stderr, "no refresh was sent") {
		t.Fatalf("exit %d; want %d and \"no refresh was sent\"\n%s", code, 128+int(syscall.SIGINT), stderr)
	}
	if strings.Contains(stderr, "refresh request sent") {
		t.Errorf("a refresh was sent after the stop:\n%s", stderr)
	}
	if r.refreshToken("robot") != rt0 {
		t.Error("the account changed although nothing was sent")
	}
}

// A one-shot renew stopped while the first token's refresh is on the
// wire: that refresh finishes and is saved (account and token file, and
// status.json), the second token of the account is not started, renew
// exits 143, and the account still works.
func TestRenewStopFinishesRefreshOnTheWire(t *testing.T) {
	r := newRobot(t, oidcprovider.ProviderOptions{RefreshDelay: 2 * time.Second})
	r.storeAccount("robot", "rob", oidcprovider.ClientIDBasic)
	rt0 := r.refreshToken("robot")
	t1, t2 := filepath.Join(r.base, "t1.token"), filepath.Join(r.base, "t2.token")
	ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n"+
		"[token t1]\naccount = robot\ntoken_path = %s\n[token t2]\naccount = robot\ntoken_path = %s\n", r.pwFile, t1, t2))

	code, stderr := r.signalWhen("token t1: refresh request sent", syscall.SIGTERM, nil, r.renewArgs(ini, "-v")...)
	if code != 128+int(syscall.SIGTERM) || !strings.Contains(stderr, "1 of 2 tokens not started") {
		t.Fatalf("renew stopped mid-refresh: exit %d; want %d and a line saying one token was not started\n%s",
			code, 128+int(syscall.SIGTERM), stderr)
	}
	if strings.Contains(stderr, "token t2: refresh request sent") {
		t.Errorf("t2 was refreshed after the stop:\n%s", stderr)
	}
	if r.refreshToken("robot") == rt0 {
		t.Fatal("the account still holds the refresh token the issuer rotated: the next refresh is a reuse")
	}
	raw, err := os.ReadFile(t1)
	if err != nil {
		t.Fatalf("t1, whose refresh was on the wire, was not written: %v", err)
	}
	r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw)))
	if _, err := os.Stat(t2); err == nil {
		t.Error("t2 was written after the stop")
	}
	// status.json records t1's renewal, and nothing for t2 (not a failure:
	// it was not attempted).
	b, err := os.ReadFile(filepath.Join(r.base, "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]*lastOutcome
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatal(err)
	}
	if state["t1"] == nil || state["t1"].Outcome != "renewed" || state["t2"] != nil {
		t.Errorf("status.json = %s; want t1 renewed and no entry for t2", b)
	}

	if code, _, errOut := r.run(r.renewArgs(ini)...); code != 0 {
		t.Fatalf("renew after the stop: exit %d: %s", code, errOut)
	}
}

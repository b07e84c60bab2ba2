package main

// Tests of renew and status: the account lock shared with get, client
// authentication fallback, per-token timeouts, the state file and the
// default lock and state paths.

import (
	"bytes"
	"context"
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

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/renewer"
)

// storeAccount saves an oidc-agent account holding a fresh refresh token of
// clientID (ClientIDPost authenticates with client_secret_post).
func (r *robot) storeAccount(name, login, clientID string) {
	r.t.Helper()
	g := r.idp.NewRefreshToken(r.t, oidcprovider.GrantRequest{ClientID: clientID, ClientSecret: oidcprovider.ClientSecret,
		Scope: "storage.read:/", User: login})
	r.saveAccount(name, clientID, g.RefreshToken)
}

func (r *robot) saveAccount(name, clientID, refreshToken string) {
	r.t.Helper()
	a := oidcagent.NewAccount(name)
	issuer := "https://issuer.example/"
	if r.idp != nil {
		issuer = r.idp.Issuer + "/"
	}
	a.SetIssuerURL(issuer)
	a.SetClientID(clientID)
	a.SetClientSecret(oidcprovider.ClientSecret)
	a.SetRefreshToken(refreshToken)
	if err := os.MkdirAll(r.acctDir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	if err := oidcagent.Save(r.acctDir, name, a, []byte("robot-password")); err != nil {
		r.t.Fatal(err)
	}
}

// writeIni writes config.ini (name) and returns its path.
func (r *robot) writeIni(name, content string) string {
	r.t.Helper()
	p := filepath.Join(r.base, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// renewArgs runs renew on ini with a lock and state file of the test's own.
func (r *robot) renewArgs(ini string, extra ...string) []string {
	return append([]string{"renew", "--config", ini, "--config-dir", r.acctDir, "--insecure",
		"--lock", filepath.Join(r.base, "renew.lock"), "--state", filepath.Join(r.base, "status.json")}, extra...)
}

// started is a credmon-token process running in the background.
type started struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
}

func (r *robot) start(args ...string) *started {
	r.t.Helper()
	p := &started{cmd: exec.Command(binary, args...)}
	p.cmd.Env = r.env
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

func (p *started) wait() (code int, stderr string) {
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), p.err.String()
	}
	if err != nil {
		return -1, err.Error()
	}
	return 0, p.err.String()
}

// `renew` and `get` of one account at the same time, against an issuer
// that rotates refresh tokens and takes 1 s per refresh: each process
// loads the account, refreshes and saves. Without the account lock both
// send the same refresh token, the issuer sees it reused and revokes the
// grant, and a human must log in again; with it, one waits for the other.
func TestRenewAndGetConcurrently(t *testing.T) {
	r := robotWith(t, &oidcprovider.ProviderOptions{RefreshDelay: time.Second})
	r.storeAccount("robot", "rosa", oidcprovider.ClientIDBasic)
	ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n[token t]\naccount = robot\ntoken_path = %s\n",
		r.pwFile, filepath.Join(r.base, "renewed.token")))
	getArgs := func(out string) []string {
		return []string{"get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure",
			"-o", filepath.Join(r.base, out)}
	}
	renew := r.start(r.renewArgs(ini)...)
	get := r.start(getArgs("bt1")...)
	if code, errOut := renew.wait(); code != 0 {
		t.Errorf("renew alongside get: exit %d: %s", code, errOut)
	}
	if code, errOut := get.wait(); code != 0 {
		t.Errorf("get alongside renew: exit %d: %s", code, errOut)
	}
	// The grant is intact: the refresh token saved last still works.
	if code, _, errOut := r.run(getArgs("bt2")...); code != 0 {
		t.Errorf("get after the concurrent runs: exit %d: %s (the grant was revoked)", code, errOut)
	}
	for _, f := range []string{"renewed.token", "bt1", "bt2"} {
		raw, err := os.ReadFile(filepath.Join(r.base, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw)))
	}
}

// A client registered for client_secret_post (what credmon-token setup
// has registered) at an issuer that refuses any other method: renew falls
// back from HTTP Basic to form parameters, as get does.
func TestRenewPostClientStrictAuth(t *testing.T) {
	r := robotWith(t, &oidcprovider.ProviderOptions{StrictClientAuth: true})
	r.storeAccount("poster", "polly", oidcprovider.ClientIDPost)
	tok := filepath.Join(r.base, "p.token")
	ini := r.writeIni("config.ini", fmt.Sprintf("[account poster]\npassword_file = %s\n[token p]\naccount = poster\ntoken_path = %s\n", r.pwFile, tok))
	if code, _, errOut := r.run(r.renewArgs(ini)...); code != 0 {
		t.Fatalf("renew with a client_secret_post client: exit %d: %s", code, errOut)
	}
	raw, _ := os.ReadFile(tok)
	if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != "polly" || c["client_id"] != oidcprovider.ClientIDPost {
		t.Errorf("claims %v", c)
	}
}

// A token's timeout bounds its requests, not a fixed bound of the HTTP
// client: with refreshes that take 2 s, timeout = 30 succeeds and
// timeout = 1 fails as unreachable (5); the same timeout = 30 token fails
// when the client has a fixed 1 s bound, as renew's client used to have
// (20 s, too short for tokens configured with more). The failing cases
// are certain (the provider holds each refresh 2 s); the succeeding one
// leaves a loaded machine 28 s for the rest (timeout = 3 failed in
// discovery under make test with other jobs running).
func TestRenewTokenTimeoutBoundsRequests(t *testing.T) {
	r := robotWith(t, &oidcprovider.ProviderOptions{RefreshDelay: 2 * time.Second})
	ini := func(name, timeout string) string {
		r.storeAccount(name, "tim", oidcprovider.ClientIDBasic)
		return r.writeIni(name+".ini", fmt.Sprintf("[account %[1]s]\npassword_file = %[2]s\n[token %[1]s]\naccount = %[1]s\ntoken_path = %[3]s/%[1]s.token\ntimeout = %[4]s\n",
			name, r.pwFile, r.base, timeout))
	}
	slow, short, bounded := ini("slow", "30"), ini("short", "1"), ini("bounded", "30")
	// Three independent accounts: run at once, each with a lock of its own.
	own := func(ini, name string) []string {
		return []string{"renew", "--config", ini, "--config-dir", r.acctDir, "--insecure",
			"--lock", filepath.Join(r.base, name+".lock"), "--state", filepath.Join(r.base, name+".json")}
	}
	slowRun, shortRun := r.start(own(slow, "slow")...), r.start(own(short, "short")...)

	rf := renewFlags{config: bounded, accountDir: r.acctDir, insecure: true, lock: filepath.Join(r.base, "bounded.lock"),
		state: filepath.Join(r.base, "bounded.json"), clientTimeout: time.Second}
	rn, err := rf.renewer(&stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := rn.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tr := rep.Tokens[0]; tr.Outcome != renewer.Failed || tr.Class != renewer.ClassTransient {
		t.Errorf("timeout = 30 under a fixed 1 s client bound: %v/%s (%v); want failed/transient", tr.Outcome, tr.Class, tr.Err)
	}
	if code, errOut := slowRun.wait(); code != 0 {
		t.Errorf("timeout = 30 with 2 s refreshes: exit %d: %s", code, errOut)
	}
	if code, errOut := shortRun.wait(); code != exitUnreachable {
		t.Errorf("timeout = 1 with 2 s refreshes: exit %d: %s; want %d", code, errOut, exitUnreachable)
	}
}

// renew --watch records each round's outcomes for status.
func TestRenewWatchWritesState(t *testing.T) {
	r := robotWith(t, &oidcprovider.ProviderOptions{})
	r.storeAccount("robot", "wally", oidcprovider.ClientIDBasic)
	ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n[token w]\naccount = robot\ntoken_path = %s/w.token\n", r.pwFile, r.base))
	p := r.start(r.renewArgs(ini, "--watch")...)
	state := filepath.Join(r.base, "status.json")
	var last map[string]lastOutcome
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(state)
		if err == nil && json.Unmarshal(b, &last) == nil && last["w"].Outcome == "renewed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no state recorded by renew --watch: %v %q\n%s", err, b, p.err.String())
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code, errOut := p.wait(); code != 0 {
		t.Errorf("renew --watch after SIGTERM: exit %d: %s", code, errOut)
	}
	code, out, _ := r.run("status", "--config", ini, "--config-dir", r.acctDir, "--state", state)
	if code != 0 || !strings.Contains(out, "last renew") || !strings.Contains(out, "renewed") {
		t.Errorf("status after renew --watch: exit %d\n%s", code, out)
	}
}

// status lists every [account], including those no token uses, and warns
// when a refresh token that says when it expires (a JWT) expires within
// ReloginWarning: a human must log in again before then.
func TestStatusAccountsAndReloginWarning(t *testing.T) {
	r := robotWith(t, nil) // no issuer: status makes no request
	jwtRT := func(exp time.Duration) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "robot", "exp": time.Now().Add(exp).Unix()}).
			SignedString([]byte("not-verified-here"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// "soon" is used by no token: listed, and warned about, all the same.
	r.saveAccount("soon", oidcprovider.ClientIDBasic, jwtRT(48*time.Hour))
	r.saveAccount("later", oidcprovider.ClientIDBasic, jwtRT(30*24*time.Hour))
	ini := r.writeIni("config.ini", fmt.Sprintf("[account soon]\npassword_file = %[1]s\n[account later]\npassword_file = %[1]s\n"+
		"[account cc]\ntoken_request_url = https://issuer.example/token\nclient_id = c\nclient_secret = s\n"+
		"[token b]\naccount = later\ntoken_path = %[2]s/b.token\n", r.pwFile, r.base))
	code, out, errOut := r.run("status", "--json", "--config", ini, "--config-dir", r.acctDir, "--state", filepath.Join(r.base, "status.json"))
	var st struct {
		Accounts []accountStatus `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	var names []string
	byName := map[string]accountStatus{}
	for _, a := range st.Accounts {
		names = append(names, a.Account)
		byName[a.Account] = a
	}
	if fmt.Sprint(names) != "[soon later cc]" {
		t.Errorf("accounts %v; want every [account] in file order", names)
	}
	for name, wantWarn := range map[string]bool{"soon": true, "later": false} {
		a := byName[name]
		warned := strings.Contains(a.Warning, "credmon-token setup "+name)
		if warned != wantWarn || a.RefreshExpiry.IsZero() || a.Error != "" {
			t.Errorf("account %s: warning %q, expiry %v, error %q; want warned=%v", name, a.Warning, a.RefreshExpiry, a.Error, wantWarn)
		}
	}
	if !byName["soon"].Unused || !byName["cc"].Unused || byName["later"].Unused || byName["cc"].Mode != "client_credentials" {
		t.Errorf("unused flags / modes: %+v", st.Accounts)
	}
	_, text, _ := r.run("status", "--config", ini, "--config-dir", r.acctDir, "--state", filepath.Join(r.base, "status.json"))
	if !strings.Contains(text, "WARNING: the refresh token expires soon: a human must run `credmon-token setup soon`") ||
		!strings.Contains(text, "(used by no token)") {
		t.Errorf("status text:\n%s", text)
	}
}

func TestDefaultStatePath(t *testing.T) {
	noDir := func(string) (int, bool) { return 0, false }
	serviceOwnedBy := func(uid int) func(string) (int, bool) {
		return func(dir string) (int, bool) { return uid, dir == serviceStateDir }
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		uid     int
		home    string
		ownerOf func(string) (int, bool)
		want    string
	}{
		{"systemd StateDirectory", map[string]string{"STATE_DIRECTORY": "/var/lib/credmon-token:/var/lib/x", "XDG_STATE_HOME": "/s"}, 990, "/h", noDir,
			"/var/lib/credmon-token/status.json"},
		{"root by hand: the unit's file", map[string]string{"XDG_STATE_HOME": "/root/.state"}, 0, "/root", noDir, rootStatePath},
		{"the service user by hand", map[string]string{"XDG_STATE_HOME": "/s"}, 990, "/var/lib/credmon-token", serviceOwnedBy(990), rootStatePath},
		{"another user", nil, 1000, "/home/u", serviceOwnedBy(990), "/home/u/.local/state/credmon-token/status.json"},
		{"XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/xdg/state"}, 1000, "/home/u", noDir, "/xdg/state/credmon-token/status.json"},
		{"relative XDG_STATE_HOME is ignored", map[string]string{"XDG_STATE_HOME": "state"}, 1000, "/home/u", noDir,
			"/home/u/.local/state/credmon-token/status.json"},
		{"no home", nil, 1000, "", noDir, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultStatePath(func(k string) string { return tc.env[k] }, tc.uid, tc.home, tc.ownerOf); got != tc.want {
				t.Errorf("defaultStatePath = %q; want %q", got, tc.want)
			}
		})
	}
}

// Root writing the state file into the service user's StateDirectory:
// never through a planted symlink, and the file stays the service's.
func TestSaveStateInServiceDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := filepath.Join(t.TempDir(), "svc")
	os.Mkdir(dir, 0o750)
	if err := os.Chown(dir, 990, 991); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("untouched"), 0o600)
	path := filepath.Join(dir, "status.json")
	os.Symlink(victim, path+".tmp")
	rep := &renewer.Report{Finished: time.Now(), Tokens: []renewer.TokenResult{{Token: "t", Outcome: renewer.Renewed}}}
	if err := saveState(path, rep); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Errorf("the write followed a planted symlink: %q", b)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 990 || st.Gid != 991 || !fi.Mode().IsRegular() {
		t.Errorf("state file %v owned %d:%d; want a regular file of 990:991", fi.Mode(), st.Uid, st.Gid)
	}
	if got := loadState(path)["t"]; got == nil || got.Outcome != "renewed" {
		t.Errorf("loadState = %+v", got)
	}
}

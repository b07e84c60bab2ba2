package main

// Tests of the credmon-token binary against the real OIDC provider process
// (credtest), with the device flow approved through the provider's own
// pages, and with the real oidc-agent 4.2.6 where it is installed.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/oidcagent"
)

var (
	binary string
	// storeCredBin is the directory holding the condor_store_cred
	// stand-in (credtest), for PATH.
	storeCredBin string
)

func TestMain(m *testing.M) {
	var cleanup func()
	binary, cleanup = credtest.BuildForTests("credmon-token")
	storeCredBin = filepath.Join(filepath.Dir(binary), "condor-bin")
	if err := os.Mkdir(storeCredBin, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		cleanup()
		os.Exit(1)
	}
	if _, out, err := credtest.BuildStoreCred(storeCredBin); err != nil {
		fmt.Fprintf(os.Stderr, "building condor_store_cred: %v\n%s", err, out)
		cleanup()
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

type robot struct {
	t       *testing.T
	idp     *oidcprovider.Provider
	base    string
	acctDir string
	pwFile  string
	env     []string
}

// newRobot is a robot with a provider (opts, if given).
func newRobot(t *testing.T, opts ...oidcprovider.ProviderOptions) *robot {
	t.Helper()
	var o oidcprovider.ProviderOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	return robotWith(t, &o)
}

// robotWith is a robot whose provider has opts (nil: no provider). Its
// account directory is not created: setup does that.
func robotWith(t *testing.T, opts *oidcprovider.ProviderOptions) *robot {
	t.Helper()
	r := &robot{t: t, base: t.TempDir()}
	if opts != nil {
		r.idp = oidcprovider.StartOIDCProvider(t, *opts)
	}
	r.acctDir = filepath.Join(r.base, "oidc-agent")
	r.pwFile = filepath.Join(r.base, "pw")
	if err := os.WriteFile(r.pwFile, []byte("robot-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OIDC") || strings.HasPrefix(kv, "BEARER_TOKEN") || strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") ||
			strings.HasPrefix(kv, "RUNTIME_DIRECTORY=") || strings.HasPrefix(kv, "STATE_DIRECTORY=") {
			continue
		}
		r.env = append(r.env, kv)
	}
	// As systemd gives them to the units: the run lock and status.json of
	// every command here stay in the test's directory (the defaults for
	// root are /run/credmon-token and /var/lib/credmon-token).
	for _, d := range []string{"run", "state"} {
		if err := os.Mkdir(filepath.Join(r.base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.env = append(r.env, "RUNTIME_DIRECTORY="+filepath.Join(r.base, "run"), "STATE_DIRECTORY="+filepath.Join(r.base, "state"))
	return r
}

// run runs credmon-token with args; stdin is not a terminal.
func (r *robot) run(args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = r.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		r.t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

var (
	uriRE  = regexp.MustCompile(`(?m)^\s+(http\S+)\s*$`)
	codeRE = regexp.MustCompile(`enter the code (\S+)`)
)

// setup runs `credmon-token setup` and approves its device code as login.
func (r *robot) setup(name, login string, extra ...string) string {
	r.t.Helper()
	return r.setupCmd(login, exec.Command(binary, append([]string{"setup", name, "--issuer", r.idp.Issuer,
		"--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure"}, extra...)...))
}

// setupCmd runs a prepared `credmon-token setup` command (its own password
// source) and approves its device code as login; it returns stdout.
func (r *robot) setupCmd(login string, cmd *exec.Cmd) string {
	r.t.Helper()
	cmd.Env = append(cmd.Env, r.env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	var all strings.Builder
	sc := bufio.NewScanner(stderr)
	approved := false
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if m := codeRE.FindStringSubmatch(sc.Text()); m != nil && !approved {
			uris := uriRE.FindAllStringSubmatch(all.String(), -1)
			if len(uris) == 0 {
				r.t.Fatalf("no verification URI in:\n%s", all.String())
			}
			if err := r.idp.ApproveDevice(context.Background(), uris[len(uris)-1][1], "", login); err != nil {
				r.t.Fatalf("approving: %v\n%s", err, all.String())
			}
			approved = true
		}
	}
	io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		r.t.Fatalf("setup: %v\nstderr:\n%s", err, all.String())
	}
	return out.String()
}

func TestSetupGetRenewStatus(t *testing.T) {
	r := newRobot(t)
	out := r.setup("robot", "rosa", "--scope", "openid offline_access storage.read:/data")
	if !strings.Contains(out, "[account robot]") || !strings.Contains(out, "password_file = "+r.pwFile) {
		t.Errorf("setup printed %q; want the [account robot] section with the password file", out)
	}
	acct, err := oidcagent.Load(r.acctDir, "robot", []byte("robot-password"))
	if err != nil {
		t.Fatalf("the stored account does not load: %v", err)
	}
	rt0 := acct.RefreshToken()
	if rt0 == "" || acct.IssuerURL() != r.idp.Issuer+"/" || acct.ClientID() == "" {
		t.Fatalf("account: issuer %q client %q rt %v", acct.IssuerURL(), acct.ClientID(), rt0 != "")
	}

	// get: a narrowed token where -o says; the rotated RT saved first.
	tokFile := filepath.Join(r.base, "bt")
	getArgs := []string{"get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure",
		"-o", tokFile, "--audience", "https://storage.example.org", "--scope", "storage.read:/data", "--minsecs", "60"}
	if code, _, errOut := r.run(getArgs...); code != 0 {
		t.Fatalf("get: exit %d: %s", code, errOut)
	}
	raw, _ := os.ReadFile(tokFile)
	claims := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw)))
	if fmt.Sprint(claims["aud"]) != "https://storage.example.org" && fmt.Sprint(claims["aud"]) != "[https://storage.example.org]" {
		t.Errorf("aud = %v", claims["aud"])
	}
	if claims["sub"] != "rosa" || !strings.Contains(fmt.Sprint(claims["scope"]), "storage.read:/data") {
		t.Errorf("claims = %v", claims)
	}
	if fi, _ := os.Stat(tokFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode().Perm())
	}
	acct, _ = oidcagent.Load(r.acctDir, "robot", []byte("robot-password"))
	if acct.RefreshToken() == rt0 {
		t.Error("the rotated refresh token was not saved")
	}

	// Fresh: nothing fetched, nothing rewritten (a refresh would rotate).
	acctBefore, _ := os.ReadFile(filepath.Join(r.acctDir, "robot"))
	if code, _, errOut := r.run(getArgs...); code != 0 {
		t.Fatalf("second get: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(tokFile); !bytes.Equal(after, raw) {
		t.Error("a fresh token was replaced")
	}
	if after, _ := os.ReadFile(filepath.Join(r.acctDir, "robot")); !bytes.Equal(after, acctBefore) {
		t.Error("the account was refreshed although the token was fresh")
	}
	// A different audience is not satisfied by the file: a new token.
	if code, _, errOut := r.run(append(getArgs, "--audience", "https://other.example.org")...); code != 0 {
		t.Fatalf("get with another audience: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(tokFile); bytes.Equal(after, raw) {
		t.Error("a token for another audience was not fetched")
	}

	// renew: osg-token-renewer's config.ini, unchanged format.
	renewed := filepath.Join(r.base, "renewed.token")
	ini := filepath.Join(r.base, "config.ini")
	os.WriteFile(ini, []byte(fmt.Sprintf("[account robot]\npassword_file = %s\n\n[token storage]\naccount = robot\ntoken_path = %s\n"+
		"audience = https://storage.example.org\nscope = storage.read:/data\nmin_lifetime = 60\n", r.pwFile, renewed)), 0o644)
	if code, _, errOut := r.run("renew", "--config", ini, "--config-dir", r.acctDir, "--insecure"); code != 0 {
		t.Fatalf("renew: exit %d: %s", code, errOut)
	}
	raw2, _ := os.ReadFile(renewed)
	r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw2)))

	code, out, errOut := r.run("status", "--json", "--config", ini, "--config-dir", r.acctDir)
	var st struct {
		Tokens []struct {
			Token        string `json:"token"`
			Present      bool   `json:"present"`
			RemainingSec int64  `json:"remaining_seconds"`
		} `json:"tokens"`
		Accounts []struct {
			Account string `json:"account"`
			Issuer  string `json:"issuer"`
			Error   string `json:"error"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		t.Fatalf("status: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if len(st.Tokens) != 1 || !st.Tokens[0].Present || st.Tokens[0].RemainingSec <= 60 ||
		len(st.Accounts) != 1 || strings.TrimSuffix(st.Accounts[0].Issuer, "/") != r.idp.Issuer || st.Accounts[0].Error != "" {
		t.Errorf("status = %+v", st)
	}

	// The account made by setup is one oidc-agent 4.2.6 loads and serves.
	if _, err := exec.LookPath("oidc-add"); err != nil {
		if os.Getenv("CREDMON_REQUIRE_OIDC_AGENT") == "1" {
			t.Fatal("oidc-agent-cli is not installed")
		}
		t.Log("oidc-agent-cli not installed: skipping the oidc-add check")
	} else {
		a := startAgent(t, r.acctDir)
		if out, err := a.run("oidc-add", "--pw-file="+r.pwFile, "robot"); err != nil || !strings.Contains(out, "success") {
			t.Fatalf("oidc-add of our account: %v %s", err, out)
		}
		out2, err := a.run("oidc-token", "robot")
		if err != nil {
			t.Fatalf("oidc-token: %v", err)
		}
		if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(out2)); c["sub"] != "rosa" {
			t.Errorf("oidc-token's token sub = %v", c["sub"])
		}
	}

	// A fresh get needs no network: with the issuer down it still succeeds.
	// (Last: the provider forgets registered clients when it restarts.)
	r.idp.Stop()
	if code, _, errOut := r.run(append(getArgs, "--audience", "https://other.example.org")...); code != 0 {
		t.Errorf("fresh get with the issuer down: exit %d: %s", code, errOut)
	}
}

// Cron with no stored account and no terminal: exit 4 and one line that
// says what to do. A missing password is a configuration error (3).
func TestGetNeedsHuman(t *testing.T) {
	r := newRobot(t)
	code, _, errOut := r.run("get", "--account", "nobody", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "-o", filepath.Join(r.base, "bt"))
	if code != exitNeedsLogin || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "credmon-token setup") {
		t.Errorf("exit %d, stderr %q; want %d and one line naming setup", code, errOut, exitNeedsLogin)
	}
	if code, _, _ := r.run("get", "--account", "nobody", "--config-dir", r.acctDir, "-o", filepath.Join(r.base, "bt")); code != exitConfig {
		t.Errorf("no password source: exit %d; want %d", code, exitConfig)
	}
	if code, _, _ := r.run("get"); code != exitConfig {
		t.Errorf("no source at all: exit %d; want %d", code, exitConfig)
	}
	if code, _, _ := r.run("frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestPathFollowsBearerTokenDiscovery(t *testing.T) {
	r := newRobot(t)
	uid := strconv.Itoa(os.Geteuid())
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "/tmp/bt_u" + uid},
		{[]string{"XDG_RUNTIME_DIR=/run/user/77"}, "/run/user/77/bt_u" + uid},
		{[]string{"XDG_RUNTIME_DIR="}, "/tmp/bt_u" + uid},
		{[]string{"BEARER_TOKEN_FILE=/srv/tok", "XDG_RUNTIME_DIR=/run/user/77"}, "/srv/tok"},
		{[]string{"BEARER_TOKEN_FILE=", "XDG_RUNTIME_DIR=/run/user/77"}, "/run/user/77/bt_u" + uid},
	} {
		r2 := *r
		r2.env = append(append([]string(nil), r.env...), tc.env...)
		code, out, _ := r2.run("path")
		if code != 0 || strings.TrimSpace(out) != tc.want {
			t.Errorf("env %v: path %q (exit %d); want %s", tc.env, out, code, tc.want)
		}
	}
}

// agent is a private oidc-agent 4.2.6 over dir.
type agent struct {
	t   *testing.T
	env []string
}

func startAgent(t *testing.T, dir string) *agent {
	t.Helper()
	base, err := os.MkdirTemp("", "ctagent-") // short: the socket path must fit sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	a := &agent{t: t}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OIDC") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "TMPDIR=") {
			a.env = append(a.env, kv)
		}
	}
	a.env = append(a.env, "HOME="+base, "TMPDIR="+base, "OIDC_CONFIG_DIR="+dir, "OIDC_ENCRYPTION_PW=robot-password")
	out, err := a.run("oidc-agent", "--json", "-a", filepath.Join(base, "s"), "--no-autoload", "--no-autoreauthenticate")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Socket string `json:"socket"`
		PID    string `json:"dpid"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("oidc-agent printed %q", out)
	}
	a.env = append(a.env, "OIDC_SOCK="+info.Socket, "OIDCD_PID="+info.PID)
	t.Cleanup(func() { a.run("oidc-agent", "-k") })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := a.run("oidc-agent", "--status"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("oidc-agent does not answer")
		}
	}
	return a
}

func (a *agent) run(prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %v: %w: %s", prog, args, err, errb.String())
	}
	return out.String(), nil
}

// An account whose refresh token the issuer no longer accepts: renew exits
// 4 and status says a human must log in; the other token is still renewed.
// get --token takes the account, audience and scope from config.ini.
func TestRenewReauthAndGetToken(t *testing.T) {
	r := newRobot(t)
	os.MkdirAll(r.acctDir, 0o700)
	mk := func(name, login string) string {
		g := r.idp.NewRefreshToken(t, oidcprovider.GrantRequest{Scope: "storage.read:/", User: login})
		a := oidcagent.NewAccount(name)
		a.SetIssuerURL(r.idp.Issuer + "/")
		a.SetClientID(oidcprovider.ClientIDBasic)
		a.SetClientSecret(oidcprovider.ClientSecret)
		a.SetRefreshToken(g.RefreshToken)
		if err := oidcagent.Save(r.acctDir, name, a, []byte("robot-password")); err != nil {
			t.Fatal(err)
		}
		return g.RefreshToken
	}
	mk("good", "gail")
	bad := mk("revoked", "rex")
	r.idp.Revoke(t, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, bad)

	ini := filepath.Join(r.base, "config.ini")
	os.WriteFile(ini, []byte(fmt.Sprintf("[account good]\npassword_file = %[1]s\n[account revoked]\npassword_file = %[1]s\n"+
		"[token a]\naccount = good\ntoken_path = %[2]s/a.tok\nscope = storage.read:/\n"+
		"[token b]\naccount = revoked\ntoken_path = %[2]s/b.tok\n", r.pwFile, r.base)), 0o644)
	state := filepath.Join(r.base, "status.json")
	code, _, errOut := r.run("renew", "--config", ini, "--config-dir", r.acctDir, "--insecure", "--state", state)
	if code != exitNeedsLogin || !strings.Contains(errOut, "token b") {
		t.Errorf("renew: exit %d (want %d), stderr %q", code, exitNeedsLogin, errOut)
	}
	if raw, err := os.ReadFile(filepath.Join(r.base, "a.tok")); err != nil {
		t.Error("the good token was not written")
	} else {
		r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw)))
	}
	code, out, _ := r.run("status", "--config", ini, "--config-dir", r.acctDir, "--state", state)
	if code == 0 || !strings.Contains(out, "a human must run `credmon-token setup revoked`") || !strings.Contains(out, "last renew") {
		t.Errorf("status: exit %d\n%s", code, out)
	}

	// get --token: the [token a] section is the source.
	bt := filepath.Join(r.base, "bt")
	if code, _, errOut := r.run("get", "--token", "a", "--config", ini, "--config-dir", r.acctDir, "--insecure", "-o", bt); code != 0 {
		t.Fatalf("get --token: exit %d %s", code, errOut)
	}
	raw, _ := os.ReadFile(bt)
	if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != "gail" {
		t.Errorf("get --token: sub %v", c["sub"])
	}
	if code, _, _ := r.run("get", "--token", "nope", "--config", ini); code != exitConfig {
		t.Errorf("get --token nope: exit %d; want %d", code, exitConfig)
	}
}

var (
	ansiRE     = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	userCodeRE = regexp.MustCompile(`enter the code:\s*(\S+)`)
	visitRE    = regexp.MustCompile(`(?i)visit:\s*(\S*)`)
)

// An account made by the real oidc-gen 4.2.6 (device flow, pre-registered
// client) is used by `credmon-token get` as it is; the rotated refresh token
// we write back keeps it loadable by oidc-add.
func TestGetUsesOIDCGenAccount(t *testing.T) {
	if _, err := exec.LookPath("oidc-gen"); err != nil {
		if os.Getenv("CREDMON_REQUIRE_OIDC_AGENT") == "1" {
			t.Fatal("oidc-agent-cli is not installed")
		}
		t.Skip("oidc-agent-cli not installed")
	}
	r := newRobot(t)
	os.MkdirAll(r.acctDir, 0o700)
	a := startAgent(t, r.acctDir)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "oidc-gen", "--issuer", r.idp.Issuer, "--flow", "device",
		"--scope", "openid offline_access storage.read:/", "--client-id", oidcprovider.ClientIDBasic,
		"--client-secret", oidcprovider.ClientSecret, "--redirect-uri", "http://localhost:8765",
		"--pw-env", "--confirm-default", "--no-url-call", "--prompt=none", "genacct")
	cmd.Env = append(append([]string(nil), a.env...), "OIDC_ENCRYPTION_PW=robot-password")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); pw.Close() }()
	var all strings.Builder
	uri, approved := "", false
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := ansiRE.ReplaceAllString(sc.Text(), "")
		all.WriteString(line + "\n")
		if m := visitRE.FindStringSubmatch(line); m != nil {
			uri = m[1]
		} else if uri == "" && strings.HasPrefix(strings.TrimSpace(line), "http") {
			uri = strings.TrimSpace(line)
		}
		if m := userCodeRE.FindStringSubmatch(line); m != nil && !approved {
			if err := r.idp.ApproveDevice(ctx, uri, m[1], "gene"); err != nil {
				t.Fatalf("approving: %v\n%s", err, all.String())
			}
			approved = true
		}
	}
	if !strings.Contains(all.String(), "Everything setup correctly") {
		t.Fatalf("oidc-gen failed:\n%s", all.String())
	}

	bt := filepath.Join(r.base, "bt")
	r.env = append(r.env, "OIDC_ENCRYPTION_PW=robot-password")
	if code, _, errOut := r.run("get", "--account", "genacct", "--config-dir", r.acctDir, "--insecure", "-o", bt); code != 0 {
		t.Fatalf("get with oidc-gen's account: exit %d %s", code, errOut)
	}
	raw, _ := os.ReadFile(bt)
	if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != "gene" {
		t.Errorf("sub = %v", c["sub"])
	}
	// After our write-back of the rotated refresh token, oidc-agent still
	// loads the account and its token works.
	if out, err := a.run("oidc-add", "--pw-env", "genacct"); err != nil {
		t.Fatalf("oidc-add after our write-back: %v %s", err, out)
	}
	out, err := a.run("oidc-token", "genacct")
	if err != nil {
		t.Fatal(err)
	}
	r.idp.VerifyAccessToken(t, strings.TrimSpace(out))
}

// Exit statuses the issue names: issuer unreachable (5), issuer refused (6),
// file permissions (7); and --list-scopes for scripted scope choice.
func TestExitCodesAndListScopes(t *testing.T) {
	r := newRobot(t)
	code, out, errOut := r.run("setup", "--issuer", r.idp.Issuer, "--insecure", "--list-scopes")
	if code != 0 || !strings.Contains(out, "offline_access\n") || !strings.Contains(out, "openid\n") {
		t.Errorf("--list-scopes: exit %d\n%s%s", code, out, errOut)
	}
	secret := filepath.Join(r.base, "secret")
	os.WriteFile(secret, []byte("wrong-secret\n"), 0o600)
	bt := filepath.Join(r.base, "bt")
	if code, _, errOut := r.run("get", "--client-id", oidcprovider.ClientIDPost, "--client-secret-file", secret,
		"--issuer", r.idp.Issuer, "--insecure", "-o", bt); code != exitRefused {
		t.Errorf("wrong client secret: exit %d (%s); want %d", code, errOut, exitRefused)
	}
	if code, _, _ := r.run("get", "--client-id", "x", "--token-url", "http://127.0.0.1:1/token", "--insecure", "-o", bt); code != exitConfig {
		t.Errorf("client credentials without a secret: exit %d; want %d", code, exitConfig)
	}
	if code, _, errOut := r.run("get", "--client-id", "x", "--client-secret-file", secret, "--token-url", "http://127.0.0.1:1/token", "--insecure", "-o", bt); code != exitUnreachable {
		t.Errorf("nothing listening: exit %d (%s); want %d", code, errOut, exitUnreachable)
	}
	// A token file owned by someone else is never replaced.
	os.WriteFile(bt, []byte("planted\n"), 0o600)
	os.Chown(bt, 12345, 12345)
	os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o600)
	code, _, errOut = r.run("get", "--client-id", oidcprovider.ClientIDPost, "--client-secret-file", secret,
		"--issuer", r.idp.Issuer, "--insecure", "-o", bt)
	if code != exitPermission || !strings.Contains(errOut, "owned by uid 12345") {
		t.Errorf("someone else's file: exit %d (%s); want %d", code, errOut, exitPermission)
	}
	if b, _ := os.ReadFile(bt); string(b) != "planted\n" {
		t.Errorf("the other user's file was changed: %q", b)
	}
}

// First run with a human at a terminal (a pty from script(1)): get runs the
// device flow itself, stores the account, then writes the token.
func TestGetFirstRunAtTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	r := newRobot(t)
	// The password reaches setup from get whatever its source: a file, or
	// an environment variable (a descriptor is read once, like the pipe
	// behind --pw-env in a cron job).
	for _, pwArgs := range [][]string{{"--pw-file", r.pwFile}, {"--pw-env", "ROBOT_PW"}} {
		t.Run(pwArgs[0], func(t *testing.T) { getFirstRun(t, r, pwArgs) })
	}
}

func getFirstRun(t *testing.T, r *robot, pwArgs []string) {
	account := "firstrun" + strings.TrimPrefix(pwArgs[0], "--pw-")
	bt := filepath.Join(r.base, account+".bt")
	inner := strings.Join(append([]string{binary, "get", "--account", account, "--issuer", r.idp.Issuer, "--insecure",
		"--config-dir", r.acctDir, "-o", bt}, pwArgs...), " ")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	approved := false
	// The human's answer to the scope prompt (the issuer's list is shown).
	all, err := oidcprovider.RunAtTerminal(ctx, inner, append(r.env, "ROBOT_PW=robot-password"), "openid offline_access storage.read:/\n", func(line, all string) {
		if m := codeRE.FindStringSubmatch(line); m != nil && !approved {
			uris := uriRE.FindAllStringSubmatch(all, -1)
			if len(uris) == 0 {
				t.Fatalf("no verification URI:\n%s", all)
			}
			if err := r.idp.ApproveDevice(ctx, uris[len(uris)-1][1], "", "fran"); err != nil {
				t.Fatalf("approving: %v\n%s", err, all)
			}
			approved = true
		}
	})
	if err != nil {
		t.Fatalf("get at a terminal: %v\n%s", err, all)
	}
	if !strings.Contains(all, "No stored account") || !strings.Contains(all, "storage.read:/\n") {
		t.Errorf("no first-run message:\n%s", all)
	}
	raw, err := os.ReadFile(bt)
	if err != nil {
		t.Fatalf("no token written:\n%s", all)
	}
	if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != "fran" {
		t.Errorf("sub = %v", c["sub"])
	}
	if _, err := oidcagent.Load(r.acctDir, account, []byte("robot-password")); err != nil {
		t.Errorf("the account was not stored: %v", err)
	}
}

// setup with a pre-registered confidential client (--client-id and
// --client-secret-file, no registration) stores an account get can use.
func TestSetupManualClient(t *testing.T) {
	r := newRobot(t)
	secret := filepath.Join(r.base, "client-secret")
	os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o600)
	out := r.setup("manual", "mani", "--client-id", oidcprovider.ClientIDPost, "--client-secret-file", secret)
	if !strings.Contains(out, "[account manual]") {
		t.Errorf("setup printed %q", out)
	}
	acct, err := oidcagent.Load(r.acctDir, "manual", []byte("robot-password"))
	if err != nil || acct.ClientID() != oidcprovider.ClientIDPost || acct.ClientSecret() != oidcprovider.ClientSecret {
		t.Fatalf("account: %v, client %q", err, acct.ClientID())
	}
	bt := filepath.Join(r.base, "bt")
	if code, _, errOut := r.run("get", "--account", "manual", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure", "-o", bt); code != 0 {
		t.Fatalf("get: exit %d %s", code, errOut)
	}
	raw, _ := os.ReadFile(bt)
	if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != "mani" || c["client_id"] != oidcprovider.ClientIDPost {
		t.Errorf("claims %v", c)
	}
}

func TestDecode(t *testing.T) {
	r := newRobot(t)
	g := r.idp.NewRefreshToken(t, oidcprovider.GrantRequest{Scope: "storage.read:/", User: "dora"})
	f := filepath.Join(r.base, "tok")
	os.WriteFile(f, []byte(g.AccessToken+"\n"), 0o600)
	code, out, errOut := r.run("decode", f)
	if code != 0 || !strings.Contains(out, "dora") || !strings.Contains(out, "exp") || !strings.Contains(out, r.idp.Issuer) {
		t.Errorf("decode: exit %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(f, []byte("not a token\n"), 0o600)
	if code, _, _ := r.run("decode", f); code == 0 {
		t.Error("decode of garbage succeeded")
	}
}

// An issuer that holds clients to their registered authentication method
// (many do; oidc-provider only with StrictClientAuth): setup registers
// for HTTP Basic, as oidc-agent authenticates, and a pre-registered
// client_secret_post client works with --client-secret-post; get works
// with both.
func TestStrictClientAuth(t *testing.T) {
	r := newRobot(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	r.setup("dcr", "dora")
	secret := filepath.Join(r.base, "client-secret")
	os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o600)
	r.setup("postclient", "polly", "--client-id", oidcprovider.ClientIDPost, "--client-secret-file", secret, "--client-secret-post")
	r.setup("basicclient", "bess", "--client-id", oidcprovider.ClientIDBasic, "--client-secret-file", secret)
	for name, sub := range map[string]string{"dcr": "dora", "postclient": "polly", "basicclient": "bess"} {
		bt := filepath.Join(r.base, name+".bt")
		if code, _, errOut := r.run("get", "--account", name, "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure", "-o", bt); code != 0 {
			t.Errorf("get %s: exit %d %s", name, code, errOut)
			continue
		}
		raw, _ := os.ReadFile(bt)
		if c := r.idp.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != sub {
			t.Errorf("%s: sub = %v", name, c["sub"])
		}
	}
	// The client setup registered is one for HTTP Basic, what oidc-agent
	// sends (get alone would not tell: it falls back to form parameters).
	acct, err := oidcagent.Load(r.acctDir, "dcr", []byte("robot-password"))
	if err != nil {
		t.Fatal(err)
	}
	body, status, err := r.idp.Refresh(context.Background(), acct.ClientID(), acct.ClientSecret(), acct.RefreshToken(), nil)
	if err != nil || status != 200 {
		t.Errorf("HTTP Basic refresh with the registered client: %d %v %v", status, err, body)
	}
}

// The [account] section setup prints is valid config.ini as printed: the
// password file actually used (behind --pw-fd too), and with --pw-env the
// OSG convention plus a comment on a line of its own (configparser has no
// inline comments).
func TestSetupPrintsUsablePasswordFile(t *testing.T) {
	r := newRobot(t)
	base := []string{"--issuer", r.idp.Issuer, "--config-dir", r.acctDir, "--insecure"}

	env := exec.Command(binary, append([]string{"setup", "viaenv", "--pw-env", "ROBOT_PW"}, base...)...)
	env.Env = []string{"ROBOT_PW=robot-password"}
	out := r.setupCmd("erin", env)
	want := "# Create /etc/osg/tokens/viaenv.pw holding the password you used (first line), readable by the renewal service.\n" +
		"[account viaenv]\npassword_file = /etc/osg/tokens/viaenv.pw\n"
	if out != want {
		t.Errorf("--pw-env printed\n%q\nwant\n%q", out, want)
	}

	f, err := os.Open(r.pwFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := exec.Command(binary, append([]string{"setup", "viafd", "--pw-fd", "3"}, base...)...)
	fd.ExtraFiles = []*os.File{f} // descriptor 3 in the child
	if out := r.setupCmd("finn", fd); out != "[account viafd]\npassword_file = "+r.pwFile+"\n" {
		t.Errorf("--pw-fd printed %q; want the file behind the descriptor, %s", out, r.pwFile)
	}
	for _, name := range []string{"viaenv", "viafd"} {
		if _, err := oidcagent.Load(r.acctDir, name, []byte("robot-password")); err != nil {
			t.Errorf("account %s: %v", name, err)
		}
	}
}

// A human who refuses the login at the issuer's page: setup stops at once
// with exit 6 (refused) and a message that says so, and stores nothing.
func TestSetupDenied(t *testing.T) {
	r := newRobot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "setup", "denied", "--issuer", r.idp.Issuer, "--pw-file", r.pwFile,
		"--config-dir", r.acctDir, "--insecure")
	cmd.Env = r.env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if codeRE.MatchString(sc.Text()) {
			uris := uriRE.FindAllStringSubmatch(all.String(), -1)
			if len(uris) == 0 {
				t.Fatalf("no verification URI:\n%s", all.String())
			}
			if err := r.idp.DenyDevice(ctx, uris[len(uris)-1][1], ""); err != nil {
				t.Fatalf("denying: %v\n%s", err, all.String())
			}
		}
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRefused {
		t.Fatalf("setup after a denial: %v; want exit %d\n%s", err, exitRefused, all.String())
	}
	if !strings.Contains(all.String(), "the login was denied at the issuer") {
		t.Errorf("no denial message:\n%s", all.String())
	}
	if _, err := os.Stat(filepath.Join(r.acctDir, "denied")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an account was stored after a denial: %v", err)
	}
}

package main

// Tests of get --condor: the real binary (or, where the test's Vault must
// look like Vault's port 8200 to credd and the daemon, get run in this
// process), the real OIDC provider, the condor_store_cred stand-in
// (credtest) first on PATH logging its argument lists, and the credd
// emulator's directory. The daemon, where a test needs it, is the real
// credmon.Monitor in this process (credtest/daemontest), woken by the
// stand-in's SIGHUP.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/oidcagent"
)

// accessPoint is what get --condor talks to: credd (the emulator's
// directory, through the condor_store_cred stand-in) and the HTCondor
// configuration.
type accessPoint struct {
	t        *testing.T
	credd    *credtest.Credd
	user     string
	storeLog string
	config   string
	home     string
}

// accessPoint gives the robot an access point with config as its HTCondor
// configuration; HOME is a fresh directory (no ~/.condor/user_config).
func (r *robot) accessPoint(config string) *accessPoint {
	r.t.Helper()
	dir := filepath.Join(r.base, "ap")
	ap := &accessPoint{t: r.t, storeLog: filepath.Join(dir, "condor_store_cred.log"),
		config: filepath.Join(dir, "condor_config"), home: filepath.Join(dir, "home")}
	if err := os.MkdirAll(ap.home, 0o755); err != nil {
		r.t.Fatal(err)
	}
	ap.credd = credtest.NewCredd(r.t, filepath.Join(dir, "oauth_credentials"))
	ap.writeConfig(config)
	u, err := user.Current()
	if err != nil {
		r.t.Fatal(err)
	}
	ap.user = u.Username
	// exec uses the last value of a repeated variable.
	r.env = append(r.env, ap.envList()...)
	return ap
}

func (ap *accessPoint) envList() []string {
	return []string{
		"PATH=" + storeCredBin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"CONDOR_CONFIG=" + ap.config,
		"HOME=" + ap.home,
		credtest.EnvStoreCredDir + "=" + ap.credd.Dir,
		credtest.EnvStoreCredLog + "=" + ap.storeLog,
	}
}

func (ap *accessPoint) writeConfig(config string) {
	ap.t.Helper()
	if err := os.WriteFile(ap.config, []byte(config), 0o644); err != nil {
		ap.t.Fatal(err)
	}
}

// calls are condor_store_cred's argument lists so far.
func (ap *accessPoint) calls() []string {
	b, err := os.ReadFile(ap.storeLog)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		ap.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// adds counts the add-oauth calls so far.
func (ap *accessPoint) adds() int {
	n := 0
	for _, c := range ap.calls() {
		if strings.HasPrefix(c, "add-oauth ") {
			n++
		}
	}
	return n
}

func (ap *accessPoint) top(name string) map[string]any {
	ap.t.Helper()
	b, err := os.ReadFile(ap.credd.TopPath(ap.user, name))
	if err != nil {
		ap.t.Fatal(err)
	}
	if bytes.Count(bytes.TrimSpace(b), []byte("\n")) != 0 {
		ap.t.Errorf("%s.top is not one line: %q", name, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		ap.t.Fatalf("%s.top: %v", name, err)
	}
	return m
}

// noSecrets fails when one of secrets is in the output or in an argument
// list of condor_store_cred.
func (ap *accessPoint) noSecrets(out string, secrets ...string) {
	ap.t.Helper()
	all := out + strings.Join(ap.calls(), "\n")
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			ap.t.Errorf("a secret or token reached the output or an argument list:\n%s", all)
		}
	}
}

// condorAccountRobot is a robot with an oidc-agent account "robot" of the
// provider's token-exchange client, and an access point.
func condorAccountRobot(t *testing.T) (*robot, *accessPoint) {
	r := newRobot(t)
	r.storeAccount("robot", "rosa", oidcprovider.ClientIDBasic)
	return r, r.accessPoint("")
}

const (
	condorAud   = "https://se.example.org"
	condorScope = "storage.read:/"
)

func (r *robot) condorGetArgs(extra ...string) []string {
	return append([]string{"get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure",
		"-o", filepath.Join(r.base, "bt"), "--audience", condorAud, "--scope", condorScope, "--minsecs", "60", "--condor"}, extra...)
}

// TestCondorAccountExchangeStoresTopOnce protects get --condor for an
// oidc-agent account whose issuer offers token exchange: credd is asked
// first, then the robot's fresh access token is exchanged for a second
// refresh token and stored (on stdin) as the self-describing .top of the
// contract: iss, token_url, client_id, client_secret, refresh_token,
// scope, resource; no credd scopes/audience keys. The robot's own refresh
// token is another one. No token or secret is in the output or in an
// argument list. A second run stores nothing.
func TestCondorAccountExchangeStoresTopOnce(t *testing.T) {
	r, ap := condorAccountRobot(t)
	code, out, errOut := r.run(r.condorGetArgs("-v")...)
	if code != 0 {
		t.Fatalf("get --condor: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "--condor-store=auto: exchange") {
		t.Errorf("auto did not choose exchange (the provider advertises it):\n%s", errOut)
	}
	calls := ap.calls()
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "query-oauth -s robot") || calls[1] != "add-oauth -s robot -i -" {
		t.Fatalf("condor_store_cred calls %q; want query-oauth, then add-oauth -s robot -i -", calls)
	}
	top := ap.top("robot")
	acct, err := oidcagent.Load(r.acctDir, "robot", []byte("robot-password"))
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := top["refresh_token"].(string)
	if rt == "" || rt == acct.RefreshToken() {
		t.Errorf("the .top's refresh token is empty or the robot's own")
	}
	want := map[string]string{"iss": r.idp.Issuer, "client_id": oidcprovider.ClientIDBasic, "client_secret": oidcprovider.ClientSecret,
		"scope": condorScope, "resource": condorAud}
	for k, v := range want {
		if top[k] != v {
			t.Errorf(".top %s = %v; want %q", k, top[k], v)
		}
	}
	if tu, _ := top["token_url"].(string); !strings.HasPrefix(tu, r.idp.Issuer) {
		t.Errorf(".top token_url = %q", tu)
	}
	for _, k := range []string{"grant_type", "scopes", "audience", "access_token"} {
		if _, ok := top[k]; ok {
			t.Errorf(".top has %q", k)
		}
	}
	// The exchanged refresh token works at the issuer on its own.
	if _, status, err := r.idp.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, rt, nil); err != nil || status != 200 {
		t.Errorf("refreshing with the .top's refresh token: %d, %v", status, err)
	}
	bt, _ := os.ReadFile(filepath.Join(r.base, "bt"))
	ap.noSecrets(out+errOut, rt, oidcprovider.ClientSecret, strings.TrimSpace(string(bt)), acct.RefreshToken())

	code, _, errOut = r.run(r.condorGetArgs("-v")...)
	if code != 0 {
		t.Fatalf("second get --condor: exit %d: %s", code, errOut)
	}
	if got := ap.adds(); got != 1 {
		t.Errorf("add-oauth calls after the second run: %d; want 1 (nothing stored)", got)
	}
}

// TestCondorAccountPlainStoresUseOncePerToken protects --condor-store
// plain: the access token goes to credd with add-oauth -P (a .use holding
// exactly get's token); a second run within --minsecs gets no new token
// and stores nothing; once credd has lost the .use, the next run stores the
// (still fresh) token again without refreshing.
func TestCondorAccountPlainStoresUseOncePerToken(t *testing.T) {
	r, ap := condorAccountRobot(t)
	args := r.condorGetArgs("--condor-store", "plain", "--condor-service", "robot-plain")
	if code, out, errOut := r.run(args...); code != 0 {
		t.Fatalf("get --condor plain: exit %d: %s%s", code, out, errOut)
	}
	calls := ap.calls()
	if len(calls) != 2 || calls[1] != "add-oauth -s robot-plain -P -i -" {
		t.Fatalf("condor_store_cred calls %q; want query-oauth, then add-oauth -s robot-plain -P -i -", calls)
	}
	use, err := os.ReadFile(ap.credd.UsePath(ap.user, "robot-plain"))
	if err != nil {
		t.Fatal(err)
	}
	bt, _ := os.ReadFile(filepath.Join(r.base, "bt"))
	if strings.TrimSpace(string(use)) != strings.TrimSpace(string(bt)) {
		t.Error("the .use is not get's token")
	}
	claims := r.idp.VerifyAccessToken(t, string(use))
	if !audHas(claims["aud"], condorAud) || claims["scope"] != condorScope {
		t.Errorf(".use aud %v scope %v", claims["aud"], claims["scope"])
	}
	if _, err := os.Stat(ap.credd.TopPath(ap.user, "robot-plain")); err == nil {
		t.Error("plain mode stored a .top")
	}
	rtBefore := r.refreshToken("robot")
	if code, _, errOut := r.run(args...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	if got := ap.adds(); got != 1 {
		t.Errorf("add-oauth calls after a second run within --minsecs: %d; want 1", got)
	}
	if err := ap.credd.Delete(ap.user, "robot-plain"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := r.run(args...); code != 0 {
		t.Fatalf("run after credd lost the .use: exit %d: %s", code, errOut)
	}
	if got := ap.adds(); got != 2 {
		t.Errorf("add-oauth calls after credd lost the .use: %d; want 2", got)
	}
	if again, _ := os.ReadFile(ap.credd.UsePath(ap.user, "robot-plain")); string(again) != string(use) {
		t.Error("the stored .use is not the fresh token of the file")
	}
	if r.refreshToken("robot") != rtBefore {
		t.Error("a run within --minsecs refreshed the account")
	}
}

// TestCondorAccountMismatchNamesDeleteCommand protects the mismatch: credd
// holds the service with other scopes (exit 2 of query-oauth), so get
// --condor stores nothing, refreshes nothing, prints the exact
// delete-oauth command and exits 3.
func TestCondorAccountMismatchNamesDeleteCommand(t *testing.T) {
	r, ap := condorAccountRobot(t)
	if err := ap.credd.StoreTopWithScopes(ap.user, "robot", []byte(`{"iss": "https://other.example"}`), "compute.read", ""); err != nil {
		t.Fatal(err)
	}
	rt := r.refreshToken("robot")
	code, _, errOut := r.run(r.condorGetArgs()...)
	if code != exitConfig || !strings.Contains(errOut, "\n  condor_store_cred delete-oauth -s robot\n") {
		t.Fatalf("exit %d, stderr %q; want %d and the delete-oauth command", code, errOut, exitConfig)
	}
	if got := ap.adds(); got != 0 {
		t.Errorf("%d add-oauth calls; want none", got)
	}
	if r.refreshToken("robot") != rt {
		t.Error("the account was refreshed despite the mismatch")
	}
	if _, err := os.Stat(filepath.Join(r.base, "bt")); err == nil {
		t.Error("a token file was written despite the mismatch")
	}
}

// TestCondorClientCredentialsTopAndPlain protects the client-credentials
// robot: the self-describing .top names the issuer, the client and its
// secret with grant_type client_credentials and no refresh token (the
// secret reaches credd on stdin only); a second run stores nothing; the
// default service is the issuer host's first label; plain stores a .use.
func TestCondorClientCredentialsTopAndPlain(t *testing.T) {
	r := newRobot(t)
	ap := r.accessPoint("")
	secret := filepath.Join(r.base, "client-secret")
	if err := os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"get", "--client-id", oidcprovider.ClientIDBasic, "--client-secret-file", secret, "--issuer", r.idp.Issuer,
		"--insecure", "-o", filepath.Join(r.base, "bt"), "--scope", condorScope, "--condor"}
	code, out, errOut := r.run(args...)
	if code != 0 {
		t.Fatalf("get --condor --client-id: exit %d: %s", code, errOut)
	}
	svc := "127" // http://127.0.0.1:port: the first label of the host
	top := ap.top(svc)
	if top["grant_type"] != "client_credentials" || top["client_secret"] != oidcprovider.ClientSecret || top["iss"] != r.idp.Issuer ||
		top["scope"] != condorScope {
		t.Errorf(".top = %v", redactTop(top))
	}
	if _, ok := top["refresh_token"]; ok {
		t.Error("a client-credentials .top has a refresh token")
	}
	ap.noSecrets(out+errOut, oidcprovider.ClientSecret)
	if code, _, errOut := r.run(args...); code != 0 || ap.adds() != 1 {
		t.Fatalf("second run: exit %d, %d add-oauth calls; want 0 and 1: %s", code, ap.adds(), errOut)
	}
	plain := append(args, "--condor-store", "plain", "--condor-service", "cc-plain")
	if code, _, errOut := r.run(plain...); code != 0 {
		t.Fatalf("plain: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(ap.credd.UsePath(ap.user, "cc-plain")); err != nil {
		t.Errorf("plain stored no .use: %v", err)
	}
	if code, _, errOut := r.run("get", "--account", "robot", "--condor-store", "plain"); code != exitConfig {
		t.Errorf("--condor-store without --condor: exit %d: %s", code, errOut)
	}
}

func redactTop(m map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		if k == "client_secret" || k == "refresh_token" {
			v = "<set>"
		}
		c[k] = v
	}
	return c
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

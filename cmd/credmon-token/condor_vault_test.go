package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/credtest/daemontest"
	"github.com/credmon/credmon/internal/vaulttest"
)

// TestCondorVaultStoresTopDaemonMakesUse protects igwn-robot-get --condor
// end to end: a SEC_CREDENTIAL_GETTOKEN_OPTS other than exactly this run's
// credkey, role and Vault server stops the run before anything is sent or
// stored, naming ~/.condor/user_config and the line to put there; with it
// right, get --condor --keytab logs in to Vault with Kerberos and stores
// igwn.top = {vault_token, vault_url} through condor_store_cred (stdin);
// the daemon (VAULT_CREDMON_PROVIDER_NAMES = igwn, woken by the stand-in's
// SIGHUP) turns it into igwn.use, the provider's access token for the
// robot's grant; a second run stores nothing.
//
// get runs in this process for the stored run, with its Vault connections
// sent to the test server: credd's vault_url must name Vault's port 8200,
// which the test server does not listen on; the daemon reaches it the
// same way.
func TestCondorVaultStoresTopDaemonMakesUse(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	const right = "--credkey=" + vaulttest.RobotCredKey + " --role=" + vaulttest.RobotRole + " --vaultserver=localhost"
	ap := e.accessPoint("SEC_CREDENTIAL_GETTOKEN_OPTS = " + right + " --cafile=/etc/ca.pem\n")
	args := []string{"get", "--condor", "--keytab", e.keytab, "-a", "localhost", "--cafile", e.ca, "-o", e.bt, "--minsecs", "60"}

	code, out, errOut := e.run(args...)
	wantLine := "\n    SEC_CREDENTIAL_GETTOKEN_OPTS = " + right + "\n"
	if code != exitConfig || !strings.Contains(errOut, "~/.condor/user_config") || !strings.Contains(errOut, wantLine) {
		t.Fatalf("mismatching SEC_CREDENTIAL_GETTOKEN_OPTS: exit %d, stdout %q, stderr %q; want %d, user_config and %q", code, out, errOut, exitConfig, wantLine)
	}
	t.Logf("mismatch: %s", errOut)
	if calls := ap.calls(); len(calls) != 0 {
		t.Errorf("condor_store_cred was run: %q", calls)
	}
	if st := e.s.Stats(); st.Logins != 0 {
		t.Errorf("Vault was asked: %+v", st)
	}
	if err := os.MkdirAll(filepath.Join(ap.home, ".condor"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ap.home, ".condor", "user_config"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, errOut := e.run(args...); strings.Contains(errOut, "create it") {
		t.Errorf("an existing user_config is to be created: %s", errOut)
	}

	ap.writeConfig("SEC_CREDENTIAL_GETTOKEN_OPTS = " + right + "\n")
	port := e.s.Address[strings.LastIndexByte(e.s.Address, ':')+1:]
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, p, err := net.SplitHostPort(addr); err == nil && p == "8200" {
			addr = net.JoinHostPort(host, port)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	daemontest.Start(t, daemontest.Options{CredDir: ap.credd.Dir,
		Config: "AUTH_SSL_CLIENT_CAFILE = " + e.ca + "\nTRUSTED_VAULT_HOSTS = localhost\nVAULT_CREDMON_PROVIDER_NAMES = igwn\n", VaultDial: dial})

	for _, kv := range e.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	for _, k := range []string{"KRB5_KTNAME", "BEARER_TOKEN_FILE", "HTGETTOKENOPTS", "X509_CERT_DIR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	id := "credmontest" + hex.EncodeToString(b)
	t.Setenv("CONDOR_VAULT_STORER_ID", id)
	t.Setenv("XDG_RUNTIME_DIR", e.base)
	t.Cleanup(func() {
		m, _ := filepath.Glob("/tmp/vt_" + id + "*")
		for _, f := range m {
			os.Remove(f)
		}
	})
	vaultDial = dial
	t.Cleanup(func() { vaultDial = nil })
	inProcess := func() (int, string) {
		var out, errb bytes.Buffer
		code := run(append(args, "-v"), strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}

	addsBefore := ap.adds()
	code, all := inProcess()
	if code != 0 {
		t.Fatalf("get --condor: exit %d:\n%s", code, all)
	}
	if got := ap.adds() - addsBefore; got != 1 {
		t.Fatalf("%d add-oauth calls; want 1: %q", got, ap.calls())
	}
	if last := ap.calls()[len(ap.calls())-1]; last != "add-oauth -s igwn -i -" {
		t.Errorf("stored with %q; want add-oauth -s igwn -i -", last)
	}
	top := ap.top("igwn")
	vt, _ := top["vault_token"].(string)
	wantURL := "https://localhost:8200/v1/secret/oauth/creds/" + vaulttest.RobotIssuer + "/" + vaulttest.RobotCredKey + ":" + vaulttest.RobotRole
	if vt == "" || top["vault_url"] != wantURL {
		t.Fatalf("igwn.top vault_url %v (want %s), vault_token set %v", top["vault_url"], wantURL, vt != "")
	}
	if strings.Contains(all, vt) {
		t.Error("the Vault token is in get's output")
	}
	if !strings.Contains(all, "-o is ignored with --condor") || !strings.Contains(all, "--minsecs is ignored with --condor") {
		t.Errorf("-v did not say which options --condor ignores:\n%s", all)
	}
	if !strings.Contains(all, "Storing condor credentials for igwn") {
		t.Errorf("not the storer's messages:\n%s", all)
	}

	usePath := ap.credd.UsePath(ap.user, "igwn")
	daemontest.WaitFor(t, "igwn.use from the daemon", func() bool { _, err := os.Stat(usePath); return err == nil })
	use, err := os.ReadFile(usePath)
	if err != nil {
		t.Fatal(err)
	}
	claims := e.p.VerifyAccessToken(t, strings.TrimSpace(string(use)))
	if claims["sub"] != vaulttest.RobotRole || claims["scope"] != "storage.read:/data" {
		t.Errorf("igwn.use claims sub %v scope %v aud %v; want %s and the robot's grant's scope", claims["sub"], claims["scope"], claims["aud"], vaulttest.RobotRole)
	}
	t.Logf("igwn.use: sub %v aud %v scope %v", claims["sub"], claims["aud"], claims["scope"])

	code, all = inProcess()
	if code != 0 {
		t.Fatalf("second get --condor: exit %d:\n%s", code, all)
	}
	if got := ap.adds() - addsBefore; got != 1 {
		t.Errorf("add-oauth calls after the second run: %d; want 1 (nothing stored)", got)
	}
	if !strings.Contains(all, "already stored") {
		t.Errorf("the second run did not say the credential is stored:\n%s", all)
	}
}

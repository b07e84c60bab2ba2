package main

// End-to-end tests of the shipped storer's Vault source: the binary built
// without tags, run with condor_submit's argv and environment, a real MIT
// KDC (internal/kdc), the Vault API test server checking the SPNEGO token
// against the KDC's service keytab and backed by the real OIDC provider,
// and the condor_store_cred stand-in on PATH.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/kdc"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/internal/vaulttest"
	"github.com/credmon/credmon/producer/storer"
)

type vaultSubmit struct {
	*submit
	site *vaulttest.Site
	k    *kdc.KDC
	p    *oidcprovider.Provider
	vs   *vaulttest.Server
	id   string // CONDOR_VAULT_STORER_ID: names /tmp/vt_<id>
}

// newVaultSubmit is an access point whose SEC_CREDENTIAL_GETTOKEN_OPTS
// name the test's Vault, a robot with a keytab in $KRB5_KTNAME, and a
// refresh token for the robot's credential already in Vault.
func newVaultSubmit(t *testing.T) *vaultSubmit {
	t.Helper()
	e := newVaultSubmitUnseeded(t)
	e.site.Seed(t)
	return e
}

// newVaultSubmitUnseeded is newVaultSubmit before anyone logged in to
// Vault with OIDC: Vault holds no refresh token for the robot.
func newVaultSubmitUnseeded(t *testing.T) *vaultSubmit {
	t.Helper()
	return newVaultSubmitWith(t, vaultSetup{credKey: vaulttest.RobotCredKey})
}

// vaultSetup varies the access point and its Vault.
type vaultSetup struct {
	// credKey is SEC_CREDENTIAL_GETTOKEN_OPTS's --credkey; empty: none,
	// as at a site whose users' credkeys come from their OIDC logins.
	credKey string
	// roles are the issuer's roles besides vaulttest.RobotRole (the default role in
	// SEC_CREDENTIAL_GETTOKEN_OPTS), for services igwn_<role>.
	roles []string
	// scopes are what Vault's OIDC login asks for besides openid and
	// offline_access (what a handle's token exchange may then narrow to).
	scopes []string
}

func newVaultSubmitWith(t *testing.T, setup vaultSetup) *vaultSubmit {
	t.Helper()
	e := &vaultSubmit{}
	e.site = vaulttest.StartSite(t, vaulttest.Options{Roles: setup.roles, Scopes: setup.scopes})
	e.k, e.p, e.vs = e.site.KDC, e.site.Provider, e.site.Vault
	dir := t.TempDir()
	ca := filepath.Join(dir, "vault-ca.pem")
	if err := os.WriteFile(ca, e.vs.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := "--vaultserver=" + e.vs.Address + " --role=" + vaulttest.RobotRole + " --cafile=" + ca
	if setup.credKey != "" {
		opts += " --credkey=" + setup.credKey
	}
	e.submit = newSubmit(t, "SEC_CREDENTIAL_STORER = /usr/bin/credmon-producer\n"+
		"SEC_CREDENTIAL_GETTOKEN_OPTS = "+opts+"\n")
	e.bin = shipped
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	// The storer's Vault token files are in /tmp, as htgettoken's are.
	e.id = "credmontest" + hex.EncodeToString(b)
	t.Cleanup(func() {
		m, _ := filepath.Glob("/tmp/vt_" + e.id + "*")
		for _, f := range m {
			os.Remove(f)
		}
	})
	e.env["CONDOR_VAULT_STORER_ID"] = e.id
	e.env["KRB5_CONFIG"] = e.k.Krb5Conf
	e.env["KRB5_KTNAME"] = e.k.Keytab(vaulttest.RobotPrincipal)
	e.env["KRB5CCNAME"] = "FILE:" + filepath.Join(dir, "krb5cc")
	delete(e.env, "CREDMON_PRODUCER_TEST_LOG")
	return e
}

func (e *vaultSubmit) client(t *testing.T) *vault.Client {
	t.Helper()
	c, err := vault.New(vault.Config{Address: e.vs.URL, CAFile: e.vs.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noSecrets fails when a Vault token or access token of this test is in
// the storer's output or condor_store_cred's arguments.
func (e *vaultSubmit) noSecrets(t *testing.T, r result, secrets ...string) {
	t.Helper()
	all := r.stdout + r.stderr + strings.Join(r.storeCalls, "\n")
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("a token reached the terminal or an argument list:\nstdout %q\nstderr %q\ncalls %q", r.stdout, r.stderr, r.storeCalls)
		}
	}
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o; want 0600", path, fi.Mode().Perm())
	}
	return strings.TrimSpace(string(b))
}

// TestVaultServiceAndHandleStoredByKerberosLoginThenNothing protects the
// Vault submit: condor_submit's argv for a service and a handle, with a
// keytab, stores igwn.top with a 28-day Vault token from a Kerberos login
// and the creds vault_url, and igwn_ro.top with the sts vault_url and
// the handle's scopes and audience; the local 7-day token is a child
// written to /tmp/vt_<id>-igwn and /tmp/vt_<id>, the bearer tokens to
// bt_<id>-igwn, bt_<id> and bt_<id>-igwn_ro. A second submit within the
// 7-day token's life logs in nowhere and stores nothing.
func TestVaultServiceAndHandleStoredByKerberosLoginThenNothing(t *testing.T) {
	e := newVaultSubmit(t)
	const aud, scope = "https://se.example.org", "storage.read:/data"
	args := []string{"igwn", "igwn&handle=ro&scopes=" + scope + "&audience=" + aud}
	r := e.run(args...)
	if r.code != 0 {
		t.Fatalf("first submit: exit %d\n%s", r.code, r.stderr)
	}
	want := []string{"query-oauth igwn", "add-oauth igwn", "query-oauth igwn", "query-oauth igwn_ro", "add-oauth igwn_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, want) {
		t.Errorf("condor_store_cred calls %q; want %q", got, want)
	}
	top := e.topJSON(e.user, "igwn")
	base := e.vs.Address + "/v1/secret/oauth/"
	if got, want := top["vault_url"], base+"creds/"+vaulttest.RobotIssuer+"/"+vaulttest.RobotCredKey+":"+vaulttest.RobotRole; got != want {
		t.Errorf("igwn.top vault_url %q; want %q", got, want)
	}
	c := e.client(t)
	info, err := c.LookupSelf(context.Background(), top["vault_token"])
	if err != nil || info.TTL <= 27*24*time.Hour {
		t.Fatalf("igwn.top's vault_token: %+v, %v; want a live 28-day token", info, err)
	}
	local := readToken(t, "/tmp/vt_"+e.id+"-igwn")
	if local == top["vault_token"] {
		t.Fatal("the local Vault token is credd's 28-day token; want a 7-day child")
	}
	if li, err := c.LookupSelf(context.Background(), local); err != nil || li.TTL > 7*24*time.Hour || li.TTL < 6*24*time.Hour {
		t.Errorf("local Vault token: %+v, %v; want 7 days", li, err)
	}
	if got := readToken(t, "/tmp/vt_"+e.id); got != local {
		t.Error("/tmp/vt_<id> is not a copy of /tmp/vt_<id>-igwn")
	}
	ro := e.topJSON(e.user, "igwn_ro")
	wantRO := map[string]string{"vault_url": base + "sts/" + vaulttest.RobotIssuer + "/" + vaulttest.RobotCredKey + ":" + vaulttest.RobotRole, "scopes": scope, "audience": aud}
	if !reflect.DeepEqual(ro, wantRO) {
		t.Errorf("igwn_ro.top = %v; want %v", ro, wantRO)
	}
	bt := readToken(t, filepath.Join(e.env["XDG_RUNTIME_DIR"], "bt_"+e.id+"-igwn"))
	if got := readToken(t, filepath.Join(e.env["XDG_RUNTIME_DIR"], "bt_"+e.id)); got != bt {
		t.Error("bt_<id> is not a copy of bt_<id>-igwn")
	}
	if claims := e.p.VerifyAccessToken(t, bt); claims["sub"] != vaulttest.RobotRole {
		t.Errorf("bearer token sub %v; want %s", claims["sub"], vaulttest.RobotRole)
	}
	hbt := readToken(t, filepath.Join(e.env["XDG_RUNTIME_DIR"], "bt_"+e.id+"-igwn_ro"))
	if claims := e.p.VerifyAccessToken(t, hbt); claims["scope"] != scope {
		t.Errorf("handle's bearer token scope %v; want %s", claims["scope"], scope)
	}
	e.noSecrets(t, r, top["vault_token"], local, bt, hbt)
	st := e.vs.Stats()
	if st.Logins != 1 {
		t.Errorf("Vault logins %d; want 1 (the Kerberos login)", st.Logins)
	}
	e.k.WaitLog(t, "TGS_REQ", "ISSUE", "host/"+vaulttest.Host)
	before := map[string]os.FileInfo{"igwn": e.identity(e.user, "igwn"), "igwn_ro": e.identity(e.user, "igwn_ro")}

	r = e.run(args...)
	if r.code != 0 {
		t.Fatalf("second submit: exit %d\n%s", r.code, r.stderr)
	}
	want = []string{"query-oauth igwn", "query-oauth igwn", "query-oauth igwn_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, want) {
		t.Errorf("second submit's condor_store_cred calls %q; want only the queries %q", got, want)
	}
	if got := e.vs.Stats().Logins; got != st.Logins {
		t.Errorf("the second submit logged in to Vault (%d logins, before %d)", got, st.Logins)
	}
	for n, fi := range before {
		if after := e.identity(e.user, n); !os.SameFile(fi, after) {
			t.Errorf("%s.top was stored again by the second submit", n)
		}
	}
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("second submit printed %q / %q; want nothing without -v", r.stdout, r.stderr)
	}
	e.noSecrets(t, r, top["vault_token"], local)
}

// TestVaultServiceCreddLostLogsInAgain protects the storer's renewal:
// when credd no longer holds the service (its credmon deleted the .top
// after the 28-day token died), a still-valid local token is not enough:
// the storer logs in again and stores a new 28-day token.
func TestVaultServiceCreddLostLogsInAgain(t *testing.T) {
	e := newVaultSubmit(t)
	if r := e.run("igwn"); r.code != 0 {
		t.Fatalf("first submit: exit %d\n%s", r.code, r.stderr)
	}
	first := e.topJSON(e.user, "igwn")["vault_token"]
	if err := os.Remove(e.credd.TopPath(e.user, "igwn")); err != nil {
		t.Fatal(err)
	}
	r := e.run("igwn")
	if r.code != 0 {
		t.Fatalf("second submit: exit %d\n%s", r.code, r.stderr)
	}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, []string{"query-oauth igwn", "add-oauth igwn"}) {
		t.Errorf("condor_store_cred calls %q; want query and add", got)
	}
	second := e.topJSON(e.user, "igwn")["vault_token"]
	if second == "" || second == first {
		t.Error("igwn.top does not hold a new Vault token")
	}
	if got := e.vs.Stats().Logins; got != 2 {
		t.Errorf("Vault logins %d; want 2", got)
	}
}

// TestVaultServiceWithoutKerberosOrTerminalSaysHowToLogIn: no keytab,
// no ticket cache and no terminal for OIDC fail the submit with what to
// do, and store nothing.
func TestVaultServiceWithoutKerberosOrTerminalSaysHowToLogIn(t *testing.T) {
	e := newVaultSubmit(t)
	delete(e.env, "KRB5_KTNAME")
	r := e.run("igwn")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "\ncredmon-producer: ") || !strings.Contains(r.stderr, "at a terminal") {
		t.Errorf("exit %d, stderr %q; want 1 and how to log in", r.code, r.stderr)
	}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, []string{"query-oauth igwn"}) {
		t.Errorf("condor_store_cred calls %q; want the query only", got)
	}

	// No --credkey and no credkey cache: the message names the cache the
	// login at a terminal would write.
	e = newVaultSubmitWith(t, vaultSetup{})
	r = e.run("igwn")
	if r.code != 1 || !strings.Contains(r.stderr, "no credkey cache "+e.credKeyCache(vaulttest.RobotRole)) || !strings.Contains(r.stderr, "at a terminal") {
		t.Errorf("without a credkey: exit %d, stderr %q; want 1, the cache file and how to log in", r.code, r.stderr)
	}
	if st := e.vs.Stats(); st.Logins != 0 {
		t.Errorf("without a credkey: %d Vault logins; want none (Kerberos cannot tell the credkey)", st.Logins)
	}
}

var loginURLRE = regexp.MustCompile(`^\s+(https?://\S+)\s*$`)

// midLine is what condor_submit has left on the terminal's line when it
// runs the storer: the storer must start its output on a fresh line.
const midLine = "Submitting job(s)"

// atTerminal runs the shipped storer as condor_submit does for a person
// (spec §8.2): argv[0] its path, one argument per service,
// CONDOR_CREDENTIAL_STORER_MODE=vault, stdout and stderr the terminal (a
// pty from script(1)), the cursor after midLine. Each device login the
// storer shows is approved at the provider as login. The result's stdout
// is the terminal's text (stdout and stderr), from midLine on.
func (e *vaultSubmit) atTerminal(t *testing.T, login string, args ...string) result {
	t.Helper()
	e.resetLogs()
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var env []string
	for k, v := range e.env {
		env = append(env, k+"="+v)
	}
	words := []string{storer.ShellQuote(shipped)}
	for _, a := range args {
		words = append(words, storer.ShellQuote(a))
	}
	cmdline := "printf '%s' " + storer.ShellQuote(midLine) + "; exec " + strings.Join(words, " ")
	approved := map[string]bool{}
	all, err := oidcprovider.RunAtTerminal(ctx, cmdline, env, "", func(line, all string) {
		if m := loginURLRE.FindStringSubmatch(line); m != nil && !approved[m[1]] {
			approved[m[1]] = true
			if err := e.p.ApproveDevice(ctx, m[1], "", login); err != nil {
				t.Errorf("approving: %v\n%s", err, all)
			}
		}
	})
	r := result{stdout: all}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("submit at a terminal: %v\n%s", err, all)
	}
	e.readLogs(&r)
	return r
}

// TestVaultFirstSubmitAtTerminalLogsInWithOIDC protects a person's first
// submit: no Kerberos credentials and no refresh token in Vault; at a
// terminal (a pty from script(1)) the storer shows Vault's OIDC device
// login after a fresh line, waits for the approval, stores the refresh
// token in Vault and the 28-day Vault token in credd.
func TestVaultFirstSubmitAtTerminalLogsInWithOIDC(t *testing.T) {
	e := newVaultSubmitUnseeded(t)
	delete(e.env, "KRB5_KTNAME")
	r := e.atTerminal(t, vaulttest.RobotRole, "igwn")
	all := r.stdout
	if r.code != 0 {
		t.Fatalf("submit at a terminal: exit %d\n%s", r.code, all)
	}
	if !strings.HasPrefix(all, midLine+"\nAuthentication needed for igwn\n") {
		t.Errorf("the login is not shown after a fresh line:\n%q", all)
	}
	if _, ok := e.vs.StoredRefreshToken(vaulttest.RobotIssuer + "/" + vaulttest.RobotCredKey + ":" + vaulttest.RobotRole); !ok {
		t.Fatal("no refresh token stored in Vault")
	}
	top := e.topJSON(e.user, "igwn")
	info, err := e.client(t).LookupSelf(context.Background(), top["vault_token"])
	if err != nil || info.TTL <= 27*24*time.Hour {
		t.Fatalf("igwn.top's vault_token: %+v, %v; want a live 28-day token", info, err)
	}
	if strings.Contains(all, top["vault_token"]) {
		t.Error("the Vault token was printed")
	}
	// The next submit (no terminal) uses the 7-day token and stores nothing.
	r = e.run("igwn")
	if r.code != 0 || !reflect.DeepEqual(verbs(r.storeCalls), []string{"query-oauth igwn"}) {
		t.Errorf("next submit: exit %d, calls %q\n%s", r.code, r.storeCalls, r.stderr)
	}
}

// credKeyCache is htgettoken's credkey cache for igwn_<role> under the
// access point's $HOME.
func (e *vaultSubmit) credKeyCache(role string) string {
	return filepath.Join(e.env["HOME"], ".config", "htgettoken", "credkey-"+vaulttest.RobotIssuer+"-"+role)
}

// TestVaultFirstSubmitWithoutCredKeyLearnsItFromTheLogin protects a
// person's first submit at a site whose SEC_CREDENTIAL_GETTOKEN_OPTS has
// no --credkey and before htgettoken's credkey cache exists: as
// htgettoken does, the storer goes straight to the OIDC device login,
// takes the credkey Vault's login names (the person's sub), stores the
// refresh token under it, saves it to the cache (0600), and stores the
// .top whose vault_url has it. The next submit, without a terminal,
// reads the cache and logs in nowhere.
func TestVaultFirstSubmitWithoutCredKeyLearnsItFromTheLogin(t *testing.T) {
	e := newVaultSubmitWith(t, vaultSetup{})
	delete(e.env, "KRB5_KTNAME")
	const person = "albert.einstein"
	r := e.atTerminal(t, person, "igwn")
	all := r.stdout
	if r.code != 0 {
		t.Fatalf("first submit: exit %d\n%s", r.code, all)
	}
	if !strings.HasPrefix(all, midLine+"\nAuthentication needed for igwn\n") {
		t.Errorf("the login is not shown after a fresh line:\n%q", all)
	}
	if got := readToken(t, e.credKeyCache(vaulttest.RobotRole)); got != person {
		t.Errorf("credkey cache holds %q; want %q", got, person)
	}
	if _, ok := e.vs.StoredRefreshToken(vaulttest.RobotIssuer + "/" + person + ":" + vaulttest.RobotRole); !ok {
		t.Error("no refresh token stored under the learnt credkey")
	}
	top := e.topJSON(e.user, "igwn")
	if got, want := top["vault_url"], e.vs.Address+"/v1/secret/oauth/creds/"+vaulttest.RobotIssuer+"/"+person+":"+vaulttest.RobotRole; got != want {
		t.Errorf("igwn.top vault_url %q; want %q", got, want)
	}
	logins := e.vs.Stats().Logins
	r = e.run("igwn")
	if r.code != 0 || !reflect.DeepEqual(verbs(r.storeCalls), []string{"query-oauth igwn"}) {
		t.Errorf("next submit: exit %d, calls %q; want 0 and the query only\n%s", r.code, r.storeCalls, r.stderr)
	}
	if got := e.vs.Stats().Logins; got != logins {
		t.Errorf("the next submit logged in to Vault (%d logins, before %d)", got, logins)
	}
	e.noSecrets(t, r, top["vault_token"])
}

// TestVaultCondorSubmitTwoServicesAndAHandle runs the shipped storer as
// condor_submit runs it for
//
//	use_oauth_services = igwn, igwn_read
//	igwn_read_oauth_permissions_ro = storage.read:/data storage.read:/frames
//	igwn_read_oauth_resource_ro = https://se.example.org
//
// at a person's terminal: two Vault services (two roles of the issuer),
// the second with a handle of reduced scopes and audience, no --credkey
// and no keytab. It protects the whole exchange: the output starts with
// one newline after what condor_submit left on the line and has no blank
// line; each service gets its own device login and credkey cache; both
// services' .tops and the handle's (with -S and -A merged by credd) are
// stored; exit 0. The same submit again stores nothing and prints
// nothing. A submit naming a role Vault lacks exits 1 with the reason
// and the -v hint on the terminal, and leaves the stored .tops alone.
func TestVaultCondorSubmitTwoServicesAndAHandle(t *testing.T) {
	const scopes, aud = "storage.read:/data,storage.read:/frames", "https://se.example.org"
	e := newVaultSubmitWith(t, vaultSetup{roles: []string{"read"}, scopes: strings.Split(scopes, ",")})
	delete(e.env, "KRB5_KTNAME")
	const person = "alice"
	args := []string{"igwn", "igwn_read&handle=ro&scopes=" + scopes + "&audience=" + aud}

	r := e.atTerminal(t, person, args...)
	if r.code != 0 {
		t.Fatalf("first submit: exit %d\n%s", r.code, r.stdout)
	}
	if !strings.HasPrefix(r.stdout, midLine+"\nAuthentication needed for igwn\n") || strings.Contains(r.stdout, "\n\n") ||
		!strings.Contains(r.stdout, "\nAuthentication needed for igwn_read\n") {
		t.Errorf("terminal %q; want one newline after %q, then a login for each service and no blank line", r.stdout, midLine)
	}
	want := []string{"query-oauth igwn", "add-oauth igwn", "query-oauth igwn_read", "query-oauth igwn_read_ro", "add-oauth igwn_read", "add-oauth igwn_read_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, want) {
		t.Errorf("condor_store_cred calls %q; want %q", got, want)
	}
	for _, c := range r.storeCalls {
		if strings.HasPrefix(c, "add-oauth") && strings.Contains(c, "-s igwn_read_ro") && !strings.Contains(c, "-S "+scopes+" -A "+aud) {
			t.Errorf("%q: the handle's scopes and audience are not passed as -S and -A", c)
		}
	}
	base := e.vs.Address + "/v1/secret/oauth/"
	c := e.client(t)
	var vaultTokens []string
	for _, svc := range []struct{ name, role string }{{"igwn", vaulttest.RobotRole}, {"igwn_read", "read"}} {
		top := e.topJSON(e.user, svc.name)
		if got, want := top["vault_url"], base+"creds/"+vaulttest.RobotIssuer+"/"+person+":"+svc.role; got != want {
			t.Errorf("%s.top vault_url %q; want %q", svc.name, got, want)
		}
		if info, err := c.LookupSelf(context.Background(), top["vault_token"]); err != nil || info.TTL <= 27*24*time.Hour {
			t.Errorf("%s.top's vault_token: %+v, %v; want a live 28-day token", svc.name, info, err)
		}
		if got := readToken(t, e.credKeyCache(svc.role)); got != person {
			t.Errorf("credkey cache for %s holds %q; want %q", svc.role, got, person)
		}
		vaultTokens = append(vaultTokens, top["vault_token"])
	}
	if vaultTokens[0] == vaultTokens[1] {
		t.Error("both services hold the same Vault token")
	}
	wantRO := map[string]string{"vault_url": base + "sts/" + vaulttest.RobotIssuer + "/" + person + ":read", "scopes": scopes, "audience": aud}
	if ro := e.topJSON(e.user, "igwn_read_ro"); !reflect.DeepEqual(ro, wantRO) {
		t.Errorf("igwn_read_ro.top = %v; want %v", ro, wantRO)
	}
	hbt := readToken(t, filepath.Join(e.env["XDG_RUNTIME_DIR"], "bt_"+e.id+"-igwn_read_ro"))
	if claims := e.p.VerifyAccessToken(t, hbt); claims["scope"] != strings.ReplaceAll(scopes, ",", " ") {
		t.Errorf("handle's bearer token scope %v; want %s", claims["scope"], scopes)
	}
	e.noSecrets(t, r, append(vaultTokens, hbt)...)
	if got := e.vs.Stats().Logins; got != 2 {
		t.Errorf("Vault logins %d; want 2 (one OIDC login per service)", got)
	}
	before := map[string]os.FileInfo{}
	for _, n := range []string{"igwn", "igwn_read", "igwn_read_ro"} {
		before[n] = e.identity(e.user, n)
	}
	unchanged := func(when string) {
		t.Helper()
		for n, fi := range before {
			if !os.SameFile(fi, e.identity(e.user, n)) {
				t.Errorf("%s: %s.top was stored again", when, n)
			}
		}
		if got := e.vs.Stats().Logins; got != 2 {
			t.Errorf("%s: %d Vault logins; want still 2", when, got)
		}
	}

	r = e.atTerminal(t, person, args...)
	if r.code != 0 || r.stdout != midLine+"\n" {
		t.Errorf("second submit: exit %d, terminal %q; want 0 and nothing printed", r.code, r.stdout)
	}
	want = []string{"query-oauth igwn", "query-oauth igwn_read", "query-oauth igwn_read_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, want) {
		t.Errorf("second submit's condor_store_cred calls %q; want only the queries %q", got, want)
	}
	unchanged("second submit")

	// A service whose role Vault lacks (a typo in use_oauth_services).
	r = e.atTerminal(t, person, append(args, "igwn_write")...)
	if r.code != 1 {
		t.Errorf("submit with an unknown role: exit %d; want 1 (condor_submit then fails)\n%s", r.code, r.stdout)
	}
	wantMsg := midLine + "\ncredmon-producer: obtaining credentials for igwn_write: starting Vault's OIDC login: "
	hint := "\n  More details might be available by running\n    credmon-producer -v igwn " + storer.ShellQuote(args[1]) + " igwn_write\n"
	if !strings.HasPrefix(r.stdout, wantMsg) || !strings.Contains(r.stdout, `role "write" could not be found`) || !strings.HasSuffix(r.stdout, hint) {
		t.Errorf("terminal %q; want %q..., Vault's reason and the hint %q", r.stdout, wantMsg, hint)
	}
	for _, v := range verbs(r.storeCalls) {
		if strings.HasPrefix(v, "add-oauth") {
			t.Errorf("stored %q in a failed submit", v)
		}
	}
	unchanged("failed submit")
	if _, err := os.Lstat(e.credKeyCache("write")); !os.IsNotExist(err) {
		t.Errorf("a credkey cache for the unknown role: %v", err)
	}
}

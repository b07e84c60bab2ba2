package main

// End-to-end tests of get's Vault source (igwn-robot-get's command line):
// the real binary, a real MIT KDC (internal/kdc), the Vault API test
// server (internal/vaulttest) checking the SPNEGO token against the KDC's
// service keytab, and the real OIDC provider behind Vault.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/kdc"
	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/internal/vaulttest"
)

type vaultRobotEnv struct {
	*robot
	site   *vaulttest.Site
	k      *kdc.KDC
	p      *oidcprovider.Provider
	s      *vaulttest.Server
	clock  *vaulttest.Clock
	keytab string
	ca     string // a copy of Vault's CA file (the server removes its own when closed)
	vt, bt string // Vault token cache, bearer token file
}

// newVaultRobot starts the KDC, the OIDC provider (3 h access tokens, so
// --minsecs 3600 can be met) and Vault, and copies the robot's keytab to
// where a robot keeps it.
func newVaultRobot(t *testing.T) *vaultRobotEnv {
	t.Helper()
	e := &vaultRobotEnv{robot: robotWith(t, nil)}
	e.clock = vaulttest.NewClock(time.Now())
	e.site = vaulttest.StartSite(t, vaulttest.Options{Now: e.clock.Now, PollInterval: time.Second})
	e.k, e.p, e.s = e.site.KDC, e.site.Provider, e.site.Vault
	secure := filepath.Join(e.base, ".secure")
	if err := os.Mkdir(secure, 0o700); err != nil {
		t.Fatal(err)
	}
	e.keytab = filepath.Join(secure, "robot.keytab")
	b, err := os.ReadFile(e.k.Keytab(vaulttest.RobotPrincipal))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.keytab, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e.vt, e.bt = filepath.Join(e.base, "vt"), filepath.Join(e.base, "bt")
	e.ca = filepath.Join(e.base, "vault-ca.pem")
	if err := os.WriteFile(e.ca, e.s.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range e.env {
		if !strings.HasPrefix(kv, "KRB5") && !strings.HasPrefix(kv, "X509_CERT_DIR=") {
			env = append(env, kv)
		}
	}
	e.env = append(env, "KRB5_CONFIG="+e.k.Krb5Conf, "KRB5CCNAME=FILE:"+filepath.Join(e.base, "krb5cc"))
	return e
}

// seed stores a refresh token for the robot's credential in Vault, as an
// earlier OIDC login would have, approved at the provider as sub "robot".
func (e *vaultRobotEnv) seed(t *testing.T) {
	t.Helper()
	e.site.Seed(t)
}

// get runs the seed's cron line with only the program name changed, plus
// where this test's Vault, CA and files are.
func (e *vaultRobotEnv) get(extra ...string) (int, string, string) {
	e.t.Helper()
	return e.run(e.getArgs(extra...)...)
}

func (e *vaultRobotEnv) getArgs(extra ...string) []string {
	return append([]string{"get", "--keytab", e.keytab, "--minsecs", "3600",
		"-a", e.s.Address, "--cafile", e.ca, "--vaulttokenfile", e.vt, "-o", e.bt}, extra...)
}

// kdcRequests counts the KDC's own log lines for AS and TGS requests.
func (e *vaultRobotEnv) kdcRequests() int {
	l := e.k.Log()
	return strings.Count(l, "AS_REQ") + strings.Count(l, "TGS_REQ")
}

func oneLine(t *testing.T, what, s string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(s), "\n") != 0 {
		t.Errorf("%s: want one line, got:\n%s", what, s)
	}
}

// TestVaultGetKeytabToTokenFileThenNoNetwork protects the IGWN robot's
// cron line: keytab → KDC → Vault's Kerberos login → a 7-day Vault token
// cached 0600 → a token from Vault's sts path with the audience and
// scopes asked for. The second run, with the token file still fresh,
// talks to neither the KDC nor Vault (their own counters and logs), and
// still succeeds once both are down; a run that needs a new token then
// exits with the unreachable status.
func TestVaultGetKeytabToTokenFileThenNoNetwork(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	const aud, scope = "https://se.example.org", "storage.read:/data"
	code, out, errOut := e.get("--audience", aud, "--scopes", scope)
	if code != 0 {
		t.Fatalf("first get: exit %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(e.bt)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))
	claims := e.p.VerifyAccessToken(t, tok)
	if claims["sub"] != vaulttest.RobotRole || !audHas(claims["aud"], aud) || claims["scope"] != scope {
		t.Fatalf("token claims sub %v aud %v scope %v; want %s, %s, %s", claims["sub"], claims["aud"], claims["scope"], vaulttest.RobotRole, aud, scope)
	}
	vtRaw, err := os.ReadFile(e.vt)
	if err != nil {
		t.Fatalf("no Vault token cached: %v", err)
	}
	if fi, _ := os.Stat(e.vt); fi.Mode().Perm() != 0o600 {
		t.Errorf("Vault token cache mode %04o; want 0600", fi.Mode().Perm())
	}
	vt := strings.TrimSpace(string(vtRaw))
	for _, s := range []string{out, errOut} {
		if strings.Contains(s, tok) || strings.Contains(s, vt) {
			t.Fatalf("a token is in get's output: %q %q", out, errOut)
		}
	}
	c, err := vault.New(vault.Config{Address: e.s.URL, CAFile: e.s.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.LookupSelf(context.Background(), vt)
	if err != nil || info.TTL != 7*24*time.Hour {
		t.Fatalf("cached Vault token: %+v, %v; want 7 days left", info, err)
	}
	st := e.s.Stats()
	if st.Logins != 1 || st.Exchanges != 1 {
		t.Fatalf("Vault stats after the first run %+v; want one login, one exchange", st)
	}
	e.k.WaitLog(t, "AS_REQ", "ISSUE", e.k.Principal(vaulttest.RobotPrincipal))
	e.k.WaitLog(t, "TGS_REQ", "ISSUE", "host/"+vaulttest.Host)
	kdcBefore := e.kdcRequests()

	code, _, errOut = e.get("--audience", aud, "--scopes", scope, "-v")
	if code != 0 || !strings.Contains(errOut, "is fresh") {
		t.Fatalf("second get: exit %d: %s", code, errOut)
	}
	if got := e.s.Stats(); got != st {
		t.Errorf("the second run reached Vault: stats %+v, before %+v", got, st)
	}
	if got := e.kdcRequests(); got != kdcBefore {
		t.Errorf("the second run reached the KDC: %d requests logged, before %d", got, kdcBefore)
	}
	if b, _ := os.ReadFile(e.bt); string(b) != string(raw) {
		t.Error("the second run rewrote the token file")
	}

	e.s.Close()
	e.k.Stop()
	if code, _, errOut := e.get("--audience", aud, "--scopes", scope); code != 0 {
		t.Errorf("fresh get with Vault and the KDC down: exit %d: %s", code, errOut)
	}
	code, _, errOut = e.get("--audience", aud, "--scopes", scope, "--minsecs", "20000")
	if code != exitUnreachable {
		t.Errorf("get needing a token with Vault down: exit %d; want %d: %s", code, exitUnreachable, errOut)
	}
	oneLine(t, "Vault down", errOut)
	t.Logf("Vault down: %s", errOut)
}

func audHas(v any, want string) bool {
	switch a := v.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if x == want {
				return true
			}
		}
	}
	return false
}

// TestVaultGetExpiredVaultTokenLogsInAgainFromKeytab protects the weekly
// re-login: once the cached 7-day Vault token has expired (on Vault's
// clock), get logs in to the KDC and Vault again with the keytab, with no
// human, and caches the new token.
func TestVaultGetExpiredVaultTokenLogsInAgainFromKeytab(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	if code, _, errOut := e.get(); code != 0 {
		t.Fatalf("first get: exit %d: %s", code, errOut)
	}
	first, _ := os.ReadFile(e.vt)
	asBefore := strings.Count(e.k.Log(), "AS_REQ")
	e.clock.Advance(8 * 24 * time.Hour)
	os.Remove(e.bt)
	code, _, errOut := e.get("-v")
	if code != 0 {
		t.Fatalf("get after the Vault token expired: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "no longer valid") {
		t.Errorf("get did not say why it logged in again:\n%s", errOut)
	}
	if got := e.s.Stats().Logins; got != 2 {
		t.Errorf("Vault logins = %d; want 2", got)
	}
	e.k.WaitLog(t, "AS_REQ", "ISSUE", e.k.Principal(vaulttest.RobotPrincipal))
	if got := strings.Count(e.k.Log(), "AS_REQ"); got <= asBefore {
		t.Errorf("no new AS_REQ at the KDC (%d, before %d)", got, asBefore)
	}
	if again, _ := os.ReadFile(e.vt); string(again) == string(first) {
		t.Error("the expired Vault token is still cached")
	}
	if _, err := os.Stat(e.bt); err != nil {
		t.Errorf("no token written: %v", err)
	}
}

// TestVaultGetRefusesGroupReadableKeytab protects the keytab check: a
// keytab group or others can read is refused, with the chmod that fixes
// it (igwn-robot-get's hint says chown), before anything is sent.
func TestVaultGetRefusesGroupReadableKeytab(t *testing.T) {
	e := newVaultRobot(t)
	if err := os.Chmod(e.keytab, 0o640); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.get()
	if code != exitPermission || !strings.Contains(errOut, "chmod 600 "+e.keytab) {
		t.Fatalf("exit %d, stderr %q; want %d and the chmod hint", code, errOut, exitPermission)
	}
	oneLine(t, "group-readable keytab", errOut)
	t.Logf("keytab: %s", errOut)
	if st := e.s.Stats(); st.Logins != 0 || e.kdcRequests() != 0 {
		t.Errorf("something was sent: Vault %+v, KDC requests %d", st, e.kdcRequests())
	}
}

// TestVaultGetCronFirstRunNeedsHuman protects the cron job's first run:
// Vault has no refresh token for the robot, no one is at a terminal, so
// get exits with "a human must log in" and one line saying to run it
// interactively, and writes nothing.
func TestVaultGetCronFirstRunNeedsHuman(t *testing.T) {
	e := newVaultRobot(t)
	code, out, errOut := e.get()
	if code != exitNeedsLogin || !strings.Contains(errOut, "at a terminal") || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %d and one line saying to run it at a terminal", code, out, errOut, exitNeedsLogin)
	}
	oneLine(t, "cron first run", errOut)
	t.Logf("cron first run: %s", errOut)
	if _, err := os.Stat(e.bt); err == nil {
		t.Error("a token file was written")
	}
}

// TestVaultGetRevokedRefreshTokenNeedsHuman protects the state after the
// issuer revoked the refresh token Vault holds: Vault's refresh fails
// with invalid_grant, and get says a human must log in (not "Vault
// refused"), in one line.
func TestVaultGetRevokedRefreshTokenNeedsHuman(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	rt, ok := e.s.StoredRefreshToken(vaulttest.RobotIssuer + "/" + vaulttest.RobotCredKey + ":" + vaulttest.RobotRole)
	if !ok {
		t.Fatal("no refresh token stored")
	}
	e.p.Revoke(t, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, rt)
	code, _, errOut := e.get()
	if code != exitNeedsLogin || !strings.Contains(errOut, "at a terminal") {
		t.Fatalf("exit %d, stderr %q; want %d and the OIDC login hint", code, errOut, exitNeedsLogin)
	}
	oneLine(t, "revoked refresh token", errOut)
	t.Logf("revoked: %s", errOut)
	if st := e.s.Stats(); st.Refreshes != 1 || st.Logins != 1 {
		t.Errorf("Vault stats %+v; want the Kerberos login and one failed refresh", st)
	}
}

// TestVaultGetFirstRunAtTerminal protects the first run a person makes:
// at a terminal (a pty from script(1)), with no refresh token in Vault,
// get prints Vault's OIDC device login, waits for the approval, stores the
// refresh token in Vault and writes the token; the next run (cron, no
// terminal) uses what the first one stored.
func TestVaultGetFirstRunAtTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	e := newVaultRobot(t)
	inner := strings.Join(append([]string{binary}, e.getArgs()...), " ")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	approved := false
	all, err := oidcprovider.RunAtTerminal(ctx, inner, e.env, "", func(line, all string) {
		if m := uriRE.FindStringSubmatch(line); m != nil && !approved {
			if err := e.p.ApproveDevice(ctx, m[1], "", vaulttest.RobotRole); err != nil {
				t.Fatalf("approving: %v\n%s", err, all)
			}
			approved = true
		}
	})
	if err != nil {
		t.Fatalf("get at a terminal: %v\n%s", err, all)
	}
	if !strings.Contains(all, "Complete the authentication at:") {
		t.Errorf("no OIDC login shown:\n%s", all)
	}
	if _, ok := e.s.StoredRefreshToken(vaulttest.RobotIssuer + "/" + vaulttest.RobotCredKey + ":" + vaulttest.RobotRole); !ok {
		t.Fatal("no refresh token stored in Vault")
	}
	raw, err := os.ReadFile(e.bt)
	if err != nil {
		t.Fatalf("no token written:\n%s", all)
	}
	if c := e.p.VerifyAccessToken(t, strings.TrimSpace(string(raw))); c["sub"] != vaulttest.RobotRole {
		t.Errorf("sub = %v", c["sub"])
	}
	os.Remove(e.bt)
	if code, _, errOut := e.get(); code != 0 {
		t.Fatalf("the cron run after the first login: exit %d: %s", code, errOut)
	}
}

// TestVaultGetTakesIgwnRobotGetsCommandLine protects the compatibility of
// the command line: argparse's order (the principal before the options),
// its short options and bundled -vv, the long aliases, and a principal
// without a realm taking krb5.conf's default realm. A principal the
// keytab does not hold is a configuration error naming what it holds.
func TestVaultGetTakesIgwnRobotGetsCommandLine(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	code, _, errOut := e.run("get", vaulttest.RobotPrincipal, "-vv", "-k", e.keytab, "-m", "3600", "-i", vaulttest.RobotIssuer, "-r", vaulttest.RobotRole,
		"--credkey", vaulttest.RobotCredKey, "-a", e.s.Address, "--cafile", e.ca, "--vaulttokenfile", e.vt, "--vaulttokenminttl", "1d",
		"--bearertokenfile", e.bt)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "Kerberos login as "+e.k.Principal(vaulttest.RobotPrincipal)) {
		t.Errorf("the principal did not get krb5.conf's default realm %s:\n%s", e.k.Realm, errOut)
	}
	if _, err := os.Stat(e.bt); err != nil {
		t.Fatalf("no token written: %v", err)
	}
	code, _, errOut = e.run("get", "other/host", "--kerberos-keytab", e.keytab, "-a", e.s.Address, "--cafile", e.ca,
		"--vaulttokenfile", filepath.Join(e.base, "vt2"), "-o", filepath.Join(e.base, "bt2"))
	if code != exitConfig || !strings.Contains(errOut, vaulttest.RobotPrincipal) {
		t.Errorf("a principal not in the keytab: exit %d, %q; want %d naming what the keytab holds", code, errOut, exitConfig)
	}
	if code, _, errOut := e.run("get", "--keytab", e.keytab, "--account", "robot"); code != exitConfig {
		t.Errorf("Vault and --account together: exit %d: %s; want %d", code, errOut, exitConfig)
	}
	if code, _, _ := e.run("get", "a/b", "c/d", "--keytab", e.keytab); code != exitUsage {
		t.Errorf("two principals: exit %d; want %d", code, exitUsage)
	}
}

// TestVaultGetIgnoresAVaultTokenCacheOthersCanWrite protects the Vault
// token cache in a shared /tmp: a file others could have written (here a
// group/other-writable one holding a root token) is not used; get says so,
// logs in with the keytab and replaces it.
func TestVaultGetIgnoresAVaultTokenCacheOthersCanWrite(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	planted := e.s.MintToken(vaulttest.TokenSpec{Policies: []string{"root"}})
	if err := os.WriteFile(e.vt, []byte(planted+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.vt, 0o666); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.get()
	if code != 0 || !strings.Contains(errOut, "not using the cached Vault token") {
		t.Fatalf("exit %d, stderr %q; want 0 and a warning about the cache", code, errOut)
	}
	if strings.Contains(errOut, planted) {
		t.Fatal("the planted token is in the output")
	}
	if got := e.s.Stats().Logins; got != 1 {
		t.Errorf("Vault logins = %d; want 1 (the keytab, not the planted token)", got)
	}
	b, _ := os.ReadFile(e.vt)
	if fi, err := os.Stat(e.vt); err != nil || fi.Mode().Perm() != 0o600 || strings.TrimSpace(string(b)) == planted {
		t.Errorf("the cache was not replaced by a private file of the new token (%v)", err)
	}
}

// TestVaultGetRateLimitedIsUnreachable protects the status of Vault's
// rate limit (429): "retry later", the unreachable status, not a refusal.
func TestVaultGetRateLimitedIsUnreachable(t *testing.T) {
	e := newVaultRobot(t)
	e.seed(t)
	e.s.Throttle(100, "30")
	code, _, errOut := e.get()
	if code != exitUnreachable {
		t.Fatalf("exit %d, stderr %q; want %d", code, errOut, exitUnreachable)
	}
	oneLine(t, "rate limited", errOut)
}

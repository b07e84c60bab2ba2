package oidcagent_test

// Compatibility with the real oidc-agent (Debian's oidc-agent-cli 4.2.6)
// against a real OIDC provider (credtest: panva oidc-provider). Each test
// runs its own agent with a private socket, HOME and OIDC_CONFIG_DIR:
//
//   - TestOIDCGenAccountDecrypts: an account made by oidc-gen (device flow,
//     pre-registered client) decrypts here, byte for byte as oidc-gen -p
//     prints it, and its refresh token works at the token endpoint;
//   - TestOIDCAddLoadsOurAccount: an account built and saved here loads in
//     oidc-add, and oidc-token gets a valid access token with it;
//   - TestOIDCTokenForcedRefreshPersistsRotation: after oidc-token -f the
//     agent stores the rotated refresh token in the file, and Load reads it.
//
// Without the oidc-agent programs the tests skip, unless
// CREDMON_REQUIRE_OIDC_AGENT=1 (CI), when they fail; without node or the
// provider's npm packages they skip unless CREDMON_REQUIRE_OIDC=1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/oidcagent"
)

// envRequireOIDCAgent, set to "1", turns missing oidc-agent programs from a
// skip into a failure.
const envRequireOIDCAgent = "CREDMON_REQUIRE_OIDC_AGENT"

const (
	// compatPassword has spaces and non-ASCII bytes on purpose.
	compatPassword = "compat pässwörd 1"
	compatScope    = "openid offline_access storage.read:/ compute.read"
	// agentTimeout bounds one oidc-agent command. oidc-gen's device flow
	// waits the provider's 5 s polling interval before its first poll.
	agentTimeout = 90 * time.Second
)

func requireOIDCAgent(t *testing.T) {
	t.Helper()
	for _, prog := range []string{"oidc-agent", "oidc-gen", "oidc-add", "oidc-token"} {
		if _, err := exec.LookPath(prog); err != nil {
			msg := fmt.Sprintf("%s is not installed (apt-get install oidc-agent-cli): %v", prog, err)
			if os.Getenv(envRequireOIDCAgent) == "1" {
				t.Fatalf("%s (fatal because %s=1)", msg, envRequireOIDCAgent)
			}
			t.Skipf("%s (set %s=1 to fail instead of skipping)", msg, envRequireOIDCAgent)
		}
	}
}

// agent is a running oidc-agent with its own directories.
type agent struct {
	t    *testing.T
	base string
	// dir is OIDC_CONFIG_DIR, where the account files are.
	dir string
	env []string
	pid int
}

// startAgent starts "oidc-agent --no-autoload --no-autoreauthenticate" on a
// private socket. --no-autoreauthenticate keeps a failed refresh from
// starting an unattended device flow that would hang the test.
func startAgent(t *testing.T) *agent {
	t.Helper()
	// Not t.TempDir: the socket path must fit in sun_path (108 bytes).
	base, err := os.MkdirTemp("", "oidcagent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	a := &agent{t: t, base: base, dir: filepath.Join(base, "conf")}
	home := filepath.Join(base, "home")
	for _, d := range []string{a.dir, home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OIDC") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		a.env = append(a.env, kv)
	}
	a.env = append(a.env, "HOME="+home, "TMPDIR="+base, oidcagent.EnvConfigDir+"="+a.dir)

	sock := filepath.Join(base, "agent.sock")
	out, err := a.run(nil, "oidc-agent", "--json", "-a", sock, "--no-autoload", "--no-autoreauthenticate")
	if err != nil {
		t.Fatalf("starting oidc-agent: %v", err)
	}
	var info struct {
		Socket string `json:"socket"`
		PID    string `json:"dpid"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("oidc-agent --json printed %q: %v", out, err)
	}
	if a.pid, err = strconv.Atoi(info.PID); err != nil || a.pid <= 1 {
		t.Fatalf("oidc-agent --json printed pid %q", info.PID)
	}
	a.env = append(a.env, "OIDC_SOCK="+info.Socket, "OIDCD_PID="+info.PID)
	t.Cleanup(a.stop)

	// The daemon may not accept connections yet when the parent returns
	// ("Could not connect to oidc-agent" was seen): wait until it answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := a.run(nil, "oidc-agent", "--status")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("oidc-agent does not answer on %s: %v", info.Socket, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a
}

// stop kills the agent with oidc-agent -k, and by its pid if that fails.
func (a *agent) stop() {
	if _, err := a.run(nil, "oidc-agent", "-k"); err != nil {
		a.t.Logf("oidc-agent -k: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(a.pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if syscall.Kill(a.pid, 0) == nil {
		a.t.Logf("oidc-agent pid %d survived oidc-agent -k; sending SIGKILL", a.pid)
		_ = syscall.Kill(a.pid, syscall.SIGKILL)
	}
}

// run runs an oidc-agent program in the agent's environment plus env and
// returns its stdout; a failure includes stderr.
func (a *agent) run(env []string, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), agentTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(append([]string(nil), a.env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\nstdout: %s\nstderr: %s", prog, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

var (
	ansiRE     = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	userCodeRE = regexp.MustCompile(`enter the code:\s*(\S+)`)
	visitRE    = regexp.MustCompile(`(?i)visit:\s*(\S*)`)
)

// oidcGen makes the account name with oidc-gen's device flow and the
// pre-registered client oidcprovider.ClientIDBasic, approving the user code
// that oidc-gen prints as login through the provider's login pages.
func (a *agent) oidcGen(p *oidcprovider.Provider, name, password, login string) {
	t := a.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), agentTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "oidc-gen",
		"--issuer", p.Issuer, "--flow", "device", "--scope", compatScope,
		"--client-id", oidcprovider.ClientIDBasic, "--client-secret", oidcprovider.ClientSecret,
		// 4.2.6 insists on a redirect URI even for the device flow.
		"--redirect-uri", "http://localhost:8765",
		"--pw-env", "--confirm-default", "--no-url-call", "--prompt=none", name)
	cmd.Env = append(append([]string(nil), a.env...), oidcagent.EnvPassword+"="+password)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out oidcprovider.Buffer
	type prompt struct{ uri, code string }
	found := make(chan prompt, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		var uri string
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := ansiRE.ReplaceAllString(sc.Text(), "")
			if strings.TrimSpace(line) == "" {
				continue // the QR code is ANSI colours on spaces
			}
			fmt.Fprintln(&out, line)
			if m := visitRE.FindStringSubmatch(line); m != nil {
				uri = m[1]
				continue
			}
			if uri == "" && strings.HasPrefix(strings.TrimSpace(line), "http") {
				uri = strings.TrimSpace(line)
			}
			if m := userCodeRE.FindStringSubmatch(line); m != nil && !sent {
				found <- prompt{uri, m[1]}
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	waited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		waited <- err
	}()

	select {
	case got := <-found:
		if got.uri == "" {
			t.Fatalf("oidc-gen printed a user code but no verification URI:\n%s", out.String())
		}
		if err := p.ApproveDevice(ctx, got.uri, got.code, login); err != nil {
			t.Fatalf("approving oidc-gen's user code: %v\noidc-gen output:\n%s", err, out.String())
		}
	case err := <-waited:
		<-readDone
		t.Fatalf("oidc-gen exited before printing a user code: %v\n%s", err, out.String())
	case <-ctx.Done():
		t.Fatalf("oidc-gen printed no user code within %v:\n%s", agentTimeout, out.String())
	}
	err := <-waited
	<-readDone // all of the output is in out
	if err != nil {
		t.Fatalf("oidc-gen: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Everything setup correctly") {
		t.Fatalf("oidc-gen did not report success:\n%s", out.String())
	}
	t.Logf("oidc-gen output:\n%s", out.String())
}

// refreshGrant performs a refresh_token grant with net/http, as the
// credmon-token daemon will, and returns the token response.
func refreshGrant(t *testing.T, p *oidcprovider.Provider, acct *oidcagent.Account) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {acct.RefreshToken()}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 §2.3.1: form-encode both parts before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(acct.ClientID()), url.QueryEscape(acct.ClientSecret()))
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("refresh grant: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh grant: HTTP %d: %s (%v)", resp.StatusCode, body, err)
	}
	return m
}

// checkAccessToken verifies tok against the provider's keys and checks who
// and which client it was issued to.
func checkAccessToken(t *testing.T, p *oidcprovider.Provider, tok, sub string) {
	t.Helper()
	claims := p.VerifyAccessToken(t, tok)
	if claims["sub"] != sub || claims["client_id"] != oidcprovider.ClientIDBasic {
		t.Errorf("access token sub %v client_id %v; want %s, %s", claims["sub"], claims["client_id"], sub, oidcprovider.ClientIDBasic)
	}
	if scope, _ := claims["scope"].(string); !strings.Contains(" "+scope+" ", " storage.read:/ ") {
		t.Errorf("access token scope %q lacks storage.read:/", scope)
	}
}

func TestOIDCGenAccountDecrypts(t *testing.T) {
	requireOIDCAgent(t)
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	a := startAgent(t)
	const name = "gen"
	a.oidcGen(p, name, compatPassword, "erin")

	file, err := os.ReadFile(filepath.Join(a.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("oidc-gen wrote %s:\n%s", filepath.Join(a.dir, name), file)
	plain, err := oidcagent.Decrypt(file, []byte(compatPassword))
	if err != nil {
		t.Fatalf("Decrypt(oidc-gen's file): %v", err)
	}
	printed, err := a.run([]string{oidcagent.EnvPassword + "=" + compatPassword}, "oidc-gen", "--pw-env", "-p", name)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(printed, "\n"); string(plain) != want {
		t.Errorf("Decrypt = %s\nwant what oidc-gen -p printed:\n%s", plain, want)
	}
	_, err = oidcagent.Decrypt(file, []byte(compatPassword+"x"))
	if !errors.Is(err, oidcagent.ErrBadPassword) {
		t.Errorf("Decrypt with a wrong password: %v; want ErrBadPassword", err)
	}

	acct, err := oidcagent.Load(a.dir, name, []byte(compatPassword))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"Name", acct.Name(), name},
		{"IssuerURL", acct.IssuerURL(), p.Issuer + "/"}, // oidc-gen appends the slash
		{"ClientID", acct.ClientID(), oidcprovider.ClientIDBasic},
		{"ClientSecret", acct.ClientSecret(), oidcprovider.ClientSecret},
		{"Scope", acct.Scope(), compatScope},
		{"DeviceAuthorizationEndpoint", acct.DeviceAuthorizationEndpoint(), p.DeviceAuthorizationURL},
	} {
		if c.got != c.want {
			t.Errorf("%s() = %q; want %q", c.what, c.got, c.want)
		}
	}
	if acct.RefreshToken() == "" {
		t.Fatal("oidc-gen's account has no refresh token")
	}

	// The refresh token works: a refresh grant by us, outside the agent.
	resp := refreshGrant(t, p, acct)
	at, _ := resp["access_token"].(string)
	checkAccessToken(t, p, at, "erin")
	if rt, _ := resp["refresh_token"].(string); rt == "" || rt == acct.RefreshToken() {
		t.Errorf("provider returned refresh token %q; want a rotated one", rt)
	}
}

// ourAgentAccount saves an account made from scratch with NewAccount for a
// fresh device grant (approved as login), the way credmon-token would hand
// an account to oidc-agent, and loads it with "oidc-add --pw-store
// --pw-file" as osg-token-renewer does.
func ourAgentAccount(t *testing.T, p *oidcprovider.Provider, a *agent, name, login string) {
	t.Helper()
	g := p.NewRefreshToken(t, oidcprovider.GrantRequest{Scope: compatScope, User: login})
	acct := oidcagent.NewAccount(name)
	acct.SetIssuerURL(p.Issuer + "/")
	acct.SetClientID(oidcprovider.ClientIDBasic)
	acct.SetClientSecret(oidcprovider.ClientSecret)
	acct.SetRefreshToken(g.RefreshToken)
	acct.SetScope(compatScope)
	acct.SetRedirectURIs([]string{"http://localhost:8765"})
	if err := acct.SetRaw("x_credmon", json.RawMessage(`{"origin":"credmon-token","n":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	if err := oidcagent.Save(a.dir, name, acct, []byte(compatPassword)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	pwFile := filepath.Join(a.base, name+".pw")
	if err := os.WriteFile(pwFile, []byte(compatPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := oidcagent.PasswordFromFile(pwFile); err != nil || string(got) != compatPassword {
		t.Fatalf("PasswordFromFile = %q, %v", got, err)
	}
	out, err := a.run(nil, "oidc-add", "--pw-store", "--pw-file="+pwFile, name)
	if err != nil {
		t.Fatalf("oidc-add of an account written by Save: %v", err)
	}
	t.Logf("oidc-add %s: %s", name, strings.TrimSpace(out))
}

func TestOIDCAddLoadsOurAccount(t *testing.T) {
	requireOIDCAgent(t)
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	a := startAgent(t)
	ourAgentAccount(t, p, a, "ours", "frank")

	out, err := a.run(nil, "oidc-token", "ours")
	if err != nil {
		t.Fatal(err)
	}
	checkAccessToken(t, p, strings.TrimSpace(out), "frank")

	// A second account, under a name of its own, from the decrypted
	// contents of the first: what credmon-token does when it copies or
	// renames an account.
	first, err := oidcagent.Load(a.dir, "ours", []byte(compatPassword))
	if err != nil {
		t.Fatal(err)
	}
	renamed := first.Clone()
	renamed.SetName("renamed")
	renamed.SetRefreshToken(p.NewRefreshToken(t, oidcprovider.GrantRequest{Scope: compatScope, User: "gina"}).RefreshToken)
	if err := oidcagent.Save(a.dir, "renamed", renamed, []byte(compatPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.run([]string{oidcagent.EnvPassword + "=" + compatPassword}, "oidc-add", "--pw-env", "renamed"); err != nil {
		t.Fatal(err)
	}
	out, err = a.run(nil, "oidc-token", "renamed")
	if err != nil {
		t.Fatal(err)
	}
	checkAccessToken(t, p, strings.TrimSpace(out), "gina")
}

func TestOIDCTokenForcedRefreshPersistsRotation(t *testing.T) {
	requireOIDCAgent(t)
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	a := startAgent(t)
	const name = "rotating"
	ourAgentAccount(t, p, a, name, "hank")
	path := filepath.Join(a.dir, name)

	before, err := oidcagent.Load(a.dir, name, []byte(compatPassword))
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.run(nil, "oidc-token", "-f", name)
	if err != nil {
		t.Fatal(err)
	}
	checkAccessToken(t, p, strings.TrimSpace(out), "hank")

	// The provider rotates on every refresh; the agent re-encrypts the
	// file with the new token. Poll in case it writes after answering.
	var after *oidcagent.Account
	deadline := time.Now().Add(15 * time.Second)
	for {
		after, err = oidcagent.Load(a.dir, name, []byte(compatPassword))
		if err == nil && after.RefreshToken() != before.RefreshToken() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("account file still has the refresh token from before oidc-token -f (last Load error: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	file, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	t.Logf("after oidc-token -f, oidc-agent left mode %v, keys %q; file:\n%s", st.Mode(), after.Keys(), file)

	for _, c := range []struct{ what, got, want string }{
		{"Name", after.Name(), name},
		{"ClientID", after.ClientID(), oidcprovider.ClientIDBasic},
		{"ClientSecret", after.ClientSecret(), oidcprovider.ClientSecret},
		{"IssuerURL", after.IssuerURL(), p.Issuer + "/"},
		{"Scope", after.Scope(), compatScope},
	} {
		if c.got != c.want {
			t.Errorf("after the agent's rewrite, %s() = %q; want %q", c.what, c.got, c.want)
		}
	}
	// oidc-agent edits the JSON rather than rebuilding it from its own
	// fields (it deletes refresh_token and appends it again), so members it
	// does not know survive its rewrite.
	var gotExtra, wantExtra any
	raw, ok := after.Raw("x_credmon")
	if err := json.Unmarshal(raw, &gotExtra); !ok || err != nil {
		t.Errorf("x_credmon after the agent's rewrite: %s (present %v, %v)", raw, ok, err)
	}
	_ = json.Unmarshal([]byte(`{"origin":"credmon-token","n":[1,2]}`), &wantExtra)
	if fmt.Sprint(gotExtra) != fmt.Sprint(wantExtra) {
		t.Errorf("x_credmon after the agent's rewrite = %s; want %v", raw, wantExtra)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("agent's rewrite left mode %v; want Save's -rw------- kept (fopen \"w\" on an existing file)", st.Mode())
	}

	// The rotated token we read is the live one.
	resp := refreshGrant(t, p, after)
	at, _ := resp["access_token"].(string)
	checkAccessToken(t, p, at, "hank")
}

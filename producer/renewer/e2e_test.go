package renewer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/producer/bearer"
	"github.com/credmon/credmon/producer/oidcagent"
)

// viaProxy sends every request for the provider through the FaultProxy,
// so discovery (whose document names the provider) and the token endpoint
// both pass it and are counted.
type viaProxy struct {
	proxy *url.URL
	rt    http.RoundTripper
}

func (v viaProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = v.proxy.Scheme, v.proxy.Host, ""
	return v.rt.RoundTrip(r)
}

// env is a provider, a proxy in front of it, an oidc-agent directory and
// a directory for password, config and token files.
type env struct {
	t     testing.TB
	idp   *oidcprovider.Provider
	proxy *oidcprovider.FaultProxy
	hc    *http.Client
	adir  string // oidc-agent directory
	dir   string // everything else
}

func newEnv(t testing.TB, opts oidcprovider.ProviderOptions) *env {
	t.Helper()
	e := &env{t: t, idp: oidcprovider.StartOIDCProvider(t, opts), adir: t.TempDir(), dir: t.TempDir()}
	e.proxy = oidcprovider.NewFaultProxy(t, e.idp.Issuer)
	pu, err := url.Parse(e.proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{IdleConnTimeout: 2 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	e.hc = &http.Client{Transport: viaProxy{proxy: pu, rt: tr}}
	return e
}

// account creates an oidc-agent account file holding a fresh refresh
// token, and its password file; it returns the password file's path.
func (e *env) account(name, scope string) string {
	e.t.Helper()
	g := e.idp.NewRefreshToken(e.t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Scope: scope})
	a := oidcagent.NewAccount(name)
	a.SetIssuerURL(e.idp.Issuer)
	a.SetClientID(oidcprovider.ClientIDBasic)
	a.SetClientSecret(oidcprovider.ClientSecret)
	a.SetRefreshToken(g.RefreshToken)
	a.SetScope("openid offline_access " + scope)
	pwf := filepath.Join(e.dir, name+".pw")
	if err := os.WriteFile(pwf, []byte("pw-"+name+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := oidcagent.Save(e.adir, name, a, []byte("pw-"+name)); err != nil {
		e.t.Fatal(err)
	}
	return pwf
}

func (e *env) loadRT(name string) string {
	e.t.Helper()
	a, err := oidcagent.Load(e.adir, name, []byte("pw-"+name))
	if err != nil {
		e.t.Fatal(err)
	}
	return a.RefreshToken()
}

func (e *env) renewer(ini string) *Renewer {
	e.t.Helper()
	p := filepath.Join(e.dir, "config.ini")
	if err := os.WriteFile(p, []byte(ini), 0o600); err != nil {
		e.t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return &Renewer{Config: cfg, HTTPClient: e.hc, AccountDir: e.adir, AllowInsecure: true,
		LockPath: filepath.Join(e.dir, "renew.lock"), Log: hclog.New(&hclog.LoggerOptions{Output: testWriter{e.t}, Level: hclog.Debug})}
}

func (e *env) tokenPath(name string) string { return filepath.Join(e.dir, name+".token") }

// readToken verifies the token file at the provider and returns its claims.
func (e *env) readToken(name string) (raw string, aud []string, scope string) {
	e.t.Helper()
	b, err := os.ReadFile(e.tokenPath(name))
	if err != nil {
		e.t.Fatal(err)
	}
	raw = string(b)
	claims := e.idp.VerifyAccessToken(e.t, strings.TrimSuffix(raw, "\n"))
	aud, _ = claims.GetAudience()
	scope, _ = claims["scope"].(string)
	return raw, aud, scope
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func result(t *testing.T, rep *Report, name string) TokenResult {
	t.Helper()
	for _, tr := range rep.Tokens {
		if tr.Token == name {
			return tr
		}
	}
	t.Fatalf("no result for token %s", name)
	return TokenResult{}
}

func TestE2ERunOnceRotateSkip(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{})
	pw := e.account("alice", "compute.read compute.create")
	rt0 := e.loadRT("alice")
	ini := fmt.Sprintf(`[account alice]
password_file = %s
[DEFAULT]
dir = %s
[token ce]
account = alice
token_path = %%(dir)s/ce.token
audience = https://ce.example.org:9619
scope = compute.read
min_lifetime = 60
[token plain]
account = alice
token_path = %%(dir)s/plain.token
min_lifetime = 60
newline = false
mode = 0640
`, pw, e.dir)
	r := e.renewer(ini)
	rep, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.exitCode() != exitOK || rep.count(Renewed) != 2 {
		t.Fatalf("report = %+v; want 2 renewed", rep.Tokens)
	}
	// One discovery and two refreshes, through the proxy.
	if got := e.proxy.Total(); got != 3 {
		t.Errorf("requests = %d (%v); want 3", got, e.proxy.Counts())
	}
	raw, aud, scope := e.readToken("ce")
	if !strings.HasSuffix(raw, "\n") || !slices.Equal(aud, []string{"https://ce.example.org:9619"}) || !slices.Contains(strings.Fields(scope), "compute.read") {
		t.Errorf("ce token: newline %v, aud %v, scope %q", strings.HasSuffix(raw, "\n"), aud, scope)
	}
	raw, _, _ = e.readToken("plain")
	if strings.HasSuffix(raw, "\n") {
		t.Error("newline = false still wrote a newline")
	}
	checkFile(t, e.tokenPath("plain"), raw, 0o640)
	checkFile(t, e.tokenPath("ce"), func() string { b, _ := os.ReadFile(e.tokenPath("ce")); return string(b) }(), 0o600)
	if tr := result(t, rep, "plain"); !tr.Rotated || tr.Expiry.Before(time.Now().Add(5*time.Minute)) {
		t.Errorf("plain result = %+v; want rotated, expiring in ~10 min", tr)
	}

	// The rotated refresh token is in the account file; the first is void.
	rt1 := e.loadRT("alice")
	if rt1 == rt0 {
		t.Fatal("account file still holds the original refresh token")
	}

	// Fresh tokens: no request at all.
	e.proxy.ResetCounts()
	rep, err = r.RunOnce(context.Background())
	if err != nil || rep.count(Skipped) != 2 || rep.exitCode() != exitOK {
		t.Fatalf("second run = %+v, %v; want 2 skipped", rep, err)
	}
	if got := e.proxy.Total(); got != 0 {
		t.Errorf("second run made %d requests (%v); want 0", got, e.proxy.Counts())
	}

	// A different audience no longer matches the file: renewed.
	r = e.renewer(strings.Replace(ini, "https://ce.example.org:9619", "https://other.example.org", 1))
	rep, err = r.RunOnce(context.Background())
	if err != nil || result(t, rep, "ce").Outcome != Renewed || result(t, rep, "plain").Outcome != Skipped {
		t.Fatalf("third run = %+v, %v; want ce renewed, plain skipped", rep.Tokens, err)
	}
	if _, aud, _ := e.readToken("ce"); !slices.Equal(aud, []string{"https://other.example.org"}) {
		t.Errorf("ce aud = %v", aud)
	}

	// The refresh token in the file works at the provider.
	rt2 := e.loadRT("alice")
	if rt2 == rt1 {
		t.Error("third run did not save the rotated refresh token")
	}
	body, status, err := e.idp.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, rt2, nil)
	if err != nil || status != 200 || body["access_token"] == nil {
		t.Errorf("refresh with the saved token: %d %v %v", status, body["error"], err)
	}
}

func TestE2EFailuresAreIsolated(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{})
	good := e.account("good", "compute.read")
	revoked := e.account("revoked", "compute.read")
	e.idp.Revoke(t, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, e.loadRT("revoked"))
	wrong := filepath.Join(e.dir, "wrong.pw")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.account("badpw", "compute.read")
	ini := fmt.Sprintf(`[account good]
password_file = %s
[account revoked]
password_file = %s
[account badpw]
password_file = %s
[account missing]
password_file = %s
[account nopw]
password_file = %s/no-such.pw
[account cc]
token_request_url = %s
client_id = %s
client_secret = %s
[account ccbad]
token_request_url = %s
client_id = %s
client_secret = wrong
[account ccnofile]
token_request_url = %s
client_id = %s
client_secret_file = %s/no-such.secret
[token t-ccnofile]
account = ccnofile
token_path = %s/ccnofile.token
[token t-revoked]
account = revoked
token_path = %s/revoked.token
[token t-good]
account = good
token_path = %s/good.token
[token t-badpw]
account = badpw
token_path = %s/badpw.token
[token t-missing]
account = missing
token_path = %s/missing.token
[token t-nopw]
account = nopw
token_path = %s/nopw.token
[token t-minlife]
account = good
token_path = %s/minlife.token
min_lifetime = soon
[token t-unwritable]
account = good
token_path = %s/no-such-dir/x.token
[token t-cc]
account = cc
token_path = %s/cc.token
audience = https://storage.example.org
scope = storage.read:/data
[token t-ccres]
account = cc
token_path = %s/ccres.token
audience = https://res.example.org
audience_mode = resource
[token t-ccbad]
account = ccbad
token_path = %s/ccbad.token
[token t-good2]
account = good
token_path = %s/good2.token
`, good, revoked, wrong, good, e.dir,
		e.idp.TokenURL, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret,
		e.idp.TokenURL, oidcprovider.ClientIDBasic,
		e.idp.TokenURL, oidcprovider.ClientIDBasic, e.dir, e.dir,
		e.dir, e.dir, e.dir, e.dir, e.dir, e.dir, e.dir, e.dir, e.dir, e.dir, e.dir)
	r := e.renewer(ini)
	rep, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		o Outcome
		c ErrorClass
	}{
		"t-revoked":    {Failed, ClassReauth},
		"t-good":       {Renewed, ""},
		"t-badpw":      {Failed, ClassAccount},
		"t-missing":    {Failed, ClassAccount},
		"t-nopw":       {Failed, ClassSecret},
		"t-minlife":    {Failed, ClassConfig},
		"t-unwritable": {Failed, ClassWrite},
		"t-cc":         {Renewed, ""},
		"t-ccres":      {Renewed, ""},
		"t-ccbad":      {Failed, ClassRejected},
		"t-ccnofile":   {Failed, ClassSecret},
		"t-good2":      {Renewed, ""},
	}
	for name, w := range want {
		tr := result(t, rep, name)
		if tr.Outcome != w.o || tr.Class != w.c {
			t.Errorf("%s: %v/%s (%v); want %v/%s", name, tr.Outcome, tr.Class, tr.Err, w.o, w.c)
		}
	}
	// A missing client_secret_file is reported as what it is: the client
	// secret file, its path and the key that names it (not a password).
	msg := fmt.Sprint(result(t, rep, "t-ccnofile").Err)
	for _, want := range []string{"the client secret file " + filepath.Join(e.dir, "no-such.secret"), "client_secret_file in [account ccnofile]", "does not exist"} {
		if !strings.Contains(msg, want) {
			t.Errorf("t-ccnofile error %q; want it to say %q", msg, want)
		}
	}
	if strings.Contains(msg, "password") {
		t.Errorf("t-ccnofile error %q speaks of a password", msg)
	}
	if got := rep.exitCode(); got != exitReauth {
		t.Errorf("ExitCode() = %d; want %d", got, exitReauth)
	}
	_, aud, scope := e.readToken("cc")
	if !slices.Equal(aud, []string{"https://storage.example.org"}) || !slices.Contains(strings.Fields(scope), "storage.read:/data") {
		t.Errorf("cc token aud %v scope %q", aud, scope)
	}
	if _, aud, _ := e.readToken("ccres"); !slices.Equal(aud, []string{"https://res.example.org"}) {
		t.Errorf("ccres token aud %v", aud)
	}
	e.readToken("good")
	e.readToken("good2")
	for _, n := range []string{"revoked", "badpw", "missing", "nopw", "minlife", "ccbad"} {
		if _, err := os.Stat(e.tokenPath(n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("failed token %s has a file (%v)", n, err)
		}
	}
}

func TestE2ETimeoutsBoundTheRun(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{})
	a := e.account("a", "compute.read")
	b := e.account("b", "compute.read")
	r := e.renewer(fmt.Sprintf(`[account a]
password_file = %s
[account b]
password_file = %s
[token ta]
account = a
token_path = %s/ta.token
timeout = 1
[token tb]
account = b
token_path = %s/tb.token
timeout = 1s
`, a, b, e.dir, e.dir))
	e.proxy.SetMode(oidcprovider.Hang)
	start := time.Now()
	rep, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Without the per-token timeout the hang would last the default 20 s:
	// the bound only tells the two apart (not a speed assertion).
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("run took %v with 1 s token timeouts (the default is %v)", d, defaultTokenTimeout)
	}
	for _, tr := range rep.Tokens {
		if tr.Outcome != Failed || tr.Class != ClassTransient {
			t.Errorf("%s: %v/%s; want failed/transient", tr.Token, tr.Outcome, tr.Class)
		}
	}
	if rep.exitCode() != exitFailed {
		t.Errorf("ExitCode() = %d; want %d", rep.exitCode(), exitFailed)
	}
	// A total deadline cuts everything short.
	e.proxy.SetMode(oidcprovider.Pass)
	// Answers after 60 s (the proxy stops waiting when the client gives up):
	// a run that ignored the 500 ms deadline would take that long.
	e.proxy.SetMode(oidcprovider.Slow(60 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start = time.Now()
	rep, err = r.RunOnce(ctx)
	if err != nil || rep.exitCode() != exitFailed || time.Since(start) > 15*time.Second {
		t.Errorf("RunOnce under a 500 ms deadline: %v, exit %d, took %v", err, rep.exitCode(), time.Since(start))
	}
}

func TestE2ELockContention(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{})
	a := e.account("a", "compute.read")
	ini := fmt.Sprintf("[account a]\npassword_file = %s\n[token t]\naccount = a\ntoken_path = %s/t.token\n", a, e.dir)
	r1, r2, r3 := e.renewer(ini), e.renewer(ini), e.renewer(ini)
	r2.lockWait = -1
	r3.lockWait = 20 * time.Second
	e.proxy.SetMode(oidcprovider.Slow(1500 * time.Millisecond))
	var wg sync.WaitGroup
	var rep1 *Report
	var err1 error
	wg.Add(1)
	go func() { defer wg.Done(); rep1, err1 = r1.RunOnce(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.proxy.Total() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	_, err := r2.RunOnce(context.Background())
	if !errors.Is(err, ErrAlreadyRunning) || exitCodeOf(err) != exitLocked {
		t.Errorf("concurrent RunOnce = %v; want ErrAlreadyRunning", err)
	}
	rep3, err3 := r3.RunOnce(context.Background())
	wg.Wait()
	if err1 != nil || rep1.exitCode() != exitOK {
		t.Errorf("first run: %v %+v", err1, rep1)
	}
	if err3 != nil || rep3.exitCode() != exitOK {
		t.Errorf("waiting run: %v %+v", err3, rep3)
	}
	if !rep3.Started.After(rep1.Finished) && !rep3.Started.Equal(rep1.Finished) {
		t.Errorf("waiting run started %v before the first finished %v", rep3.Started, rep1.Finished)
	}
	// Both runs rotated in turn; the chain is intact.
	if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, e.loadRT("a"), nil); status != 200 {
		t.Errorf("saved refresh token rejected: HTTP %d", status)
	}
}

func TestE2EWatch(t *testing.T) {
	// 10 s tokens, renewed at about 5 s. How long a renewal then takes (a
	// refresh plus an Argon2id save) is the machine's speed: on a loaded
	// machine one round can outlast a token (rounds run one at a time), so
	// the test checks what the renewer decides, from its own reports: when
	// each round starts, not when it ends.
	const ttl = 10 * time.Second
	e := newEnv(t, oidcprovider.ProviderOptions{AccessTokenTTL: ttl})
	a := e.account("a", "compute.read")
	ini := fmt.Sprintf("[account a]\npassword_file = %s\n[token t]\naccount = a\ntoken_path = %s/t.token\nmin_lifetime = 1\n", a, e.dir)
	r := e.renewer(ini)
	r.minInterval, r.backoffMin, r.backoffMax = 200*time.Millisecond, 200*time.Millisecond, time.Second
	var mu sync.Mutex
	var rounds []Report
	r.OnReport = func(rep *Report) {
		mu.Lock()
		rounds = append(rounds, *rep)
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx) }()

	seen := map[string]bool{}
	added := false
	end := time.Now().Add(3 * ttl)
	for time.Now().Before(end) {
		if b, err := os.ReadFile(e.tokenPath("t")); err == nil {
			tok := strings.TrimSpace(string(b))
			ti, err := bearer.Inspect(tok)
			if err != nil || !ti.HasExpiry {
				t.Fatalf("token file holds %q: %v", tok, err)
			}
			seen[tok] = true
		}
		if !added && time.Now().After(end.Add(-ttl-ttl/2)) {
			added = true
			ini2 := ini + fmt.Sprintf("[token u]\naccount = a\ntoken_path = %s/u.token\n", e.dir)
			if err := os.WriteFile(r.config().Path, []byte(ini2), 0o600); err != nil {
				t.Fatal(err)
			}
			r.Reload()
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v; want nil on cancellation", err)
	}
	t.Logf("distinct tokens seen: %d", len(seen))
	// Every round that renews a token starts before the token it replaces
	// expires, unless the renewer was busy with the round before (it
	// finished less than a second before that expiry): an idle renewer
	// that lets a token expire scheduled it too late.
	mu.Lock()
	defer mu.Unlock()
	expiry := map[string]time.Time{}
	var prevFinished time.Time
	renewals := 0
	for _, rep := range rounds {
		for _, tr := range rep.Tokens {
			if tr.Outcome != Renewed {
				continue
			}
			renewals++
			if exp, ok := expiry[tr.Token]; ok && rep.Started.After(exp) && prevFinished.Before(exp.Add(-time.Second)) {
				t.Errorf("token %s: its renewal round started at %v, after the token it replaced expired (%v), with the renewer idle since %v",
					tr.Token, rep.Started.Format(time.StampMilli), exp.Format(time.StampMilli), prevFinished.Format(time.StampMilli))
			}
			expiry[tr.Token] = tr.Expiry
		}
		prevFinished = rep.Finished
	}
	if renewals < len(seen) {
		t.Errorf("%d renewals reported for %d distinct tokens seen in the file", renewals, len(seen))
	}
	// Renewed at about half of 10 s over 30 s: 6-7 tokens.
	if len(seen) < 4 {
		t.Errorf("saw %d distinct tokens in %v with %v lifetimes; want ≥ 4", len(seen), 3*ttl, ttl)
	}
	if len(seen) > 12 {
		t.Errorf("saw %d distinct tokens: renewing far more often than half-life", len(seen))
	}
	e.readToken("u")
	if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, e.loadRT("a"), nil); status != 200 {
		t.Errorf("saved refresh token rejected after Watch: HTTP %d", status)
	}
}

// Stopping Watch while a refresh is on the wire (a service stop, or the
// restart on every package upgrade) lets that refresh finish and be saved:
// cut off after the issuer rotated the refresh token, the account would
// hold a spent one and need a human. No token is started after the stop.
func TestE2EWatchStopFinishesRefreshOnTheWire(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour, RefreshDelay: 1500 * time.Millisecond})
	a := e.account("a", "compute.read")
	b := e.account("b", "compute.read")
	ini := fmt.Sprintf("[account a]\npassword_file = %s\n[account b]\npassword_file = %s\n"+
		"[token t]\naccount = a\ntoken_path = %s/t.token\n[token t2]\naccount = a\ntoken_path = %s/t2.token\n"+
		"[token u]\naccount = b\ntoken_path = %s/u.token\n", a, b, e.dir, e.dir, e.dir)
	r := e.renewer(ini)
	r.workers = 1 // one account at a time: account b's token is not started when the stop comes
	var reports int
	r.OnReport = func(*Report) { reports++ }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for e.proxy.Count("/token") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if e.proxy.Count("/token") == 0 {
		t.Fatal("no refresh request reached the issuer")
	}
	cancel() // the issuer holds the request for 1.5 s: it is on the wire
	if err := <-done; err != nil {
		t.Fatalf("Watch = %v; want nil", err)
	}
	// The refresh that was on the wire completed: its token file is there
	// and the account holds the rotated refresh token, which still works.
	e.readToken("t")
	if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, e.loadRT("a"), nil); status != 200 {
		t.Errorf("account a's saved refresh token rejected after the stop: HTTP %d", status)
	}
	// Nothing was started after it: not t2 (same account, after t) nor u.
	for _, name := range []string{"t2", "u"} {
		if _, err := os.Stat(e.tokenPath(name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("token %s was renewed after the stop (%v)", name, err)
		}
	}
	if n := e.proxy.Count("/token"); n != 1 {
		t.Errorf("%d token requests; want only the one on the wire", n)
	}
	if reports != 0 {
		t.Errorf("the cut-short round was reported %d times; want 0", reports)
	}
}

// OnReady comes once Watch has caught up: after the first round (the token
// due at start is already written), after a reload that fails (old
// configuration kept) and after one that adds a token (written by then).
// systemd's READY=1 is sent there by the CLI.
func TestE2EWatchOnReady(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour})
	a := e.account("a", "compute.read")
	ini := fmt.Sprintf("[account a]\npassword_file = %s\n[token t]\naccount = a\ntoken_path = %s/t.token\n", a, e.dir)
	r := e.renewer(ini)
	events := make(chan ReadyEvent, 4)
	r.OnReady = func(ev ReadyEvent) {
		// Called from Watch's loop: the token files are checked here,
		// when the event says they should be there.
		for _, name := range []string{"t", "u"} {
			if name == "u" && ev.Tokens < 2 {
				continue
			}
			if _, err := os.Stat(e.tokenPath(name)); err != nil {
				t.Errorf("OnReady(%+v) before %s was written: %v", ev, name, err)
			}
		}
		events <- ev
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx) }()
	next := func() ReadyEvent {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(60 * time.Second): // a failure bound only
			t.Fatal("no OnReady")
			return ReadyEvent{}
		}
	}
	if ev := next(); ev.Reload || ev.Err != nil || ev.Tokens != 1 {
		t.Errorf("start: %+v", ev)
	}
	path := r.config().Path
	if err := os.WriteFile(path, []byte("[token broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Reload()
	if ev := next(); !ev.Reload || ev.Err == nil || ev.Tokens != 1 {
		t.Errorf("reload of a broken file: %+v; want the error and the old token kept", ev)
	}
	ini2 := ini + fmt.Sprintf("[token u]\naccount = a\ntoken_path = %s/u.token\n", e.dir)
	if err := os.WriteFile(path, []byte(ini2), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Reload()
	if ev := next(); !ev.Reload || ev.Err != nil || ev.Tokens != 2 {
		t.Errorf("reload adding a token: %+v", ev)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v", err)
	}
}

package credmon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// TestHandlesAndWebAppOwnedFiles: "<provider>_<handle>" names are refreshed
// as their provider (HTCONDOR-2860), and .top/.meta written by the web app
// as condor with mode 0400 are accepted (docs/htcondor-contract.md#modes).
func TestHandlesAndWebAppOwnedFiles(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grant("compute.read", "")
	e.webLogin("lena", "webidp_readonly", g, "compute.read", "")
	if os.Geteuid() == 0 {
		for _, f := range []string{"webidp_readonly.top", "webidp_readonly.meta"} {
			if err := os.Chown(e.path("lena", f), 65534, 65534); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(e.path("lena", f), 0o400); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.mon.Rescan()
	e.waitFor("lena/webidp_readonly.use", func() bool { return e.exists("lena", "webidp_readonly.use") })
	e.idp.VerifyAccessToken(t, e.readJSON("lena", "webidp_readonly.use")["access_token"].(string))
	fi, _ := os.Stat(e.path("lena", "webidp_readonly.top"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("rewritten .top mode = %v; want 0600", fi.Mode().Perm())
	}
}

// TestNoRefreshWhenNotAllowed: .meta with use_refresh_token false
// (docs/htcondor-contract.md#meta), and a provider with a client id but no .meta and no token URL
// (item 28): no request is ever sent, and the latter is logged once.
func TestNoRefreshWhenNotAllowed(t *testing.T) {
	e := newEnv(t, envOptions{config: "NOURL_CLIENT_ID = someone"})
	if err := e.credd.StoreMeta("mia", "webidp", credtest.Meta{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		TokenURL: e.proxy.URL + "/token", UseRefreshToken: false}); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreTop("mia", "webidp", []byte(`{"refresh_token": "unused"}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.credd.StoreTop("mia", "nourl", []byte(`{"refresh_token": "unused"}`)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		n := e.mon.Stats().Passes
		e.mon.Rescan()
		e.waitFor("a pass", func() bool { return e.mon.Stats().Passes > n })
	}
	if e.proxy.Total() != 0 {
		t.Errorf("%d requests sent", e.proxy.Total())
	}
	if e.exists("mia", "webidp.use") || e.exists("mia", "nourl.use") {
		t.Error("a .use was written")
	}
	if n := strings.Count(e.logs.String(), "[WARN]  oauth: Cannot refresh nourl for user mia: no .meta and neither NOURL_TOKEN_URL nor NOURL_ISSUER is set"); n != 1 {
		t.Errorf("unconfigured provider warned %d times; want once (repeats go to debug):\n%s", n, e.logs.String())
	}
}

// TestQuietWhenIdle: at the default level, passes over fresh tokens and
// files that are not ours add no log lines (docs/htcondor-contract.md#log).
func TestQuietWhenIdle(t *testing.T) {
	e := newEnv(t, envOptions{infoLog: true})
	for i := 0; i < 20; i++ {
		u := fmt.Sprintf("q%02d", i)
		g := e.idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
		blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
		if err := e.credd.StoreTop(u, "myidp", blob); err != nil {
			t.Fatal(err)
		}
		if err := e.credd.StoreLocal(u, "scitokens"); err != nil {
			t.Fatal(err)
		}
		if err := e.credd.StorePlainUse(u, "plain", []byte("tok")); err != nil {
			t.Fatal(err)
		}
	}
	e.mon.Rescan()
	for i := 0; i < 20; i++ {
		u := fmt.Sprintf("q%02d", i)
		e.waitFor(u, func() bool { return e.exists(u, "myidp.use") })
	}
	n := e.mon.Stats().Passes
	e.mon.Rescan()
	e.waitFor("a pass", func() bool { return e.mon.Stats().Passes > n })
	before := strings.Count(e.logs.String(), "\n")
	for i := 0; i < 10; i++ {
		n := e.mon.Stats().Passes
		e.mon.Rescan()
		e.waitFor("a pass", func() bool { return e.mon.Stats().Passes > n })
	}
	if after := strings.Count(e.logs.String(), "\n"); after != before {
		t.Errorf("10 idle passes over 60 files logged %d lines:\n%s", after-before, e.logs.String())
	}
}

// TestJobCopyNeverExpires: with short-lived tokens, the .use on the access
// point always has more than SEC_CREDENTIAL_REFRESH left, so a job's copy
// (re-fetched every SEC_CREDENTIAL_REFRESH) is never expired (docs/htcondor-contract.md#when).
func TestJobCopyNeverExpires(t *testing.T) {
	const secRefresh = 4 * time.Second
	e := newEnv(t, envOptions{
		provider: oidcprovider.ProviderOptions{AccessTokenTTL: 12 * time.Second},
		config:   "SEC_CREDENTIAL_REFRESH = 4\nCREDMON_OAUTH_REFRESH_MARGIN = 2\nCREDMON_OAUTH_MIN_REFRESH_INTERVAL = 1\nCREDMON_OAUTH_REFRESH_FRACTION = 0.9",
	})
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("nina", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("first .use", func() bool { return e.exists("nina", "myidp.use") })
	tokens := map[string]bool{}
	minLeft := time.Hour
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(e.path("nina", "myidp.use"))
		if err != nil {
			t.Fatal(err)
		}
		var use struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(b, &use); err != nil {
			t.Fatalf("partial .use read: %v", err)
		}
		claims := e.idp.VerifyAccessToken(t, use.AccessToken)
		exp := time.Unix(int64(claims["exp"].(float64)), 0)
		left := time.Until(exp)
		if left < minLeft {
			minLeft = left
		}
		if left <= secRefresh {
			t.Fatalf("the .use has only %v left; a job copy fetched now would expire within SEC_CREDENTIAL_REFRESH", left)
		}
		tokens[use.AccessToken] = true
	}
	if len(tokens) < 3 {
		t.Errorf("saw %d distinct access tokens in 20 s of 12 s tokens; want refreshes", len(tokens))
	}
	t.Logf("%d refreshes observed; least remaining lifetime seen %v (SEC_CREDENTIAL_REFRESH %v)", len(tokens)-1, minLeft.Round(time.Millisecond), secRefresh)
}

// TestNoSymlinkedFilesFollowed: a .top or .use that is a symlink (to
// another user's token or to /etc/shadow) is never read or replaced through.
func TestNoSymlinkedFilesFollowed(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte(`{"refresh_token": "victim-rt"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "oscar"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, e.path("oscar", "myidp.top")); err != nil {
		t.Fatal(err)
	}
	g := e.idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("oscar", "disc", blob); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, e.path("oscar", "disc.use")); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitFor("oscar/disc.use replaced", func() bool {
		fi, err := os.Lstat(e.path("oscar", "disc.use"))
		return err == nil && fi.Mode().IsRegular()
	})
	if b, _ := os.ReadFile(outside); string(b) != `{"refresh_token": "victim-rt"}` {
		t.Errorf("symlink target modified: %q", b)
	}
	if e.proxy.Total() != 0 {
		t.Error("a symlinked .top was used")
	}
}

// TestNoRotationKeepsTop: an issuer that does not rotate (no refresh_token
// in the answer) leaves the .top byte-for-byte as it was: the old refresh
// token stays valid and is kept (docs/htcondor-contract.md#top).
func TestNoRotationKeepsTop(t *testing.T) {
	e := newEnv(t, envOptions{provider: oidcprovider.ProviderOptions{NoRotate: true}})
	g := e.grant("compute.read", "")
	blob := []byte("{\n  \"refresh_token\": \"" + g.RefreshToken + "\",\n  \"scopes\": \"compute.read\"\n}\n")
	if err := e.credd.StoreTop("pat", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(e.path("pat", "myidp.top"))
	e.mon.Rescan()
	e.waitFor("pat/myidp.use", func() bool { return e.exists("pat", "myidp.use") })
	after, _ := os.Stat(e.path("pat", "myidp.top"))
	if got, _ := os.ReadFile(e.path("pat", "myidp.top")); string(got) != string(blob) || !os.SameFile(before, after) {
		t.Errorf(".top rewritten without a rotation:\n%s", got)
	}
}

// TestInsecureTokenURLRefused: without the insecure switch an http:// token
// URL is a permanent error, logged once, and nothing is sent.
func TestInsecureTokenURLRefused(t *testing.T) {
	e := newEnv(t, envOptions{config: "CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = False"})
	os.Unsetenv("OAUTHLIB_INSECURE_TRANSPORT")
	if err := e.credd.StoreTop("quinn", "myidp", []byte(`{"refresh_token": "rt"}`)); err != nil {
		t.Fatal(err)
	}
	e.mon.Rescan()
	e.waitFor("the refusal", func() bool { return strings.Contains(e.logs.String(), "not https") })
	if e.proxy.Total() != 0 {
		t.Errorf("%d requests sent to an http:// token URL", e.proxy.Total())
	}
}

// TestOwnWritesCauseNoWork: the events our own .top/.use renames cause are
// recognised (one stat each) and never re-read the user directory.
func TestOwnWritesCauseNoWork(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.waitFor("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(e.dir, "CREDMON_COMPLETE")); return err == nil })
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	before := e.mon.Stats().Listings
	if err := e.credd.StoreTop("rita", "myidp", blob); err != nil { // mkdir + .top.tmp + rename: no kick
		t.Fatal(err)
	}
	e.waitFor("rita/myidp.use", func() bool { return e.exists("rita", "myidp.use") })
	afterRefresh := e.mon.Stats().Listings
	time.Sleep(300 * time.Millisecond) // let the events of our own writes arrive
	if late := e.mon.Stats().Listings - afterRefresh; late != 0 {
		t.Errorf("our own writes caused %d directory listings", late)
	}
	// Nor does the next (shallow) periodic pass list the directory our
	// renames touched.
	n := e.mon.Stats().Passes
	e.mon.Rescan()
	e.waitFor("a pass", func() bool { return e.mon.Stats().Passes > n })
	if late := e.mon.Stats().Listings - afterRefresh; late != 0 {
		t.Errorf("a shallow pass after our refresh listed %d directories", late)
	}
	if n := afterRefresh - before; n < 1 || n > 2 {
		t.Errorf("credd's mkdir and .top rename caused %d listings; want 1 or 2", n)
	}
	if top := e.readJSON("rita", "myidp.top"); top["refresh_token"] == g.RefreshToken {
		t.Error("the refresh did not rotate: the test exercised no .top write")
	}
}

// TestRotatedTokenKeptInMemoryUntilPersisted: when the rotated refresh
// token cannot be written to .top (here the .top is immutable, chattr +i,
// which even root cannot rename over), the .use is still written, the new
// token is kept in memory and used, and it is persisted soon after the
// obstacle goes — not at the next half-life.
func TestRotatedTokenKeptInMemoryUntilPersisted(t *testing.T) {
	if _, err := exec.LookPath("chattr"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and chattr")
	}
	// The .top is made immutable before the daemon starts: a running
	// daemon would refresh it the moment it appeared.
	e := newEnv(t, envOptions{noStart: true})
	g := e.grant("compute.read", "")
	blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	if err := e.credd.StoreTop("sam", "myidp", blob); err != nil {
		t.Fatal(err)
	}
	top := e.path("sam", "myidp.top")
	if out, err := exec.Command("chattr", "+i", top).CombinedOutput(); err != nil {
		t.Skipf("chattr +i unsupported here: %v %s", err, out)
	}
	defer exec.Command("chattr", "-i", top).Run()
	e.start()
	e.waitFor("the .use", func() bool { return e.exists("sam", "myidp.use") })
	e.waitFor("the persist failure", func() bool { return strings.Contains(e.logs.String(), "persisting rotated refresh token failed") })
	if got, _ := os.ReadFile(top); string(got) != string(blob) {
		t.Fatal(".top changed although immutable")
	}
	if out, err := exec.Command("chattr", "-i", top).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	e.waitFor("the rotated token persisted", func() bool {
		b, _ := os.ReadFile(top)
		return string(b) != string(blob)
	})
	if rt := e.readJSON("sam", "myidp.top")["refresh_token"].(string); rt == g.RefreshToken {
		t.Error(".top still holds the spent refresh token")
	} else if _, status, _ := e.idp.Refresh(context.Background(), oidcprovider.ClientIDPost, oidcprovider.ClientSecret, rt, nil); status != 200 {
		t.Errorf("the persisted refresh token does not work: HTTP %d", status)
	}
}

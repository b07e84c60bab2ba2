package credtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// fastCredd polls every 20 ms for at most 400 ms, so that timeouts are
// quick; the shape (checks after a kick, then give up) is credd's.
func fastCredd(t *testing.T) *credtest.Credd {
	c := credtest.NewCredd(t, "")
	c.PollInterval = 20 * time.Millisecond
	c.PollingTimeout = 400 * time.Millisecond
	return c
}

func TestNewCredd(t *testing.T) {
	c := credtest.NewCredd(t, filepath.Join(t.TempDir(), "oauth_credentials"))
	if got, want := mode(t, c.Dir), os.ModeDir|os.ModeSetgid|0o770; got != want {
		t.Errorf("cred dir mode = %v; want %v", got, want)
	}
	if c.PollingTimeout != 20*time.Second || c.PollInterval != time.Second {
		t.Errorf("PollingTimeout, PollInterval = %v, %v; want credd's 20s, 1s", c.PollingTimeout, c.PollInterval)
	}
}

func TestStoreTop(t *testing.T) {
	c := credtest.NewCredd(t, "")
	if err := c.StoreTop("alice", "scitokens_wlcg", []byte(`{"refresh_token":"rt1"}`)); err != nil {
		t.Fatal(err)
	}
	// The setgid bit is inherited from the cred dir, as on a real AP
	// (drwx--S---, docs/htcondor-contract.md#files).
	if got := mode(t, filepath.Join(c.Dir, "alice")); got != os.ModeDir|os.ModeSetgid|0o700 {
		t.Errorf("user dir mode = %v; want dgrwx------", got)
	}
	top := c.TopPath("alice", "scitokens_wlcg")
	if top != filepath.Join(c.Dir, "alice", "scitokens_wlcg.top") {
		t.Errorf("TopPath = %q", top)
	}
	if got := mode(t, top); got != 0o600 {
		t.Errorf(".top mode = %v; want 0600", got)
	}
	if got := read(t, top); got != `{"refresh_token":"rt1"}` {
		t.Errorf(".top = %q; want the blob verbatim", got)
	}
	// Replacing goes through rename: the inode changes and no .tmp stays.
	before, _ := os.Stat(top)
	if err := c.StoreTop("alice", "scitokens_wlcg", []byte(`{"refresh_token":"rt2"}`)); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(top)
	if os.SameFile(before, after) {
		t.Error("StoreTop rewrote the .top in place; want a new file renamed over it")
	}
	if exists(top + ".tmp") {
		t.Error(".top.tmp left behind")
	}
	if _, err := credtest.ReadSecure(top); err != nil {
		t.Errorf("ReadSecure(.top) = %v; want credd-readable", err)
	}

	for _, tc := range []struct{ user, name string }{
		{"", "svc"}, {"alice", ""}, {"al/ice", "svc"}, {"alice", "svc/x"}, {"alice", "s vc"}, {"alice@dom", "svc"}, {"alice", "svc*h"},
	} {
		err := c.StoreTop(tc.user, tc.name, []byte("x"))
		if !errors.Is(err, credtest.ErrBadArgs) || credtest.CodeOf(err) != credtest.CredBadArgs {
			t.Errorf("StoreTop(%q, %q) = %v; want ErrBadArgs", tc.user, tc.name, err)
		}
	}
	if err := c.StoreTop("A-z_0.9+=", "svc_h-1.x+=", []byte("x")); err != nil {
		t.Errorf("StoreTop with every allowed character = %v; want nil", err)
	}
}

func TestStoreTopWithScopes(t *testing.T) {
	c := credtest.NewCredd(t, "")
	blob := []byte(`{"refresh_token":"rt","n":12345678901234567890,"url":"https://a/?x=1&y=<2>"}`)
	if err := c.StoreTopWithScopes("bob", "mytok", blob, "storage.read:/ storage.create:/data", "https://aud.test"); err != nil {
		t.Fatal(err)
	}
	got := read(t, c.TopPath("bob", "mytok"))
	want := `{
  "audience": "https://aud.test",
  "n": 12345678901234567890,
  "refresh_token": "rt",
  "scopes": "storage.read:/ storage.create:/data",
  "url": "https://a/?x=1&y=<2>"
}
`
	if got != want {
		t.Errorf(".top =\n%s\nwant\n%s", got, want)
	}
	if !c.CredMatches("bob", "mytok", "storage.read:/ storage.create:/data", "https://aud.test") {
		t.Error("CredMatches with the stored scopes and audience = false; want true")
	}
	for _, tc := range []struct{ scopes, aud string }{
		{"storage.read:/", "https://aud.test"},
		{"storage.read:/ storage.create:/data", ""},
		{"storage.read:/  storage.create:/data", "https://aud.test"},
	} {
		if c.CredMatches("bob", "mytok", tc.scopes, tc.aud) {
			t.Errorf("CredMatches(%q, %q) = true; want false (string equality)", tc.scopes, tc.aud)
		}
	}

	// Only audience: no "scopes" key is added.
	if err := c.StoreTopWithScopes("bob", "a", []byte(`{"refresh_token":"rt"}`), "", "https://aud.test"); err != nil {
		t.Fatal(err)
	}
	if top := read(t, c.TopPath("bob", "a")); strings.Contains(top, "scopes") || !c.CredMatches("bob", "a", "", "https://aud.test") {
		t.Errorf(".top = %q; want audience only", top)
	}
	// Neither: verbatim, and matches the empty request.
	if err := c.StoreTopWithScopes("bob", "b", []byte("not json"), "", ""); err != nil {
		t.Fatal(err)
	}
	if read(t, c.TopPath("bob", "b")) != "not json" {
		t.Error("StoreTopWithScopes without scopes/audience changed the blob")
	}
	if c.CredMatches("bob", "b", "", "") {
		t.Error("CredMatches on a non-JSON .top = true; want false")
	}
	err := c.StoreTopWithScopes("bob", "c", []byte("not json"), "s", "")
	if !errors.Is(err, credtest.ErrJSONParse) || credtest.CodeOf(err) != credtest.CredJSONParse {
		t.Errorf("StoreTopWithScopes(non-JSON, scopes) = %v; want ErrJSONParse", err)
	}
}

func TestStoreLocalAndPlain(t *testing.T) {
	c := credtest.NewCredd(t, "")
	if err := c.StoreLocal("carol", "scitokens"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c.TopPath("carol", "scitokens")); got != "carol" {
		t.Errorf("local .top = %q; want the user name, no newline", got)
	}
	c.LocalDomain = "example.test"
	if err := c.StoreLocal("carol", "scitokens"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c.TopPath("carol", "scitokens")); got != "carol@example.test" {
		t.Errorf("local .top with LocalDomain = %q; want carol@example.test", got)
	}

	if err := c.StorePlainUse("carol", "plain", []byte("secret\n")); err != nil {
		t.Fatal(err)
	}
	use := c.UsePath("carol", "plain")
	if mode(t, use) != 0o600 || read(t, use) != "secret\n" || exists(use+".tmp") || exists(c.TopPath("carol", "plain")) {
		t.Errorf("plain .use: mode %v content %q; want 0600, verbatim, no .top, no .tmp", mode(t, use), read(t, use))
	}

	m := credtest.Meta{ClientID: "id", ClientSecret: "s", TokenURL: "http://x/token", UseRefreshToken: true}
	if err := c.StoreMeta("carol", "scitokens", m); err != nil {
		t.Fatal(err)
	}
	meta := c.MetaPath("carol", "scitokens")
	if got := read(t, meta); mode(t, meta) != 0o400 || got != `{"client_id":"id","client_secret":"s","token_url":"http://x/token","use_refresh_token":true}` {
		t.Errorf(".meta = %q mode %v; want the web app's JSON, 0400", got, mode(t, meta))
	}
}

func TestQueryDeleteSweep(t *testing.T) {
	c := credtest.NewCredd(t, "")
	if got := c.Query("dave", "tok"); got != credtest.CredNotFound {
		t.Errorf("Query with nothing = %d; want NOT_FOUND (5)", got)
	}
	if got := c.Query("da/ve", "tok"); got != credtest.CredBadArgs {
		t.Errorf("Query with a bad user = %d; want BAD_ARGS (8)", got)
	}
	if err := c.StoreTop("dave", "tok", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := c.Query("dave", "tok"); got != credtest.CredSuccessPending {
		t.Errorf("Query with .top only = %d; want SUCCESS_PENDING (6)", got)
	}
	writeUse(t, c, "dave", "tok", `{"access_token":"at"}`)
	if err := c.StoreMeta("dave", "tok", credtest.Meta{}); err != nil {
		t.Fatal(err)
	}
	if got := c.Query("dave", "tok"); got != credtest.CredSuccess {
		t.Errorf("Query with .top and .use = %d; want SUCCESS (1)", got)
	}

	// Marks are cleared by every store, query and delete.
	if err := c.Mark("dave"); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(c.Dir, "dave.mark")
	if mode(t, mark) != 0o600 {
		t.Errorf("mark mode = %v; want 0600", mode(t, mark))
	}
	c.Query("dave", "tok")
	if exists(mark) {
		t.Error("Query did not clear the user's mark")
	}

	if err := c.Delete("dave", "tok"); err != nil {
		t.Fatal(err)
	}
	if exists(c.TopPath("dave", "tok")) || exists(c.UsePath("dave", "tok")) || !exists(c.MetaPath("dave", "tok")) {
		t.Error("Delete: want .top and .use gone, .meta kept")
	}
	if err := c.Delete("dave", "tok"); err != nil {
		t.Errorf("Delete of a missing credential = %v; want nil", err)
	}

	if err := c.DeleteUser("dave"); err != nil || exists(filepath.Join(c.Dir, "dave")) {
		t.Errorf("DeleteUser = %v; want the user directory gone", err)
	}

	if err := c.StoreTop("erin", "tok", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mark("erin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Sweep("erin"); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(c.Dir, "erin")) || exists(filepath.Join(c.Dir, "erin.mark")) {
		t.Error("Sweep: want the user directory and mark gone")
	}
}

func TestReadSecure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := credtest.ReadSecure(p); err != nil || string(b) != "x" {
		t.Errorf("ReadSecure(0600) = %q, %v; want x, nil", b, err)
	}
	for _, m := range []os.FileMode{0o640, 0o604, 0o660} {
		os.Chmod(p, m)
		if _, err := credtest.ReadSecure(p); err == nil {
			t.Errorf("ReadSecure(mode %v) = nil error; want refused", m)
		}
	}
	os.Chmod(p, 0o400)
	if _, err := credtest.ReadSecure(p); err != nil {
		t.Errorf("ReadSecure(0400) = %v; want nil", err)
	}
	if _, err := credtest.ReadSecure(dir); err == nil {
		t.Error("ReadSecure(directory) = nil error")
	}
	if os.Getuid() == 0 {
		if err := os.Chown(p, 12345, -1); err != nil {
			t.Fatal(err)
		}
		if _, err := credtest.ReadSecure(p); err == nil {
			t.Error("ReadSecure(file of another uid) = nil error; want refused")
		}
	}
}

func TestKickPidFile(t *testing.T) {
	c := credtest.NewCredd(t, "")
	c.NoPidCache = true
	if err := c.Kick(); err == nil {
		t.Error("Kick without a pid file = nil; want an error")
	}
	self := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name    string
		content string
		ok      bool
	}{
		{"plain", self, true},
		{"newline", self + "\n", true},
		{"leading space and junk", "  " + self + "xyz", true},
		{"255 bytes", self + strings.Repeat(" ", 255-len(self)), true},
		{"256 bytes", self + strings.Repeat(" ", 256-len(self)), false},
		{"empty", "", false},
		{"zero", "0", false},
		{"negative", "-" + self, false},
		{"not a number", "credmon", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drainHUP()
			writePid(t, c, []byte(tc.content))
			err := c.Kick()
			if (err == nil) != tc.ok {
				t.Fatalf("Kick() = %v; want ok=%v", err, tc.ok)
			}
			if tc.ok {
				select {
				case <-hup:
				case <-time.After(5 * time.Second):
					t.Fatal("no SIGHUP received")
				}
			}
		})
	}
}

// TestKickPidCache shows credd's 20 s pid cache: after the credmon is
// replaced, kicks go to the old pid.
func TestKickPidCache(t *testing.T) {
	c := credtest.NewCredd(t, "")
	start := func() *exec.Cmd {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot run sleep: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	// sleep dies of SIGHUP, which tells us who was signalled.
	diedOfHUP := func(cmd *exec.Cmd) bool {
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			return false
		}
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		return ok && ws.Signaled() && ws.Signal() == syscall.SIGHUP
	}

	old := start()
	writePid(t, c, []byte(strconv.Itoa(old.Process.Pid)))
	if err := c.Kick(); err != nil {
		t.Fatal(err)
	}
	if !diedOfHUP(old) {
		t.Fatal("first credmon was not signalled")
	}

	replacement := start()
	writePid(t, c, []byte(strconv.Itoa(replacement.Process.Pid)))
	if err := c.Kick(); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Kick within the pid cache time = %v; want ESRCH from signalling the old, dead pid", err)
	}
	c.NoPidCache = true
	if err := c.Kick(); err != nil {
		t.Fatal(err)
	}
	if !diedOfHUP(replacement) {
		t.Error("with NoPidCache the new credmon was not signalled")
	}
	if c.Kicks() != 2 {
		t.Errorf("Kicks() = %d; want 2 delivered", c.Kicks())
	}
}

func TestAddAndWait(t *testing.T) {
	c := fastCredd(t)
	fakeCredmon(t, c, func() {
		// A credmon that answers every kick by turning each .top into a
		// .use.
		tops, _ := filepath.Glob(filepath.Join(c.Dir, "*", "*.top"))
		for _, top := range tops {
			user := filepath.Base(filepath.Dir(top))
			name := strings.TrimSuffix(filepath.Base(top), ".top")
			if !exists(c.UsePath(user, name)) {
				writeUse(t, c, user, name, `{"access_token":"at","expires_in":600}`)
			}
		}
	})
	ctx := context.Background()

	took, err := c.AddAndWait(ctx, "frank", "tok", []byte(`{"refresh_token":"rt"}`))
	if err != nil {
		t.Fatalf("AddAndWait = %v", err)
	}
	// credd checks first one PollInterval after the kick. Only the lower
	// bound is a property of the code (a timer never fires early); how much
	// later it returns depends on the machine's load.
	if took < c.PollInterval {
		t.Errorf("AddAndWait took %v; want at least one PollInterval (%v)", took, c.PollInterval)
	}
	if c.Kicks() != 1 {
		t.Errorf("Kicks() = %d; want 1", c.Kicks())
	}

	// HTCONDOR-2653: the .use exists, so the new .top is stored but the
	// credmon is not told.
	took, err = c.AddAndWait(ctx, "frank", "tok", []byte(`{"refresh_token":"rt2"}`))
	if err != nil {
		t.Errorf("AddAndWait with an existing .use = %v after %v; want nil at once", err, took)
	}
	if c.Kicks() != 1 {
		t.Errorf("Kicks() = %d after re-store; want still 1 (no kick)", c.Kicks())
	}
	if got := read(t, c.TopPath("frank", "tok")); got != `{"refresh_token":"rt2"}` {
		t.Errorf(".top after re-store = %q; want the new blob", got)
	}

	// condor_store_cred add-oauth: no wait, SUCCESS_PENDING after a kick,
	// success without one when the .use exists.
	kicks := c.Kicks()
	if code, err := c.AddNoWait("frank", "nowait", []byte(`{}`)); err != nil || code != credtest.CredSuccessPending || c.Kicks() != kicks+1 {
		t.Errorf("AddNoWait of a new credential = %d, %v, kicks %d→%d; want SUCCESS_PENDING after one kick", code, err, kicks, c.Kicks())
	}
	if code, err := c.AddNoWait("frank", "tok", []byte(`{}`)); err != nil || code != credtest.CredSuccess || c.Kicks() != kicks+1 {
		t.Errorf("AddNoWait with an existing .use = %d, %v; want SUCCESS without a kick", code, err)
	}
	if code, err := c.AddNoWait("fr/ank", "tok", []byte(`{}`)); code != credtest.CredBadArgs || err == nil {
		t.Errorf("AddNoWait with a bad name = %d, %v; want BAD_ARGS", code, err)
	}

	// Fine-grained wait for latency measurements.
	if err := c.StoreTop("frank", "tok2", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	took, err = c.KickAndWait(ctx, "frank", "tok2", time.Millisecond)
	if err != nil {
		t.Errorf("KickAndWait = %v after %v; want the .use", err, took)
	}
	took, err = c.AddAndWaitInterval(ctx, "frank", "tok3", []byte(`{}`), time.Millisecond)
	if err != nil {
		t.Errorf("AddAndWaitInterval = %v after %v; want the .use", err, took)
	}
	if took, err := c.WaitUse(ctx, "frank", "tok3", time.Millisecond); err != nil {
		t.Errorf("WaitUse on an existing .use = %v after %v; want at once", err, took)
	}

	// CHECK_CREDS for local services: .top = user name, one kick, wait.
	took, err = c.CheckLocalCreds(ctx, "gina", "scitokens", "other")
	if err != nil || read(t, c.TopPath("gina", "scitokens")) != "gina" || !exists(c.UsePath("gina", "other")) {
		t.Errorf("CheckLocalCreds = %v after %v; want .top=user and .use for both", err, took)
	}
	kicks = c.Kicks()
	if _, err := c.CheckLocalCreds(ctx, "gina", "scitokens"); err != nil || c.Kicks() != kicks {
		t.Errorf("CheckLocalCreds with everything present = %v, kicks %d→%d; want no kick", err, kicks, c.Kicks())
	}
}

func TestAddAndWaitFailures(t *testing.T) {
	ctx := context.Background()

	t.Run("no pid file", func(t *testing.T) {
		c := fastCredd(t)
		took, err := c.AddAndWait(ctx, "henry", "tok", []byte(`{}`))
		// ErrPending is returned only on the failed kick, before any poll
		// of the .use (a poll ends in a .use or ErrCredmonTimeout): that is
		// "credd does not wait", without timing the machine.
		if !errors.Is(err, credtest.ErrPending) || credtest.CodeOf(err) != credtest.CredSuccessPending {
			t.Errorf("AddAndWait without a credmon = %v (after %v); want ErrPending, returned without polling", err, took)
		}
		if !exists(c.TopPath("henry", "tok")) {
			t.Error("the .top must be stored even though the kick failed")
		}
	})

	t.Run("credmon never answers", func(t *testing.T) {
		c := fastCredd(t)
		fakeCredmon(t, c, func() {})
		took, err := c.AddAndWait(ctx, "henry", "tok", []byte(`{}`))
		if !errors.Is(err, credtest.ErrCredmonTimeout) || credtest.CodeOf(err) != credtest.CredCredmonTimeout {
			t.Errorf("AddAndWait = %v; want ErrCredmonTimeout", err)
		}
		if took < c.PollingTimeout {
			t.Errorf("timed out after %v; want at least PollingTimeout (%v)", took, c.PollingTimeout)
		}
		if _, err := c.WaitUse(ctx, "henry", "tok", 10*time.Millisecond); !errors.Is(err, credtest.ErrCredmonTimeout) {
			t.Errorf("WaitUse = %v; want ErrCredmonTimeout", err)
		}
	})

	t.Run("context", func(t *testing.T) {
		c := fastCredd(t)
		c.PollingTimeout = time.Minute
		fakeCredmon(t, c, func() {})
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if _, err := c.AddAndWait(cctx, "henry", "tok", []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("AddAndWait with an expiring context = %v; want DeadlineExceeded", err)
		}
	})
}

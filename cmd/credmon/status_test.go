package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/credmon/statefile"
	"github.com/credmon/credmon/internal/oidcprovider"
)

func (d *daemon) status(args ...string) (*statefile.Report, int) {
	d.t.Helper()
	cmd := exec.Command(binary, append([]string{"status", "--json"}, args...)...)
	cmd.Env = append(os.Environ(), "CONDOR_CONFIG="+d.cfgFile, "PATH=/nonexistent")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatal(err)
	}
	var rep statefile.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		d.t.Fatalf("status --json: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	return &rep, code
}

func find(cs []statefile.Credential, user, token string) *statefile.Credential {
	for i := range cs {
		if cs[i].User == user && cs[i].Token == token {
			return &cs[i]
		}
	}
	return nil
}

// TestStatus runs the daemon with an OAuth2 token, a local one and an
// OAuth2 token whose refresh token the issuer does not know, then
// `credmon status --json` (the built binary, reading the state file the
// daemon wrote) while it runs and after it stopped.
func TestStatus(t *testing.T) {
	idp := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	stateDir := t.TempDir()
	statePath := filepath.Join(stateDir, "credmon_oauth-state.json")
	const lockGid = 4242 // as root, the file takes its directory's group (condor for $(LOCK))
	if os.Geteuid() == 0 {
		if err := os.Chown(stateDir, -1, lockGid); err != nil {
			t.Fatal(err)
		}
	}
	d := newDaemon(t, fmt.Sprintf("MYIDP_CLIENT_ID = %s\nMYIDP_TOKEN_URL = %s\nMYIDP_CLIENT_SECRET_FILE = %s\n"+
		"CREDMON_OAUTH_STATE_FILE = %s\nLOCAL_CREDMON_ISSUER = https://ap.example.org\nLOCAL_CREDMON_TOKEN_AUDIENCE = https://storage.example.org\n",
		oidcprovider.ClientIDPost, idp.TokenURL, writeSecret(t), statePath))
	os.MkdirAll(d.credDir, 0o2770)
	os.Chmod(d.credDir, 0o2770)
	credd := credtest.NewCredd(t, d.credDir)
	g := idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
	good, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	const badRT = "refresh-token-the-issuer-never-issued"
	bad, _ := json.Marshal(map[string]string{"refresh_token": badRT})
	for _, err := range []error{credd.StoreTop("alice", "myidp", good), credd.StoreLocal("alice", "scitokens"), credd.StoreTop("bob", "myidp", bad)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	d.start()
	// The daemon's own output: the state file saying what the test set up.
	d.wait("the state of all three tokens", func() bool {
		st, err := statefile.Read(statePath)
		if err != nil || len(st.Credentials) != 3 {
			return false
		}
		a, l, b := find(st.Credentials, "alice", "myidp"), find(st.Credentials, "alice", "scitokens"), find(st.Credentials, "bob", "myidp")
		return a != nil && a.Present && l != nil && l.Present && b != nil && b.NeedsHuman != ""
	})

	rep, code := d.status()
	if code != statusNeedsHuman {
		t.Errorf("status exit %d, want %d (bob's token needs a human)", code, statusNeedsHuman)
	}
	if rep.Liveness != statefile.Running || rep.Pid != d.cmd.Process.Pid || rep.Daemon != "CREDMON_OAUTH" || rep.NeedsHuman != 1 {
		t.Errorf("report: liveness %s pid %d (daemon %d) name %s needs_human %d", rep.Liveness, rep.Pid, d.cmd.Process.Pid, rep.Daemon, rep.NeedsHuman)
	}
	a, l, b := find(rep.Credentials, "alice", "myidp"), find(rep.Credentials, "alice", "scitokens"), find(rep.Credentials, "bob", "myidp")
	if a == nil || l == nil || b == nil {
		t.Fatalf("credentials %+v", rep.Credentials)
	}
	if a.Type != statefile.TypeOAuth2 || a.Expiry.IsZero() || a.LastRefresh.IsZero() || a.NextRefresh.IsZero() || a.Error != "" || a.NeedsHuman != "" {
		t.Errorf("alice/myidp: %+v", a)
	}
	if l.Type != statefile.TypeLocal || l.Expiry.IsZero() || l.LastRefresh.IsZero() || l.NeedsHuman != "" {
		t.Errorf("alice/scitokens: %+v", l)
	}
	if b.Type != statefile.TypeOAuth2 || b.Present || b.Failures == 0 || b.Error == "" || !strings.Contains(b.NeedsHuman, "not retrying") {
		t.Errorf("bob/myidp: %+v", b)
	}

	// --user: only that user's credentials, and the exit status is theirs.
	rep, code = d.status("--user", "alice")
	if code != statusOK || len(rep.Credentials) != 2 || rep.NeedsHuman != 0 {
		t.Errorf("--user alice: exit %d, %d credentials, needs_human %d", code, len(rep.Credentials), rep.NeedsHuman)
	}
	if rep, code = d.status("--user", "carol"); code != statusOK || len(rep.Credentials) != 0 {
		t.Errorf("--user carol: exit %d, %+v", code, rep.Credentials)
	}

	// The file: 0640, no token, refresh token or secret in it.
	fi, err := os.Stat(statePath)
	if err != nil || fi.Mode().Perm() != statefile.Mode {
		t.Errorf("state file mode %v, %v; want %v", fi.Mode().Perm(), err, os.FileMode(statefile.Mode))
	}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && sys.Gid != lockGid {
		t.Errorf("state file group %d, want its directory's (%d)", sys.Gid, lockGid)
	}
	raw, _ := os.ReadFile(statePath)
	use, _ := os.ReadFile(filepath.Join(d.credDir, "alice", "myidp.use"))
	var useObj map[string]any
	json.Unmarshal(use, &useObj)
	at, _ := useObj["access_token"].(string)
	for _, secret := range []string{g.RefreshToken, badRT, oidcprovider.ClientSecret, at} {
		if secret != "" && bytes.Contains(raw, []byte(secret)) {
			t.Errorf("a secret is in the state file")
		}
	}

	// Stopped: the last snapshot says so, and status reports it.
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	rep, code = d.status()
	if code != statusNotRunning || rep.Liveness != statefile.Stopped || !rep.Stopped || len(rep.Credentials) != 3 {
		t.Errorf("after stop: exit %d liveness %s stopped %v, %d credentials", code, rep.Liveness, rep.Stopped, len(rep.Credentials))
	}
}

// TestStatusStale drives status's clock and pid check: a file older than
// two scan intervals from a live pid is stale, one from a dead pid is a
// stopped daemon's, a fresh one is running; the text form says so.
func TestStatusStale(t *testing.T) {
	written := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := statefile.State{Version: statefile.Version, Daemon: "CREDMON_OAUTH", Pid: 4242, WrittenAt: written, ScanIntervalSec: 60,
		Credentials: []statefile.Credential{{User: "alice", Token: "myidp", Type: "oauth2", Present: true, Expiry: written.Add(time.Hour)}}}
	path := filepath.Join(t.TempDir(), "state.json")
	b, _ := json.Marshal(st)
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		after time.Duration
		alive bool
		code  int
		text  string
	}{
		{"fresh", 30 * time.Second, true, statusOK, "running"},
		{"stale", 121 * time.Second, true, statusNotRunning, "stale"},
		{"stopped", 30 * time.Second, false, statusNotRunning, "not running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := statusCommand([]string{"--file", path}, &out, &errb, func() time.Time { return written.Add(tc.after) },
				func(pid int) bool { return pid == 4242 && tc.alive })
			if code != tc.code || !strings.Contains(out.String(), tc.text) {
				t.Errorf("exit %d (want %d), output:\n%s%s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "alice") {
				t.Errorf("no credential line:\n%s", out.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := statusCommand([]string{"--file", path + ".missing"}, &out, &errb, time.Now, nil); code != statusNoState {
		t.Errorf("missing file: exit %d", code)
	}
}

package credmon_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/statefile"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// TestStateFile runs the monitor in-process with an OAuth2, a Vault and a
// client-credentials token and an OAuth2 token the issuer refuses, and
// reads the state file it writes: each token's type, its .use expiry and
// last refresh, the failing one's error and what needs a human; at exit
// the last snapshot says the daemon stopped.
func TestStateFile(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "credmon_oauth-state.json")
	e := newEnv(t, envOptions{vault: true, infoLog: true, provider: oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour}, config: `
CREDMON_OAUTH_STATE_FILE = ` + statePath + `
CLIENT_CREDMON_PROVIDER_NAMES = robots
CLIENT_CREDMON_CLIENT_ID = credmon-post
CLIENT_CREDMON_CLIENT_SECRET_FILE = $(CREDTEST_SECRET_FILE)
CLIENT_CREDMON_AUTHZ_TEMPLATE = storage.read:/user/{username}
CLIENT_CREDMON_ROBOTS_TOKEN_URL = $(CREDTEST_PROXY_URL)/token
`})
	g := e.grant("compute.read", "")
	good, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
	const badRT = "a-refresh-token-nobody-issued"
	bad, _ := json.Marshal(map[string]string{"refresh_token": badRT})
	vaultToken := e.vaultLogin("alice", "storage.read:/")
	e.storeVaultTop("alice", "igwn", vaultToken, vaultURL("creds", "alice"), "", "")
	for _, err := range []error{e.credd.StoreTop("alice", "myidp", good), e.credd.StoreLocal("alice", "robots"), e.credd.StoreTop("bob", "myidp", bad)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	e.credd.Kick()

	var st *statefile.State
	e.waitFor("the state of all four tokens", func() bool {
		s, err := statefile.Read(statePath)
		if err != nil || len(s.Credentials) != 4 {
			return false
		}
		for _, c := range s.Credentials {
			if c.User == "alice" && !c.Present || c.User == "bob" && c.NeedsHuman == "" {
				return false
			}
		}
		st = s
		return true
	})
	want := map[string]string{"alice/igwn": "vault", "alice/myidp": "oauth2", "alice/robots": "client", "bob/myidp": "oauth2"}
	for _, c := range st.Credentials {
		id := c.User + "/" + c.Token
		if c.Type != want[id] {
			t.Errorf("%s: type %q, want %q", id, c.Type, want[id])
		}
		if c.User == "alice" && (c.Expiry.IsZero() || c.LastRefresh.IsZero() || c.Error != "" || c.NeedsHuman != "") {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if b := st.Credentials[3]; b.User != "bob" || b.Failures != 1 || !strings.Contains(b.Error, "invalid_grant") || b.Present {
		t.Errorf("bob/myidp: %+v", b)
	}
	if st.Pid != os.Getpid() || st.Daemon != "CREDMON_OAUTH" || st.Stopped || st.ScanIntervalSec != 60 {
		t.Errorf("state: pid %d daemon %s stopped %v interval %d", st.Pid, st.Daemon, st.Stopped, st.ScanIntervalSec)
	}
	raw, _ := os.ReadFile(statePath)
	for _, secret := range []string{g.RefreshToken, badRT, vaultToken, oidcprovider.ClientSecret} {
		if strings.Contains(string(raw), secret) {
			t.Error("a secret is in the state file")
		}
	}

	e.stop()
	st, err := statefile.Read(statePath)
	if err != nil || !st.Stopped || len(st.Credentials) != 4 {
		t.Fatalf("after stop: %+v, %v", st, err)
	}
}

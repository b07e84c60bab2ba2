package credtest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/credtest"
)

// storeCred runs the condor_store_cred stand-in in-process.
func storeCred(t *testing.T, c *credtest.Credd, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := map[string]string{credtest.EnvStoreCredDir: c.Dir}
	code := credtest.StoreCredMain(args, strings.NewReader(stdin), &out, &out, func(k string) string { return env[k] })
	return code, out.String()
}

const vaultBlob = `{"vault_token": "hvs.secret", "vault_url": "https://vault.example:8200/v1/secret/oauth/creds/igwn/me:default"}`

func TestStoreCredMergesScopesAndAudienceAndQueriesThem(t *testing.T) {
	c := credtest.NewCredd(t, "")
	if code, out := storeCred(t, c, `{"vault_url": "https://v.example:8200/v1/x"}`,
		"add-oauth", "-u", "alice@example.org", "-s", "igwn", "-H", "ro", "-S", "read:/a,read:/b", "-A", "https://aud", "-i", "-"); code != 0 {
		t.Fatalf("add-oauth = %d: %s", code, out)
	}
	b, err := credtest.ReadSecure(c.TopPath("alice", "igwn_ro"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["scopes"] != "read:/a,read:/b" || m["audience"] != "https://aud" || m["vault_url"] != "https://v.example:8200/v1/x" {
		t.Errorf(".top = %s; want the blob with scopes and audience added", b)
	}
	if !bytes.Contains(b, []byte("\n  ")) || !bytes.HasSuffix(b, []byte("\n")) {
		t.Errorf(".top = %q; want credd's multi-line JSON with a trailing newline", b)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-s", "igwn_ro", "-S", "read:/a,read:/b", "-A", "https://aud"}, 0},
		{[]string{"-s", "igwn", "-H", "ro", "-S", "read:/a,read:/b", "-A", "https://aud"}, 0},
		{[]string{"-s", "igwn_ro", "-S", "read:/a", "-A", "https://aud"}, 2},
		{[]string{"-s", "igwn_ro"}, 2},
		{[]string{"-s", "igwn"}, 1},
	} {
		args := append([]string{"query-oauth", "-u", "alice"}, tc.args...)
		if code, out := storeCred(t, c, "", args...); code != tc.want {
			t.Errorf("%q = %d; want %d (%s)", args, code, tc.want, out)
		}
	}
}

func TestStoreCredPlainWritesTheUseVerbatim(t *testing.T) {
	c := credtest.NewCredd(t, "")
	if code, out := storeCred(t, c, "eyJ.plain.token\n", "add-oauth", "-u", "bob", "-s", "mytok", "-P", "-i", "-"); code != 0 {
		t.Fatalf("add-oauth -P = %d: %s", code, out)
	}
	b, err := credtest.ReadSecure(c.UsePath("bob", "mytok"))
	if err != nil || string(b) != "eyJ.plain.token\n" {
		t.Errorf(".use = %q, %v; want the bytes given", b, err)
	}
	if _, err := os.Stat(c.TopPath("bob", "mytok")); !os.IsNotExist(err) {
		t.Errorf("-P wrote a .top (%v)", err)
	}
	if code, _ := storeCred(t, c, "", "query-oauth", "-u", "bob", "-s", "mytok"); code != 0 {
		t.Errorf("query-oauth of a plain credential = %d; want 0", code)
	}
}

func TestStoreCredDeleteLeavesMeta(t *testing.T) {
	c := credtest.NewCredd(t, "")
	if code, out := storeCred(t, c, vaultBlob, "add-oauth", "-u", "carol", "-s", "igwn", "-i", "-"); code != 0 {
		t.Fatalf("add-oauth = %d: %s", code, out)
	}
	writeUse(t, c, "carol", "igwn", "tok\n")
	if err := c.StoreMeta("carol", "igwn", credtest.Meta{ClientID: "x"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := storeCred(t, c, "", "query-oauth", "-u", "carol", "-s", "igwn"); code != 0 {
		t.Fatalf("query-oauth before delete = %d; want 0", code)
	}
	if code, out := storeCred(t, c, "", "delete-oauth", "-u", "carol", "-s", "igwn"); code != 0 {
		t.Fatalf("delete-oauth = %d: %s", code, out)
	}
	for _, p := range []string{c.TopPath("carol", "igwn"), c.UsePath("carol", "igwn")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after delete-oauth (%v)", p, err)
		}
	}
	if _, err := os.Stat(c.MetaPath("carol", "igwn")); err != nil {
		t.Errorf(".meta removed by delete-oauth: %v", err)
	}
	if code, _ := storeCred(t, c, "", "query-oauth", "-u", "carol", "-s", "igwn"); code != 1 {
		t.Errorf("query-oauth after delete = %d; want 1", code)
	}
}

func TestStoreCredRefusesWhatCreddRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		trusted     string
	}{
		{"bad service name", vaultBlob, []string{"add-oauth", "-u", "dave", "-s", "ig/wn", "-i", "-"}, ""},
		{"bad handle", vaultBlob, []string{"add-oauth", "-u", "dave", "-s", "igwn", "-H", "a b", "-i", "-"}, ""},
		{"bad user", vaultBlob, []string{"add-oauth", "-u", "da ve", "-s", "igwn", "-i", "-"}, ""},
		{"scopes on a non-JSON credential", "not json", []string{"add-oauth", "-u", "dave", "-s", "igwn", "-S", "read:/", "-i", "-"}, ""},
		{"empty credential", "", []string{"add-oauth", "-u", "dave", "-s", "igwn", "-i", "-"}, ""},
		{"untrusted Vault host", vaultBlob, []string{"add-oauth", "-u", "dave", "-s", "igwn", "-i", "-"}, "vault.other.example"},
		{"no verb", vaultBlob, []string{"-u", "dave", "-s", "igwn", "-i", "-"}, ""},
		{"two verbs", vaultBlob, []string{"add-oauth", "query-oauth", "-s", "igwn", "-i", "-"}, ""},
		{"missing option argument", vaultBlob, []string{"add-oauth", "-u", "dave", "-s"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := credtest.NewCredd(t, "")
			var out bytes.Buffer
			env := map[string]string{credtest.EnvStoreCredDir: c.Dir, credtest.EnvStoreCredTrustedVault: tc.trusted}
			code := credtest.StoreCredMain(tc.args, strings.NewReader(tc.stdin), &out, &out, func(k string) string { return env[k] })
			if code != 1 {
				t.Errorf("%q = %d; want 1 (%s)", tc.args, code, out.String())
			}
			ents, _ := os.ReadDir(filepath.Join(c.Dir, "dave"))
			if len(ents) != 0 {
				t.Errorf("a refused store left %d files", len(ents))
			}
		})
	}
}

func TestStoreCredTrustsListedVaultHostsAndLogsArgvOnly(t *testing.T) {
	c := credtest.NewCredd(t, "")
	log := filepath.Join(t.TempDir(), "argv")
	env := map[string]string{credtest.EnvStoreCredDir: c.Dir, credtest.EnvStoreCredTrustedVault: "vault.other.example, vault.example", credtest.EnvStoreCredLog: log}
	var out bytes.Buffer
	args := []string{"add-oauth", "-u", "erin", "-s", "igwn", "-n", "credd.example", "-i", "-"}
	if code := credtest.StoreCredMain(args, strings.NewReader(vaultBlob), &out, &out, func(k string) string { return env[k] }); code != 0 {
		t.Fatalf("add-oauth = %d: %s", code, out.String())
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != strings.Join(args, " ")+"\n" || strings.Contains(got, "hvs.secret") {
		t.Errorf("log = %q; want the argument list and never the credential", got)
	}
	top, err := credtest.ReadSecure(c.TopPath("erin", "igwn"))
	if err != nil || string(top) != vaultBlob {
		t.Errorf(".top = %q, %v; want the blob unchanged without -S/-A", top, err)
	}
}

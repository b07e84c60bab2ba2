package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/credmon/localissuer"
)

// tool runs a credmon subcommand with the daemon's configuration.
func (d *daemon) tool(args ...string) (code int, stdout, stderr string) {
	d.t.Helper()
	cmd := d.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		d.t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// Checklist item 13 and the issuer's publication: a fresh host gets the
// key pair at start (never overwritten later), a local token is minted for
// credd, `credmon token verify` accepts it and `credmon issuer` publishes a
// JWKS that an independent verifier (Verify over the written file) accepts.
func TestLocalIssuerBinary(t *testing.T) {
	d := newDaemon(t, "LOCAL_CREDMON_TOKEN_AUDIENCE = https://storage.example.org\nLOCAL_CREDMON_ISSUER = https://ap.example.org\nLOCAL_CREDMON_KEY_ID = k1")
	priv, pub := filepath.Join(d.base, "scitokens-private.pem"), filepath.Join(d.base, "scitokens.pem")
	d.start()
	d.wait("pid file", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "pid")); return err == nil })
	for path, want := range map[string]struct {
		mode   os.FileMode
		header string
	}{priv: {0o600, "-----BEGIN EC PRIVATE KEY-----"}, pub: {0o644, "-----BEGIN PUBLIC KEY-----"}} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("key pair not created: %v", err)
		}
		b, _ := os.ReadFile(path)
		if fi.Mode().Perm() != want.mode || !strings.HasPrefix(string(b), want.header) {
			t.Errorf("%s: mode %v, first line %q; want %v %s", path, fi.Mode().Perm(), strings.SplitN(string(b), "\n", 2)[0], want.mode, want.header)
		}
	}
	keyBefore, _ := os.ReadFile(priv)

	credd := credtest.NewCredd(t, d.credDir)
	credd.NoPidCache = true
	credd.StoreLocal("alice", "scitokens")
	if _, err := credd.KickAndWait(t.Context(), "alice", "scitokens", 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	use := filepath.Join(d.credDir, "alice", "scitokens.use")
	d.wait("the success line", func() bool { return strings.Contains(d.log(), "Successfully renewed SciToken for user: alice") })

	code, out, errOut := d.tool("token", "verify", "--audience", "https://storage.example.org", use)
	if code != 0 || !strings.Contains(out, `valid: signature by key "k1" (ES256)`) || !strings.Contains(out, `"alice"`) {
		t.Errorf("token verify: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := d.tool("token", "verify", "--audience", "https://elsewhere.example.org", use); code != 1 || !strings.Contains(errOut, "INVALID") {
		t.Errorf("verify with the wrong audience: exit %d, %s", code, errOut)
	}
	code, out, _ = d.tool("token", "decode", use)
	if code != 0 || !strings.Contains(out, "signature NOT checked") || !strings.Contains(out, "exp") {
		t.Errorf("token decode: exit %d\n%s", code, out)
	}

	web := t.TempDir()
	if code, out, errOut := d.tool("issuer", "--write", web); code != 0 {
		t.Fatalf("issuer --write: exit %d %s %s", code, out, errOut)
	}
	var oidc map[string]string
	b, _ := os.ReadFile(filepath.Join(web, ".well-known", "openid-configuration"))
	if err := json.Unmarshal(b, &oidc); err != nil || oidc["issuer"] != "https://ap.example.org" ||
		oidc["jwks_uri"] != "https://ap.example.org/.well-known/jwks.json" {
		t.Errorf("openid-configuration = %s (%v)", b, err)
	}
	jwks, _ := os.ReadFile(filepath.Join(web, ".well-known", "jwks.json"))
	raw, _ := os.ReadFile(use)
	var u struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(raw, &u)
	if _, err := localissuer.Verify(u.AccessToken, jwks, localissuer.VerifyOptions{Issuer: "https://ap.example.org", Audience: "https://storage.example.org"}); err != nil {
		t.Errorf("the minted token does not verify against the published JWKS: %v", err)
	}
	if code, out, _ := d.tool("issuer", "jwks"); code != 0 || strings.TrimSpace(out) != strings.TrimSpace(string(jwks)) {
		t.Errorf("issuer jwks printed %q; the written file is %q", out, jwks)
	}
	if code, out, _ := d.tool("token", "verify", "--jwks", filepath.Join(web, ".well-known", "jwks.json"), use); code != 0 {
		t.Errorf("verify against the JWKS file: exit %d %s", code, out)
	}

	// A restart never regenerates an existing key.
	d.cmd.Process.Signal(syscall.SIGTERM)
	if c := d.exitCode(20 * time.Second); c != 0 {
		t.Fatalf("exit %d", c)
	}
	d.start()
	d.wait("pid file", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "pid")); return err == nil })
	if after, _ := os.ReadFile(priv); !bytes.Equal(after, keyBefore) {
		t.Error("the private key changed across a restart")
	}
}

func TestToolUsageErrors(t *testing.T) {
	d := newDaemon(t, "")
	for _, args := range [][]string{{"token"}, {"token", "verify"}, {"issuer", "bogus"}, {"token", "decode"}} {
		if code, _, _ := d.tool(args...); code != exitUsage {
			t.Errorf("%v: exit %d; want %d", args, code, exitUsage)
		}
	}
	// No key yet (the daemon never ran): a clear error, not a crash.
	code, _, errOut := d.tool("issuer")
	if code != exitFailure || !strings.Contains(errOut, "scitokens-private.pem") {
		t.Errorf("issuer without a key: exit %d, %q", code, errOut)
	}
	empty := filepath.Join(t.TempDir(), "x.use")
	os.WriteFile(empty, []byte(`{"access_token": "", "expires_in": 1200}`), 0o600)
	if code, _, errOut := d.tool("token", "decode", empty); code != exitFailure || !strings.Contains(errOut, "empty token") {
		t.Errorf("decode of an empty token: exit %d, %q", code, errOut)
	}
}

// TestIssuerWriteFollowsNoSymlink protects every file on the machine from
// the user who owns a web docroot: `credmon issuer --write` runs as root,
// and a symlink planted at a document's name or at .well-known must not
// make it write through. A planted file link is replaced by the document,
// its target untouched; a planted directory link is refused.
func TestIssuerWriteFollowsNoSymlink(t *testing.T) {
	d := newDaemon(t, "LOCAL_CREDMON_ISSUER = https://ap.example.org\nLOCAL_CREDMON_KEY_ID = k1")
	if _, err := localissuer.EnsureKeyPair(filepath.Join(d.base, "scitokens-private.pem"), filepath.Join(d.base, "scitokens.pem")); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(victim, []byte("root:x:0:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	web := t.TempDir()
	if err := os.Mkdir(filepath.Join(web, ".well-known"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(web, ".well-known", "jwks.json")); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := d.tool("issuer", "--write", web); code != 0 {
		t.Fatalf("issuer --write: exit %d %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(victim); string(b) != "root:x:0:0\n" {
		t.Fatalf("the symlink's target was overwritten: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(web, ".well-known", "jwks.json"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("jwks.json = %v, %v; want a regular 0644 file in place of the link", fi, err)
	}

	web2 := t.TempDir()
	if err := os.Symlink(filepath.Dir(victim), filepath.Join(web2, ".well-known")); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := d.tool("issuer", "--write", web2); code == 0 || !strings.Contains(errOut, "symlink is not followed") {
		t.Errorf("a symlinked .well-known: exit %d, %q; want a refusal", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(victim), "jwks.json")); err == nil {
		t.Error("a document was written through the symlinked .well-known")
	}
}

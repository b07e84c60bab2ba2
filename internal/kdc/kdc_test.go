package kdc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/internal/kdc"
)

// klist lists a keytab (-k) or ccache with MIT's klist, in the realm's
// environment.
func klist(t *testing.T, k *kdc.KDC, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("klist")
	if err != nil {
		t.Skipf("klist not found: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = k.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("klist %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestStartKDCIssuesTicketsToItsKeytabs protects the harness's promise: the
// KDC answers on its address, and a user's exported keytab gets a TGT from
// it with MIT's own kinit.
func TestStartKDCIssuesTicketsToItsKeytabs(t *testing.T) {
	k := kdc.StartKDC(t, kdc.Options{Users: []string{"robot/ap.credmon.test"}, Hosts: []string{"vault.credmon.test"}})
	ccache := filepath.Join(t.TempDir(), "cc")
	k.Kinit(t, "robot/ap.credmon.test", ccache)
	out := klist(t, k, "-c", "FILE:"+ccache)
	if !strings.Contains(out, "krbtgt/"+k.Realm+"@"+k.Realm) || !strings.Contains(out, k.Principal("robot/ap.credmon.test")) {
		t.Fatalf("ccache after kinit has no TGT for the robot:\n%s", out)
	}
	svc := klist(t, k, "-k", k.ServiceKeytab("vault.credmon.test"))
	if !strings.Contains(svc, k.Principal("host/vault.credmon.test")) {
		t.Fatalf("service keytab lacks host/vault.credmon.test:\n%s", svc)
	}
	for _, p := range []string{k.Keytab("robot/ap.credmon.test"), k.ServiceKeytab("vault.credmon.test")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v; want 0600", p, fi.Mode().Perm())
		}
	}
}

// TestRandomizeKeyRaisesTheKeyVersion protects what the out-of-date keytab
// tests rely on: after RandomizeKey the principal's kvno is higher than the
// one in the keytab exported before.
func TestRandomizeKeyRaisesTheKeyVersion(t *testing.T) {
	k := kdc.StartKDC(t, kdc.Options{Users: []string{"alice"}})
	before := k.Kadmin(t, "getprinc alice")
	k.RandomizeKey(t, "alice")
	after := k.Kadmin(t, "getprinc alice")
	kvno := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "vno ") {
				return l
			}
		}
		t.Fatalf("no key version in:\n%s", s)
		return ""
	}
	if kvno(before) == kvno(after) {
		t.Fatalf("key version unchanged by RandomizeKey: %q", kvno(after))
	}
}

// TestStopEndsTheKDC protects Cleanup: after Stop nothing answers on the
// KDC's address.
func TestStopEndsTheKDC(t *testing.T) {
	k := kdc.StartKDC(t, kdc.Options{Users: []string{"bob"}})
	k.Stop()
	k.Stop()
	bin, err := exec.LookPath("kinit")
	if err != nil {
		t.Skip("kinit not found")
	}
	cmd := exec.Command(bin, "-k", "-t", k.Keytab("bob"), "-c", "FILE:"+filepath.Join(t.TempDir(), "cc"), k.Principal("bob"))
	cmd.Env = k.Env()
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("kinit succeeded against a stopped KDC:\n%s", out)
	}
}

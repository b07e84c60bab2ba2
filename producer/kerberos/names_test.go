package kerberos_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credmon/credmon/producer/kerberos"
)

// TestParseCCacheNameTakesOnlyFiles protects the ccache names MIT users
// write: FILE: and bare paths work, the other cache types are refused by
// name rather than misread as a path.
func TestParseCCacheNameTakesOnlyFiles(t *testing.T) {
	for name, want := range map[string]string{
		"FILE:/tmp/krb5cc_1000": "/tmp/krb5cc_1000",
		"/tmp/krb5cc_1000":      "/tmp/krb5cc_1000",
		"relative/cc":           "relative/cc",
		"./odd:name":            "./odd:name",
		"FILE:relative":         "relative",
	} {
		got, err := kerberos.ParseCCacheName(name)
		if err != nil || got != want {
			t.Errorf("ParseCCacheName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"", "FILE:", "KCM:1000", "KEYRING:persistent:1000", "DIR:/run/user/1000/krb5cc", "MEMORY:x", "WRFILE:/k"} {
		if got, err := kerberos.ParseCCacheName(name); err == nil {
			t.Errorf("ParseCCacheName(%q) = %q; want an error", name, got)
		}
	}
	if got, err := kerberos.ParseKeytabName("WRFILE:/etc/robot.keytab"); err != nil || got != "/etc/robot.keytab" {
		t.Errorf("ParseKeytabName(WRFILE:) = %q, %v", got, err)
	}
}

// TestDefaultCCacheIsMITs protects the default: $KRB5CCNAME, else
// /tmp/krb5cc_<uid>.
func TestDefaultCCacheIsMITs(t *testing.T) {
	t.Setenv("KRB5CCNAME", "")
	if got, want := kerberos.DefaultCCache(), "FILE:/tmp/krb5cc_"; !strings.HasPrefix(got, want) {
		t.Errorf("DefaultCCache() = %q; want %s<uid>", got, want)
	}
	t.Setenv("KRB5CCNAME", "FILE:/x")
	if got := kerberos.DefaultCCache(); got != "FILE:/x" {
		t.Errorf("DefaultCCache() = %q; want $KRB5CCNAME", got)
	}
}

// TestParsePrincipalAppliesTheDefaultRealm protects principal arguments
// with and without a realm, and refuses the malformed ones.
func TestParsePrincipalAppliesTheDefaultRealm(t *testing.T) {
	p, err := kerberos.ParsePrincipal("robot/host.example.org", "EXAMPLE.ORG")
	if err != nil || p.String() != "robot/host.example.org@EXAMPLE.ORG" || !slices.Equal(p.Components, []string{"robot", "host.example.org"}) {
		t.Errorf("ParsePrincipal without realm = %+v, %v", p, err)
	}
	p, err = kerberos.ParsePrincipal("alice@OTHER.ORG", "EXAMPLE.ORG")
	if err != nil || p.String() != "alice@OTHER.ORG" {
		t.Errorf("ParsePrincipal with realm = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "alice@", "@R", "a//b", "a/", "a@b@c", "a b", `a\/b`, "alice"} {
		if p, err := kerberos.ParsePrincipal(bad, map[bool]string{true: "", false: "R"}[bad == "alice"]); err == nil {
			t.Errorf("ParsePrincipal(%q) = %+v; want an error", bad, p)
		}
	}
}

// TestLoadConfigEarlierFileWins protects MIT's KRB5_CONFIG list semantics:
// missing files are skipped, and a setting in an earlier file wins.
func TestLoadConfigEarlierFileWins(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.conf")
	second := filepath.Join(dir, "second.conf")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(first, "[libdefaults]\n\tdefault_realm = FIRST.ORG\n[realms]\n\tSHARED.ORG = {\n\t\tkdc = first.kdc:88\n\t}\n")
	write(second, "[libdefaults]\n\tdefault_realm = SECOND.ORG\n\tdns_lookup_kdc = false\n[realms]\n\tSHARED.ORG = {\n\t\tkdc = second.kdc:88\n\t}\n\tSECOND.ORG = {\n\t\tkdc = only.second:88\n\t}\n")
	t.Setenv("KRB5_CONFIG", filepath.Join(dir, "missing")+":"+first+":"+second)
	conf, err := kerberos.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if conf.LibDefaults.DefaultRealm != "FIRST.ORG" {
		t.Errorf("default_realm = %q; want the first file's", conf.LibDefaults.DefaultRealm)
	}
	if _, kdcs, err := conf.GetKDCs("SHARED.ORG", true); err != nil || len(kdcs) != 1 || kdcs[1] != "first.kdc:88" {
		t.Errorf("KDCs of SHARED.ORG = %v, %v; want the first file's", kdcs, err)
	}
	if _, kdcs, err := conf.GetKDCs("SECOND.ORG", true); err != nil || kdcs[1] != "only.second:88" {
		t.Errorf("KDCs of SECOND.ORG = %v, %v; want the second file's", kdcs, err)
	}
	t.Setenv("KRB5_CONFIG", filepath.Join(dir, "missing"))
	if _, err := kerberos.LoadConfig(""); err == nil || !strings.Contains(err.Error(), "KRB5_CONFIG") {
		t.Errorf("LoadConfig with no file = %v; want an error naming KRB5_CONFIG", err)
	}
}

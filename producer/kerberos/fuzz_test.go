package kerberos

import (
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/krberror"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// FuzzParsePrincipal: any input parses to a principal that prints back to
// something that parses to itself, or is refused; never a panic.
func FuzzParsePrincipal(f *testing.F) {
	for _, s := range []string{"robot/host.example.org", "a@B", "a/b/c@R.ORG", "@", "a//b", `a\@b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrincipal(s, "DEFAULT.ORG")
		if err != nil {
			return
		}
		q, err := ParsePrincipal(p.String(), "OTHER.ORG")
		if err != nil || q.String() != p.String() {
			t.Fatalf("%q -> %q -> %q, %v", s, p, q, err)
		}
	})
}

// FuzzParseCCacheName: a name either is refused or yields a non-empty file
// name contained in it.
func FuzzParseCCacheName(f *testing.F) {
	for _, s := range []string{"FILE:/tmp/krb5cc_0", "/tmp/x", "KCM:", "a/b:c", ":x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseCCacheName(s)
		if err != nil {
			return
		}
		if p == "" || !strings.HasSuffix(s, p) {
			t.Fatalf("ParseCCacheName(%q) = %q", s, p)
		}
	})
}

// hugeAddressCount is a ticket cache whose one credential claims 2^31-1
// addresses: gokrb5 alone would try to allocate 64 GiB for them.
var hugeAddressCount = []byte{
	5, 4, 0, 0, // version 4, empty header
	0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, // default principal: no name, empty realm
	0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, // client
	0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, // server
	0, 18, 0, 0, 0, 0, // key type, empty key
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // times
	0, 0, 0, 0, 0, // is_skey, flags
	0x7f, 0xff, 0xff, 0xff, // address count
}

// TestCCacheWithAHugeCountIsRefused protects the process from a corrupt
// ticket cache: the count is refused before gokrb5 sizes a slice from it.
func TestCCacheWithAHugeCountIsRefused(t *testing.T) {
	if err := checkCCache(hugeAddressCount); err == nil || !strings.Contains(err.Error(), "count past the end") {
		t.Fatalf("checkCCache = %v; want a count error", err)
	}
	if _, err := parseCCache(hugeAddressCount); err == nil {
		t.Fatal("parseCCache accepted it")
	}
}

// FuzzParseKeytabAndCCache: the file parsers (gokrb5's, wrapped) return an
// error for malformed data, never panic.
func FuzzParseKeytabAndCCache(f *testing.F) {
	f.Add([]byte{5, 2, 0, 0, 0, 10, 0, 1})
	f.Add([]byte{5, 4, 0, 12, 0, 1, 0, 8})
	f.Add([]byte{5, 2, 0x7f, 0xff, 0xff, 0xff})
	f.Add(hugeAddressCount)
	f.Fuzz(func(t *testing.T, b []byte) {
		if kt, err := parseKeytab(b); err == nil && kt == nil {
			t.Fatal("nil keytab without an error")
		}
		if cc, err := parseCCache(b); err == nil && cc == nil {
			t.Fatal("nil ccache without an error")
		}
	})
}

// TestKrbCodeReadsGokrb5sErrorText protects the one place the package
// depends on gokrb5's error wording: the code of a KDC's KRB-ERROR, as
// gokrb5 wraps it, is found.
func TestKrbCodeReadsGokrb5sErrorText(t *testing.T) {
	sname := types.NewPrincipalName(1, "krbtgt/R")
	for code, want := range map[int32]string{
		errorcode.KRB_AP_ERR_SKEW:             "KRB_AP_ERR_SKEW",
		errorcode.KDC_ERR_PREAUTH_FAILED:      "KDC_ERR_PREAUTH_FAILED",
		errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
	} {
		e := messages.NewKRBError(sname, "R", code, "x")
		wrapped := krberror.Errorf(e, krberror.KDCError, "AS Exchange Error: kerberos error response from KDC")
		if got := krbCode(wrapped); got != want {
			t.Errorf("krbCode(%q) = %q; want %q", wrapped.Error(), got, want)
		}
	}
	if got := krbCode(krberror.NewErrorf(krberror.NetworkingError, "no route")); got != "" {
		t.Errorf("krbCode of a network error = %q", got)
	}
}

// FuzzMergeConfigs: merging krb5.conf texts never panics and names each
// section once (gokrb5 would keep only the last of two).
func FuzzMergeConfigs(f *testing.F) {
	f.Add("[libdefaults]\n default_realm = A\n", "[realms]\n A = {\n  kdc = k:88\n }\n[libdefaults]\n default_realm = B\n")
	f.Add("includedir /etc/krb5.conf.d/\n[x]\n", "[")
	f.Add("[ x]\n", "[x ]\n [x]\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		out := mergeConfigs([]string{a, b})
		seen := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			h := strings.TrimSpace(line)
			if !strings.HasPrefix(h, "[") || !strings.HasSuffix(h, "]") {
				continue
			}
			if name := strings.TrimSpace(h[1 : len(h)-1]); seen[name] {
				t.Fatalf("section %q twice in\n%s", name, out)
			} else {
				seen[name] = true
			}
		}
	})
}

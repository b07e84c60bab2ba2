package classad_test

import (
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

func TestParseOldAds(t *testing.T) {
	src := "Provider = \"box\"\nLocalUser = \"alice\"\nClientSecret = \"a\\\\b\\\"c\"\nN = 3\n\n\n" +
		"# comment\r\nProvider = \"gdrive\"\r\nHandle = \"\"\r\n"
	ads, err := classad.ParseOldAds(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(ads) != 2 {
		t.Fatalf("got %d ads, want 2", len(ads))
	}
	if s, _ := ads[0].Eval("clientsecret").StringValue(); s != `a\\b"c` {
		t.Errorf("ClientSecret = %q; want %q (old strings: only \\\" is an escape)", s, `a\\b"c`)
	}
	if n, _ := ads[0].Eval("N").IntValue(); n != 3 {
		t.Errorf("N = %d", n)
	}
	if s, _ := ads[1].Eval("Provider").StringValue(); s != "gdrive" {
		t.Errorf("second Provider = %q", s)
	}
	for _, bad := range []string{"= 1", "A 1", "A = ", "A = \"x", "A = 1 2"} {
		if _, err := classad.ParseOldAds(bad); err == nil {
			t.Errorf("ParseOldAds(%q) = nil error", bad)
		}
	}
	if ads, err := classad.ParseOldAds("\n\n"); err != nil || len(ads) != 0 {
		t.Errorf("empty input = %v, %v", ads, err)
	}
}

func FuzzParseOldAds(f *testing.F) {
	f.Add("Provider = \"box\"\nScopes = \"a,b\"\n\nProvider = \"x\"\n")
	f.Add("A = \"\\\\\"\"")
	f.Fuzz(func(t *testing.T, s string) {
		ads, err := classad.ParseOldAds(s)
		if err != nil {
			return
		}
		for _, ad := range ads {
			for _, n := range ad.Names() {
				_ = ad.Eval(n)
			}
		}
	})
}

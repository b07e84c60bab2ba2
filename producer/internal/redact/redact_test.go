package redact

import (
	"net/url"
	"strings"
	"testing"
)

// TestTextRemovesEchoedSecrets protects the logs from an issuer that echoes
// the refused request: neither the secrets sent (raw or form-encoded) nor
// anything token-shaped survives, and no control character forges a line.
func TestTextRemovesEchoedSecrets(t *testing.T) {
	const rt = "rt/abc+def=ghi"
	const secret = "s3cr3t-client"
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"
	opaque := strings.Repeat("Zk9", 20)
	in := "bad request grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt) + "&client_secret=" + secret +
		" raw " + rt + " jwt " + jwt + " opaque " + opaque + "\nFAKE LOG LINE\x1b[31m"
	out := Text(in, 1000, rt, secret)
	for _, leaked := range []string{rt, url.QueryEscape(rt), secret, jwt, opaque, "\n", "\x1b"} {
		if strings.Contains(out, leaked) {
			t.Errorf("%q survived: %q", leaked, out)
		}
	}
	if !strings.Contains(out, "bad request") || !strings.Contains(out, "FAKE LOG LINE") {
		t.Errorf("prose lost: %q", out)
	}
	if got := Text("invalid_grant: grant request is invalid", 1000); got != "invalid_grant: grant request is invalid" {
		t.Errorf("plain prose changed: %q", got)
	}
	if got := Text(strings.Repeat("a b ", 100), 16); len(got) != 16+len("...") {
		t.Errorf("not cut to 16 bytes: %q", got)
	}
}

func TestValidTokens(t *testing.T) {
	for tok, want := range map[string]bool{"abc.DEF-_~+/=": true, "": false, "a b": false, "a\nb": false, "a\x7fb": false, "é": false} {
		if got := ValidAccessToken(tok); got != want {
			t.Errorf("ValidAccessToken(%q) = %v; want %v", tok, got, want)
		}
	}
	for tok, want := range map[string]bool{"a b": true, "": false, "a\tb": false, "a\x00": false} {
		if got := ValidRefreshToken(tok); got != want {
			t.Errorf("ValidRefreshToken(%q) = %v; want %v", tok, got, want)
		}
	}
}

func FuzzText(f *testing.F) {
	f.Add("error refresh_token=abc", "abcd")
	f.Fuzz(func(t *testing.T, s, secret string) {
		out := Text(s, 256, secret)
		if len(secret) >= 4 && strings.Contains(out, secret) && !strings.Contains(Placeholder, secret) {
			// A secret may reappear only as part of the placeholder or
			// when the removal itself assembled it from the neighbours.
			if !strings.Contains(strings.ReplaceAll(s, secret, ""), secret) {
				t.Errorf("secret %q survived in %q", secret, out)
			}
		}
		for _, c := range []byte(out) {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("non-printable %q in %q", c, out)
			}
		}
		if len(out) > 256+3 {
			t.Fatalf("%d bytes", len(out))
		}
	})
}

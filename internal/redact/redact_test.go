package redact_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/credmon/credmon/internal/redact"
)

const (
	refreshToken = "rt-0123456789abcdefghij" // shorter than MinTokenLen: only the explicit list catches it
	clientSecret = "s3cr3t/with+form&chars"
	jwt          = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTc5MDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVzLTEyMzQ1Njc4OTA"
	opaque       = "8f14e45fceea167a5a36dedd4bea2543" // 32 hex: token-like
)

func TestTextRemovesSecretsInEveryForm(t *testing.T) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_secret": {clientSecret}}.Encode()
	for _, tt := range []struct{ name, in string }{
		{"raw", "bad token " + refreshToken + " for secret " + clientSecret},
		{"form-encoded body", "you sent: " + form},
		{"control characters spliced into the secret", "rt-0123456789\x00abcdefghij and s3cr3t/wi\x1bth+form&chars"},
		{"secret next to a long word", "x" + clientSecret + strings.Repeat("y", 100)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := redact.Text(tt.in, 1<<20, refreshToken, clientSecret)
			if strings.Contains(got, refreshToken) || strings.Contains(got, clientSecret) || strings.Contains(got, url.QueryEscape(clientSecret)) {
				t.Errorf("Text(%q) = %q: a secret survived", tt.in, got)
			}
			if !strings.Contains(got, redact.Placeholder) {
				t.Errorf("Text(%q) = %q: nothing marked as redacted", tt.in, got)
			}
		})
	}
}

func TestTextRemovesTokenLikeWords(t *testing.T) {
	for _, in := range []string{
		"token " + jwt + " expired",
		"grant " + opaque + " unknown",
		"client f81d4fae-7dec-11d0-a765-00a0c91e6bf6 unknown",                     // a UUID
		"Authorization: Basic " + strings.Repeat("QWxhZGRpbjpvcGVuIHNlc2FtZQ", 2), // base64 credential
		"refresh_token=" + url.QueryEscape("AbC/dEf+123/456+789/"+opaque),
	} {
		got := redact.Text(in, 1<<20)
		for _, w := range strings.Fields(strings.ReplaceAll(in, "=", " ")) {
			if len(w) >= redact.MinTokenLen && strings.Contains(got, w) {
				t.Errorf("Text(%q) = %q keeps %q", in, got, w)
			}
		}
	}
}

func TestTextKeepsOrdinaryDescriptions(t *testing.T) {
	for _, in := range []string{
		"The refresh token is invalid, expired or revoked (grant 12).",
		"unauthorized_client_authentication_failed",
		"invalid_target: resource https://storage.example.org not allowed",
		"client_id=my-client-2024 is not allowed to use scope storage.read:/",
	} {
		if got := redact.Text(in, 256); got != in {
			t.Errorf("Text(%q) = %q; want it unchanged", in, got)
		}
	}
}

func TestTextPrintableAndCut(t *testing.T) {
	in := "line one\nFAKE 11/23/26 Successfully renewed\r\x00\u00e9" + strings.Repeat(" a", 150)
	got := redact.Text(in, 64)
	if strings.ContainsAny(got, "\n\r\x00\u00e9") {
		t.Errorf("Text kept a control or non-ASCII character: %q", got)
	}
	if len(got) != 64+len("...") || !strings.HasSuffix(got, "...") {
		t.Errorf("Text(_, 64) = %d bytes %q; want 64 and a cut mark", len(got), got)
	}
	if got := redact.Text("short", 64); got != "short" {
		t.Errorf("Text(short) = %q", got)
	}
}

// A cut after the scrub: the secret straddling the limit is replaced, not
// halved into something that no longer matches.
func TestTextCutsAfterScrubbing(t *testing.T) {
	in := strings.Repeat("x ", 30) + clientSecret
	got := redact.Text(in, 64, clientSecret)
	if strings.Contains(got, clientSecret[:4]) {
		t.Errorf("Text = %q keeps the start of the secret", got)
	}
}

func TestErrorKeepsIdentityAndTimeout(t *testing.T) {
	inner := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	err := redact.Error(fmt.Errorf("malformed status %q: %w", "echo "+clientSecret, inner), 256, clientSecret)
	if strings.Contains(err.Error(), clientSecret) {
		t.Errorf("Error() = %q keeps the secret", err)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("errors.Is no longer sees the wrapped error")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Error("a timeout is no longer a timeout")
	}
	ue := &url.Error{Op: "Post", URL: "https://issuer.example.org/token", Err: err}
	if !ue.Timeout() {
		t.Error("url.Error around it lost Timeout")
	}
	if redact.Error(nil, 1) != nil {
		t.Error("Error(nil) != nil")
	}
}

func FuzzTextNeverKeepsSecret(f *testing.F) {
	f.Add("echo "+clientSecret, clientSecret)
	f.Add("a\x00b", "ab")
	f.Add(url.QueryEscape("x y/z"), "x y/z")
	f.Fuzz(func(t *testing.T, s, secret string) {
		got := redact.Text(s, 1<<20, secret)
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] > 0x7e {
				t.Fatalf("Text(%q) = %q has byte %#x", s, got, got[i])
			}
		}
		p := strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, secret)
		if len(p) >= 2 && !strings.Contains(redact.Placeholder, p) && strings.Contains(got, p) {
			t.Fatalf("Text(%q, secret %q) = %q keeps the secret", s, secret, got)
		}
	})
}

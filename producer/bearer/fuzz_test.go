package bearer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/producer/bearer"
)

// FuzzInspect checks that Inspect never panics, that what it returns is
// consistent, and that Satisfies and Describe accept any Inspect result.
func FuzzInspect(f *testing.F) {
	f.Add(mint(f, igwnClaims(t0)))
	f.Add(mint(f, jwt.MapClaims{"aud": []string{"a", "b"}, "scp": []string{"read:/ x"}, "exp": 1e300}))
	f.Add(mint(f, jwt.MapClaims{"exp": -1.5, "nbf": "x"}))
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		info, err := bearer.Inspect(tok)
		if err != nil {
			if info != nil {
				t.Fatalf("Inspect() = %+v with error %v", info, err)
			}
			return
		}
		for _, s := range info.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\n") {
				t.Errorf("scope %q is empty or has whitespace", s)
			}
		}
		if info.HasExpiry == info.Expiry.IsZero() && info.HasExpiry {
			t.Errorf("HasExpiry = %v with Expiry %v", info.HasExpiry, info.Expiry)
		}
		ok, why := bearer.Satisfies(info, t0, time.Hour, []string{"aud"}, []string{"storage.read:/a"})
		if ok == (why != "") {
			t.Errorf("Satisfies() = %v, %q", ok, why)
		}
		d := bearer.Describe(info, t0)
		if strings.ContainsAny(d, "\x1b\x00\r") {
			t.Errorf("Describe() output has control characters: %q", d)
		}
	})
}

// FuzzReadTokenFile writes arbitrary content to a token file and checks
// ReadTokenFile's contract: an error, or the content with BTD whitespace
// stripped, non-empty and made only of b64token characters.
func FuzzReadTokenFile(f *testing.F) {
	f.Add([]byte(mint(f, igwnClaims(t0)) + "\n"))
	f.Add([]byte(" \t\v\f\r\n"))
	f.Add([]byte("abc=\n"))
	f.Add([]byte("=abc"))
	f.Add([]byte("ab c"))
	f.Add([]byte("\x00abc"))
	f.Add([]byte("abc\u00a0"))
	p := filepath.Join(f.TempDir(), "bt_u1000")
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := bearer.ReadTokenFile(p)
		trimmed := strings.Trim(string(content), " \f\n\r\t\v")
		if err != nil {
			switch {
			case trimmed == "" && !errors.Is(err, bearer.ErrEmptyToken):
				t.Errorf("ReadTokenFile(%q) error = %v; want ErrEmptyToken", content, err)
			case trimmed != "" && !errors.Is(err, bearer.ErrInvalidToken):
				t.Errorf("ReadTokenFile(%q) error = %v; want ErrInvalidToken", content, err)
			}
			return
		}
		if tok != trimmed {
			t.Errorf("ReadTokenFile(%q) = %q; want %q", content, tok, trimmed)
		}
		body := strings.TrimRight(tok, "=")
		if body == "" || strings.Trim(body, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/") != "" {
			t.Errorf("ReadTokenFile(%q) = %q, not an RFC 6750 b64token", content, tok)
		}
		// A valid token must round-trip through WriteFile.
		if err := bearer.WriteFile(p, tok, bearer.WriteOptions{UID: -1, GID: -1, Newline: true}); err != nil {
			t.Errorf("WriteFile(%q) error = %v", tok, err)
		}
	})
}

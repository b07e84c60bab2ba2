package bearer_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// mint signs claims with HS256; Inspect does not verify, so the key is
// irrelevant.
func mint(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("test key, not verified"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// igwnClaims mimics the IGWN example token, expiring at exp.
func igwnClaims(exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"aud":   "ANY",
		"sub":   "igwnconda-scitoken@ligo.org",
		"uid":   "igwnconda",
		"ver":   "scitoken:2.0",
		"iss":   "https://cilogon.org/igwn",
		"scope": "gwdatafind.read read:/frames storage.read:/igwn",
		"iat":   exp.Add(-3 * time.Hour).Unix(),
		"nbf":   exp.Add(-3 * time.Hour).Unix(),
		"exp":   exp.Unix(),
		"jti":   "https://cilogon.org/oauth2/1234?type=accessToken&ts=1&version=v2.0&lifetime=10800000",
	}
}

// env is a fake Env.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// writeRaw writes content to dir/name with mode (exactly, despite umask).
func writeRaw(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to another uid")
	}
}

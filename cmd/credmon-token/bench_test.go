package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkGetFresh is the cron path of `get` when the token on disk is
// still good: the whole process (start, read, parse, decide, exit) against
// `cat` of the same file as the floor. The goal is under 5 ms.
func BenchmarkGetFresh(b *testing.B) {
	dir := b.TempDir()
	tokFile := filepath.Join(dir, "bt")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "robot", "aud": "https://storage.example.org", "scope": "storage.read:/data",
		"exp": time.Now().Add(3 * time.Hour).Unix(), "iat": time.Now().Unix(),
	}).SignedString([]byte("not-verified-here"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	const n = 200
	timeIt := func(name string, args ...string) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			cmd := exec.Command(name, args...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v %s", name, err, out)
			}
		}
		return time.Since(start) / n
	}
	b.ResetTimer()
	get := timeIt(binary, "get", "--account", "robot", "-o", tokFile, "--minsecs", "3600",
		"--audience", "https://storage.example.org", "--scope", "storage.read:/data")
	cat := timeIt("cat", tokFile)
	b.StopTimer()
	b.ReportMetric(float64(get)/float64(time.Millisecond), "get_fresh_ms")
	b.ReportMetric(float64(cat)/float64(time.Millisecond), "cat_ms")
	b.ReportMetric(float64(get)/float64(cat), "ratio_vs_cat")
}

package bearer_test

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/producer/bearer"
)

// BenchmarkFastPath measures credmon-token get's no-network path,
// ReadTokenFile + Inspect + Satisfies on a realistic IGWN-sized token
// (the goal is well under 5 ms), against the floor of a plain os.ReadFile
// of the same file. The fast-path line reports the ratio as "x-floor";
// with -v the parent also logs both figures.
func BenchmarkFastPath(b *testing.B) {
	p := filepath.Join(b.TempDir(), "bt_u1000")
	// RS256 with a 2048-bit key, as CILogon signs, for a realistic size.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, igwnClaims(time.Now().Add(3*time.Hour))).SignedString(key)
	if err != nil {
		b.Fatal(err)
	}
	if err := bearer.WriteFile(p, tok, bearer.WriteOptions{UID: -1, GID: -1, Newline: true}); err != nil {
		b.Fatal(err)
	}
	scopes := []string{"read:/frames/O4", "gwdatafind.read"}
	var floor, full time.Duration // per op, from each sub-benchmark's last run
	b.Run("floor=os.ReadFile", func(b *testing.B) {
		for b.Loop() {
			if _, err := os.ReadFile(p); err != nil {
				b.Fatal(err)
			}
		}
		floor = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("ReadTokenFile+Inspect+Satisfies", func(b *testing.B) {
		for b.Loop() {
			t, err := bearer.ReadTokenFile(p)
			if err != nil {
				b.Fatal(err)
			}
			info, err := bearer.Inspect(t)
			if err != nil {
				b.Fatal(err)
			}
			if ok, why := bearer.Satisfies(info, time.Now(), time.Hour, []string{"ANY"}, scopes); !ok {
				b.Fatal(why)
			}
		}
		full = b.Elapsed() / time.Duration(b.N)
		if floor > 0 {
			b.ReportMetric(float64(full)/float64(floor), "x-floor")
		}
	})
	if floor > 0 && full > 0 {
		b.Logf("token %d bytes: floor os.ReadFile %v/op, fast path %v/op, ratio %.1fx (goal < 5ms)",
			len(tok), floor, full, float64(full)/float64(floor))
	}
}

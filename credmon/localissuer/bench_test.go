package localissuer_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/localissuer"
)

// The Mint benchmarks measure a whole token (claims, JSON, base64, SHA-256,
// signature); the RawSign ones only the private-key operation on a digest
// of the same size. Mint/RawSign is the overhead of everything that is not
// cryptography: go test -bench 'Mint|RawSign' and divide.

func benchMint(b *testing.B, k *localissuer.Key) {
	m := &localissuer.Minter{Key: k, Config: baseConfig()}
	m.Config.AuthzGroupTemplate = "read:/groups/{groupname}"
	req := localissuer.Request{Username: "alice", Groups: []string{"physics", "cms"}, ExprScope: "compute.create", HasExprScope: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Mint(req); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRawSign(b *testing.B, k *localissuer.Key) {
	digest := sha256.Sum256([]byte("header.payload of a typical local token"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMintES256(b *testing.B)    { benchMint(b, esKey(b, "local")) }
func BenchmarkMintRS256(b *testing.B)    { benchMint(b, rsKey(b, "rsa-1")) }
func BenchmarkRawSignES256(b *testing.B) { benchRawSign(b, esKey(b, "local")) }
func BenchmarkRawSignRS256(b *testing.B) { benchRawSign(b, rsKey(b, "rsa-1")) }

// BenchmarkBuildClaims is the pure part of Mint (templates, version rules).
func BenchmarkBuildClaims(b *testing.B) {
	cfg := baseConfig()
	cfg.AuthzGroupTemplate = "read:/groups/{groupname}"
	req := localissuer.Request{Username: "alice", Groups: []string{"physics", "cms"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := localissuer.BuildClaims(cfg, req, fixedNow, fixedJTI); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMintRate prints what the goal is about: tokens minted
// per second per core as a ratio to the raw signing rate of the same key in
// a bare loop (goal >= 0.8). Both loops run in the same process, one after
// the other in short interleaved rounds so that a noisy neighbour hits both
// alike; it runs on one goroutine, so the rates are per core. It manages
// its own timing, so `-benchtime=1x` (make bench) gives real figures.
func BenchmarkMintRate(b *testing.B) {
	for _, kc := range []struct {
		name string
		key  *localissuer.Key
		n    int
	}{{"ES256", esKey(b, "local"), 3000}, {"RS256", rsKey(b, "rsa-1"), 150}} {
		b.Run(kc.name, func(b *testing.B) {
			m := &localissuer.Minter{Key: kc.key, Config: baseConfig()}
			req := localissuer.Request{Username: "alice"}
			digest := sha256.Sum256([]byte("header.payload of a typical local token"))
			var mintT, rawT time.Duration
			for round := 0; round < 5; round++ {
				t0 := time.Now()
				for i := 0; i < kc.n; i++ {
					if _, err := m.Mint(req); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				for i := 0; i < kc.n; i++ {
					if _, err := kc.key.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
						b.Fatal(err)
					}
				}
				mintT += t1.Sub(t0)
				rawT += time.Since(t1)
			}
			total := float64(5 * kc.n)
			b.ReportMetric(total/mintT.Seconds(), "mints/s")
			b.ReportMetric(total/rawT.Seconds(), "raw_signs/s")
			b.ReportMetric(rawT.Seconds()/mintT.Seconds(), "mint_vs_raw_ratio")
		})
	}
}

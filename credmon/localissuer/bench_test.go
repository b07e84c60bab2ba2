package localissuer_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

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
		if _, _, err := m.Mint(req); err != nil {
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

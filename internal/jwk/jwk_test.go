package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
)

func TestPublicKeyRoundTrip(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, MinRSABits)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pub  interface{ Equal(crypto.PublicKey) bool }
		alg  string
	}{
		{"ES256", &ec.PublicKey, AlgES256},
		{"RS256", &rk.PublicKey, AlgRS256},
	} {
		j, err := FromPublicKey(tc.pub, tc.alg, "k1")
		if err != nil {
			t.Fatalf("%s: FromPublicKey: %v", tc.name, err)
		}
		// Through JSON, as a verifier fetches it.
		b, _ := json.Marshal(Set{Keys: []JWK{j}})
		var set Set
		if err := json.Unmarshal(b, &set); err != nil {
			t.Fatal(err)
		}
		got, alg, err := set.Keys[0].PublicKey()
		if err != nil {
			t.Fatalf("%s: PublicKey: %v", tc.name, err)
		}
		if alg != tc.alg || !tc.pub.Equal(got) {
			t.Errorf("%s: round trip gave alg %q, equal %v", tc.name, alg, tc.pub.Equal(got))
		}
	}
}

// TestPublicKeyRefusesContradictions pins the rules that keep a key
// published for one algorithm from verifying another, and weak or
// malformed keys from being rebuilt at all.
func TestPublicKeyRefusesContradictions(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := FromPublicKey(&ec.PublicKey, AlgES256, "k")
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	weak, _ := FromPublicKey(&small.PublicKey, AlgRS256, "w")
	for _, tc := range []struct {
		name string
		mut  func(j *JWK)
		base JWK
		want string
	}{
		{"EC key claiming RS256", func(j *JWK) { j.Alg = AlgRS256 }, good, "does not match"},
		{"P-384 curve", func(j *JWK) { j.Crv = "P-384" }, good, "unsupported curve"},
		{"short x", func(j *JWK) { j.X = j.X[:10] }, good, "32-byte"},
		{"unknown kty", func(j *JWK) { j.Kty = "OKP" }, good, "unsupported kty"},
		{"RSA below 2048 bits", func(j *JWK) {}, weak, "at least 2048"},
		{"RSA key claiming ES256", func(j *JWK) { j.Alg = AlgES256 }, weak, "does not match"},
	} {
		j := tc.base
		tc.mut(&j)
		if _, _, err := j.PublicKey(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want it to mention %q", tc.name, err, tc.want)
		}
	}
}

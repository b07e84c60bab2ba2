package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
)

// The JWS algorithms a JWK here can carry.
const (
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// MinRSABits is the smallest RSA modulus accepted for RS256. RFC 7518 §3.3
// says "a key of size 2048 bits or larger MUST be used"; Go's crypto/rsa
// would still sign with 1024-bit keys.
const MinRSABits = 2048

// JWK is a public JSON Web Key (RFC 7517) as SciTokens verifiers read it:
// scitokens-cpp selects the key by kid, takes the algorithm from alg (or
// derives it from kty/crv) and rebuilds the key from x/y or n/e.
type JWK struct {
	Kty string `json:"kty"`           // "EC" or "RSA"
	Use string `json:"use,omitempty"` // "sig"
	Alg string `json:"alg,omitempty"` // "ES256" or "RS256"
	Kid string `json:"kid,omitempty"`
	Crv string `json:"crv,omitempty"` // EC: "P-256"
	X   string `json:"x,omitempty"`   // EC: base64url, 32 bytes
	Y   string `json:"y,omitempty"`   // EC: base64url, 32 bytes
	N   string `json:"n,omitempty"`   // RSA: base64url modulus, no leading zeros
	E   string `json:"e,omitempty"`   // RSA: base64url exponent ("AQAB")
}

var b64 = base64.RawURLEncoding

// FromPublicKey returns pub as a JWK with alg, kid and use "sig". EC
// coordinates are the fixed 32-byte big-endian encodings RFC 7518 §6.2.1.2
// requires (a shorter x would be rejected by strict parsers).
func FromPublicKey(pub crypto.PublicKey, alg, kid string) (JWK, error) {
	j := JWK{Use: "sig", Alg: alg, Kid: kid}
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		// Uncompressed point: 0x04 || X (32) || Y (32).
		pt, err := pub.Bytes()
		if err != nil {
			return JWK{}, fmt.Errorf("encoding EC public key: %w", err)
		}
		if len(pt) != 65 {
			return JWK{}, fmt.Errorf("EC public key is not on P-256")
		}
		j.Kty, j.Crv = "EC", "P-256"
		j.X, j.Y = b64.EncodeToString(pt[1:33]), b64.EncodeToString(pt[33:65])
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64.EncodeToString(pub.N.Bytes())
		j.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	default:
		return JWK{}, fmt.Errorf("unsupported public key type %T", pub)
	}
	return j, nil
}

// PublicKey rebuilds the public key of j. It refuses keys whose alg (when
// present) contradicts kty/crv, so that a key published for RS256 can never
// verify an ES256 signature or the reverse.
func (j JWK) PublicKey() (crypto.PublicKey, string, error) {
	switch j.Kty {
	case "EC":
		if j.Crv != "P-256" {
			return nil, "", fmt.Errorf("jwk %q: unsupported curve %q", j.Kid, j.Crv)
		}
		if j.Alg != "" && j.Alg != AlgES256 {
			return nil, "", fmt.Errorf("jwk %q: alg %q does not match an EC P-256 key", j.Kid, j.Alg)
		}
		x, errX := b64.DecodeString(j.X)
		y, errY := b64.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, "", fmt.Errorf("jwk %q: x and y must be 32-byte base64url values", j.Kid)
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			return nil, "", fmt.Errorf("jwk %q: %w", j.Kid, err)
		}
		return pub, AlgES256, nil
	case "RSA":
		if j.Alg != "" && j.Alg != AlgRS256 {
			return nil, "", fmt.Errorf("jwk %q: alg %q does not match an RSA key", j.Kid, j.Alg)
		}
		n, errN := b64.DecodeString(j.N)
		e, errE := b64.DecodeString(j.E)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, "", fmt.Errorf("jwk %q: n and e must be base64url values", j.Kid)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < MinRSABits {
			return nil, "", fmt.Errorf("jwk %q: RSA key has %d bits, want at least %d", j.Kid, pub.N.BitLen(), MinRSABits)
		}
		return pub, AlgRS256, nil
	default:
		return nil, "", fmt.Errorf("jwk %q: unsupported kty %q", j.Kid, j.Kty)
	}
}

// Set is the JSON Web Key Set document (RFC 7517 §5).
type Set struct {
	Keys []JWK `json:"keys"`
}

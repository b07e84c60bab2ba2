package localissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
)

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

// PublicJWK returns the public half of k as a JWK with kid, alg and use
// "sig". EC coordinates are the fixed 32-byte big-endian encodings RFC 7518
// §6.2.1.2 requires (a shorter x would be rejected by strict parsers).
func (k *Key) PublicJWK() (JWK, error) {
	if err := k.check(); err != nil {
		return JWK{}, err
	}
	j := JWK{Use: "sig", Alg: k.Algorithm, Kid: k.KeyID}
	switch pub := k.Signer.Public().(type) {
	case *ecdsa.PublicKey:
		// Uncompressed point: 0x04 || X (32) || Y (32).
		pt, err := pub.Bytes()
		if err != nil {
			return JWK{}, fmt.Errorf("encoding EC public key: %w", err)
		}
		j.Kty, j.Crv = "EC", "P-256"
		j.X, j.Y = b64.EncodeToString(pt[1:33]), b64.EncodeToString(pt[33:65])
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64.EncodeToString(pub.N.Bytes())
		j.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
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

// JWKSet is the JSON Web Key Set document (RFC 7517 §5).
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the key set {"keys": [...]} publishing the public halves of
// keys, in order. Key IDs must be distinct: verifiers pick the first entry
// whose kid matches, so a duplicate would shadow a key.
func JWKS(keys ...*Key) ([]byte, error) {
	set := JWKSet{Keys: make([]JWK, 0, len(keys))}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		j, err := k.PublicJWK()
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if seen[j.Kid] {
			return nil, fmt.Errorf("key %d: duplicate kid %q", i, j.Kid)
		}
		seen[j.Kid] = true
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

// OpenIDConfigurationDoc is the document served at
// <issuer>/.well-known/openid-configuration.
type OpenIDConfigurationDoc struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// OpenIDConfiguration returns the discovery document a SciTokens verifier
// fetches from <issuer>/.well-known/openid-configuration. scitokens-cpp
// (Validator::get_public_keys_from_web) and python-scitokens' key cache read
// only "jwks_uri" from it; "issuer" is included because RFC 8414 §3.3 and
// OpenID Discovery §4.3 require it to equal the issuer the document was
// fetched for. No endpoints are published: the local issuer has no token,
// authorization or userinfo endpoint, and advertising one would be a lie.
//
// Both values must be absolute URLs. Verifiers require https (scitokens-cpp
// rejects any other scheme); plain http is accepted here for tests.
func OpenIDConfiguration(issuer, jwksURI string) ([]byte, error) {
	for _, u := range []struct{ name, v string }{{"issuer", issuer}, {"jwks_uri", jwksURI}} {
		p, err := url.Parse(u.v)
		if err != nil {
			return nil, fmt.Errorf("openid configuration %s %q: %w", u.name, u.v, err)
		}
		if !p.IsAbs() || p.Host == "" {
			return nil, fmt.Errorf("openid configuration %s %q: %w", u.name, u.v, errNotAbsolute)
		}
	}
	return json.Marshal(OpenIDConfigurationDoc{Issuer: issuer, JWKSURI: jwksURI})
}

var errNotAbsolute = errors.New("not an absolute URL")

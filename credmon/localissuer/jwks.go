package localissuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/credmon/credmon/internal/jwk"
)

// JWK is a public JSON Web Key (RFC 7517) as SciTokens verifiers read it:
// scitokens-cpp selects the key by kid, takes the algorithm from alg (or
// derives it from kty/crv) and rebuilds the key from x/y or n/e.
type JWK = jwk.JWK

// JWKSet is the JSON Web Key Set document (RFC 7517 §5).
type JWKSet = jwk.Set

// PublicJWK returns the public half of k as a JWK with kid, alg and use
// "sig".
func (k *Key) PublicJWK() (JWK, error) {
	if err := k.check(); err != nil {
		return JWK{}, err
	}
	return jwk.FromPublicKey(k.Signer.Public(), k.Algorithm, k.KeyID)
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

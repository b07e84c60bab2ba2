package web

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/jwk"
)

// JWKSPath is where the app serves the local issuer's key set: the Python
// app's /.well-known/jwks-uri (jwks.json is served too).
const JWKSPath = "/.well-known/jwks-uri"

// IssuerDocuments builds the local issuer's OpenID configuration and JWKS
// from the public keys (LOCAL_CREDMON_PUBLIC_KEY, readable by the app's
// user, unlike the private key) of the local providers, which must share
// one issuer. Each key is published once, under its KEY_ID.
func IssuerDocuments(locals []*knobs.Local) (oidc, jwks []byte, err error) {
	if len(locals) == 0 {
		return nil, nil, nil
	}
	issuer := locals[0].Issuer
	set := jwk.Set{Keys: []jwk.JWK{}}
	seen := map[string]bool{}
	for _, l := range locals {
		if l.Issuer != issuer {
			return nil, nil, fmt.Errorf("local providers %s and %s have different issuers", locals[0].Name, l.Name)
		}
		if seen[l.KeyID] {
			continue
		}
		seen[l.KeyID] = true
		j, err := publicJWK(l.PublicKey, l.Algorithm, l.KeyID)
		if err != nil {
			return nil, nil, fmt.Errorf("local provider %s: %w", l.Name, err)
		}
		set.Keys = append(set.Keys, j)
	}
	oidc, err = localissuer.OpenIDConfiguration(issuer, strings.TrimRight(issuer, "/")+JWKSPath)
	if err != nil {
		return nil, nil, err
	}
	jwks, err = json.Marshal(set)
	return oidc, jwks, err
}

// publicJWK reads a PEM public key (PKIX "PUBLIC KEY", as the credmon's
// key generation writes it) as a JWK.
func publicJWK(path, alg, kid string) (jwk.JWK, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return jwk.JWK{}, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return jwk.JWK{}, fmt.Errorf("%s: no PEM PUBLIC KEY block", path)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return jwk.JWK{}, fmt.Errorf("%s: %w", path, err)
	}
	return jwk.FromPublicKey(pub, alg, kid)
}

package oidcprovider

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/internal/jwk"
)

// VerifyAccessToken checks that token is a JWT access token issued by this
// provider — signature (RS256 or ES256) against the provider's JWKS, typ
// at+jwt, iss, and exp — and returns its claims (iss, sub, aud, scope,
// client_id, jti, iat, exp). It fails the test otherwise.
func (p *Provider) VerifyAccessToken(t TB, token string) jwt.MapClaims {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	claims, err := p.ParseAccessToken(ctx, token)
	if err != nil {
		t.Fatalf("verifying access token: %v", err)
	}
	return claims
}

// ParseAccessToken is VerifyAccessToken returning an error instead of
// failing the test, for tests that expect a token to be rejected (expired,
// or signed by keys from before a Restart).
func (p *Provider) ParseAccessToken(ctx context.Context, token string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(token, claims,
		func(tok *jwt.Token) (any, error) {
			kid, _ := tok.Header["kid"].(string)
			return p.key(ctx, kid)
		},
		jwt.WithValidMethods([]string{"RS256", "ES256"}),
		jwt.WithIssuer(p.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		return nil, err
	}
	// RFC 9068 §2.1: JWT access tokens carry typ at+jwt, which is what
	// tells them apart from ID tokens signed with the same keys.
	if typ, _ := parsed.Header["typ"].(string); typ != "at+jwt" {
		return nil, fmt.Errorf("token typ is %q; want at+jwt", typ)
	}
	return claims, nil
}

// key returns the public key for kid, fetching the JWKS when the cache does
// not have it (first use, or new keys after Restart).
func (p *Provider) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	p.mu.Lock()
	k, ok := p.keys[kid]
	p.mu.Unlock()
	if ok {
		return k, nil
	}
	keys, err := p.fetchJWKS(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.keys = keys
	p.mu.Unlock()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key with kid %q in %s", kid, p.JWKSURL)
}

func (p *Provider) fetchJWKS(ctx context.Context) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWKS: HTTP %d", resp.StatusCode)
	}
	var set struct {
		Keys []jwk.JWK `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		pub, _, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("JWKS key %q: %w", k.Kid, err)
		}
		keys[k.Kid] = pub
	}
	return keys, nil
}

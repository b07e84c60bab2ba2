package localissuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifyOptions says what Verify checks besides the signature.
type VerifyOptions struct {
	Issuer   string           // when set, "iss" must equal it
	Audience string           // when set, "aud" (string or array) must contain it
	Now      func() time.Time // nil means time.Now
	Leeway   time.Duration    // clock skew allowed on exp, nbf and iat
}

// Verify checks token against the key set jwks (as JWKS produces or an
// issuer publishes) and returns its claims. It checks what a SciTokens
// verifier checks before authorization:
//
//   - the algorithm is ES256 or RS256 (never "none", never HMAC: a public
//     key must not be usable as an HMAC secret);
//   - the key is the JWKS entry whose kid equals the header's kid; a token
//     without kid is accepted only when the set has exactly one key (what
//     scitokens-cpp's find_key_id does); the key's type must suit the
//     header's alg;
//   - the signature;
//   - exp is present and not past, nbf and iat (when present) are not in
//     the future, each with opts.Leeway;
//   - iss and aud as opts asks.
//
// Claims are decoded by encoding/json, so numbers are float64.
func Verify(token string, jwks []byte, opts VerifyOptions) (jwt.MapClaims, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("parsing jwks: %w", err)
	}
	if set.Keys == nil {
		return nil, errors.New("parsing jwks: no \"keys\" array")
	}
	keys := make([]JWK, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var j JWK
		// An entry that is not an object is skipped, as scitokens-cpp
		// skips it; only a matching kid decides.
		if json.Unmarshal(raw, &j) == nil {
			keys = append(keys, j)
		}
	}

	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{AlgES256, AlgRS256}),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		popts = append(popts, jwt.WithAudience(opts.Audience))
	}
	keyfunc := func(t *jwt.Token) (any, error) {
		alg, _ := t.Header["alg"].(string)
		j, err := selectKey(keys, t.Header["kid"])
		if err != nil {
			return nil, err
		}
		pub, keyAlg, err := j.PublicKey()
		if err != nil {
			return nil, err
		}
		if keyAlg != alg {
			return nil, fmt.Errorf("token alg %s does not match key %q (%s)", alg, j.Kid, keyAlg)
		}
		return pub, nil
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.NewParser(popts...).ParseWithClaims(token, claims, keyfunc); err != nil {
		return nil, err
	}
	return claims, nil
}

func selectKey(keys []JWK, kidv any) (JWK, error) {
	if kidv == nil {
		if len(keys) != 1 {
			return JWK{}, fmt.Errorf("token has no kid and the key set has %d keys", len(keys))
		}
		return keys[0], nil
	}
	kid, ok := kidv.(string)
	if !ok {
		return JWK{}, fmt.Errorf("token kid is a %T, not a string", kidv)
	}
	for _, j := range keys {
		if j.Kid == kid {
			return j, nil
		}
	}
	return JWK{}, fmt.Errorf("key id %q is not in the key set", kid)
}

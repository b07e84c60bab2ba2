package localissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sign returns the compact JWS of claims signed with k. The header is
// {"alg": k.Algorithm, "kid": k.KeyID, "typ": "JWT"}, what PyJWT writes for
// python-scitokens (jwt.encode(..., headers={'kid': key_id})); like PyJWT,
// golang-jwt serialises the header with sorted keys.
func (k *Key) Sign(claims jwt.Claims) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	method, key := k.method()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = k.KeyID
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("signing token with %s key %q: %w", k.Algorithm, k.KeyID, err)
	}
	return s, nil
}

// method picks golang-jwt's own signing method for in-memory keys, and an
// adapter over crypto.Signer for anything else (golang-jwt's methods accept
// only *ecdsa.PrivateKey and *rsa.PrivateKey).
func (k *Key) method() (jwt.SigningMethod, any) {
	switch s := k.Signer.(type) {
	case *ecdsa.PrivateKey:
		return jwt.SigningMethodES256, s
	case *rsa.PrivateKey:
		return jwt.SigningMethodRS256, s
	}
	return signerMethod{alg: k.Algorithm}, k.Signer
}

// signerMethod signs with any crypto.Signer. It is not registered with
// golang-jwt (parsing never selects it); verification delegates to the
// standard method of the same name.
type signerMethod struct{ alg string }

func (m signerMethod) Alg() string { return m.alg }

func (m signerMethod) Verify(signingString string, sig []byte, key any) error {
	return jwt.GetSigningMethod(m.alg).Verify(signingString, sig, key)
}

func (m signerMethod) Sign(signingString string, key any) ([]byte, error) {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s sign expects a crypto.Signer, got %T", m.alg, key)
	}
	digest := sha256.Sum256([]byte(signingString))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	if m.alg != AlgES256 {
		return sig, nil
	}
	// crypto.Signer returns ECDSA signatures as ASN.1 SEQUENCE{r, s}; JWS
	// wants r and s as two 32-byte big-endian integers (RFC 7518 §3.4).
	return ecdsaDERToRaw(sig, 32)
}

// ecdsaDERToRaw converts an ASN.1 DER ECDSA signature to r||s with each
// half size bytes long.
func ecdsaDERToRaw(der []byte, size int) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("malformed ECDSA signature from signer")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 8*size || rs.S.BitLen() > 8*size {
		return nil, errors.New("ECDSA signature from signer out of range")
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// Minter mints tokens for one local-issuer provider. It is safe for
// concurrent use if Key.Signer is (crypto/ecdsa and crypto/rsa keys are).
type Minter struct {
	Key    *Key
	Config Config
	Now    func() time.Time // nil means time.Now
}

// Mint builds the claims for req (the BuildClaims rules, with a fresh
// NewJTI) and signs them. It returns the compact JWT. This is the daemon's
// path: claims are encoded from a struct and the JWS is assembled here, with
// golang-jwt's own signing method doing the hashing and signature.
func (m *Minter) Mint(req Request) (string, error) {
	cs, err := buildClaimSet(m.Config, req, m.now(), NewJTI())
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(cs)
	if err != nil {
		return "", err
	}
	return m.Key.signPayload(payload)
}

// MintClaims is Mint that also returns the claims, as a map (BuildClaims),
// signed through golang-jwt's Token API: the reference path, for tools and
// tests.
func (m *Minter) MintClaims(req Request) (token string, claims jwt.MapClaims, err error) {
	claims, err = BuildClaims(m.Config, req, m.now(), NewJTI())
	if err != nil {
		return "", nil, err
	}
	token, err = m.Key.Sign(claims)
	if err != nil {
		return "", nil, err
	}
	return token, claims, nil
}

func (m *Minter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// signPayload returns the compact JWS of an already encoded payload, with
// the same header and segments Sign produces (golang-jwt marshals the
// header map with sorted keys: alg, kid, typ).
func (k *Key) signPayload(payload []byte) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	kid, err := json.Marshal(k.KeyID)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	header := `{"alg":"` + k.Algorithm + `","kid":` + string(kid) + `,"typ":"JWT"}`
	sigLen := 64 // ES256: r||s
	if pub, ok := k.Signer.Public().(*rsa.PublicKey); ok {
		sigLen = pub.Size()
	}
	n := enc.EncodedLen(len(header)) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+enc.EncodedLen(sigLen)) // one allocation for the whole token
	enc.Encode(buf, []byte(header))
	hl := enc.EncodedLen(len(header))
	buf[hl] = '.'
	enc.Encode(buf[hl+1:], payload)
	method, key := k.method()
	sig, err := method.Sign(string(buf), key)
	if err != nil {
		return "", fmt.Errorf("signing token with %s key %q: %w", k.Algorithm, k.KeyID, err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// EncodeUse returns the content of a local-issuer .use file (docs/htcondor-contract.md#use),
// byte for byte what LocalCredmon.write_access_token writes:
//
//   - asJSON (TOKEN_USE_JSON, the default): json.dumps({"access_token":
//     token, "expires_in": int(lifetime)}), i.e. `{"access_token": "<JWT>",
//     "expires_in": 1200}` with Python's ", " and ": " separators, keys in
//     that order, on one line (multifile_curl_plugin parses JSON .use files
//     line by line) and without a trailing newline;
//   - otherwise the bare token and "\n".
//
// The empty-token files written for AUTHZ_GROUP_REQUIREMENT non-members
// (HTCONDOR-3397) are EncodeUse("", lifetime, asJSON).
func EncodeUse(token string, lifetime time.Duration, asJSON bool) []byte {
	if !asJSON {
		return append([]byte(token), '\n')
	}
	b := make([]byte, 0, len(token)+48)
	b = append(b, `{"access_token": `...)
	b = appendPyJSONString(b, token)
	b = append(b, `, "expires_in": `...)
	b = strconv.AppendInt(b, int64(lifetime/time.Second), 10)
	return append(b, '}')
}

// appendPyJSONString appends s as json.dumps quotes it with its default
// ensure_ascii=True: `"` and `\` escaped, \b \f \n \r \t by name, other
// control characters, DEL and every non-ASCII character as \uXXXX (UTF-16
// surrogate pairs above U+FFFF). A JWT is plain ASCII, so only the quotes
// are ever added in practice; this keeps EncodeUse exact for any input.
// Invalid UTF-8 bytes become U+FFFD (Python strings cannot hold them).
func appendPyJSONString(b []byte, s string) []byte {
	const hexdig = "0123456789abcdef"
	u4 := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hexdig[r>>12&0xf], hexdig[r>>8&0xf], hexdig[r>>4&0xf], hexdig[r&0xf])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20 || r == 0x7f: // outside ' '..'~': ensure_ascii escapes DEL too
			b = u4(b, r)
		case r < 0x80:
			b = append(b, byte(r))
		case r < 0x10000:
			b = u4(b, r)
		default:
			r -= 0x10000
			b = u4(b, 0xd800+(r>>10))
			b = u4(b, 0xdc00+(r&0x3ff))
		}
	}
	return append(b, '"')
}

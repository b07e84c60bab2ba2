package localissuer_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/localissuer"
)

// keyFile is one PEM private key and what it holds.
type keyFile struct {
	name string
	pem  []byte
	kind string // "EC" (P-256) or "RSA" (>= 2048 bits)
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// goKeyFiles encodes the Go-generated keys in each PEM encoding that fits.
func goKeyFiles(t *testing.T) []keyFile {
	ec, rk := goKeys(t)
	sec1 := must(x509.MarshalECPrivateKey(ec))(t)
	ec8 := must(x509.MarshalPKCS8PrivateKey(ec))(t)
	rsa8 := must(x509.MarshalPKCS8PrivateKey(rk))(t)
	return []keyFile{
		{"go/EC/SEC1", pemOf("EC PRIVATE KEY", sec1), "EC"},
		{"go/EC/PKCS8", pemOf("PRIVATE KEY", ec8), "EC"},
		{"go/RSA/PKCS1", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), "RSA"},
		{"go/RSA/PKCS8", pemOf("PRIVATE KEY", rsa8), "RSA"},
	}
}

var (
	opensslOnce  sync.Once
	opensslFiles map[string][]byte
	opensslErr   string
)

// opensslKeyFiles generates keys with the openssl command line, once per
// run: the encodings real sites have (scitokens-admin-create-key and
// openssl both produce these).
func opensslKeyFiles(t *testing.T) map[string][]byte {
	t.Helper()
	ossl := tool(t, "openssl")
	opensslOnce.Do(func() {
		dir, err := os.MkdirTemp("", "localissuer-openssl-")
		if err != nil {
			opensslErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		cmds := map[string][]string{
			"ec-sec1-params": {"ecparam", "-name", "prime256v1", "-genkey"},
			"ec-sec1":        {"ecparam", "-name", "prime256v1", "-genkey", "-noout"},
			"ec-pkcs8":       {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
			"ec-p384":        {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"},
			"ec-k256":        {"ecparam", "-name", "secp256k1", "-genkey", "-noout"},
			"rsa-pkcs1":      {"genrsa", "-traditional", "2048"},
			"rsa-pkcs8":      {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
			"rsa-1024":       {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"},
			"ed25519":        {"genpkey", "-algorithm", "ED25519"},
		}
		opensslFiles = map[string][]byte{}
		for name, args := range cmds {
			out, err := execOut(ossl, nil, args...)
			if err != nil {
				opensslErr = name + ": " + err.Error()
				return
			}
			opensslFiles[name] = out
		}
		// Encrypted variants of the P-256 key: PKCS#8 and legacy PEM.
		in := filepath.Join(dir, "ec.pem")
		if err := os.WriteFile(in, opensslFiles["ec-sec1"], 0o600); err != nil {
			opensslErr = err.Error()
			return
		}
		rsaIn := filepath.Join(dir, "rsa.pem")
		if err := os.WriteFile(rsaIn, opensslFiles["rsa-pkcs1"], 0o600); err != nil {
			opensslErr = err.Error()
			return
		}
		for name, args := range map[string][]string{
			"ec-pkcs8-encrypted":   {"pkcs8", "-topk8", "-in", in, "-v2", "aes-256-cbc", "-passout", "pass:secret"},
			"ec-legacy-encrypted":  {"ec", "-in", in, "-aes256", "-passout", "pass:secret"},
			"rsa-legacy-encrypted": {"rsa", "-in", rsaIn, "-traditional", "-aes256", "-passout", "pass:secret"},
			"ec-pub":               {"pkey", "-in", in, "-pubout"},
		} {
			out, err := execOut(ossl, nil, args...)
			if err != nil {
				opensslErr = name + ": " + err.Error()
				return
			}
			opensslFiles[name] = out
		}
	})
	if opensslErr != "" {
		t.Fatalf("generating keys with openssl: %s", opensslErr)
	}
	return opensslFiles
}

// TestParsePrivateKeyPEMMatrix loads every encoding (SEC1, PKCS#1, PKCS#8)
// of keys made by Go and by openssl under both algorithms: the key type
// must match the algorithm, and a loaded key must sign tokens that verify.
func TestParsePrivateKeyPEMMatrix(t *testing.T) {
	files := goKeyFiles(t)
	o := opensslKeyFiles(t)
	files = append(files,
		keyFile{"openssl/EC/SEC1+EC PARAMETERS block", o["ec-sec1-params"], "EC"},
		keyFile{"openssl/EC/SEC1", o["ec-sec1"], "EC"},
		keyFile{"openssl/EC/PKCS8", o["ec-pkcs8"], "EC"},
		keyFile{"openssl/RSA/PKCS1", o["rsa-pkcs1"], "RSA"},
		keyFile{"openssl/RSA/PKCS8", o["rsa-pkcs8"], "RSA"},
	)
	if !bytes.Contains(o["ec-sec1-params"], []byte("BEGIN EC PARAMETERS")) || !bytes.Contains(o["rsa-pkcs1"], []byte("BEGIN RSA PRIVATE KEY")) {
		t.Fatal("openssl did not produce the expected PEM blocks")
	}
	for _, f := range files {
		for _, alg := range []string{localissuer.AlgES256, localissuer.AlgRS256} {
			t.Run(f.name+"/"+alg, func(t *testing.T) {
				k, err := localissuer.ParsePrivateKeyPEM(f.pem, alg, "kid-1")
				match := (f.kind == "EC") == (alg == localissuer.AlgES256)
				if !match {
					if !errors.Is(err, localissuer.ErrKeyMismatch) {
						t.Fatalf("ParsePrivateKeyPEM(%s key, %s) error = %v; want ErrKeyMismatch", f.kind, alg, err)
					}
					if !strings.Contains(err.Error(), "PRIVATE_KEY_ALGORITHM") {
						t.Errorf("error %q does not say which knob to change", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				eq(t, "Algorithm", k.Algorithm, alg)
				eq(t, "KeyID", k.KeyID, "kid-1")
				jwks := must(localissuer.JWKS(k))(t)
				m := &localissuer.Minter{Key: k, Config: baseConfig()}
				tok, err := m.Mint(localissuer.Request{Username: "alice"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := localissuer.Verify(tok, jwks, localissuer.VerifyOptions{Issuer: "https://ap.example.org"}); err != nil {
					t.Fatalf("Verify(minted token) = %v", err)
				}
			})
		}
	}
}

// TestParsedKeyMatchesOpenSSL checks that Go reads the same key openssl
// does: the public key Go derives equals `openssl pkey -pubout`.
func TestParsedKeyMatchesOpenSSL(t *testing.T) {
	o := opensslKeyFiles(t)
	k := must(localissuer.ParsePrivateKeyPEM(o["ec-sec1"], localissuer.AlgES256, "local"))(t)
	der := must(x509.MarshalPKIXPublicKey(k.Signer.Public()))(t)
	eq(t, "public key PEM", string(pemOf("PUBLIC KEY", der)), string(o["ec-pub"]))
}

func TestParsePrivateKeyPEMErrors(t *testing.T) {
	o := opensslKeyFiles(t)
	ec, _ := goKeys(t)
	sec1 := must(x509.MarshalECPrivateKey(ec))(t)
	pub := must(x509.MarshalPKIXPublicKey(ec.Public()))(t)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed8 := must(x509.MarshalPKCS8PrivateKey(edPriv))(t)

	tests := []struct {
		name    string
		pem     []byte
		alg     string
		kid     string
		wantIs  error
		wantMsg string
	}{
		{"empty input", nil, "ES256", "k", localissuer.ErrNoPrivateKey, ""},
		{"DER, not PEM", sec1, "ES256", "k", localissuer.ErrNoPrivateKey, ""},
		{"public key only", pemOf("PUBLIC KEY", pub), "ES256", "k", localissuer.ErrNoPrivateKey, `found only "PUBLIC KEY"`},
		{"openssl public key only", o["ec-pub"], "ES256", "k", localissuer.ErrNoPrivateKey, "PUBLIC KEY"},
		{"PKCS8 encrypted", o["ec-pkcs8-encrypted"], "ES256", "k", localissuer.ErrEncryptedKey, "ENCRYPTED PRIVATE KEY"},
		{"legacy encrypted EC", o["ec-legacy-encrypted"], "ES256", "k", localissuer.ErrEncryptedKey, ""},
		{"legacy encrypted RSA", o["rsa-legacy-encrypted"], "RS256", "k", localissuer.ErrEncryptedKey, "Proc-Type"},
		{"P-384 for ES256", o["ec-p384"], "ES256", "k", localissuer.ErrKeyMismatch, "P-384"},
		{"secp256k1 is not P-256", o["ec-k256"], "ES256", "k", nil, "parsing \"EC PRIVATE KEY\" block"},
		{"RSA 1024", o["rsa-1024"], "RS256", "k", localissuer.ErrKeyMismatch, "1024 bits"},
		{"Ed25519 from openssl", o["ed25519"], "ES256", "k", localissuer.ErrKeyMismatch, "Ed25519"},
		{"Ed25519 from Go", pemOf("PRIVATE KEY", ed8), "RS256", "k", localissuer.ErrKeyMismatch, "Ed25519"},
		{"lowercase alg", pemOf("EC PRIVATE KEY", sec1), "es256", "k", localissuer.ErrUnsupportedAlgorithm, `"es256"`},
		{"HS256", pemOf("EC PRIVATE KEY", sec1), "HS256", "k", localissuer.ErrUnsupportedAlgorithm, ""},
		{"PS256", pemOf("EC PRIVATE KEY", sec1), "PS256", "k", localissuer.ErrUnsupportedAlgorithm, ""},
		{"empty kid", pemOf("EC PRIVATE KEY", sec1), "ES256", "", nil, "empty key id"},
		{"SEC1 bytes under a PKCS#1 label", pemOf("RSA PRIVATE KEY", sec1), "RS256", "k", nil, "parsing \"RSA PRIVATE KEY\" block"},
		{"corrupt base64 body", []byte("-----BEGIN EC PRIVATE KEY-----\n!!!!\n-----END EC PRIVATE KEY-----\n"), "ES256", "k", localissuer.ErrNoPrivateKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := localissuer.ParsePrivateKeyPEM(tc.pem, tc.alg, tc.kid)
			if err == nil {
				t.Fatalf("ParsePrivateKeyPEM = %+v; want an error", k)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error = %v; want errors.Is %v", err, tc.wantIs)
			}
			if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error = %v; want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestParsePrivateKeyPEMTolerance(t *testing.T) {
	ec, _ := goKeys(t)
	sec1 := pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ec))(t))
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	second := pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(other))(t))
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"leading text", append([]byte("key made 2026-01-02 by admin\n"), sec1...)},
		{"trailing garbage", append(append([]byte{}, sec1...), "\x00\xff trailing\n"...)},
		{"CRLF line ends", bytes.ReplaceAll(sec1, []byte("\n"), []byte("\r\n"))},
		{"certificate block first", append(pemOf("CERTIFICATE", []byte{1, 2, 3}), sec1...)},
		{"first key wins", append(append([]byte{}, sec1...), second...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := must(localissuer.ParsePrivateKeyPEM(tc.in, localissuer.AlgES256, "local"))(t)
			if !ec.PublicKey.Equal(k.Signer.Public()) {
				t.Fatal("loaded a different key than the first private key block")
			}
		})
	}
}

func TestLoadPrivateKey(t *testing.T) {
	dir := t.TempDir()
	ec, _ := goKeys(t)
	p := writeFile(t, dir, "key.pem", pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ec))(t)))
	k := must(localissuer.LoadPrivateKey(p, localissuer.AlgES256, "local"))(t)
	eq(t, "KeyID", k.KeyID, "local")

	_, err := localissuer.LoadPrivateKey(filepath.Join(dir, "missing.pem"), localissuer.AlgES256, "local")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("LoadPrivateKey(missing) error = %v; want ErrNotExist naming the path", err)
	}
	_, err = localissuer.LoadPrivateKey(p, localissuer.AlgRS256, "local")
	if !errors.Is(err, localissuer.ErrKeyMismatch) || !strings.Contains(err.Error(), p) {
		t.Errorf("LoadPrivateKey(EC, RS256) error = %v; want ErrKeyMismatch naming the path", err)
	}
	big := writeFile(t, dir, "big.pem", bytes.Repeat([]byte("x"), 1<<20+1))
	if _, err := localissuer.LoadPrivateKey(big, localissuer.AlgES256, "local"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadPrivateKey(2 MiB) error = %v; want a size error", err)
	}
}

// opaqueSigner hides the concrete key type, as an HSM-backed signer would,
// so that Key.Sign takes the crypto.Signer path (ASN.1 to r||s for ECDSA).
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }
func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, d, opts)
}

func TestOpaqueSigner(t *testing.T) {
	ec, rk := goKeys(t)
	for _, k := range []*localissuer.Key{
		{Signer: opaqueSigner{ec}, Algorithm: localissuer.AlgES256, KeyID: "hsm-ec"},
		{Signer: opaqueSigner{rk}, Algorithm: localissuer.AlgRS256, KeyID: "hsm-rsa"},
	} {
		t.Run(k.Algorithm, func(t *testing.T) {
			m := &localissuer.Minter{Key: k, Config: baseConfig()}
			// Many signatures, so that r or s with leading zero bytes occur
			// (1 in 128 per signature) and the fixed-width padding is used.
			jwks := must(localissuer.JWKS(k))(t)
			n := 300
			if k.Algorithm == localissuer.AlgRS256 {
				n = 20 // fixed-size signatures; only the path is under test
			}
			for range n {
				tok, err := m.Mint(localissuer.Request{Username: "alice"})
				if err != nil {
					t.Fatal(err)
				}
				if k.Algorithm == localissuer.AlgES256 && len(segment(t, tok, 2)) != 64 {
					t.Fatalf("ES256 signature is %d bytes; want 64", len(segment(t, tok, 2)))
				}
				if _, err := localissuer.Verify(tok, jwks, localissuer.VerifyOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestKeyChecksAtSignTime(t *testing.T) {
	ec, rk := goKeys(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	claims := must(localissuer.BuildClaims(baseConfig(), localissuer.Request{Username: "alice"}, time.Now(), "j"))(t)
	for _, tc := range []struct {
		name string
		key  *localissuer.Key
	}{
		{"nil key", nil},
		{"nil signer", &localissuer.Key{Algorithm: "ES256", KeyID: "k"}},
		{"EC under RS256", &localissuer.Key{Signer: ec, Algorithm: "RS256", KeyID: "k"}},
		{"RSA under ES256", &localissuer.Key{Signer: rk, Algorithm: "ES256", KeyID: "k"}},
		{"P-384 under ES256", &localissuer.Key{Signer: p384, Algorithm: "ES256", KeyID: "k"}},
		{"no kid", &localissuer.Key{Signer: ec, Algorithm: "ES256"}},
		{"unknown alg", &localissuer.Key{Signer: ec, Algorithm: "ES384", KeyID: "k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := tc.key.Sign(claims); err == nil {
				t.Fatalf("Sign = %q; want an error", tok)
			}
			if _, err := localissuer.JWKS(tc.key); err == nil {
				t.Fatal("JWKS succeeded; want an error")
			}
		})
	}
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	p8, _ := x509.MarshalPKCS8PrivateKey(ec)
	f.Add(pemOf("EC PRIVATE KEY", sec1), true)
	f.Add(pemOf("PRIVATE KEY", p8), false)
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"), false)
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END EC PRIVATE KEY-----\n"), true)
	f.Add([]byte("garbage"), true)
	f.Fuzz(func(t *testing.T, data []byte, es bool) {
		alg := localissuer.AlgRS256
		if es {
			alg = localissuer.AlgES256
		}
		k, err := localissuer.ParsePrivateKeyPEM(data, alg, "fuzz")
		if err != nil {
			if k != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		// Whatever parsed must be usable under alg: the JWK encodes.
		j, err := k.PublicJWK()
		if err != nil {
			t.Fatalf("parsed key has no JWK: %v", err)
		}
		if j.Alg != alg || j.Kid != "fuzz" {
			t.Fatalf("JWK = %+v; want alg %s kid fuzz", j, alg)
		}
	})
}

package localissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/credmon/credmon/internal/jwk"
)

// The two JWS algorithms LocalCredmon supports (PRIVATE_KEY_ALGORITHM).
const (
	AlgES256 = jwk.AlgES256 // ECDSA P-256 with SHA-256, the default and what EnsureKeyPair generates
	AlgRS256 = jwk.AlgRS256 // RSASSA-PKCS1-v1_5 with SHA-256
)

// MinRSABits is the smallest RSA modulus accepted for RS256. RFC 7518 §3.3
// says "a key of size 2048 bits or larger MUST be used"; Go's crypto/rsa
// would still sign with 1024-bit keys.
const MinRSABits = jwk.MinRSABits

// maxKeyFileSize bounds LoadPrivateKey: a PEM private key is a few KiB even
// for 8192-bit RSA, so anything larger is not a key.
const maxKeyFileSize = 1 << 20

// Sentinel errors of key loading. They are wrapped with details (path, key
// type, block type); test with errors.Is.
var (
	// ErrNoPrivateKey: the input has no PEM block holding a private key
	// (empty file, DER instead of PEM, only a public key or certificate).
	ErrNoPrivateKey = errors.New("localissuer: no private key PEM block")
	// ErrEncryptedKey: the key is password-protected. The credmon has no
	// way to obtain a password (Python passes password=None and fails).
	ErrEncryptedKey = errors.New("localissuer: private key is encrypted")
	// ErrKeyMismatch: the key does not suit the algorithm (RSA key for
	// ES256, EC key for RS256, wrong curve, RSA key too small).
	ErrKeyMismatch = errors.New("localissuer: key does not match algorithm")
	// ErrUnsupportedAlgorithm: the algorithm is neither ES256 nor RS256.
	ErrUnsupportedAlgorithm = errors.New("localissuer: unsupported algorithm")
	// ErrKeyFileMode: the private key file is readable or writable by
	// "other", or writable by its group (see LoadPrivateKey).
	ErrKeyFileMode = errors.New("localissuer: private key file is open to other users")
)

// Key is a signing key with the JWS algorithm and key ID it is used under.
// Signer is normally the *ecdsa.PrivateKey or *rsa.PrivateKey that
// ParsePrivateKeyPEM returns, but any crypto.Signer whose public key suits
// Algorithm works (for example one backed by an HSM): ECDSA signers must
// return ASN.1 DER signatures, as crypto/ecdsa does.
type Key struct {
	Signer    crypto.Signer
	Algorithm string // AlgES256 or AlgRS256
	KeyID     string // JWT header "kid"; verifiers select the JWKS entry by it
	// ModeWarning is set by LoadPrivateKey when the key file is readable by
	// its group: one sentence naming the file, its mode and the fix, for
	// the caller to log once per version of the file. Empty otherwise.
	ModeWarning string
}

// ParsePrivateKeyPEM parses a PEM private key for use under alg and kid.
//
// Accepted blocks are SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" and
// PKCS#8 "PRIVATE KEY". Other blocks are skipped, as OpenSSL and Python's
// cryptography skip them: `openssl ecparam -genkey` writes an "EC
// PARAMETERS" block before the key, and text before, between or after
// blocks is ignored. The first private-key block is used.
//
// ES256 needs an EC key on P-256, RS256 an RSA key of at least MinRSABits;
// kid must not be empty.
func ParsePrivateKeyPEM(pemBytes []byte, alg, kid string) (*Key, error) {
	if err := checkAlgorithm(alg); err != nil {
		return nil, err
	}
	if kid == "" {
		return nil, errors.New("localissuer: empty key id (verifiers select the key by kid)")
	}
	var skipped []string
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w (PKCS#8 %q block); decrypt it with openssl pkey", ErrEncryptedKey, block.Type)
		case "EC PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY":
		default:
			skipped = append(skipped, block.Type)
			continue
		}
		// RFC 1421 legacy encryption: "Proc-Type: 4,ENCRYPTED" + DEK-Info.
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%w (%q block with Proc-Type %s); decrypt it with openssl pkey",
				ErrEncryptedKey, block.Type, block.Headers["Proc-Type"])
		}
		priv, err := parsePrivateBlock(block)
		if err != nil {
			return nil, err
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("localissuer: unsupported private key type %T", priv)
		}
		k := &Key{Signer: signer, Algorithm: alg, KeyID: kid}
		if err := k.check(); err != nil {
			return nil, err
		}
		return k, nil
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("%w (found only %s)", ErrNoPrivateKey, strings.Join(quoteAll(skipped), ", "))
	}
	return nil, ErrNoPrivateKey
}

func parsePrivateBlock(block *pem.Block) (any, error) {
	var (
		priv any
		err  error
	)
	switch block.Type {
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default: // "PRIVATE KEY"
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("localissuer: parsing %q block: %w", block.Type, err)
	}
	return priv, nil
}

// LoadPrivateKey reads and parses the PEM private key at path (see
// ParsePrivateKeyPEM). The file is read once per call: a caller that wants
// key rotation without a restart calls it again when the file changes.
//
// Whoever can read the key can mint a token for any user, and whoever can
// write it can make the issuer sign with a key they know. So the mode of
// the file opened (fstat of the descriptor, not a second look at the path)
// decides:
//
//   - readable or writable by "other": refused (ErrKeyFileMode), with the
//     file, its mode and the fix (chmod 0600) in the error;
//   - writable by its group: refused the same way;
//   - readable by its group: accepted, with Key.ModeWarning set, since a
//     group such as "condor" sharing the key may be deliberate.
//
// The Python credmon uses the key whatever its mode; EnsureKeyPair (and
// create_credentials) write it 0600. A FIFO or device at path is refused
// without blocking.
func LoadPrivateKey(path, alg, kid string) (*Key, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer forever.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading private key %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("reading private key %s: not a regular file (%s)", path, st.Mode().Type())
	}
	warning, err := checkKeyMode(path, st.Mode().Perm())
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading private key %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("reading private key %s: larger than %d bytes", path, maxKeyFileSize)
	}
	k, err := ParsePrivateKeyPEM(data, alg, kid)
	if err != nil {
		return nil, fmt.Errorf("loading private key %s: %w", path, err)
	}
	k.ModeWarning = warning
	return k, nil
}

// checkKeyMode applies LoadPrivateKey's rule to the permission bits perm of
// the key file at path: an error for a mode that lets others mint tokens or
// replace the key, a warning for a group-readable key.
func checkKeyMode(path string, perm fs.FileMode) (warning string, err error) {
	var who string
	switch {
	case perm&0o006 != 0:
		who = "every user on this machine can read or replace it and mint tokens for any user"
	case perm&0o020 != 0:
		who = "members of its group can replace it with a key they know"
	case perm&0o040 != 0:
		return fmt.Sprintf("private key %s has mode %04o: members of its group can read it and mint tokens for any user; run chmod 0600 %s unless sharing it with the group is deliberate",
			path, perm, path), nil
	default:
		return "", nil
	}
	return "", fmt.Errorf("%w: %s has mode %04o: %s; run chmod 0600 %s", ErrKeyFileMode, path, perm, who, path)
}

func checkAlgorithm(alg string) error {
	if alg != AlgES256 && alg != AlgRS256 {
		return fmt.Errorf("%w %q (want %s or %s)", ErrUnsupportedAlgorithm, alg, AlgES256, AlgRS256)
	}
	return nil
}

// check verifies that the key's public half suits its algorithm. It runs
// at load time and again before every signature, because Key is a plain
// struct that callers may fill in themselves.
func (k *Key) check() error {
	if k == nil || k.Signer == nil {
		return errors.New("localissuer: nil signing key")
	}
	if err := checkAlgorithm(k.Algorithm); err != nil {
		return err
	}
	if k.KeyID == "" {
		return errors.New("localissuer: empty key id (verifiers select the key by kid)")
	}
	return checkPublic(k.Signer.Public(), k.Algorithm)
}

func checkPublic(pub crypto.PublicKey, alg string) error {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if alg != AlgES256 {
			return fmt.Errorf("%w: EC key cannot sign %s (set PRIVATE_KEY_ALGORITHM = ES256, or use an RSA key)", ErrKeyMismatch, alg)
		}
		if p.Curve != elliptic.P256() {
			return fmt.Errorf("%w: ES256 needs a P-256 key, this key is on %s", ErrKeyMismatch, p.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if alg != AlgRS256 {
			return fmt.Errorf("%w: RSA key cannot sign %s (set PRIVATE_KEY_ALGORITHM = RS256, or use an EC P-256 key)", ErrKeyMismatch, alg)
		}
		if n := p.N.BitLen(); n < MinRSABits {
			return fmt.Errorf("%w: RSA key has %d bits, RS256 needs at least %d (RFC 7518 §3.3)", ErrKeyMismatch, n, MinRSABits)
		}
	case ed25519.PublicKey:
		return fmt.Errorf("%w: Ed25519 keys are not supported (LocalCredmon signs with ES256 or RS256)", ErrKeyMismatch)
	default:
		return fmt.Errorf("%w: unsupported public key type %T", ErrKeyMismatch, pub)
	}
	return nil
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

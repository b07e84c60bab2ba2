package localissuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/credmon/credmon/internal/atomicfile"
)

// ErrOrphanPublicKey is returned by EnsureKeyPair when the public key file
// exists but the private key does not. Python's create_credentials would
// overwrite the public key; we never replace an existing file: a lone public
// key usually means a wrong private key path or an unmounted file system,
// and a silent new key under the same kid makes verifiers that cached the
// old one reject the new tokens. Remove the public key to get a new pair.
var ErrOrphanPublicKey = errors.New("localissuer: public key exists without its private key")

// Key file modes, as create_credentials writes them: the private key is
// readable by its owner only, the public key by everyone (web servers
// publish it as the JWKS).
const (
	privateKeyMode fs.FileMode = 0o600
	publicKeyMode  fs.FileMode = 0o644
)

// EnsureKeyPair creates the local issuer's signing key if privPath does not
// exist (as utils.create_credentials does; docs/htcondor-contract.md#local-issuer): an EC P-256 key as
// SEC1 PEM ("EC PRIVATE KEY", what cryptography's TraditionalOpenSSL
// format writes) with mode 0600 at privPath, and its SubjectPublicKeyInfo
// PEM ("PUBLIC KEY") with mode 0644 at pubPath. If privPath exists (as
// anything: a file, a dangling symlink) nothing is done and created is
// false.
//
// Each file is written (atomicfile.Replace with NoReplace) to a temp file
// in its directory, fsynced, and
// published with link(2), which fails with EEXIST rather than replace an
// existing name; the temp name is then removed and the directory fsynced.
// So a file is never seen half-written, and nothing existing is ever
// overwritten. The private key's link decides races: of several processes
// calling EnsureKeyPair at once exactly one links the private key and goes
// on to write the public key; the rest return created=false. On any error,
// the files this call published are removed again.
//
// Where link(2) is not supported (EPERM/EOPNOTSUPP, e.g. some FUSE file
// systems) renameat2(RENAME_NOREPLACE) is used, which has the same
// no-overwrite guarantee.
//
// The window between the two links is small but real: a reader that sees
// the private key may not see the public key yet, and a crash there leaves
// a private key without a public key, which a later call does not repair
// (the private key exists). Publish the JWKS from the private key
// (PublicJWK) rather than from pubPath to be immune.
func EnsureKeyPair(privPath, pubPath string) (created bool, err error) {
	if privPath == "" || pubPath == "" {
		return false, errors.New("localissuer: empty key path")
	}
	if filepath.Clean(privPath) == filepath.Clean(pubPath) {
		return false, fmt.Errorf("localissuer: private and public key paths are the same: %s", privPath)
	}
	if exists, err := lexists(privPath); err != nil || exists {
		return false, err
	}
	if exists, err := lexists(pubPath); err != nil {
		return false, err
	} else if exists {
		// Either a stale public key, or another process won the race
		// between our two checks and has published both files by now.
		if privNow, err := lexists(privPath); err != nil || privNow {
			return false, err
		}
		return false, fmt.Errorf("%w: %s exists, %s does not; remove the public key to have a new pair generated, or restore the private key",
			ErrOrphanPublicKey, pubPath, privPath)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, fmt.Errorf("generating EC P-256 key: %w", err)
	}
	privDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return false, fmt.Errorf("encoding private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return false, fmt.Errorf("encoding public key: %w", err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	var published []string
	defer func() {
		if err != nil {
			for _, p := range published {
				_ = os.Remove(p)
			}
		}
	}()
	won, err := publishNew(privPath, privPEM, privateKeyMode)
	if err != nil {
		return false, fmt.Errorf("writing private key: %w", err)
	}
	if !won {
		return false, nil // another process created it first
	}
	published = append(published, privPath)
	won, err = publishNew(pubPath, pubPEM, publicKeyMode)
	if err != nil {
		return false, fmt.Errorf("writing public key: %w", err)
	}
	if !won {
		// Someone created pubPath after our check without holding the
		// private key's link: not one of us. Back out.
		err = fmt.Errorf("%w: %s appeared while generating a new pair", ErrOrphanPublicKey, pubPath)
		return false, err
	}
	return true, nil
}

// publishNew makes data appear at path with mode perm, complete and durable,
// unless path already exists (as anything, a dangling symlink included), in
// which case won is false and nothing changes. atomicfile.Replace with
// NoReplace publishes by link(2), or renameat2(RENAME_NOREPLACE) where the
// file system has no hard links, so of racing writers exactly one wins.
func publishNew(path string, data []byte, perm fs.FileMode) (won bool, err error) {
	err = atomicfile.Replace(path, data, atomicfile.Options{Mode: perm, NoReplace: true})
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return err == nil, err
}

// lexists reports whether path names anything, without following a final
// symlink (a dangling symlink at the private key path counts as "exists":
// we must not create a file through it).
func lexists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

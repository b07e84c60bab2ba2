package oidcagent

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/nacl/secretbox"
)

// Sentinel errors. Errors returned by this package wrap one of them (or an
// I/O error) with the detail that explains it.
var (
	// ErrBadPassword means the password does not open the file: the derived
	// verifier ("hash key", line 6) does not match, or, in the legacy hex
	// format that has no verifier, no parameter set opens the box. It is
	// oidc-agent's OIDC_EPASS.
	ErrBadPassword = errors.New("oidcagent: wrong encryption password")
	// ErrCorrupt means the file is not a well-formed oidc-agent account
	// file, or its ciphertext was damaged although the password is right.
	ErrCorrupt = errors.New("oidcagent: corrupt account file")
	// ErrUnsupported means a well-formed file this package cannot read:
	// GPG-encrypted accounts (oidc-gen --pw-gpg) or unknown crypt
	// parameters.
	ErrUnsupported = errors.New("oidcagent: unsupported account file format")
)

// Sizes and Argon2id parameters of the current format. They are libsodium's
// constants, which oidc-agent uses through crypt.c newCryptParameters():
// crypto_secretbox_{NONCE,MAC,KEY}BYTES, crypto_pwhash_SALTBYTES and
// crypto_pwhash_{OPS,MEM}LIMIT_INTERACTIVE with crypto_pwhash_ALG_DEFAULT
// (Argon2id v1.3).
const (
	nonceLen = 24
	saltLen  = 16
	macLen   = secretbox.Overhead // 16
	keyLen   = 32

	// argonTime is crypto_pwhash_OPSLIMIT_INTERACTIVE.
	argonTime = 2
	// argonMemoryKiB is crypto_pwhash_MEMLIMIT_INTERACTIVE, 67108864 bytes;
	// x/crypto/argon2 counts KiB.
	argonMemoryKiB = 64 * 1024
	// argonThreads is 1 because libsodium's crypto_pwhash always uses a
	// single lane; a different count derives a different key.
	argonThreads = 1
)

// paramsLine is line 4 of every file oidc-agent ≥ 2.1.0 writes:
// nonce_len:salt_len:mac_len:key_len:base64_variant:opslimit:memlimit:alg,
// with base64_variant 1 = sodium_base64_VARIANT_ORIGINAL and alg 2 =
// crypto_pwhash_ALG_ARGON2ID13. Readers ignore the last four numbers
// (crypt.c crypt_keyDerivation_base64 always uses the interactive
// constants), and so do we.
const paramsLine = "24:16:16:32:1:2:67108864:2"

// versionLinePrefix starts the last line (versionUtils.c VERSION_LINE_FMT).
const versionLinePrefix = "Generated using version: "

// WriterVersion is the version Encrypt writes in the version line. Readers
// only test it against 2.1.0 (cryptUtils.c decryptLinesList,
// MIN_BASE64_VERSION) to choose between this format and the legacy hex one;
// 4.2.6 is the oidc-agent release whose files the tests compare against.
const WriterVersion = "4.2.6"

// minBase64Version is MIN_BASE64_VERSION: files from older versions are in
// the legacy hex format.
var minBase64Version = [3]uint64{2, 1, 0}

// legacyParams are the two parameter sets hexCrypt.c tries, in order, for
// files written before 2.1.0, which recorded neither the parameters nor a
// password verifier: libsodium 1.0.18-era distributions (Argon2i, 4 passes,
// 32 MiB) and libsodium23 ones (Argon2id, 2 passes, 64 MiB). Both derive a
// single 32-byte key.
var legacyParams = []struct {
	name      string
	argon2id  bool
	time      uint32
	memoryKiB uint32
}{
	{"legacy18 (Argon2i, 4 passes, 32 MiB)", false, 4, 32 * 1024},
	{"legacy23 (Argon2id, 2 passes, 64 MiB)", true, 2, 64 * 1024},
}

// maxCipherLen bounds the first line's length field. Account files are a
// few KiB; the bound only keeps a bogus number from meaning anything.
const maxCipherLen = 1 << 24

// versionRE is compiled on first use: credmon-token's cron path (a fresh
// token, nothing decrypted) should not pay for it at process start.
var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.([0-9]+)`) })

// deriveKeys is crypt_keyDerivation_base64: crypto_pwhash(out, 64, ...) —
// Argon2id(password, salt, t=2, m=64 MiB, p=1) to 64 bytes, of which the
// first 32 are the secretbox key and the last 32 the "hash key" stored on
// line 6 as a password verifier.
func deriveKeys(password, salt []byte) (encKey *[keyLen]byte, verifier []byte) {
	out := argon2.IDKey(password, salt, argonTime, argonMemoryKiB, argonThreads, 2*keyLen)
	encKey = new([keyLen]byte)
	copy(encKey[:], out[:keyLen])
	verifier = append([]byte(nil), out[keyLen:]...)
	clear(out)
	return encKey, verifier
}

// checkPassword rejects what oidc-agent cannot represent: it handles the
// password as a C string (crypto_pwhash(..., password, strlen(password), ...)),
// so a NUL byte would silently cut it short.
func checkPassword(password []byte) error {
	if bytes.IndexByte(password, 0) >= 0 {
		return errors.New("oidcagent: password contains a NUL byte, which oidc-agent would truncate")
	}
	return nil
}

// Encrypt encrypts plaintext (an account's JSON) with password in the format
// oidc-agent ≥ 2.1.0 writes (crypt.c crypt_encrypt plus cryptUtils.c
// encryptWithVersionLine): a fresh random 16-byte salt and 24-byte nonce,
// Argon2id key derivation, XSalsa20-Poly1305 (NaCl secretbox), seven
// newline-separated lines and no trailing newline. See the package
// documentation for the layout.
//
// plaintext must not contain a NUL byte (oidc-agent measures it with
// strlen), nor may password.
func Encrypt(plaintext, password []byte) ([]byte, error) {
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	if bytes.IndexByte(plaintext, 0) >= 0 {
		return nil, errors.New("oidcagent: plaintext contains a NUL byte, which oidc-agent would truncate")
	}
	var salt [saltLen]byte
	var nonce [nonceLen]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, fmt.Errorf("oidcagent: generating salt: %w", err)
	}
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("oidcagent: generating nonce: %w", err)
	}
	key, verifier := deriveKeys(password, salt[:])
	defer clear(key[:])
	box := secretbox.Seal(nil, plaintext, &nonce, key)

	b64 := base64.StdEncoding
	var out bytes.Buffer
	fmt.Fprintf(&out, "%d\n%s\n%s\n%s\n%s\n%s\n%s%s",
		len(box),
		b64.EncodeToString(nonce[:]),
		b64.EncodeToString(salt[:]),
		paramsLine,
		b64.EncodeToString(box),
		b64.EncodeToString(verifier),
		versionLinePrefix, WriterVersion)
	return out.Bytes(), nil
}

// Decrypt opens an oidc-agent account file and returns the plaintext (the
// account JSON). It reads the current format of oidc-agent 2.1.0 through
// 5.x and the legacy single-line hex format of older versions, which
// oidc-agent 4.2.6 still reads (verified with oidc-gen -p); it does not read
// GPG-encrypted files (ErrUnsupported).
//
// A wrong password gives an error wrapping ErrBadPassword; a malformed or
// damaged file one wrapping ErrCorrupt, saying which line is wrong. Like
// oidc-agent it accepts one trailing newline; unlike it, it rejects extra
// lines instead of ignoring them.
func Decrypt(file, password []byte) ([]byte, error) {
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	s, err := parseFile(file)
	if err != nil {
		return nil, err
	}
	return s.open(password)
}

// sealed is a parsed account file: everything but the password.
type sealed struct {
	// legacy marks the pre-2.1.0 hex format: no verifier, two parameter
	// sets to try.
	legacy   bool
	nonce    [nonceLen]byte
	salt     []byte // saltLen bytes
	box      []byte // MAC ‖ ciphertext, at least macLen bytes
	verifier []byte // keyLen bytes; nil when legacy
}

// parseFile checks the layout and decodes the fields (cryptUtils.c
// decryptLinesList, crypt.c crypt_decryptFromList, cryptUtils.c
// decryptHexFileContent). It does not touch the password, so it is cheap.
func parseFile(file []byte) (*sealed, error) {
	if bytes.HasPrefix(bytes.TrimLeft(file, " \t\r\n"), []byte("-----BEGIN PGP")) {
		return nil, fmt.Errorf("%w: GPG-encrypted account (oidc-gen --pw-gpg); decrypt it with oidc-agent", ErrUnsupported)
	}
	// getLinesFromFile (file_io.c) strips each line's '\n', so one
	// trailing newline is harmless to oidc-agent; a second one makes the
	// last line empty, and the file unreadable.
	text := string(bytes.TrimSuffix(file, []byte("\n")))
	if text == "" {
		return nil, fmt.Errorf("%w: empty file", ErrCorrupt)
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "\r") {
			return nil, fmt.Errorf("%w: line %d ends in a carriage return (CRLF line endings), which oidc-agent cannot read either", ErrCorrupt, i+1)
		}
	}
	if len(lines) == 1 {
		// Before 2.1.0 the file was one hex line without a version line.
		return parseHex(lines[0])
	}
	last := lines[len(lines)-1]
	version, ok := strings.CutPrefix(last, versionLinePrefix)
	if !ok {
		return nil, fmt.Errorf("%w: line %d is not a %q line", ErrCorrupt, len(lines), strings.TrimSpace(versionLinePrefix))
	}
	v, ok := parseVersion(version)
	if !ok {
		return nil, fmt.Errorf("%w: line %d: cannot parse version %q", ErrCorrupt, len(lines), version)
	}
	if !versionAtLeast(v, minBase64Version) {
		if len(lines) != 2 {
			return nil, fmt.Errorf("%w: version %s file has %d lines; want the hex line and the version line", ErrCorrupt, version, len(lines))
		}
		return parseHex(lines[0])
	}
	if len(lines) != 7 {
		return nil, fmt.Errorf("%w: %d lines; want 7", ErrCorrupt, len(lines))
	}
	return parseBase64(lines)
}

// parseBase64 reads the seven lines of the current format.
func parseBase64(lines []string) (*sealed, error) {
	cipherLen, err := parseLen(lines[0])
	if err != nil {
		return nil, fmt.Errorf("%w: line 1 (ciphertext length): %v", ErrCorrupt, err)
	}
	if cipherLen < macLen {
		return nil, fmt.Errorf("%w: line 1: ciphertext length %d is shorter than the %d-byte MAC", ErrCorrupt, cipherLen, macLen)
	}
	nonce, err := decodeBase64(lines[1], nonceLen)
	if err != nil {
		return nil, fmt.Errorf("%w: line 2 (nonce): %v", ErrCorrupt, err)
	}
	salt, err := decodeBase64(lines[2], saltLen)
	if err != nil {
		return nil, fmt.Errorf("%w: line 3 (salt): %v", ErrCorrupt, err)
	}
	if err := checkParams(lines[3]); err != nil {
		return nil, fmt.Errorf("line 4 (crypt parameters): %w", err)
	}
	box, err := decodeBase64(lines[4], -1)
	if err != nil {
		return nil, fmt.Errorf("%w: line 5 (ciphertext): %v", ErrCorrupt, err)
	}
	if len(box) != cipherLen {
		return nil, fmt.Errorf("%w: line 5: ciphertext is %d bytes; line 1 says %d", ErrCorrupt, len(box), cipherLen)
	}
	verifier, err := decodeBase64(lines[5], keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: line 6 (hash key): %v", ErrCorrupt, err)
	}
	s := &sealed{salt: salt, box: box, verifier: verifier}
	copy(s.nonce[:], nonce)
	return s, nil
}

// parseHex reads the pre-2.1.0 format, one line
// "cipher_len:salt_hex:nonce_hex:cipher_hex".
func parseHex(line string) (*sealed, error) {
	f := strings.Split(line, ":")
	if len(f) != 4 {
		return nil, fmt.Errorf("%w: legacy hex line has %d ':'-separated fields; want 4 (or the file lacks its version line)", ErrCorrupt, len(f))
	}
	cipherLen, err := parseLen(f[0])
	if err != nil {
		return nil, fmt.Errorf("%w: legacy hex ciphertext length: %v", ErrCorrupt, err)
	}
	if cipherLen < macLen {
		return nil, fmt.Errorf("%w: legacy hex ciphertext length %d is shorter than the %d-byte MAC", ErrCorrupt, cipherLen, macLen)
	}
	salt, err := decodeHex(f[1], saltLen)
	if err != nil {
		return nil, fmt.Errorf("%w: legacy hex salt: %v", ErrCorrupt, err)
	}
	nonce, err := decodeHex(f[2], nonceLen)
	if err != nil {
		return nil, fmt.Errorf("%w: legacy hex nonce: %v", ErrCorrupt, err)
	}
	box, err := decodeHex(f[3], cipherLen)
	if err != nil {
		return nil, fmt.Errorf("%w: legacy hex ciphertext: %v", ErrCorrupt, err)
	}
	s := &sealed{legacy: true, salt: salt, box: box}
	copy(s.nonce[:], nonce)
	return s, nil
}

// open derives the key from password and opens the box: crypt.c
// crypt_decrypt_base64 (verifier first, then secretbox), or for the legacy
// format hexCrypt.c crypt_decrypt_hex (each parameter set in turn).
func (s *sealed) open(password []byte) ([]byte, error) {
	if s.legacy {
		return s.openLegacy(password)
	}
	key, verifier := deriveKeys(password, s.salt)
	defer clear(key[:])
	if subtle.ConstantTimeCompare(verifier, s.verifier) != 1 {
		return nil, ErrBadPassword
	}
	plain, ok := secretbox.Open(nil, s.box, &s.nonce, key)
	if !ok {
		// The verifier matched, so the key is right: the ciphertext,
		// nonce or MAC was altered (oidc-agent: OIDC_EDECRYPT).
		return nil, fmt.Errorf("%w: the password is right but the ciphertext fails authentication (damaged or tampered)", ErrCorrupt)
	}
	return plain, nil
}

func (s *sealed) openLegacy(password []byte) ([]byte, error) {
	for _, p := range legacyParams {
		var k []byte
		if p.argon2id {
			k = argon2.IDKey(password, s.salt, p.time, p.memoryKiB, argonThreads, keyLen)
		} else {
			k = argon2.Key(password, s.salt, p.time, p.memoryKiB, argonThreads, keyLen)
		}
		var key [keyLen]byte
		copy(key[:], k)
		clear(k)
		plain, ok := secretbox.Open(nil, s.box, &s.nonce, &key)
		clear(key[:])
		if ok {
			return plain, nil
		}
	}
	// Without a verifier a wrong password and a damaged box look the
	// same; oidc-agent reports OIDC_EPASS, and so do we.
	return nil, fmt.Errorf("%w (legacy hex format has no password verifier, so the file may be damaged instead)", ErrBadPassword)
}

// checkParams validates line 4. Only the four sizes matter: libsodium's
// secretbox and pwhash sizes are fixed, so a file with other sizes cannot
// have come from oidc-agent. The remaining numbers are ignored, as
// oidc-agent ignores them.
func checkParams(line string) error {
	f := strings.Split(line, ":")
	if len(f) != 8 {
		return fmt.Errorf("%w: %d ':'-separated fields; want 8", ErrCorrupt, len(f))
	}
	for i, s := range f {
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return fmt.Errorf("%w: field %d %q is not a number", ErrCorrupt, i+1, s)
		}
	}
	if strings.Join(f[:4], ":") != "24:16:16:32" {
		return fmt.Errorf("%w: sizes nonce:salt:mac:key = %s; only 24:16:16:32 (libsodium secretbox) exists", ErrUnsupported, strings.Join(f[:4], ":"))
	}
	return nil
}

func parseLen(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal length", s)
	}
	if n > maxCipherLen {
		return 0, fmt.Errorf("length %d is implausibly large", n)
	}
	return int(n), nil
}

// decodeBase64 decodes standard, padded base64 (sodium_base64_VARIANT_ORIGINAL)
// and, if want ≥ 0, checks the length.
func decodeBase64(s string, want int) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not standard base64: %v", err)
	}
	if want >= 0 && len(b) != want {
		return nil, fmt.Errorf("%d bytes; want %d", len(b), want)
	}
	return b, nil
}

func decodeHex(s string, want int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %v", err)
	}
	if len(b) != want {
		return nil, fmt.Errorf("%d bytes; want %d", len(b), want)
	}
	return b, nil
}

// parseVersion reads "MAJOR.MINOR.PATCH" and ignores what follows, like
// versionUtils.c versionAtLeast's sscanf("%hu.%hu.%hu").
func parseVersion(s string) ([3]uint64, bool) {
	m := versionRE().FindStringSubmatch(s)
	if m == nil {
		return [3]uint64{}, false
	}
	var v [3]uint64
	for i := range v {
		n, err := strconv.ParseUint(m[i+1], 10, 16)
		if err != nil {
			return [3]uint64{}, false
		}
		v[i] = n
	}
	return v, true
}

func versionAtLeast(v, least [3]uint64) bool {
	for i := range v {
		if v[i] != least[i] {
			return v[i] > least[i]
		}
	}
	return true
}

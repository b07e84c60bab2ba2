package oidcagent

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestDeriveKeysSplit: the secretbox key and the hash key are the two
// halves of one 64-byte Argon2id output, not two 32-byte derivations
// (which would differ: Argon2's output depends on its length).
func TestDeriveKeysSplit(t *testing.T) {
	pw, salt := []byte("pw"), bytes.Repeat([]byte{7}, saltLen)
	key, verifier := deriveKeys(pw, salt)
	full := argon2.IDKey(pw, salt, 2, 64*1024, 1, 64)
	if !bytes.Equal(key[:], full[:32]) || !bytes.Equal(verifier, full[32:]) {
		t.Error("deriveKeys is not Argon2id(t=2, m=64 MiB, p=1, 64 bytes) split in halves")
	}
	if short := argon2.IDKey(pw, salt, 2, 64*1024, 1, 32); bytes.Equal(short, key[:]) {
		t.Error("a 32-byte derivation equals the first half; the split would not matter")
	}
}

// BenchmarkDeriveKey measures the Argon2id derivation (2 passes, 64 MiB, 1
// lane) that every Encrypt and Decrypt performs. It is slow on purpose.
func BenchmarkDeriveKey(b *testing.B) {
	pw, salt := []byte("benchmark password"), bytes.Repeat([]byte{1}, saltLen)
	b.ReportAllocs()
	for b.Loop() {
		deriveKeys(pw, salt)
	}
}

// BenchmarkDecryptLegacyWorstCase is the slowest read: a pre-2.1.0 file made with
// the libsodium23 parameters fails the Argon2i attempt first.
func BenchmarkDecryptLegacyWorstCase(b *testing.B) {
	file, err := os.ReadFile("testdata/legacy-v23-ver")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Decrypt(file, []byte("legacy-pw")); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseFile explores everything Decrypt does before the key
// derivation, which FuzzDecrypt cannot do quickly: there, every mutation of
// a well-formed file (or of the password alone) pays for a 64 MiB Argon2id
// run. What parseFile accepts must be safe to open.
func FuzzParseFile(f *testing.F) {
	for _, name := range []string{"oidc-gen-4.2.6.account", "oidc-agent-4.2.6-rotated.account", "legacy-v18", "legacy-v23-ver"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("16:00000000000000000000000000000000:000000000000000000000000000000000000000000000000:00000000000000000000000000000000"))
	f.Fuzz(func(t *testing.T, file []byte) {
		s, err := parseFile(file)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("parseFile error %v is neither ErrCorrupt nor ErrUnsupported", err)
			}
			return
		}
		if len(s.salt) != saltLen || len(s.box) < macLen || (s.legacy != (s.verifier == nil)) || (!s.legacy && len(s.verifier) != keyLen) {
			t.Fatalf("parseFile accepted %q as legacy=%v salt %d box %d verifier %d bytes", file, s.legacy, len(s.salt), len(s.box), len(s.verifier))
		}
	})
}

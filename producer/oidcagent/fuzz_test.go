package oidcagent_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/credmon/credmon/producer/oidcagent"
)

// FuzzDecrypt: Decrypt must never panic, and every failure must be one the
// caller can classify (or the NUL-password refusal). Inputs that pass the
// structural checks cost a 64 MiB Argon2id derivation (seconds under the
// fuzzer's instrumentation), so this target fuzzes slowly by design;
// FuzzParseFile (internal_test.go) covers the parser at full speed. The
// seeds run in every go test.
func FuzzDecrypt(f *testing.F) {
	f.Add(readTestdata(f, "oidc-gen-4.2.6.account"), []byte(goldenPassword))
	f.Add(readTestdata(f, "oidc-agent-4.2.6-rotated.account"), []byte("wrong"))
	f.Add(readTestdata(f, "legacy-v23-ver"), []byte(legacyPassword))
	f.Add([]byte("16:00:00:00"), []byte(""))
	f.Add([]byte("44\nAAAA\nAAAA\n24:16:16:32:1:2:67108864:2\nAAAA\nAAAA\nGenerated using version: 9.9.9"), []byte("x"))
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n"), []byte("x"))
	f.Add([]byte("\n\n\n\n\n\n"), []byte("\x00"))
	f.Fuzz(func(t *testing.T, file, password []byte) {
		plain, err := oidcagent.Decrypt(file, password)
		if err == nil {
			if plain == nil {
				t.Fatal("Decrypt returned neither plaintext nor error")
			}
			return
		}
		if errors.Is(err, oidcagent.ErrCorrupt) || errors.Is(err, oidcagent.ErrBadPassword) || errors.Is(err, oidcagent.ErrUnsupported) {
			return
		}
		if strings.Contains(err.Error(), "NUL") {
			return
		}
		t.Fatalf("Decrypt error %v wraps none of ErrCorrupt, ErrBadPassword, ErrUnsupported", err)
	})
}

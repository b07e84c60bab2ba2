package oidcagent_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/credmon/credmon/producer/oidcagent"
)

// goldenPassword encrypted the real oidc-agent files in testdata, made with
// Debian's oidc-agent-cli 4.2.6 against a local oidc-provider that no
// longer runs (pre-registered client "credmon", device flow):
//
//   - oidc-gen-4.2.6.account: account "fresh" as oidc-gen wrote it;
//   - oidc-agent-4.2.6-rotated.account: account "test1" after
//     "oidc-token -f test1" made the agent store a rotated refresh token
//     (it removes refresh_token and appends it again, so the member moved
//     to the end).
//
// The .json files are what "oidc-gen --pw-env -p <name>" printed.
const goldenPassword = "testpw"

// legacyPassword encrypted the testdata/legacy-* files, made with
// libsodium through PyNaCl by testdata/make-legacy.py, plaintext
// testdata/legacy.json. oidc-gen 4.2.6 -p decrypts both.
const legacyPassword = "legacy-pw"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sample is one file encrypted by Encrypt, shared by the tests that only
// need some valid file (each Encrypt costs a 64 MiB Argon2id derivation).
var sample = sync.OnceValues(func() ([]byte, error) {
	return oidcagent.Encrypt([]byte(samplePlain), []byte(samplePassword))
})

const (
	samplePlain    = `{"name":"s","refresh_token":"rt"}`
	samplePassword = "sample pässwörd"
)

func sampleFile(t testing.TB) []byte {
	t.Helper()
	b, err := sample()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		plaintext string
		password  string
	}{
		{"account", samplePlain, samplePassword},
		{"empty plaintext and password", "", ""},
		{"multi-line unicode", "{\n\t\"name\":\t\"ü\"\n}\n", "correct horse battery staple \u2603 \t"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := oidcagent.Encrypt([]byte(tc.plaintext), []byte(tc.password))
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			got, err := oidcagent.Decrypt(enc, []byte(tc.password))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(got) != tc.plaintext {
				t.Errorf("Decrypt(Encrypt(%q)) = %q; want the plaintext back", tc.plaintext, got)
			}
		})
	}
}

func TestEncryptLayout(t *testing.T) {
	enc := sampleFile(t)
	if bytes.HasSuffix(enc, []byte("\n")) {
		t.Errorf("file ends in a newline; oidc-agent writes none")
	}
	lines := strings.Split(string(enc), "\n")
	if len(lines) != 7 {
		t.Fatalf("Encrypt wrote %d lines; want 7:\n%s", len(lines), enc)
	}
	if got, want := lines[0], strconv.Itoa(len(samplePlain)+16); got != want {
		t.Errorf("line 1 (cipher length) = %s; want %s", got, want)
	}
	for _, c := range []struct {
		line, bytes int
		what        string
	}{{2, 24, "nonce"}, {3, 16, "salt"}, {5, len(samplePlain) + 16, "ciphertext"}, {6, 32, "hash key"}} {
		b, err := base64.StdEncoding.DecodeString(lines[c.line-1])
		if err != nil || len(b) != c.bytes {
			t.Errorf("line %d (%s) = %q: %d bytes, err %v; want %d bytes of standard base64", c.line, c.what, lines[c.line-1], len(b), err, c.bytes)
		}
	}
	if got, want := lines[3], "24:16:16:32:1:2:67108864:2"; got != want {
		t.Errorf("line 4 (crypt parameters) = %q; want %q", got, want)
	}
	if got, want := lines[6], "Generated using version: "+oidcagent.WriterVersion; got != want {
		t.Errorf("line 7 = %q; want %q", got, want)
	}
}

func TestEncryptFreshSaltAndNonce(t *testing.T) {
	a := strings.Split(string(sampleFile(t)), "\n")
	bb, err := oidcagent.Encrypt([]byte(samplePlain), []byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	b := strings.Split(string(bb), "\n")
	if a[1] == b[1] || a[2] == b[2] || a[4] == b[4] {
		t.Errorf("two encryptions share nonce, salt or ciphertext:\n%s\n%s", a, b)
	}
}

func TestDecryptOidcAgent426(t *testing.T) {
	type testCase struct {
		name string
		file []byte
		want []byte
	}
	var tests []testCase
	for _, golden := range []string{"oidc-gen-4.2.6", "oidc-agent-4.2.6-rotated"} {
		file := readTestdata(t, golden+".account")
		// oidc-gen -p prints the plaintext and a newline.
		want := bytes.TrimSuffix(readTestdata(t, golden+".json"), []byte("\n"))
		tests = append(tests,
			testCase{golden, file, want},
			// oidc-agent reads files line by line and tolerates one trailing newline.
			testCase{golden + " with trailing newline", append(bytes.Clone(file), '\n'), want})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			got, err := oidcagent.Decrypt(tc.file, []byte(goldenPassword))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Decrypt = %s\nwant (oidc-gen -p) %s", got, want)
			}
		})
	}
}

func TestDecryptLegacyHex(t *testing.T) {
	want := readTestdata(t, "legacy.json")
	for _, name := range []string{
		"legacy-v18",     // one line, Argon2i 4 passes 32 MiB (libsodium18 era)
		"legacy-v23-ver", // hex line + "Generated using version: 2.0.3", Argon2id 2 passes 64 MiB
	} {
		t.Run(name, func(t *testing.T) {
			file := readTestdata(t, name)
			got, err := oidcagent.Decrypt(file, []byte(legacyPassword))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Decrypt = %s; want %s", got, want)
			}
			_, err = oidcagent.Decrypt(file, []byte("wrong"))
			if !errors.Is(err, oidcagent.ErrBadPassword) {
				t.Errorf("Decrypt with a wrong password: %v; want ErrBadPassword", err)
			}
		})
	}
}

func TestDecryptWrongPassword(t *testing.T) {
	for _, pw := range []string{"", "sample pässwörd ", "Sample pässwörd", "testpw"} {
		_, err := oidcagent.Decrypt(sampleFile(t), []byte(pw))
		if !errors.Is(err, oidcagent.ErrBadPassword) || errors.Is(err, oidcagent.ErrCorrupt) {
			t.Errorf("Decrypt(password %q) error = %v; want ErrBadPassword only", pw, err)
		}
	}
}

func TestNULRejected(t *testing.T) {
	if _, err := oidcagent.Encrypt([]byte("a\x00b"), []byte("pw")); err == nil {
		t.Error("Encrypt accepted a plaintext with a NUL byte")
	}
	if _, err := oidcagent.Encrypt([]byte("{}"), []byte("p\x00w")); err == nil {
		t.Error("Encrypt accepted a password with a NUL byte")
	}
	if _, err := oidcagent.Decrypt(sampleFile(t), []byte(samplePassword+"\x00")); err == nil {
		t.Error("Decrypt accepted a password with a NUL byte")
	}
}

// TestDecryptTruncated cuts the file after every byte: each prefix must be
// refused as corrupt, never panic, and never pass for a wrong password.
func TestDecryptTruncated(t *testing.T) {
	file := sampleFile(t)
	for n := 0; n < len(file); n++ {
		_, err := oidcagent.Decrypt(file[:n], []byte(samplePassword))
		if !errors.Is(err, oidcagent.ErrCorrupt) {
			t.Fatalf("Decrypt(first %d of %d bytes) error = %v; want ErrCorrupt", n, len(file), err)
		}
	}
}

func TestDecryptCorrupt(t *testing.T) {
	valid := strings.Split(string(sampleFile(t)), "\n")
	with := func(i int, s string) []byte {
		l := append([]string(nil), valid...)
		l[i] = s
		return []byte(strings.Join(l, "\n"))
	}
	flip := func(line int) []byte {
		b, _ := base64.StdEncoding.DecodeString(valid[line])
		b[len(b)-1] ^= 1
		return with(line, base64.StdEncoding.EncodeToString(b))
	}
	joined := strings.Join(valid, "\n")
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, oidcagent.ErrCorrupt},
		{"two trailing newlines", []byte(joined + "\n\n"), oidcagent.ErrCorrupt},
		{"CRLF", []byte(strings.ReplaceAll(joined, "\n", "\r\n")), oidcagent.ErrCorrupt},
		{"extra line", []byte(strings.Join(append(valid[:6:6], "x", valid[6]), "\n")), oidcagent.ErrCorrupt},
		{"no version line", []byte(strings.Join(valid[:6], "\n")), oidcagent.ErrCorrupt},
		{"version unparsable", with(6, "Generated using version: four"), oidcagent.ErrCorrupt},
		{"version below 2.1.0 with 7 lines", with(6, "Generated using version: 2.0.9"), oidcagent.ErrCorrupt},
		{"length not a number", with(0, "x"), oidcagent.ErrCorrupt},
		{"length shorter than MAC", with(0, "15"), oidcagent.ErrCorrupt},
		{"length mismatch", with(0, strconv.Itoa(len(samplePlain)+17)), oidcagent.ErrCorrupt},
		{"nonce not base64", with(1, "!!!"), oidcagent.ErrCorrupt},
		{"nonce too short", with(1, base64.StdEncoding.EncodeToString(make([]byte, 23))), oidcagent.ErrCorrupt},
		{"salt too long", with(2, base64.StdEncoding.EncodeToString(make([]byte, 17))), oidcagent.ErrCorrupt},
		{"params field count", with(3, "24:16:16:32:1:2:67108864"), oidcagent.ErrCorrupt},
		{"params not numbers", with(3, "24:16:16:32:1:2:x:2"), oidcagent.ErrCorrupt},
		{"params other sizes", with(3, "12:16:16:32:1:2:67108864:2"), oidcagent.ErrUnsupported},
		{"ciphertext not base64", with(4, "%%%"), oidcagent.ErrCorrupt},
		{"hash key short", with(5, base64.StdEncoding.EncodeToString(make([]byte, 31))), oidcagent.ErrCorrupt},
		{"gpg", []byte("-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n"), oidcagent.ErrUnsupported},
		{"legacy hex, 3 fields", []byte("32:00:00"), oidcagent.ErrCorrupt},
		{"legacy hex, bad hex", []byte("16:zz:00:00"), oidcagent.ErrCorrupt},
		// These two pass the structural checks and cost a derivation.
		{"hash key altered", flip(5), oidcagent.ErrBadPassword},
		{"ciphertext altered", flip(4), oidcagent.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oidcagent.Decrypt(tc.file, []byte(samplePassword))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decrypt error = %v; want %v", err, tc.want)
			}
			for _, other := range []error{oidcagent.ErrCorrupt, oidcagent.ErrBadPassword, oidcagent.ErrUnsupported} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("Decrypt error = %v; is also %v", err, other)
				}
			}
		})
	}
	// The messages name the line, so that a user can fix the file.
	_, err := oidcagent.Decrypt(with(2, "!!"), []byte(samplePassword))
	if err == nil || !strings.Contains(err.Error(), "line 3 (salt)") {
		t.Errorf("bad salt error = %v; want it to name line 3 (salt)", err)
	}
}

func ExampleDecrypt() {
	file, _ := os.ReadFile("testdata/oidc-gen-4.2.6.account")
	plain, err := oidcagent.Decrypt(file, []byte("testpw"))
	if err != nil {
		fmt.Println(err)
		return
	}
	acct, _ := oidcagent.ParseAccount(plain)
	fmt.Println(acct.Name(), acct.IssuerURL(), acct.ClientID())
	_, err = oidcagent.Decrypt(file, []byte("wrong"))
	fmt.Println(errors.Is(err, oidcagent.ErrBadPassword))
	// Output:
	// fresh http://127.0.0.1:9188/ credmon
	// true
}

// BenchmarkDecrypt is one read of a real oidc-gen file: parsing plus one
// derivation.
func BenchmarkDecrypt(b *testing.B) {
	file := readTestdata(b, "oidc-gen-4.2.6.account")
	for b.Loop() {
		if _, err := oidcagent.Decrypt(file, []byte(goldenPassword)); err != nil {
			b.Fatal(err)
		}
	}
}

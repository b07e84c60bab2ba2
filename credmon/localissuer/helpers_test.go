package localissuer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/credmon/credmon/credmon/localissuer"
)

// EnvRequirePyJWT makes the PyJWT-based tests fail instead of skipping when
// /usr/bin/python3 cannot import jwt (CI sets it once python3-jwt is part
// of the machine setup).
const EnvRequirePyJWT = "CREDMON_REQUIRE_PYJWT"

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v; want %#v", what, got, want)
	}
}

// must turns a (value, error) call into a value: must(f(x))(t) fails the
// test on error.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// tool returns the path of an external program or skips the test.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// run runs a command and returns its stdout; it fails the test on error.
func run(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// execOut runs a command and returns its stdout, or an error with stderr.
func execOut(name string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// python3 returns /usr/bin/python3 if it can import every module, or skips
// (fails under CREDMON_REQUIRE_PYJWT=1 when a module is missing).
func python3(t testing.TB, modules ...string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		skipOrFail(t, "python3 not installed")
	}
	for _, m := range modules {
		if err := exec.Command(py, "-c", "import "+m).Run(); err != nil {
			skipOrFail(t, "python3 module "+m+" not installed (apt-get install python3-jwt python3-cryptography)")
		}
	}
	return py
}

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(EnvRequirePyJWT) == "1" {
		t.Fatalf("%s, and %s=1", msg, EnvRequirePyJWT)
	}
	t.Skip(msg)
}

// Keys are expensive (RSA above all), so each kind is made once per run.
var (
	keysOnce  sync.Once
	ecGo      *ecdsa.PrivateKey
	rsaGo     *rsa.PrivateKey
	rsaGo2    *rsa.PrivateKey
	keysError error
)

func goKeys(t testing.TB) (*ecdsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		ecGo, keysError = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if keysError == nil {
			rsaGo, keysError = rsa.GenerateKey(rand.Reader, 2048)
		}
		if keysError == nil {
			rsaGo2, keysError = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if keysError != nil {
		t.Fatal(keysError)
	}
	return ecGo, rsaGo
}

func esKey(t testing.TB, kid string) *localissuer.Key {
	ec, _ := goKeys(t)
	return &localissuer.Key{Signer: ec, Algorithm: localissuer.AlgES256, KeyID: kid}
}

func rsKey(t testing.TB, kid string) *localissuer.Key {
	_, rk := goKeys(t)
	return &localissuer.Key{Signer: rk, Algorithm: localissuer.AlgRS256, KeyID: kid}
}

// segment decodes part i (0 header, 1 payload, 2 signature) of a JWT.
func segment(t testing.TB, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts; want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decoding token part %d: %v", i, err)
	}
	return b
}

// decodeJSON decodes with json.Number, so that 1767323045 and 1.767323045e9
// are told apart.
func decodeJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return m
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

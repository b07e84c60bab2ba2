package localissuer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/credmon/credmon/credmon/localissuer"
)

// Environment of the EnsureKeyPair helper process (see TestMain).
const (
	envKeygenHelper = "LOCALISSUER_TEST_KEYGEN_HELPER"
	envKeygenPriv   = "LOCALISSUER_TEST_KEYGEN_PRIV"
	envKeygenPub    = "LOCALISSUER_TEST_KEYGEN_PUB"
)

func TestMain(m *testing.M) {
	if os.Getenv(envKeygenHelper) == "1" {
		keygenHelper()
		return
	}
	os.Exit(m.Run())
}

// keygenHelper is the body of one racing process: wait until the parent
// closes stdin (all racers are released together), call EnsureKeyPair once,
// report the outcome on stdout.
func keygenHelper() {
	_, _ = io.Copy(io.Discard, os.Stdin)
	created, err := localissuer.EnsureKeyPair(os.Getenv(envKeygenPriv), os.Getenv(envKeygenPub))
	if err != nil {
		fmt.Printf("error=%v\n", err)
		os.Exit(1)
	}
	fmt.Printf("created=%v\n", created)
	os.Exit(0)
}

func keyPaths(t *testing.T) (dir, priv, pub string) {
	dir = t.TempDir()
	return dir, filepath.Join(dir, "scitokens-private.pem"), filepath.Join(dir, "scitokens.pem")
}

// checkPair asserts that priv/pub are one EC P-256 key pair in the formats
// and modes create_credentials writes, and that nothing else is in dir.
func checkPair(t *testing.T, dir, priv, pub string) {
	t.Helper()
	for _, f := range []struct {
		path string
		mode fs.FileMode
		typ  string
	}{{priv, 0o600, "EC PRIVATE KEY"}, {pub, 0o644, "PUBLIC KEY"}} {
		st, err := os.Lstat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() || st.Mode().Perm() != f.mode {
			t.Errorf("mode of %s = %v; want regular file %v", f.path, st.Mode(), f.mode)
		}
		data := must(os.ReadFile(f.path))(t)
		block, rest := pem.Decode(data)
		if block == nil || block.Type != f.typ || len(rest) != 0 {
			t.Fatalf("%s: want exactly one %q PEM block, got %q", f.path, f.typ, data)
		}
	}
	k := must(localissuer.LoadPrivateKey(priv, localissuer.AlgES256, "local"))(t)
	block, _ := pem.Decode(must(os.ReadFile(pub))(t))
	pk := must(x509.ParsePKIXPublicKey(block.Bytes))(t)
	if ec, ok := pk.(*ecdsa.PublicKey); !ok || ec.Curve != elliptic.P256() || !ec.Equal(k.Signer.Public()) {
		t.Fatalf("public key file does not hold the private key's P-256 public key")
	}
	names := dirNames(t, dir)
	want := []string{filepath.Base(priv), filepath.Base(pub)}
	sort.Strings(want)
	eq(t, "files in key dir", names, want)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des := must(os.ReadDir(dir))(t)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names
}

func TestEnsureKeyPairCreates(t *testing.T) {
	dir, priv, pub := keyPaths(t)
	created := must(localissuer.EnsureKeyPair(priv, pub))(t)
	eq(t, "created", created, true)
	checkPair(t, dir, priv, pub)

	// The public file is exactly what openssl derives from the private one.
	ossl := tool(t, "openssl")
	derived := run(t, nil, ossl, "ec", "-in", priv, "-pubout")
	eq(t, "openssl ec -pubout", string(derived), string(must(os.ReadFile(pub))(t)))
	// And openssl reads the private key as a SEC1 P-256 key.
	text := string(run(t, nil, ossl, "ec", "-in", priv, "-noout", "-text"))
	if !strings.Contains(text, "ASN1 OID: prime256v1") {
		t.Errorf("openssl ec -text does not show prime256v1:\n%s", text)
	}

	// A second call changes nothing.
	before := [2][]byte{must(os.ReadFile(priv))(t), must(os.ReadFile(pub))(t)}
	eq(t, "created again", must(localissuer.EnsureKeyPair(priv, pub))(t), false)
	eq(t, "private key after second call", must(os.ReadFile(priv))(t), before[0])
	eq(t, "public key after second call", must(os.ReadFile(pub))(t), before[1])
}

func TestEnsureKeyPairNeverOverwrites(t *testing.T) {
	t.Run("existing private key of any content", func(t *testing.T) {
		dir, priv, pub := keyPaths(t)
		writeFile(t, dir, filepath.Base(priv), []byte("not even a key"))
		eq(t, "created", must(localissuer.EnsureKeyPair(priv, pub))(t), false)
		eq(t, "private key", string(must(os.ReadFile(priv))(t)), "not even a key")
		if _, err := os.Lstat(pub); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("public key was created next to an existing private key: %v", err)
		}
	})
	t.Run("dangling symlink at the private key path", func(t *testing.T) {
		dir, priv, pub := keyPaths(t)
		target := filepath.Join(dir, "elsewhere.pem")
		if err := os.Symlink(target, priv); err != nil {
			t.Fatal(err)
		}
		eq(t, "created", must(localissuer.EnsureKeyPair(priv, pub))(t), false)
		if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a key was written through the symlink: %v", err)
		}
	})
	t.Run("orphan public key", func(t *testing.T) {
		dir, priv, pub := keyPaths(t)
		writeFile(t, dir, filepath.Base(pub), []byte("old public key"))
		_, err := localissuer.EnsureKeyPair(priv, pub)
		if !errors.Is(err, localissuer.ErrOrphanPublicKey) {
			t.Fatalf("EnsureKeyPair error = %v; want ErrOrphanPublicKey", err)
		}
		eq(t, "public key", string(must(os.ReadFile(pub))(t)), "old public key")
		eq(t, "files", dirNames(t, dir), []string{filepath.Base(pub)})
	})
}

func TestEnsureKeyPairFailureRemovesWhatItCreated(t *testing.T) {
	dir, priv, _ := keyPaths(t)
	pub := filepath.Join(dir, "missing-dir", "scitokens.pem")
	if _, err := localissuer.EnsureKeyPair(priv, pub); err == nil {
		t.Fatal("EnsureKeyPair with an unwritable public key path succeeded")
	}
	eq(t, "files left", dirNames(t, dir), []string(nil))

	if _, err := localissuer.EnsureKeyPair(priv, priv); err == nil {
		t.Fatal("EnsureKeyPair(p, p) succeeded")
	}
	if _, err := localissuer.EnsureKeyPair("", pub); err == nil {
		t.Fatal("EnsureKeyPair(\"\", p) succeeded")
	}
}

// TestEnsureKeyPairConcurrent races goroutines released together.
func TestEnsureKeyPairConcurrent(t *testing.T) {
	for round := range 5 {
		dir, priv, pub := keyPaths(t)
		const n = 16
		start := make(chan struct{})
		results := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				results[i], errs[i] = localissuer.EnsureKeyPair(priv, pub)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d: racer %d: %v", round, i, errs[i])
			}
			if results[i] {
				winners++
			}
		}
		eq(t, fmt.Sprintf("round %d winners", round), winners, 1)
		checkPair(t, dir, priv, pub)
	}
}

// TestEnsureKeyPairProcesses races separate processes (this test binary in
// helper mode), as two credmons started at once would.
func TestEnsureKeyPairProcesses(t *testing.T) {
	exe := must(os.Executable())(t)
	for round := range 3 {
		dir, priv, pub := keyPaths(t)
		const n = 6
		cmds := make([]*exec.Cmd, n)
		outs := make([]*bytes.Buffer, n)
		stdins := make([]io.WriteCloser, n)
		for i := range n {
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), envKeygenHelper+"=1", envKeygenPriv+"="+priv, envKeygenPub+"="+pub)
			outs[i] = new(bytes.Buffer)
			cmd.Stdout, cmd.Stderr = outs[i], outs[i]
			stdins[i] = must(cmd.StdinPipe())(t)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i] = cmd
		}
		for _, w := range stdins { // release all racers
			_ = w.Close()
		}
		winners := 0
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("round %d: helper %d: %v: %s", round, i, err, outs[i])
			}
			switch strings.TrimSpace(outs[i].String()) {
			case "created=true":
				winners++
			case "created=false":
			default:
				t.Fatalf("round %d: helper %d said %q", round, i, outs[i])
			}
		}
		eq(t, fmt.Sprintf("round %d winners", round), winners, 1)
		checkPair(t, dir, priv, pub)
	}
}

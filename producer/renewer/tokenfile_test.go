package renewer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// unsignedJWT makes a token whose claims bearer.Inspect reads (the
// signature is never checked there).
func unsignedJWT(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFreshUsesGetsCoverageRule: a run keeps a token file exactly when
// min_lifetime is set and bearer.Satisfies, get's --minsecs rule, says
// the file does: at least min_lifetime left, every audience, every scope,
// a WLCG path scope covering the paths below it.
func TestFreshUsesGetsCoverageRule(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok := unsignedJWT(t, jwt.MapClaims{"exp": now.Add(1000 * time.Second).Unix(), "iat": now.Unix(), "aud": []string{"a1", "a2"},
		"scope": "s1 s2 storage.read:/data"})
	path := filepath.Join(t.TempDir(), "t.token")
	if err := writeTokenFile(path, []byte(tok+"\n"), writeSpec{uid: -1, gid: -1}); err != nil {
		t.Fatal(err)
	}
	ti, err := readTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		t    Token
		want bool
	}{
		{"no min_lifetime: always renew", Token{}, false},
		{"remaining > min", Token{HasMinLifetime: true, MinLifetime: 999 * time.Second}, true},
		// At least min_lifetime, as get's --minsecs (osg-token-renewer
		// wanted more than min_lifetime: one second apart).
		{"remaining == min", Token{HasMinLifetime: true, MinLifetime: 1000 * time.Second}, true},
		{"remaining < min", Token{HasMinLifetime: true, MinLifetime: 1001 * time.Second}, false},
		{"aud and scope subset", Token{HasMinLifetime: true, Audience: "a2", Scope: "s2 s1"}, true},
		{"every audience listed", Token{HasMinLifetime: true, Audience: "a1 a2"}, true},
		{"aud mismatch", Token{HasMinLifetime: true, Audience: "a1 a3"}, false},
		{"scope mismatch", Token{HasMinLifetime: true, Scope: "s3"}, false},
		// Renewed every run before: the old rule compared scopes as words.
		{"path scope covers a subpath", Token{HasMinLifetime: true, Scope: "storage.read:/data/run1"}, true},
		{"path scope does not cover a sibling", Token{HasMinLifetime: true, Scope: "storage.read:/database"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fresh(ti, &tt.t, now); got != tt.want {
				t.Errorf("fresh = %v; want %v", got, tt.want)
			}
		})
	}
	// Ten seconds before exp no token is kept, whatever min_lifetime says.
	if fresh(ti, &Token{HasMinLifetime: true}, now.Add(995*time.Second)) {
		t.Error("a token with 5 s left was kept with min_lifetime = 0")
	}
}

func TestWriteTokenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.token")
	if err := writeTokenFile(p, []byte("T1\n"), writeSpec{uid: -1, gid: -1}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "T1\n", 0o600)

	// An existing file keeps its mode, as osg-token-renewer's O_TRUNC does.
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := writeTokenFile(p, []byte("T2"), writeSpec{uid: -1, gid: -1}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "T2", 0o640)

	m := fs.FileMode(0o444)
	if err := writeTokenFile(p, []byte("T3"), writeSpec{uid: os.Getuid(), gid: os.Getgid(), mode: &m}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "T3", 0o444)

	// A symlink is replaced, and its target left alone.
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.token")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if _, err := readTokenFile(link); err == nil {
		t.Error("readTokenFile followed a symlink")
	}
	if err := writeTokenFile(link, []byte("T4"), writeSpec{uid: -1, gid: -1}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, link, "T4", 0o600)
	checkFile(t, victim, "keep", 0o600)

	if err := writeTokenFile(dir, []byte("x"), writeSpec{uid: -1, gid: -1}); err == nil {
		t.Error("writing over a directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func checkFile(t *testing.T, path, want string, mode fs.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() != mode {
		t.Errorf("%s: mode = %v; want regular %v", path, st.Mode(), mode)
	}
	b, _ := os.ReadFile(path)
	if string(b) != want {
		t.Errorf("%s = %q; want %q", path, b, want)
	}
}

func TestLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "renew.lock")
	ctx := context.Background()
	l1, err := acquireLock(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquireLock(ctx, p, 100*time.Millisecond); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second acquireLock = %v; want ErrAlreadyRunning", err)
	}
	done := make(chan error, 1)
	go func() {
		l, err := acquireLock(ctx, p, 10*time.Second)
		l.release()
		done <- err
	}()
	// No sleep to "let it poll": whether the waiter has polled yet or not,
	// it must not hold the lock before the release and must get it after.
	select {
	case err := <-done:
		t.Fatalf("a waiter got a held lock (err %v)", err)
	default:
	}
	l1.release()
	if err := <-done; err != nil {
		t.Errorf("waiting acquireLock = %v; want success after release", err)
	}
}

package oidcagent_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/producer/oidcagent"
)

const filePassword = "file test password"

func testAccount(name string) *oidcagent.Account {
	a := oidcagent.NewAccount(name)
	a.SetIssuerURL("https://issuer.example/")
	a.SetClientID("cid")
	a.SetClientSecret("secret")
	a.SetRefreshToken("rt-1")
	a.SetScope("openid offline_access")
	a.SetString("x_unknown", "kept")
	return a
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

// noTempFiles fails if Save left anything but the listed names in dir.
func noTempFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("directory holds %q; want %q", got, want)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if err := oidcagent.Save(dir, "acct", testAccount("acct"), []byte(filePassword)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	path := filepath.Join(dir, "acct")
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("new account file mode = %v; want -rw-------", m)
	}
	noTempFiles(t, dir, "acct")

	a, err := oidcagent.Load(dir, "acct", []byte(filePassword))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if a.RefreshToken() != "rt-1" || a.ClientID() != "cid" || a.IssuerURL() != "https://issuer.example/" {
		t.Errorf("Load gave rt %q client %q issuer %q", a.RefreshToken(), a.ClientID(), a.IssuerURL())
	}
	if s, _ := a.GetString("x_unknown"); s != "kept" {
		t.Errorf("unknown member after Save/Load = %q; want kept", s)
	}

	// Rotation: replace the file, keeping a mode the admin chose.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	a.SetRefreshToken("rt-2")
	if err := oidcagent.Save(dir, "acct", a, []byte(filePassword)); err != nil {
		t.Fatalf("Save over an existing file: %v", err)
	}
	if m := fileMode(t, path); m != 0o640 {
		t.Errorf("mode after Save = %v; want the old -rw-r-----", m)
	}
	noTempFiles(t, dir, "acct")
	b, err := oidcagent.Load(dir, "acct", []byte(filePassword))
	if err != nil {
		t.Fatal(err)
	}
	if b.RefreshToken() != "rt-2" {
		t.Errorf("RefreshToken after second Save = %q; want rt-2", b.RefreshToken())
	}

	_, err = oidcagent.Load(dir, "acct", []byte("wrong"))
	if !errors.Is(err, oidcagent.ErrBadPassword) {
		t.Errorf("Load with a wrong password: %v; want ErrBadPassword", err)
	}
	_, err = oidcagent.Load(dir, "missing", []byte(filePassword))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing account: %v; want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("not an account"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = oidcagent.Load(dir, "junk", []byte(filePassword))
	if !errors.Is(err, oidcagent.ErrCorrupt) {
		t.Errorf("Load of a junk file: %v; want ErrCorrupt", err)
	}
}

func TestSaveKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "acct")
	if err := oidcagent.Save(dir, "acct", testAccount("acct"), []byte(filePassword)); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 4242, 4343
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := oidcagent.Save(dir, "acct", testAccount("acct"), []byte(filePassword)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	if s.Uid != uid || s.Gid != gid {
		t.Errorf("owner after Save = %d:%d; want %d:%d", s.Uid, s.Gid, uid, gid)
	}
}

// TestLoadRefusesSymlinkAndNonRegular: a symlink at the account's name is
// refused even when it points to a valid account file (O_NOFOLLOW), and so
// is a FIFO (without hanging), each with an error naming the path.
func TestLoadRefusesSymlinkAndNonRegular(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	if err := oidcagent.Save(elsewhere, "acct", testAccount("acct"), []byte(filePassword)); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "acct")
	if err := os.Symlink(filepath.Join(elsewhere, "acct"), link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{{"acct", "symlink"}, {"fifo", "named pipe"}} {
		a, err := oidcagent.Load(dir, tc.name, []byte(filePassword))
		if err == nil {
			t.Errorf("Load(%s) = %v; want it refused", tc.name, a.Name())
			continue
		}
		path := filepath.Join(dir, tc.name)
		if !errors.Is(err, atomicfile.ErrNotRegular) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) error = %v; want ErrNotRegular naming %s and %q", tc.name, err, path, tc.want)
		}
	}
	// The target itself still loads.
	if _, err := oidcagent.Load(elsewhere, "acct", []byte(filePassword)); err != nil {
		t.Errorf("Load(the link's target): %v", err)
	}
}

func TestSaveDoesNotFollowSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "acct")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := oidcagent.Save(dir, "acct", testAccount("acct"), []byte(filePassword)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("Save wrote through the symlink: target now %q", b)
	}
	if m := fileMode(t, link); !m.IsRegular() || m.Perm() != 0o600 {
		t.Errorf("account after Save has mode %v; want a regular -rw------- file replacing the link", m)
	}
	if _, err := oidcagent.Load(dir, "acct", []byte(filePassword)); err != nil {
		t.Errorf("Load after Save: %v", err)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "isdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, file string
		acct            *oidcagent.Account
	}{
		{"name mismatch", dir, "other", testAccount("acct")},
		{"invalid name", dir, "../acct", testAccount("../acct")},
		{"hidden name", dir, ".acct", testAccount(".acct")},
		{"target is a directory", dir, "isdir", testAccount("isdir")},
		{"missing directory", filepath.Join(dir, "nope"), "acct", testAccount("acct")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := oidcagent.Save(tc.dir, tc.file, tc.acct, []byte(filePassword)); err == nil {
				t.Errorf("Save(%q, %q) succeeded; want an error", tc.dir, tc.file)
			}
		})
	}
	noTempFiles(t, dir, "isdir")
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "wlcg-iam", "my_account.1", "ü"} {
		if err := oidcagent.ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v; want nil", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a\x00", ".hidden", "issuer.config", "x.clientconfig3"} {
		if err := oidcagent.ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) = nil; want an error", bad)
		}
	}
}

// TestFindConfigDir replays the lookup order observed with oidc-add -l of
// oidc-agent 4.2.6 (HOME and OIDC_CONFIG_DIR varied the same way).
func TestFindConfigDir(t *testing.T) {
	home := t.TempDir()
	envDir := filepath.Join(t.TempDir(), "env")
	dotConfig := filepath.Join(home, ".config", "oidc-agent")
	dot := filepath.Join(home, ".oidc-agent")
	t.Setenv("HOME", home)
	t.Setenv(oidcagent.EnvConfigDir, envDir)

	want := func(dir string) {
		t.Helper()
		got, err := oidcagent.FindConfigDir()
		if dir == "" {
			if !errors.Is(err, oidcagent.ErrNoConfigDir) {
				t.Errorf("FindConfigDir() = %q, %v; want ErrNoConfigDir", got, err)
			}
			return
		}
		if err != nil || got != dir {
			t.Errorf("FindConfigDir() = %q, %v; want %q", got, err, dir)
		}
	}
	want("")
	for _, d := range []string{dot, dotConfig, envDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	want(envDir)
	if err := os.Remove(envDir); err != nil {
		t.Fatal(err)
	}
	want(dotConfig) // a missing $OIDC_CONFIG_DIR falls through
	if err := os.RemoveAll(filepath.Join(home, ".config")); err != nil {
		t.Fatal(err)
	}
	want(dot)
	if err := os.WriteFile(envDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := oidcagent.FindConfigDir(); err == nil {
		t.Error("FindConfigDir with $OIDC_CONFIG_DIR naming a file succeeded; want an error (oidc-agent exits)")
	}
}

// TestCreateConfigDir replays where oidc-gen -l 4.2.6 created its directory.
func TestCreateConfigDir(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(home string) (env string)
		wantIn func(home, env string) string
	}{
		{"~/.config exists", func(home string) string {
			must(t, os.Mkdir(filepath.Join(home, ".config"), 0o700))
			return ""
		}, func(home, _ string) string { return filepath.Join(home, ".config", "oidc-agent") }},
		{"no ~/.config", func(string) string { return "" },
			func(home, _ string) string { return filepath.Join(home, ".oidc-agent") }},
		{"OIDC_CONFIG_DIR whose parent exists", func(home string) string {
			must(t, os.Mkdir(filepath.Join(home, ".config"), 0o700))
			return filepath.Join(home, "envdir")
		}, func(_, env string) string { return env }},
		{"already there", func(home string) string {
			must(t, os.MkdirAll(filepath.Join(home, ".oidc-agent"), 0o755))
			return ""
		}, func(home, _ string) string { return filepath.Join(home, ".oidc-agent") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			env := tc.setup(home)
			t.Setenv("HOME", home)
			t.Setenv(oidcagent.EnvConfigDir, env)
			want := tc.wantIn(home, env)
			got, err := oidcagent.CreateConfigDir()
			if err != nil || got != want {
				t.Fatalf("CreateConfigDir() = %q, %v; want %q", got, err, want)
			}
			if tc.name == "already there" {
				return
			}
			if m := fileMode(t, got); m.Perm() != 0o700 {
				t.Errorf("created directory mode %v; want drwx------", m)
			}
			if _, err := os.Stat(filepath.Join(got, oidcagent.IssuerConfigFile)); err != nil {
				t.Errorf("no issuer.config in the new directory: %v", err)
			}
			if again, err := oidcagent.FindConfigDir(); err != nil || again != got {
				t.Errorf("FindConfigDir after CreateConfigDir = %q, %v; want %q", again, err, got)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

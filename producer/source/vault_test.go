package source_test

import (
	"context"
	"errors"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/internal/vaulttest"
	"github.com/credmon/credmon/producer/source"
)

var _ source.Source = (*source.Vault)(nil)

// TestCheckCredKeyRefusesPathTricks protects what a credkey named by a
// Vault login may be: a user name, never something that moves the
// credential path elsewhere or changes what it means.
func TestCheckCredKeyRefusesPathTricks(t *testing.T) {
	for _, k := range []string{"alice", "albert.einstein@ligo.org", "robot-1_a+b=c", "A9"} {
		if err := source.CheckCredKey(k); err != nil {
			t.Errorf("CheckCredKey(%q) = %v; want nil", k, err)
		}
	}
	for _, k := range []string{"", "..", "a..b", ".", "a/b", "/alice", "../bob", "alice:robot", "a?b", "a#b", "a%2fb",
		"a b", "a\nb", "a\x00b", "a\x7fb", "a\\b", "ä", ".alice", "*", strings.Repeat("a", 256)} {
		if err := source.CheckCredKey(k); err == nil {
			t.Errorf("CheckCredKey(%q) = nil; want an error", k)
		}
	}
}

// vaultEnv is the Vault peer backed by the real OIDC provider.
type vaultEnv struct {
	p  *oidcprovider.Provider
	vs *vaulttest.Server
	cl *vault.Client
}

func startVault(t *testing.T) *vaultEnv {
	t.Helper()
	e := &vaultEnv{p: oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})}
	e.vs = vaulttest.Start(t, vaulttest.Options{Provider: e.p, PollInterval: time.Second})
	cl, err := vault.New(vault.Config{Address: e.vs.URL, CAFile: e.vs.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	e.cl = cl
	return e
}

// source is a Vault source without a credkey whose person logs in at
// the provider as login.
func (e *vaultEnv) source(t *testing.T, login string, learnt *[]string) *source.Vault {
	return &source.Vault{
		Client: e.cl, Issuer: e.vs.Issuer(), Role: e.vs.Role(),
		DeviceLogin: func(da *vault.DeviceAuth) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := e.p.ApproveDevice(ctx, da.AuthURL, da.UserCode, login); err != nil {
				t.Errorf("approving the device login: %v", err)
			}
		},
		LearnedCredKey: func(k string) { *learnt = append(*learnt, k) },
		TokenFile:      filepath.Join(t.TempDir(), "vt"),
	}
}

// TestVaultWithoutCredKeyLearnsItFromTheOIDCLogin protects htgettoken's
// first run without a credkey: only the OIDC login is tried, the credkey
// is the one the login names, the refresh token is stored under it, and
// the source then reads with it (CredKey set, LearnedCredKey told once).
func TestVaultWithoutCredKeyLearnsItFromTheOIDCLogin(t *testing.T) {
	e := startVault(t)
	var learnt []string
	src := e.source(t, "alice", &learnt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := src.Token(ctx, source.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if claims := e.p.VerifyAccessToken(t, tok.AccessToken); claims["sub"] != "alice" {
		t.Errorf("access token sub %v; want alice", claims["sub"])
	}
	if src.CredKey != "alice" || len(learnt) != 1 || learnt[0] != "alice" {
		t.Errorf("CredKey %q, learnt %q; want alice, told once", src.CredKey, learnt)
	}
	if _, ok := e.vs.StoredRefreshToken(e.vs.Issuer() + "/alice:" + e.vs.Role()); !ok {
		t.Error("no refresh token stored under the learnt credkey")
	}
	if got, want := src.URL(source.Request{Scopes: []string{"x"}}), e.vs.URL+"/v1/secret/oauth/sts/"+e.vs.Issuer()+"/alice:"+e.vs.Role(); got != want {
		t.Errorf("URL %q; want %q", got, want)
	}
	logins := e.vs.Stats().Logins
	// The next token is read with the cached Vault token, now that the
	// credkey is known.
	if _, err := src.Token(ctx, source.Request{}); err != nil {
		t.Fatal(err)
	}
	if got := e.vs.Stats().Logins; got != logins || len(learnt) != 1 {
		t.Errorf("second Token: %d logins (before %d), learnt %q; want no new login", got, logins, learnt)
	}
}

// TestVaultRefusesALearntCredKeyWithPathTricks: a login that names a
// credkey with "/" or ".." stores nothing anywhere and says why.
func TestVaultRefusesALearntCredKeyWithPathTricks(t *testing.T) {
	e := startVault(t)
	var learnt []string
	src := e.source(t, "../bob", &learnt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := src.Token(ctx, source.Request{})
	if err == nil || !strings.Contains(err.Error(), `refusing the credkey "../bob"`) {
		t.Fatalf("error %v; want the credkey refused", err)
	}
	if src.CredKey != "" || len(learnt) != 0 {
		t.Errorf("CredKey %q, learnt %q; want nothing learnt", src.CredKey, learnt)
	}
	for _, name := range []string{e.vs.Issuer() + "/../bob:" + e.vs.Role(), "bob:" + e.vs.Role()} {
		if _, ok := e.vs.StoredRefreshToken(name); ok {
			t.Errorf("a refresh token was stored at %s", name)
		}
	}
}

// TestVaultWithoutCredKeyOrPersonNeedsLogin: no credkey and no one to log
// in is ErrNeedsLogin, before anything is asked of Vault.
func TestVaultWithoutCredKeyOrPersonNeedsLogin(t *testing.T) {
	e := startVault(t)
	src := &source.Vault{Client: e.cl, Issuer: e.vs.Issuer(), Role: e.vs.Role()}
	_, err := src.Token(context.Background(), source.Request{})
	if !errors.Is(err, source.ErrNeedsLogin) || !strings.Contains(err.Error(), "no credkey") {
		t.Fatalf("error %v; want ErrNeedsLogin naming the missing credkey", err)
	}
	if st := e.vs.Stats(); st.Logins != 0 {
		t.Errorf("%d Vault logins; want none", st.Logins)
	}
}

// FuzzCheckCredKey: an accepted credkey names exactly one credential
// below the issuer: one path segment that path.Clean leaves alone, with
// nothing a URL or Vault's path matching would read differently.
func FuzzCheckCredKey(f *testing.F) {
	for _, s := range []string{"alice", "a.b@c", "..", "a/b", "a:b", ".x", "a%2f", "a\x00", "ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if source.CheckCredKey(k) != nil {
			return
		}
		p := vault.CredsPath("igwn", k, "robot")
		if path.Clean(p) != p || strings.Count(p, "/") != 4 || strings.Count(p, ":") != 1 || strings.ContainsAny(k, "?#% *\\") {
			t.Fatalf("accepted credkey %q makes the path %q", k, p)
		}
		if u := (&url.URL{Path: p}); u.EscapedPath() != p {
			t.Fatalf("accepted credkey %q needs escaping in a URL: %q", k, u.EscapedPath())
		}
	})
}

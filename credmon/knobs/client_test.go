package knobs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClientKnobs: ClientCredmon's lookup order (CLIENT_CREDMON_<P>_X,
// then CLIENT_CREDMON_X), the local issuer's claim knobs read under that
// prefix, and errors that name the knobs.
func TestClientKnobs(t *testing.T) {
	m, err := credmonFrom(t, `
CLIENT_CREDMON_PROVIDER_NAMES = robots, other
CLIENT_CREDMON_CLIENT_ID = global-id
CLIENT_CREDMON_robots_CLIENT_ID = robots-id
CLIENT_CREDMON_CLIENT_SECRET_FILE = /etc/condor/client.secret
CLIENT_CREDMON_robots_TOKEN_URL = https://idp.example/token
CLIENT_CREDMON_ISSUER = https://idp.example
CLIENT_CREDMON_AUTHZ_TEMPLATE = storage.read:/user/{username}
CLIENT_CREDMON_robots_TOKEN_AUDIENCE = https://a.example https://b.example
CLIENT_CREDMON_TOKEN_LIFETIME = 600
LOCAL_CREDMON_AUTHZ_TEMPLATE = never:/used
`, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Client("robots")
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "robots-id" || c.ClientSecretFile != "/etc/condor/client.secret" || c.TokenURL != "https://idp.example/token" || c.Issuer != "https://idp.example" {
		t.Errorf("robots = %+v", c)
	}
	if c.SecretKnob != "CLIENT_CREDMON_CLIENT_SECRET_FILE" {
		t.Errorf("SecretKnob = %q", c.SecretKnob)
	}
	if c.Claims.AuthzTemplate != "storage.read:/user/{username}" || !reflect.DeepEqual(c.Claims.Audience, []string{"https://a.example", "https://b.example"}) || c.Claims.Lifetime != 600*time.Second {
		t.Errorf("claims = %+v", c.Claims)
	}
	o, err := m.Client("other")
	if err != nil {
		t.Fatal(err)
	}
	if o.ClientID != "global-id" || o.TokenURL != "" || o.Claims.Audience != nil {
		t.Errorf("other = %+v", o)
	}

	bad, _ := credmonFrom(t, "CLIENT_CREDMON_PROVIDER_NAMES = robots\n", Overrides{})
	_, err = bad.Client("robots")
	for _, want := range []string{"CLIENT_CREDMON_robots_CLIENT_ID (or CLIENT_CREDMON_CLIENT_ID) is not set",
		"CLIENT_CREDMON_robots_CLIENT_SECRET_FILE", "neither CLIENT_CREDMON_robots_TOKEN_URL nor CLIENT_CREDMON_robots_ISSUER"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if w := bad.TypeWarnings(); len(w) != 1 || !strings.Contains(w[0], "client-credentials provider robots") {
		t.Errorf("TypeWarnings = %q", w)
	}
}

// TestPelicanKnobs: <S>_PELICAN_* per service, the two global TLS knobs,
// the skip-verify warning, and errors naming the knobs.
func TestPelicanKnobs(t *testing.T) {
	m, err := credmonFrom(t, `
PELICAN_CREDMON_PROVIDER_NAMES = osdf
osdf_PELICAN_CLIENT_ID = pel-id
osdf_PELICAN_CLIENT_SECRET_FILE = /etc/condor/pelican.secret
PELICAN_CREDMON_CA_FILE = /etc/pki/pelican.pem
PELICAN_CREDMON_TLS_SKIP_VERIFY = yes
`, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Pelican("osdf")
	if err != nil {
		t.Fatal(err)
	}
	want := &Pelican{Name: "osdf", ClientID: "pel-id", ClientSecretFile: "/etc/condor/pelican.secret", CAFile: "/etc/pki/pelican.pem", SkipVerify: true}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Pelican = %+v; want %+v", p, want)
	}
	if w := m.TypeWarnings(); len(w) != 1 || !strings.HasPrefix(w[0], "PELICAN_CREDMON_TLS_SKIP_VERIFY is true") {
		t.Errorf("TypeWarnings = %q", w)
	}
	bad, _ := credmonFrom(t, "PELICAN_CREDMON_PROVIDER_NAMES = osdf\nPELICAN_CREDMON_TLS_SKIP_VERIFY = maybe\n", Overrides{})
	_, err = bad.Pelican("osdf")
	for _, want := range []string{"osdf_PELICAN_CLIENT_ID is not set", "osdf_PELICAN_CLIENT_SECRET_FILE is not set", "PELICAN_CREDMON_TLS_SKIP_VERIFY"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// TestSameSeesTypeKnobs: a reload that changes only a client-credentials
// or Pelican knob is a configuration change.
func TestSameSeesTypeKnobs(t *testing.T) {
	base := "CLIENT_CREDMON_PROVIDER_NAMES = robots\nCLIENT_CREDMON_CLIENT_ID = a\nPELICAN_CREDMON_PROVIDER_NAMES = osdf\nosdf_PELICAN_CLIENT_ID = p\n"
	a, _ := credmonFrom(t, base, Overrides{})
	b, _ := credmonFrom(t, base, Overrides{})
	if !a.Same(b, nil) {
		t.Fatal("identical configurations differ")
	}
	for _, extra := range []string{"CLIENT_CREDMON_TOKEN_AUDIENCE = x\n", "osdf_PELICAN_TOKEN_URL = https://x/token\n", "PELICAN_CREDMON_CA_FILE = /x\n"} {
		c, _ := credmonFrom(t, base+extra, Overrides{})
		if a.Same(c, nil) {
			t.Errorf("adding %q is not a change", extra)
		}
	}
}

// TestReadSecretFile: a private file gives its first line; one others
// can read or replace, a FIFO, an empty one or a missing one is refused
// with the knob named and the content never quoted.
func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok", "s3cret\nsecond line\n", 0o600)
	if s, err := ReadSecretFile("K", ok); err != nil || s != "s3cret" {
		t.Errorf("ReadSecretFile = %q, %v", s, err)
	}
	if s, err := ReadSecretFile("K", write("group-read", "s3cret", 0o640)); err != nil || s != "s3cret" {
		t.Errorf("a group-readable file (root:condor 0640): %q, %v", s, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{write("world", "s3cret", 0o644), "mode 0644"},
		{write("group-write", "s3cret", 0o620), "mode 0620"},
		{write("empty", "\n", 0o600), "empty"},
		{filepath.Join(dir, "missing"), "cannot open"},
		{fifo, "not a regular file"},
	} {
		_, err := ReadSecretFile("MY_SECRET_FILE", tc.path)
		if err == nil || !strings.HasPrefix(err.Error(), "MY_SECRET_FILE = "+tc.path+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want the knob, the path and %q", tc.path, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error quotes the secret", tc.path)
		}
	}
}

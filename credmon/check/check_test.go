package check_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/check"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// site is one test's configuration and files, all under a temp dir.
type site struct {
	t       *testing.T
	dir     string
	credDir string
	exe     string
	conf    []string
}

func newSite(t *testing.T) *site {
	s := &site{t: t, dir: t.TempDir()}
	s.credDir = filepath.Join(s.dir, "oauth_credentials")
	if err := os.Mkdir(s.credDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.credDir, 0o2770); err != nil {
		t.Fatal(err)
	}
	s.exe = s.write("credmon", "#!/bin/sh\n", 0o755)
	s.conf = []string{
		"SEC_CREDENTIAL_DIRECTORY_OAUTH = " + s.credDir,
		"DAEMON_LIST = MASTER, SCHEDD, CREDMON_OAUTH",
		"CREDMON_OAUTH = " + s.exe,
		"LOCAL_CREDMON_PROVIDER_NAMES = scitokens",
		"LOCAL_CREDMON_PRIVATE_KEY = " + filepath.Join(s.dir, "priv.pem"),
		"LOCAL_CREDMON_PUBLIC_KEY = " + filepath.Join(s.dir, "pub.pem"),
		"LOCAL_CREDMON_ISSUER = https://issuer.example.org",
		"LOCK = " + s.dir,
	}
	if _, err := localissuer.EnsureKeyPair(filepath.Join(s.dir, "priv.pem"), filepath.Join(s.dir, "pub.pem")); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *site) write(name, content string, mode os.FileMode) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *site) run(opts check.Options) *check.Report {
	s.t.Helper()
	cfg, err := condorcfg.LoadString("condor_config", strings.Join(s.conf, "\n")+"\n", condorcfg.Options{Subsystem: "CREDMON_OAUTH", Env: []string{}})
	if err != nil {
		s.t.Fatal(err)
	}
	cm, err := knobs.LoadCredmon(cfg, "CREDMON_OAUTH", knobs.Overrides{})
	opts.Config, opts.Credmon, opts.LoadErr = cfg, cm, err
	if opts.Executable == "" {
		opts.Executable = s.exe
	}
	return check.Run(context.Background(), opts)
}

func knobs_(ps []check.Problem) []string {
	var k []string
	for _, p := range ps {
		k = append(k, p.Knob)
	}
	return k
}

func has(ps []check.Problem, knob string) bool {
	for _, p := range ps {
		if p.Knob == knob {
			return true
		}
	}
	return false
}

// closedURL is a URL on a port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/token"
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(s *site)
		opts     check.Options
		errors   []string // knobs that must have an error
		warnings []string // knobs that must have a warning
	}{
		{name: "clean local issuer site"},
		{name: "daemon list without the credmon", setup: func(s *site) { s.conf = append(s.conf, "DAEMON_LIST = MASTER, SCHEDD") },
			errors: []string{"DAEMON_LIST"}},
		{name: "feature OAUTH names it", setup: func(s *site) {
			s.conf = append([]string{"DAEMON_LIST = MASTER SCHEDD", "use feature:OAUTH"}, s.conf[:1]...)
			s.conf = append(s.conf, "CREDMON_OAUTH = "+s.exe, "LOCAL_CREDMON_PRIVATE_KEY = "+filepath.Join(s.dir, "priv.pem"),
				"LOCAL_CREDMON_PUBLIC_KEY = "+filepath.Join(s.dir, "pub.pem"), "LOCAL_CREDMON_ISSUER = https://issuer.example.org")
		}},
		{name: "standalone needs no daemon list", setup: func(s *site) { s.conf = append(s.conf, "DAEMON_LIST = MASTER") },
			opts: check.Options{Standalone: true}},
		{name: "master starts another program", setup: func(s *site) { s.conf = append(s.conf, "CREDMON_OAUTH = /usr/sbin/condor_credmon_oauth") },
			errors: []string{"CREDMON_OAUTH"}},
		{name: "cred dir open to others", setup: func(s *site) { os.Chmod(s.credDir, 0o777) },
			errors: []string{"SEC_CREDENTIAL_DIRECTORY_OAUTH"}},
		{name: "cred dir without setgid", setup: func(s *site) { os.Chmod(s.credDir, 0o700) },
			warnings: []string{"SEC_CREDENTIAL_DIRECTORY_OAUTH"}},
		{name: "cred dir missing", setup: func(s *site) { os.Remove(s.credDir) },
			warnings: []string{"SEC_CREDENTIAL_DIRECTORY_OAUTH"}},
		{name: "public key of another pair", setup: func(s *site) {
			if _, err := localissuer.EnsureKeyPair(filepath.Join(s.dir, "p2.pem"), filepath.Join(s.dir, "pub2.pem")); err != nil {
				t.Fatal(err)
			}
			s.conf = append(s.conf, "LOCAL_CREDMON_PUBLIC_KEY = "+filepath.Join(s.dir, "pub2.pem"))
		}, errors: []string{"LOCAL_CREDMON_PUBLIC_KEY"}},
		{name: "group-readable key", setup: func(s *site) { os.Chmod(filepath.Join(s.dir, "priv.pem"), 0o640) },
			warnings: []string{"LOCAL_CREDMON_PRIVATE_KEY"}},
		{name: "world-readable key", setup: func(s *site) { os.Chmod(filepath.Join(s.dir, "priv.pem"), 0o644) },
			errors: []string{"LOCAL_CREDMON_PRIVATE_KEY"}},
		{name: "key to be generated", setup: func(s *site) {
			os.Remove(filepath.Join(s.dir, "priv.pem"))
			os.Remove(filepath.Join(s.dir, "pub.pem"))
		}, warnings: []string{"LOCAL_CREDMON_PRIVATE_KEY"}},
		{name: "orphan public key", setup: func(s *site) { os.Remove(filepath.Join(s.dir, "priv.pem")) },
			errors: []string{"LOCAL_CREDMON_PRIVATE_KEY"}},
		{name: "garbage key", setup: func(s *site) {
			s.write("bad.pem", "not a key\n", 0o600)
			s.conf = append(s.conf, "LOCAL_CREDMON_scitokens_PRIVATE_KEY = "+filepath.Join(s.dir, "bad.pem"))
		}, errors: []string{"LOCAL_CREDMON_scitokens_PRIVATE_KEY"}},
		{name: "missing public key file", setup: func(s *site) { os.Remove(filepath.Join(s.dir, "pub.pem")) },
			warnings: []string{"LOCAL_CREDMON_PUBLIC_KEY"}},
		{name: "http issuer", setup: func(s *site) { s.conf = append(s.conf, "LOCAL_CREDMON_ISSUER = http://issuer.example.org") },
			errors: []string{"LOCAL_CREDMON_ISSUER"}},
		{name: "invalid provider name", setup: func(s *site) { s.conf = append(s.conf, "CLIENT_CREDMON_PROVIDER_NAMES = bad_name") },
			errors: []string{"CLIENT_CREDMON_PROVIDER_NAMES"}},
		{name: "name claimed by two lists", setup: func(s *site) { s.conf = append(s.conf, "OAUTH2_CREDMON_PROVIDER_NAMES = scitokens") },
			warnings: []string{"OAUTH2_CREDMON_PROVIDER_NAMES"}},
		{name: "client provider with an open secret file", setup: func(s *site) {
			f := s.write("secret", "s3cret\n", 0o644)
			s.conf = append(s.conf, "CLIENT_CREDMON_PROVIDER_NAMES = robots", "CLIENT_CREDMON_robots_CLIENT_ID = ap",
				"CLIENT_CREDMON_robots_CLIENT_SECRET_FILE = "+f, "CLIENT_CREDMON_robots_TOKEN_URL = https://idp.example.org/token")
		}, opts: check.Options{Offline: true}, errors: []string{"CLIENT_CREDMON_ROBOTS_CLIENT_SECRET_FILE"}},
		{name: "client provider without client id", setup: func(s *site) {
			s.conf = append(s.conf, "CLIENT_CREDMON_PROVIDER_NAMES = robots")
		}, opts: check.Options{Offline: true}, errors: []string{"CLIENT_CREDMON_robots_*"}},
		{name: "oauth2 provider over http", setup: func(s *site) {
			f := s.write("secret", "s3cret\n", 0o600)
			s.conf = append(s.conf, "OAUTH2_CREDMON_PROVIDER_NAMES = idp", "idp_CLIENT_ID = c", "idp_CLIENT_SECRET_FILE = "+f,
				"idp_TOKEN_URL = http://idp.example.org/token")
		}, opts: check.Options{Offline: true}, errors: []string{"idp_TOKEN_URL"}},
		{name: "oauth2 provider with an open secret file", setup: func(s *site) {
			f := s.write("secret", "s3cret\n", 0o644)
			s.conf = append(s.conf, "OAUTH2_CREDMON_PROVIDER_NAMES = idp", "idp_CLIENT_ID = c", "idp_CLIENT_SECRET_FILE = "+f,
				"idp_TOKEN_URL = https://idp.example.org/token")
		}, opts: check.Options{Offline: true}, warnings: []string{"idp_CLIENT_SECRET_FILE"}},
		{name: "oauth2 provider without secret file", setup: func(s *site) {
			s.conf = append(s.conf, "OAUTH2_CREDMON_PROVIDER_NAMES = idp", "idp_CLIENT_ID = c", "idp_CLIENT_SECRET_FILE = "+filepath.Join(s.dir, "none"),
				"idp_TOKEN_URL = https://idp.example.org/token")
		}, opts: check.Options{Offline: true}, errors: []string{"idp_CLIENT_SECRET_FILE"}},
		{name: "offline skips an unreachable token url", setup: func(s *site) {
			f := s.write("secret", "s3cret\n", 0o600)
			s.conf = append(s.conf, "CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = true", "OAUTH2_CREDMON_PROVIDER_NAMES = idp", "idp_CLIENT_ID = c",
				"idp_CLIENT_SECRET_FILE = "+f, "idp_TOKEN_URL = "+closedURL(t))
		}, opts: check.Options{Offline: true}, warnings: []string{"CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL"}},
		{name: "unreachable token url", setup: func(s *site) {
			f := s.write("secret", "s3cret\n", 0o600)
			s.conf = append(s.conf, "CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = true", "OAUTH2_CREDMON_PROVIDER_NAMES = idp", "idp_CLIENT_ID = c",
				"idp_CLIENT_SECRET_FILE = "+f, "idp_TOKEN_URL = "+closedURL(t))
		}, errors: []string{"idp_TOKEN_URL"}},
		{name: "vault host list with a URL", setup: func(s *site) {
			s.conf = append(s.conf, "SEC_CREDENTIAL_STORER = /usr/bin/condor_vault_storer", "TRUSTED_VAULT_HOSTS = https://vault.example.org:8200")
		}, errors: []string{"TRUSTED_VAULT_HOSTS"}},
		{name: "vault CA file missing", setup: func(s *site) {
			s.conf = append(s.conf, "SEC_CREDENTIAL_STORER = /usr/bin/condor_vault_storer", "TRUSTED_VAULT_HOSTS = vault.example.org",
				"AUTH_SSL_CLIENT_CAFILE = "+filepath.Join(s.dir, "no-ca.pem"))
		}, errors: []string{"AUTH_SSL_CLIENT_CAFILE"}},
		{name: "vault without host list", setup: func(s *site) {
			s.conf = append(s.conf, "SEC_CREDENTIAL_STORER = /usr/bin/condor_vault_storer")
		}, warnings: []string{"TRUSTED_VAULT_HOSTS"}},
		{name: "stored tokens no type owns", setup: func(s *site) {
			os.MkdirAll(filepath.Join(s.credDir, "alice"), 0o700)
			os.WriteFile(filepath.Join(s.credDir, "alice", "orphan.top"), []byte("{}"), 0o600)
		}, warnings: []string{"orphan_CLIENT_ID"}},
		{name: "state file in a missing directory", setup: func(s *site) { s.conf = append(s.conf, "LOCK = "+filepath.Join(s.dir, "nolock")) },
			warnings: []string{"CREDMON_OAUTH_STATE_FILE"}},
		{name: "no state file", setup: func(s *site) { s.conf = append(s.conf, "CREDMON_OAUTH_STATE_FILE = NONE") },
			warnings: []string{"CREDMON_OAUTH_STATE_FILE"}},
		{name: "bad knob value", setup: func(s *site) { s.conf = append(s.conf, "CREDMON_OAUTH_REFRESH_FRACTION = 7") },
			errors: []string{"CREDMON_OAUTH_REFRESH_FRACTION"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			rep := s.run(tc.opts)
			for _, k := range tc.errors {
				if !has(rep.Errors, k) {
					t.Errorf("no error for %s; errors %v", k, rep.Errors)
				}
			}
			for _, k := range tc.warnings {
				if !has(rep.Warnings, k) {
					t.Errorf("no warning for %s; warnings %v", k, rep.Warnings)
				}
			}
			if len(tc.errors) == 0 && !rep.OK() {
				t.Errorf("unexpected errors: %v", rep.Errors)
			}
			if len(rep.Errors) > len(tc.errors) {
				t.Errorf("more errors than expected (%v): %v", tc.errors, knobs_(rep.Errors))
			}
		})
	}
}

// TestReachable probes the real OIDC provider: its token endpoint by HEAD
// and its issuer by discovery.
func TestReachable(t *testing.T) {
	idp := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	s := newSite(t)
	f := s.write("secret", oidcprovider.ClientSecret+"\n", 0o600)
	s.conf = append(s.conf, "CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = true",
		"OAUTH2_CREDMON_PROVIDER_NAMES = a b", "a_CLIENT_ID = "+oidcprovider.ClientIDBasic, "a_CLIENT_SECRET_FILE = "+f,
		"a_TOKEN_URL = "+idp.TokenURL,
		"b_CLIENT_ID = "+oidcprovider.ClientIDBasic, "b_CLIENT_SECRET_FILE = "+f, "b_ISSUER = "+idp.Issuer)
	s.conf = append(s.conf, "CREDMON_OAUTH_TRUSTED_ISSUERS = "+idp.Issuer)
	rep := s.run(check.Options{})
	if !rep.OK() {
		t.Fatalf("errors: %v", rep.Errors)
	}
	if len(rep.Providers) != 3 {
		t.Errorf("providers %v, want a, b, scitokens", rep.Providers)
	}
	// The issuer named wrong: discovery answers, but for another issuer
	// or not at all.
	s.conf = append(s.conf, "b_ISSUER = "+idp.Issuer+"/nope", "CREDMON_OAUTH_TRUSTED_ISSUERS = "+strings.TrimSuffix(closedURL(t), "/token"))
	rep = s.run(check.Options{})
	if !has(rep.Errors, "b_ISSUER") || !has(rep.Errors, "CREDMON_OAUTH_TRUSTED_ISSUERS") || len(rep.Errors) != 2 {
		t.Errorf("want errors for a wrong issuer and an unreachable trusted one: %v", rep.Errors)
	}
	// Offline: only what needs no network.
	if rep = s.run(check.Options{Offline: true}); !rep.OK() {
		t.Errorf("offline: %v", rep.Errors)
	}
}

func TestProblemString(t *testing.T) {
	p := check.Problem{Knob: "K", What: "= v: bad", Fix: "do x"}
	if got := p.String(); got != "K = v: bad — do x" {
		t.Errorf("got %q", got)
	}
	p = check.Problem{Knob: "K", What: "is bad"}
	if got := p.String(); got != "K: is bad" {
		t.Errorf("got %q", got)
	}
}

package condorcfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGlobalConfigSearch(t *testing.T) {
	dir := t.TempDir()
	global := writeFile(t, dir, "condor_config", "WHO = global\n")
	second := writeFile(t, dir, "usr/local/etc/condor_config", "WHO = second\n")

	opts := testOpts("", "CONDOR_CONFIG="+global)
	cfg, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, cfg, "WHO"); got != "global" {
		t.Errorf("with CONDOR_CONFIG, WHO = %q; want global", got)
	}
	if got, want := cfg.Source(), "native (files: "+global+")"; got != want {
		t.Errorf("Source() = %q; want %q", got, want)
	}

	// Without CONDOR_CONFIG: the search path, first readable file wins.
	opts = testOpts("")
	opts.sys.searchPath = []string{filepath.Join(dir, "missing"), second, global}
	if cfg, err = Load(opts); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, cfg, "WHO"); got != "second" {
		t.Errorf("search path: WHO = %q; want second", got)
	}

	// ~condor/condor_config comes last.
	home := filepath.Join(dir, "home")
	writeFile(t, home, "condor_config", "WHO = tilde\n")
	opts = testOpts("")
	opts.sys.homeOf = func(u string) (string, bool) { return home, u == "condor" }
	if cfg, err = Load(opts); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, cfg, "WHO") + " " + lookup(t, cfg, "TILDE"); got != "tilde "+home {
		t.Errorf("~condor: WHO TILDE = %q; want %q", got, "tilde "+home)
	}

	// ONLY_ENV: no file at all, defaults and environment only.
	cfg, err = Load(testOpts("", "CONDOR_CONFIG=only_env", "_CONDOR_WHO=env"))
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, cfg, "WHO"); got != "env" {
		t.Errorf("ONLY_ENV: WHO = %q; want env", got)
	}
	if got := lookup(t, cfg, "LOG"); got != "/var/log/condor" {
		t.Errorf("ONLY_ENV: LOG = %q; want the built-in default /var/log/condor", got)
	}
	if got := cfg.Source(); got != "native (no configuration files)" {
		t.Errorf("ONLY_ENV: Source() = %q", got)
	}

	errCases := []struct {
		name string
		opts Options
		want string
		is   error
	}{
		{"missing CONDOR_CONFIG file", testOpts("", "CONDOR_CONFIG="+dir+"/nope"), "does not exist", os.ErrNotExist},
		{"CONDOR_CONFIG is a directory", testOpts("", "CONDOR_CONFIG="+dir), "is a directory", nil},
		{"CONDOR_CONFIG is a command", testOpts("", "CONDOR_CONFIG=/bin/make_config |"), "configuration from a command", ErrUnsupported},
		{"nothing found", testOpts(""), "tried CONDOR_CONFIG and ", ErrNoConfig},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load() error = %v; want it to mention %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}
}

func TestLocalConfig(t *testing.T) {
	dir := t.TempDir()
	d1 := filepath.Join(dir, "config.d")
	d2 := filepath.Join(dir, "more.d")
	writeFile(t, d1, "10-second", "ORDER = $(ORDER) 10\n")
	writeFile(t, d1, "00-first", "ORDER = $(ORDER) 00\n")
	writeFile(t, d1, "20-third.conf", "ORDER = $(ORDER) 20\n")
	for _, skip := range []string{".hidden", "x.rpmnew", "x.rpmsave", "backup~", "#emacs#", "script.sh", "x.py", "x.dpkg-old"} {
		writeFile(t, d1, skip, "ORDER = $(ORDER) BAD-"+skip+"\n")
	}
	if err := os.Mkdir(filepath.Join(d1, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, d2, "50-more", "ORDER = $(ORDER) more\n")
	local := writeFile(t, dir, "local", "ORDER = $(ORDER) local\nLOCAL_CONFIG_DIR = $(LOCAL_CONFIG_DIR), "+d2+"\n")
	global := writeFile(t, dir, "condor_config",
		"ORDER = global\nLOCAL_CONFIG_DIR = "+d1+"\nLOCAL_CONFIG_FILE = "+local+"\n")

	cfg, err := Load(testOpts("", "CONDOR_CONFIG="+global))
	if err != nil {
		t.Fatal(err)
	}
	// HTCondor reads LOCAL_CONFIG_DIR, then LOCAL_CONFIG_FILE, then the
	// whole of LOCAL_CONFIG_DIR again if a file changed it.
	want := "global 00 10 20 local 00 10 20 more"
	if got := lookup(t, cfg, "ORDER"); got != want {
		t.Errorf("ORDER = %q; want %q", got, want)
	}
	wantFiles := []string{global, d1 + "/00-first", d1 + "/10-second", d1 + "/20-third.conf", local,
		d1 + "/00-first", d1 + "/10-second", d1 + "/20-third.conf", d2 + "/50-more"}
	if got := cfg.Files(); strings.Join(got, "\n") != strings.Join(wantFiles, "\n") {
		t.Errorf("Files() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantFiles, "\n"))
	}
}

func TestLocalConfigFileList(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", "A = a\nLOCAL_CONFIG_FILE = $(LOCAL_CONFIG_FILE), "+dir+"/c\n")
	b := writeFile(t, dir, "b", "B = b\n")
	writeFile(t, dir, "c", "C = c\n")
	g := writeFile(t, dir, "g", "LOCAL_CONFIG_FILE = "+a+" "+b+"\n")
	cfg, err := Load(testOpts("", "CONDOR_CONFIG="+g))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"A": "a", "B": "b", "C": "c"} {
		if got := lookup(t, cfg, k); got != want {
			t.Errorf("%s = %q; want %q (a file may extend LOCAL_CONFIG_FILE)", k, got, want)
		}
	}

	missing := writeFile(t, dir, "g2", "LOCAL_CONFIG_FILE = "+dir+"/nope\n")
	if _, err := Load(testOpts("", "CONDOR_CONFIG="+missing)); err == nil || !strings.Contains(err.Error(), "reading config source "+dir+"/nope") {
		t.Errorf("missing required local file: err = %v; want reading config source error", err)
	}
	optional := writeFile(t, dir, "g3", "REQUIRE_LOCAL_CONFIG_FILE = False\nLOCAL_CONFIG_FILE = "+dir+"/nope\nX = 1\n")
	if cfg, err := Load(testOpts("", "CONDOR_CONFIG="+optional)); err != nil || lookup(t, cfg, "X") != "1" {
		t.Errorf("REQUIRE_LOCAL_CONFIG_FILE = False with a missing file: err = %v; want success", err)
	}
	cmd := writeFile(t, dir, "g4", "LOCAL_CONFIG_FILE = /usr/bin/make_config |\n")
	if _, err := Load(testOpts("", "CONDOR_CONFIG="+cmd)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("LOCAL_CONFIG_FILE command: err = %v; want ErrUnsupported", err)
	}
	badre := writeFile(t, dir, "g5", "LOCAL_CONFIG_DIR = "+dir+"\nLOCAL_CONFIG_DIR_EXCLUDE_REGEXP = (\n")
	if _, err := Load(testOpts("", "CONDOR_CONFIG="+badre)); err == nil || !strings.Contains(err.Error(), "not a valid regular expression") {
		t.Errorf("bad exclude regexp: err = %v", err)
	}
	nodir := writeFile(t, dir, "g6", "LOCAL_CONFIG_DIR = "+dir+"/nodir\n")
	cfg, err = Load(testOpts("", "CONDOR_CONFIG="+nodir))
	if err != nil || !contains(cfg.Warnings(), "cannot read LOCAL_CONFIG_DIR") {
		t.Errorf("missing LOCAL_CONFIG_DIR: err = %v, warnings %q; want a warning only", err, cfg.Warnings())
	}
}

func TestUserConfig(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".condor/user_config", "MINE = yes\n")
	opts := testOpts("", "CONDOR_CONFIG=ONLY_ENV")
	opts.sys.euid = 1000
	opts.sys.homeOf = func(string) (string, bool) { return home, true }
	cfg, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, cfg, "MINE"); got != "yes" {
		t.Errorf("non-root: MINE = %q; want yes from ~/.condor/user_config", got)
	}
	opts.sys.euid = 0
	if cfg, err = Load(opts); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, cfg, "MINE"); got != "<unset>" {
		t.Errorf("root: MINE = %q; root daemons never read user_config", got)
	}
}

func TestDetectedAndSpecial(t *testing.T) {
	cfg := mustLoad(t, "", testOpts("CREDMON_OAUTH"))
	for k, want := range map[string]string{
		"HOSTNAME": "ap1", "FULL_HOSTNAME": "ap1.example.org", "SUBSYSTEM": "CREDMON_OAUTH",
		"USERNAME": "condor", "REAL_UID": "0", "PID": "4242", "PPID": "1", "CondorIsAdmin": "true",
		"UID_DOMAIN": "ap1.example.org",
	} {
		if got := lookup(t, cfg, k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}

	opts := testOpts("")
	opts.sys.canonical = func(string) string { return "" }
	cfg = mustLoad(t, "DEFAULT_DOMAIN_NAME = lab.example\n", opts)
	if got := lookup(t, cfg, "FULL_HOSTNAME"); got != "ap1.lab.example" {
		t.Errorf("with DEFAULT_DOMAIN_NAME, FULL_HOSTNAME = %q; want ap1.lab.example", got)
	}
	cfg = mustLoad(t, "NETWORK_HOSTNAME = submit.example.edu\n", opts)
	if got := lookup(t, cfg, "HOSTNAME") + " " + lookup(t, cfg, "FULL_HOSTNAME"); got != "submit submit.example.edu" {
		t.Errorf("with NETWORK_HOSTNAME, HOSTNAME FULL_HOSTNAME = %q", got)
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name, conf, knob, want string
	}{
		{"LOG default", "", "LOG", "/var/log/condor"},
		{"LOG follows LOCAL_DIR", "LOCAL_DIR = /srv/condor\n", "LOG", "/srv/condor/log/condor"},
		{"SPOOL", "", "SPOOL", "/var/lib/condor/spool"},
		{"SBIN", "", "SBIN", "/usr/sbin"},
		{"LIBEXEC", "", "LIBEXEC", "/usr/libexec/condor"},
		{"ETC", "", "ETC", "/etc/condor"},
		{"RELEASE_DIR moves binaries", "RELEASE_DIR = /opt/condor\n", "CREDMON_OAUTH", "/opt/condor/sbin/condor_credmon_oauth"},
		{"MAX_DEFAULT_LOG", "", "MAX_DEFAULT_LOG", "10 Mb"},
		{"DEBUG_TIME_FORMAT", "", "DEBUG_TIME_FORMAT", "%m/%d/%y %H:%M:%S"},
		{"CREDD_POLLING_TIMEOUT", "", "CREDD_POLLING_TIMEOUT", "20"},
		{"SEC_CREDENTIAL_SWEEP_DELAY", "", "SEC_CREDENTIAL_SWEEP_DELAY", "3600"},
		{"SEC_CREDENTIAL_SWEEP_INTERVAL", "", "SEC_CREDENTIAL_SWEEP_INTERVAL", "300"},
		{"no param_info default", "", "SEC_CREDENTIAL_REFRESH", "<unset>"},
		{"no param_info default", "", "TRUST_CREDENTIAL_DIRECTORY", "<unset>"},
		{"empty default is unset", "", "LOCAL_CREDMON_TOKEN_AUDIENCE", "<unset>"},
		{"BOX_TOKEN_URL", "", "BOX_TOKEN_URL", "https://api.box.com/oauth2/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.knob, func(t *testing.T) {
			cfg := mustLoad(t, tt.conf, testOpts(""))
			if got := lookup(t, cfg, tt.knob); got != tt.want {
				t.Errorf("%s = %q; want %q", tt.knob, got, tt.want)
			}
		})
	}
}

func TestConcurrentLookups(t *testing.T) {
	cfg := mustLoad(t, "A = $(B)$(B)\nB = $(C)x\nC = $ENV(HOME:h)\nBAD = $(BAD2)\nBAD2 = $(BAD)\n", testOpts(""))
	done := make(chan bool)
	for range 8 {
		go func() {
			for range 200 {
				if v, _ := cfg.Lookup("A"); v != "hxhx" {
					t.Errorf("Lookup(A) = %q; want hxhx", v)
				}
				cfg.Lookup("BAD")
				cfg.Prefetch("A", "B")
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}

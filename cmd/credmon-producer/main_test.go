package main

// Tests of the credmon-producer binary run the way condor_submit runs
// SEC_CREDENTIAL_STORER and SEC_CREDENTIAL_PRODUCER: the binary's path as
// argv[0], one argument per service, the user's environment plus
// CONDOR_CREDENTIAL_STORER_MODE, and condor_store_cred found on PATH.
// condor_store_cred is the credd emulator's stand-in (credtest), and the
// binary is built with -tags credmontest so that its token source is
// fixedSource, the one fake: it returns fixed Vault-shaped credentials.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/credtest"
)

// binary has the tests' fixed source; shipped is the binary as shipped,
// with the Vault source.
var binary, shipped, binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "credmon-producer-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = filepath.Join(dir, "bin")
	binary = filepath.Join(dir, "credmon-producer")
	if out, err := credtest.GoBuildTags(binary, ".", "credmontest"); err != nil {
		fmt.Fprintf(os.Stderr, "building credmon-producer: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	shipped = filepath.Join(dir, "shipped", "credmon-producer")
	if err := os.Mkdir(filepath.Dir(shipped), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if out, err := credtest.GoBuild(shipped, "."); err != nil {
		fmt.Fprintf(os.Stderr, "building credmon-producer: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if err := os.Mkdir(binDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, out, err := credtest.BuildStoreCred(binDir); err != nil {
		fmt.Fprintf(os.Stderr, "building condor_store_cred: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// submit is one access point: a credd emulator, the HTCondor configuration
// condor_submit and the storer read, and the logs of what the storer asked
// of condor_store_cred and of its source.
type submit struct {
	t         *testing.T
	credd     *credtest.Credd
	config    string
	storeLog  string
	sourceLog string
	user      string
	env       map[string]string
	// bin is the storer to run; binary when empty.
	bin string
}

const siteConfig = `SEC_CREDENTIAL_STORER = /usr/bin/credmon-producer
SEC_CREDENTIAL_GETTOKEN_OPTS = --vaultserver=vault.example --credkey=robot/me
LOCAL_CREDMON_PROVIDER_NAMES = scitokens
`

func newSubmit(t *testing.T, config string) *submit {
	t.Helper()
	dir := t.TempDir()
	s := &submit{
		t:         t,
		credd:     credtest.NewCredd(t, filepath.Join(dir, "oauth_credentials")),
		config:    filepath.Join(dir, "condor_config"),
		storeLog:  filepath.Join(dir, "condor_store_cred.log"),
		sourceLog: filepath.Join(dir, "source.log"),
	}
	if err := os.WriteFile(s.config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s.user = u.Username
	s.env = map[string]string{
		"CONDOR_CREDENTIAL_STORER_MODE": "vault",
		"CONDOR_CONFIG":                 s.config,
		"PATH":                          binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME":                          dir,
		"XDG_RUNTIME_DIR":               dir,
		credtest.EnvStoreCredDir:        s.credd.Dir,
		credtest.EnvStoreCredLog:        s.storeLog,
		"CREDMON_PRODUCER_TEST_LOG":     s.sourceLog,
	}
	return s
}

type result struct {
	code           int
	stdout, stderr string
	storeCalls     []string // condor_store_cred argument lists of this run
	sourceCalls    []sourceCall
}

type sourceCall struct {
	Service, Issuer, Role, Handle, Scopes, Audience, ID string
	Options                                             []string
	Renew                                               bool
}

// run runs the storer as condor_submit does: argv[0] is its path.
func (s *submit) run(args ...string) result {
	s.t.Helper()
	s.resetLogs()
	bin := s.bin
	if bin == "" {
		bin = binary
	}
	cmd := exec.Command(bin, args...)
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("running credmon-producer: %v", err)
	}
	s.readLogs(&r)
	return r
}

// resetLogs starts a run's logs of condor_store_cred and source calls.
func (s *submit) resetLogs() {
	s.t.Helper()
	for _, p := range []string{s.storeLog, s.sourceLog} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			s.t.Fatal(err)
		}
	}
}

// readLogs adds a run's logged calls to r and checks that no Vault token
// reached the terminal or an argument list.
func (s *submit) readLogs(r *result) {
	s.t.Helper()
	if b, err := os.ReadFile(s.storeLog); err == nil {
		r.storeCalls = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	if b, err := os.ReadFile(s.sourceLog); err == nil {
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var c sourceCall
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				s.t.Fatalf("source log line %q: %v", line, err)
			}
			r.sourceCalls = append(r.sourceCalls, c)
		}
	}
	if strings.Contains(r.stdout+r.stderr+strings.Join(r.storeCalls, "\n"), "fixed-vault-token") {
		s.t.Errorf("a Vault token reached the terminal or an argument list:\nstdout %q\nstderr %q\ncalls %q", r.stdout, r.stderr, r.storeCalls)
	}
}

// topJSON reads <user>/<name>.top the way credd does and decodes it.
func (s *submit) topJSON(user, name string) map[string]string {
	s.t.Helper()
	b, err := credtest.ReadSecure(s.credd.TopPath(user, name))
	if err != nil {
		s.t.Fatalf("reading %s.top: %v", name, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Fatalf("%s.top = %q: %v", name, b, err)
	}
	return m
}

// identity is a stored file's identity: a store replaces the file by
// rename, so a new inode means it was stored again.
func (s *submit) identity(user, name string) os.FileInfo {
	s.t.Helper()
	fi, err := os.Stat(s.credd.TopPath(user, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return fi
}

func verbs(calls []string) []string {
	var v []string
	for _, c := range calls {
		f := strings.Fields(c)
		for i, w := range f {
			if w == "-s" && i+1 < len(f) {
				v = append(v, f[0]+" "+f[i+1])
			}
		}
	}
	return v
}

// condor_submit's arguments for
//
//	use_oauth_services = igwn, osg_prod
//	osg_prod_oauth_permissions_ro = read:/frames, read:/other
//	osg_prod_oauth_resource_ro = https://ldas.example
//
// two services, the second with a handle of reduced scopes and audience.
var twoServicesAndAHandle = []string{"igwn", "osg_prod&handle=ro&scopes=read:/frames,read:/other&audience=https://ldas.example"}

func TestStorerFirstRunStoresSecondRunStoresNothing(t *testing.T) {
	s := newSubmit(t, siteConfig)
	r := s.run(twoServicesAndAHandle...)
	if r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	wantFirst := []string{"query-oauth igwn", "add-oauth igwn", "query-oauth osg_prod", "query-oauth osg_prod_ro", "add-oauth osg_prod", "add-oauth osg_prod_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, wantFirst) {
		t.Errorf("first run asked condor_store_cred %q; want %q", got, wantFirst)
	}
	for _, c := range r.storeCalls {
		if strings.HasPrefix(c, "add-oauth") && !strings.HasSuffix(c, " -i -") {
			t.Errorf("%q: the credential must go on stdin (-i -)", c)
		}
	}
	if len(r.sourceCalls) != 2 || !r.sourceCalls[0].Renew || !r.sourceCalls[1].Renew {
		t.Errorf("source calls %+v; want two, each asked to renew (credd held nothing)", r.sourceCalls)
	}
	igwn := s.topJSON(s.user, "igwn")
	if igwn["vault_token"] != "fixed-vault-token-igwn" || igwn["vault_url"] != "https://vault.example:8200/v1/secret/oauth/creds/igwn/robot/me:default" {
		t.Errorf("igwn.top = %v", igwn)
	}
	if _, ok := igwn["scopes"]; ok {
		t.Errorf("igwn.top has scopes: %v", igwn)
	}
	prod := s.topJSON(s.user, "osg_prod")
	if prod["vault_token"] != "fixed-vault-token-osg_prod" || !strings.HasSuffix(prod["vault_url"], "/creds/osg/robot/me:prod") {
		t.Errorf("osg_prod.top = %v", prod)
	}
	ro := s.topJSON(s.user, "osg_prod_ro")
	want := map[string]string{
		"vault_url": "https://vault.example:8200/v1/secret/oauth/sts/osg/robot/me:prod",
		"scopes":    "read:/frames,read:/other",
		"audience":  "https://ldas.example",
	}
	if !reflect.DeepEqual(ro, want) {
		t.Errorf("osg_prod_ro.top = %v; want %v (no vault_token: the handle inherits the service's)", ro, want)
	}
	before := map[string]os.FileInfo{}
	for _, n := range []string{"igwn", "osg_prod", "osg_prod_ro"} {
		before[n] = s.identity(s.user, n)
	}

	r = s.run(twoServicesAndAHandle...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d\n%s", r.code, r.stderr)
	}
	wantSecond := []string{"query-oauth igwn", "query-oauth osg_prod", "query-oauth osg_prod_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, wantSecond) {
		t.Errorf("second run asked condor_store_cred %q; want only the queries %q", got, wantSecond)
	}
	if len(r.sourceCalls) != 2 || r.sourceCalls[0].Renew || r.sourceCalls[1].Renew {
		t.Errorf("second run's source calls %+v; want two without renew", r.sourceCalls)
	}
	for n, fi := range before {
		if after := s.identity(s.user, n); !os.SameFile(fi, after) || !fi.ModTime().Equal(after.ModTime()) {
			t.Errorf("%s.top was stored again by the second run", n)
		}
	}
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("second run printed %q / %q; want nothing without -v", r.stdout, r.stderr)
	}
}

func TestStorerMismatchTellsTheDeleteCommandAndStoresNothing(t *testing.T) {
	s := newSubmit(t, siteConfig)
	if r := s.run(twoServicesAndAHandle...); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	stored := s.identity(s.user, "osg_prod_ro")
	changed := []string{"igwn", "osg_prod&handle=ro&scopes=read:/frames&audience=https://ldas.example"}
	r := s.run(changed...)
	if r.code == 0 {
		t.Fatalf("a mismatch exited 0; condor_submit would go on without the credential")
	}
	if !strings.HasPrefix(r.stderr, "\n") {
		t.Errorf("message %q does not start with a newline (condor_submit leaves the cursor mid-line)", r.stderr)
	}
	const del = "condor_store_cred delete-oauth -s osg_prod_ro"
	if !strings.Contains(r.stderr, "\n  "+del+"\n") {
		t.Errorf("message %q lacks the command %q on its own line", r.stderr, del)
	}
	for _, c := range verbs(r.storeCalls) {
		if strings.HasPrefix(c, "add-oauth osg_prod") {
			t.Errorf("stored %q despite the mismatch", c)
		}
	}
	if len(r.sourceCalls) != 1 || r.sourceCalls[0].Service != "igwn" {
		t.Errorf("source calls %+v; want only igwn's (the mismatch is found before the source runs)", r.sourceCalls)
	}
	if fi := s.identity(s.user, "osg_prod_ro"); !os.SameFile(fi, stored) {
		t.Errorf("osg_prod_ro.top was replaced despite the mismatch")
	}

	// The user runs the command given, then submits again.
	words := strings.Fields(del)
	cmd := exec.Command(filepath.Join(binDir, words[0]), words[1:]...)
	cmd.Env = []string{credtest.EnvStoreCredDir + "=" + s.credd.Dir}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", del, err, out)
	}
	if r := s.run(changed...); r.code != 0 {
		t.Fatalf("after delete-oauth: exit %d\n%s", r.code, r.stderr)
	}
	if got := s.topJSON(s.user, "osg_prod_ro")["scopes"]; got != "read:/frames" {
		t.Errorf("osg_prod_ro scopes after delete and resubmit = %q; want the new request's", got)
	}
}

func TestStorerStoresAgainWhenTheSourceRenewed(t *testing.T) {
	s := newSubmit(t, siteConfig)
	if r := s.run(twoServicesAndAHandle...); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	before := s.identity(s.user, "osg_prod_ro")
	s.env["CREDMON_PRODUCER_TEST_NEW"] = "1" // the source's 7-day session expired: new 28-day token
	r := s.run(twoServicesAndAHandle...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	want := []string{"query-oauth igwn", "add-oauth igwn", "query-oauth osg_prod", "query-oauth osg_prod_ro", "add-oauth osg_prod", "add-oauth osg_prod_ro"}
	if got := verbs(r.storeCalls); !reflect.DeepEqual(got, want) {
		t.Errorf("calls %q; want %q (a renewed service stores its handle again)", got, want)
	}
	if os.SameFile(before, s.identity(s.user, "osg_prod_ro")) {
		t.Errorf("osg_prod_ro.top not stored again")
	}
}

func TestStorerPassesOptionsUserAndStoreCredOpts(t *testing.T) {
	s := newSubmit(t, siteConfig)
	s.env["HTGETTOKENOPTS"] = "--vaulttokenttl=28d"
	s.env["CONDOR_VAULT_STORER_USER"] = "robot@example.org"
	s.env["CONDOR_VAULT_STORER_ID"] = "robot7"
	s.env["SEC_CREDENTIAL_STORECRED_OPTS"] = "-n credd.example"
	r := s.run("-v", "igwn_robot&options=--credkey=other  -d")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if len(r.sourceCalls) != 1 {
		t.Fatalf("source calls %+v", r.sourceCalls)
	}
	c := r.sourceCalls[0]
	wantOpts := []string{"--vaulttokenttl=28d", "--vaultserver=vault.example", "--credkey=robot/me", "--credkey=other", "-d"}
	if c.Issuer != "igwn" || c.Role != "robot" || c.ID != "robot7" || !reflect.DeepEqual(c.Options, wantOpts) {
		t.Errorf("source request %+v; want issuer igwn, role robot, ID robot7, options %q", c, wantOpts)
	}
	for _, call := range r.storeCalls {
		if !strings.Contains(call, "-u robot@example.org -s igwn_robot -n credd.example") {
			t.Errorf("condor_store_cred %q lacks the storer user and SEC_CREDENTIAL_STORECRED_OPTS", call)
		}
	}
	if got := s.topJSON("robot", "igwn_robot")["vault_url"]; !strings.HasSuffix(got, "/creds/igwn/other:robot") {
		t.Errorf("vault_url = %q; want &options= to come last", got)
	}
	if !strings.HasPrefix(r.stderr, "\nChecking if igwn_robot credentials exist\n") || !strings.Contains(r.stderr, "Storing condor credentials for igwn_robot\n") {
		t.Errorf("-v output %q", r.stderr)
	}
}

func TestStorerRefusesBeforeStoringAnything(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		env    map[string]string
		args   []string
		want   string
	}{
		{"two underscores", siteConfig, nil, []string{"igwn", "a_b_c"}, "only one underscore allowed"},
		{"reduced scopes without a handle", siteConfig, nil, []string{"igwn&scopes=read:/"}, "reduced scopes or audience require a handle"},
		{"name credd refuses", siteConfig, nil, []string{"ig/wn"}, "only letters, digits"},
		{"unknown option", siteConfig, nil, []string{"-x", "igwn"}, "Usage:\n  credmon-producer [-vd] oauth_service"},
		{"no Vault options anywhere", "LOCAL_CREDMON_PROVIDER_NAMES = scitokens\n", nil, []string{"igwn"}, "neither SEC_CREDENTIAL_GETTOKEN_OPTS"},
		{"Pelican mode", siteConfig, map[string]string{"CONDOR_CREDENTIAL_STORER_MODE": "pelican"}, []string{"osdf"}, "does not store Pelican credentials"},
		{"Pelican provider", siteConfig + "PELICAN_CREDMON_PROVIDER_NAMES = osdf\n", nil, []string{"osdf"}, "does not store Pelican credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSubmit(t, tc.config)
			for k, v := range tc.env {
				s.env[k] = v
			}
			r := s.run(tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d; want 1", r.code)
			}
			if !strings.HasPrefix(r.stderr, "\n") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q; want a leading newline and %q", r.stderr, tc.want)
			}
			if len(r.storeCalls) != 0 || len(r.sourceCalls) != 0 {
				t.Errorf("condor_store_cred calls %q, source calls %+v; want none", r.storeCalls, r.sourceCalls)
			}
		})
	}
}

func TestStorerSkipsOtherCredmonsServices(t *testing.T) {
	s := newSubmit(t, siteConfig+"OAUTH2_CREDMON_PROVIDER_NAMES = box\n")
	r := s.run("scitokens", "box", "scitokens_x")
	if r.code != 0 || len(r.storeCalls) != 0 || len(r.sourceCalls) != 0 {
		t.Errorf("exit %d, calls %q, source %+v; want 0 and nothing done for local and OAuth2 services", r.code, r.storeCalls, r.sourceCalls)
	}
}

func TestProducerPrintsTheLocalProvider(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{siteConfig, "LOCAL:scitokens"},
		{"LOCAL_CREDMON_PROVIDER_NAMES = igwnlocal, other\n", "LOCAL:igwnlocal"},
		{"# nothing\n", "LOCAL:scitokens"},
	} {
		s := newSubmit(t, tc.config)
		delete(s.env, "CONDOR_CREDENTIAL_STORER_MODE") // condor_submit sets it for the storer only
		r := s.run()
		if r.code != 0 || r.stdout != tc.want || r.stderr != "" {
			t.Errorf("config %q: exit %d, stdout %q, stderr %q; want %q and nothing else", tc.config, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	s := newSubmit(t, "LOCAL_CREDMON_PROVIDER_NAMES = bad/name\n")
	delete(s.env, "CONDOR_CREDENTIAL_STORER_MODE")
	if r := s.run(); r.stdout != "" || r.code == 0 {
		t.Errorf("bad provider name: exit %d, stdout %q; want empty stdout (condor_submit's failure signal)", r.code, r.stdout)
	}
}

// TestHelpAndManPage protects the command line's documentation: --help
// and -h print the help on stdout and exit 0, with -v and -d under their
// long names; --gen-man (make man) writes credmon-producer.1 from the same
// definition. Neither needs a configuration.
func TestHelpAndManPage(t *testing.T) {
	for _, h := range []string{"--help", "-h"} {
		cmd := exec.Command(binary, h)
		cmd.Env = []string{"CONDOR_CONFIG=/nonexistent"}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() != 0 {
			t.Fatalf("%s: %v, stderr %q", h, err, stderr.String())
		}
		for _, want := range []string{"Usage:\n  credmon-producer [-vd] oauth_service", "  -v, --verbose ", "  -d, --debug ", "&handle=<name>", "Exit status"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s: no %q in\n%s", h, want, stdout.String())
			}
		}
	}
	dir := t.TempDir()
	if out, err := exec.Command(binary, "--gen-man", dir).CombinedOutput(); err != nil {
		t.Fatalf("--gen-man: %v: %s", err, out)
	}
	page, err := os.ReadFile(filepath.Join(dir, "credmon-producer.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`.TH "CREDMON-PRODUCER" "1"`, `\fB-d\fP, \fB--debug\fP`, "&handle=<name>"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("credmon-producer.1 lacks %q", want)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.1")); len(m) != 1 {
		t.Errorf("pages %q; want credmon-producer.1 alone", m)
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
)

// exampleDropIn is one shipped drop-in of examples/condor and what it is
// meant to configure.
type exampleDropIn struct {
	file string
	// types is the type each provider name it configures must get from
	// credd's precedence (credfile.Sorter, through knobs). A robot name
	// must sort to KindUnknown: the daemon gives KindRobot to a
	// self-describing .top under such a name.
	types map[string]credfile.Kind
	// site are the knobs whose shipped values name this site's own files
	// (documented in the drop-in as site-specific): the test points them
	// at a private secret file of its own. As shipped, `credmon check`
	// may report errors only for these and CREDMON_OAUTH.
	site []string
}

var exampleDropIns = []exampleDropIn{
	{file: "41-credmon-oauth2.conf",
		types: map[string]credfile.Kind{"myidp": credfile.KindOAuth2, "scitokens": credfile.KindLocal},
		site:  []string{"MYIDP_CLIENT_SECRET_FILE"}},
	{file: "42-credmon-local-issuer.conf",
		types: map[string]credfile.Kind{"scitokens": credfile.KindLocal},
		site:  []string{"LOCAL_CREDMON_PRIVATE_KEY", "LOCAL_CREDMON_PUBLIC_KEY"}},
	{file: "43-credmon-vault.conf",
		types: map[string]credfile.Kind{"igwn": credfile.KindVault, "scitokens": credfile.KindLocal}},
	{file: "44-credmon-pelican.conf",
		types: map[string]credfile.Kind{"osdf": credfile.KindPelican, "scitokens": credfile.KindLocal},
		site:  []string{"osdf_PELICAN_CLIENT_SECRET_FILE"}},
	{file: "45-credmon-client-credentials.conf",
		types: map[string]credfile.Kind{"robots": credfile.KindClient, "scitokens": credfile.KindLocal},
		site:  []string{"CLIENT_CREDMON_robots_CLIENT_SECRET_FILE"}},
	{file: "46-credmon-robots.conf",
		types: map[string]credfile.Kind{"ligo-robot": credfile.KindUnknown, "scitokens": credfile.KindLocal}},
}

// exampleJobs maps each example submit file to the drop-in whose types
// own its services.
var exampleJobs = map[string]string{
	"job-oauth2.sub":  "41-credmon-oauth2.conf",
	"job-local.sub":   "42-credmon-local-issuer.conf",
	"job-vault.sub":   "43-credmon-vault.conf",
	"job-pelican.sub": "44-credmon-pelican.conf",
	"job-client.sub":  "45-credmon-client-credentials.conf",
	"job-robot.sub":   "46-credmon-robots.conf",
}

func examplesDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../examples/condor")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// exampleSite writes a condor_config that includes 40-credmon.conf and
// the given drop-ins, then, as a site's own later drop-in would, moves
// the credential directory, log, lock and local issuer keys into the
// test's directory. With fill, CREDMON_OAUTH names the test's binary and
// every site knob names a private secret file (a key knob: a path that
// does not exist yet, which the daemon fills at start).
func exampleSite(t *testing.T, fill bool, dropIns ...exampleDropIn) string {
	t.Helper()
	dir, examples := t.TempDir(), examplesDir(t)
	cred := filepath.Join(dir, "oauth_credentials")
	if err := os.Mkdir(cred, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cred, 0o2770); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("include : " + filepath.Join(examples, "40-credmon.conf") + "\n")
	for _, d := range dropIns {
		b.WriteString("include : " + filepath.Join(examples, d.file) + "\n")
	}
	b.WriteString("SEC_CREDENTIAL_DIRECTORY_OAUTH = " + cred + "\nLOG = " + dir + "\nLOCK = " + dir + "\n")
	b.WriteString("LOCAL_CREDMON_PRIVATE_KEY = " + filepath.Join(dir, "priv.pem") + "\n")
	b.WriteString("LOCAL_CREDMON_PUBLIC_KEY = " + filepath.Join(dir, "pub.pem") + "\n")
	if fill {
		b.WriteString("CREDMON_OAUTH = " + binary + "\n")
		for _, d := range dropIns {
			for _, k := range d.site {
				if strings.HasPrefix(k, "LOCAL_CREDMON_") {
					continue // moved above for every site
				}
				secret := filepath.Join(dir, strings.ToLower(k))
				if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				b.WriteString(k + " = " + secret + "\n")
			}
		}
	}
	cfg := filepath.Join(dir, "condor_config")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// loadExample loads cfgFile as the daemon does (condorcfg natively, then
// knobs.LoadCredmon), with nothing of this host's configuration.
func loadExample(t *testing.T, cfgFile string) (*condorcfg.Config, *knobs.Credmon) {
	t.Helper()
	cfg, err := condorcfg.Load(condorcfg.Options{Subsystem: "CREDMON_OAUTH", ConfigVal: "-",
		Env: []string{"CONDOR_CONFIG=" + cfgFile}, Prefetch: knobs.KnobsFor("CREDMON_OAUTH")})
	if err != nil {
		t.Fatalf("loading %s: %v", cfgFile, err)
	}
	if w := cfg.Warnings(); len(w) > 0 {
		t.Errorf("configuration warnings: %v", w)
	}
	cm, err := knobs.LoadCredmon(cfg, "CREDMON_OAUTH", knobs.Overrides{})
	if err != nil {
		t.Fatalf("LoadCredmon: %v", err)
	}
	return cfg, cm
}

func checkExample(t *testing.T, cfgFile string) checkJSON {
	t.Helper()
	out, _ := runCheckBinary(t, cfgFile, "--offline", "--json")
	var rep checkJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	return rep
}

// TestExampleDropIns loads every example drop-in through the daemon's
// own loader and `credmon check --offline`: it parses, each provider it
// names gets the intended type, and the only errors are the ones it
// documents as the site's to fix (its own files, and CREDMON_OAUTH naming
// the packaged binary), gone once the site's paths are filled in.
func TestExampleDropIns(t *testing.T) {
	for _, d := range exampleDropIns {
		t.Run(d.file, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(examplesDir(t), d.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range d.site {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(k) + `\s*=`).Match(text) {
					t.Errorf("site knob %s is not set in %s", k, d.file)
				}
			}
			if !strings.Contains(strings.ToLower(string(text)), "site-specific") && len(d.site) > 0 {
				t.Errorf("%s does not say which knobs are site-specific", d.file)
			}

			// As shipped.
			_, cm := loadExample(t, exampleSite(t, false, d))
			sorter := cm.Sorter()
			for name, want := range d.types {
				if got := sorter.Sort(name); got != want {
					t.Errorf("provider %s: type %v, want %v", name, got, want)
				}
			}
			rep := checkExample(t, exampleSite(t, false, d))
			allowed := append([]string{"CREDMON_OAUTH"}, d.site...)
			for _, e := range rep.Errors {
				if !slices.ContainsFunc(allowed, func(k string) bool { return strings.EqualFold(k, e.Knob) }) {
					t.Errorf("as shipped: undocumented error %s: %s", e.Knob, e.What)
				}
			}
			// The documented ones do show (the check is not vacuous): the
			// packaged binary is not this one, the secret files are missing.
			for _, k := range allowed {
				if strings.HasPrefix(k, "LOCAL_CREDMON_") {
					continue // moved into the test's directory for every site
				}
				if !slices.ContainsFunc(rep.Errors, func(e checkProblem) bool { return strings.EqualFold(k, e.Knob) }) {
					t.Errorf("as shipped: no error for %s (errors %+v)", k, rep.Errors)
				}
			}

			// With the site's paths.
			rep = checkExample(t, exampleSite(t, true, d))
			for _, e := range rep.Errors {
				t.Errorf("filled in: error %s: %s — %s", e.Knob, e.What, e.Fix)
			}
			for _, p := range rep.Providers {
				if want, ok := d.types[p.Name]; !ok || want.String() != p.Type {
					t.Errorf("credmon check: provider %s type %s, want %v (named: %v)", p.Name, p.Type, want, ok)
				}
			}
		})
	}

	// All together, as a site with every type has them.
	cfg := exampleSite(t, true, exampleDropIns...)
	_, cm := loadExample(t, cfg)
	for _, d := range exampleDropIns {
		for name, want := range d.types {
			if got := cm.Sorter().Sort(name); got != want {
				t.Errorf("all drop-ins: provider %s: type %v, want %v", name, got, want)
			}
		}
	}
	if !cm.TrustedIssuer("https://idp.example.org") || !cm.TrustedVaultHost("vault.example.org") || cm.TrustedVaultHost("evil.example.org") {
		t.Errorf("trusted issuers %v, Vault hosts %v", cm.TrustedIssuers, cm.TrustedVaultHosts)
	}
	for _, e := range checkExample(t, cfg).Errors {
		t.Errorf("all drop-ins: error %s: %s", e.Knob, e.What)
	}
}

// TestExampleSubmitFiles: every service an example job asks for
// (use_oauth_services, and the services of its <svc>_oauth_* commands) is
// one its drop-in gives a credmon type to, so condor_submit does not
// fail on it and credmon keeps its token fresh.
func TestExampleSubmitFiles(t *testing.T) {
	examples := examplesDir(t)
	dropIn := map[string]exampleDropIn{}
	for _, d := range exampleDropIns {
		dropIn[d.file] = d
	}
	oauthCmd := regexp.MustCompile(`(?i)^([A-Za-z0-9._-]+?)_oauth_(permissions|resource|options)(_[A-Za-z0-9._-]+)?$`)
	for job, file := range exampleJobs {
		t.Run(job, func(t *testing.T) {
			d := dropIn[file]
			cfg, cm := loadExample(t, exampleSite(t, true, d))
			// credmon-producer refuses Pelican services (producer/storer
			// ErrPelican): a job with one needs HTCondor's storer.
			producerStores := strings.HasSuffix(strings.TrimSpace(cfg.Get("SEC_CREDENTIAL_STORER")), "/credmon-producer")
			f, err := os.Open(filepath.Join(examples, job))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var services []string
			var handled []string
			queued := false
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				if strings.EqualFold(strings.Fields(line)[0], "queue") {
					queued = true
					continue
				}
				key, val, ok := strings.Cut(line, "=")
				if !ok {
					t.Errorf("not a submit command: %q", line)
					continue
				}
				key = strings.TrimSpace(key)
				switch {
				case strings.EqualFold(key, "use_oauth_services"), strings.EqualFold(key, "UseOAuthServices"):
					services = append(services, credfile.SplitList(val)...)
				case oauthCmd.MatchString(key):
					handled = append(handled, oauthCmd.FindStringSubmatch(key)[1])
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if !queued || len(services) == 0 {
				t.Fatalf("no queue (%v) or no use_oauth_services (%v)", queued, services)
			}
			for _, s := range handled {
				if !slices.ContainsFunc(services, func(u string) bool { return strings.EqualFold(u, s) }) {
					t.Errorf("%s_oauth_* names a service not in use_oauth_services %v", s, services)
				}
			}
			for _, s := range services {
				want, ok := d.types[s]
				if !ok {
					t.Errorf("service %s is not one %s configures", s, file)
					continue
				}
				got := cm.Sorter().Sort(s)
				switch {
				case got != want:
					t.Errorf("service %s: type %v, want %v", s, got, want)
				case got == credfile.KindUnknown && len(cm.TrustedIssuers) == 0:
					t.Errorf("service %s: no type, and no trusted issuer for a robot's .top", s)
				case got == credfile.KindPelican && producerStores:
					t.Errorf("service %s is Pelican, but SEC_CREDENTIAL_STORER is credmon-producer, which refuses Pelican services", s)
				case got == credfile.KindVault && !producerStores:
					t.Errorf("service %s is Vault, but SEC_CREDENTIAL_STORER is not credmon-producer: nothing stores it at submit", s)
				}
			}
		})
	}
}

// TestExamplesCovered: every file of examples/condor is checked by a test
// (here, or config.ini and robot-token.cron in cmd/credmon-token), so an
// example added later cannot go unchecked.
func TestExamplesCovered(t *testing.T) {
	checked := map[string]bool{"40-credmon.conf": true, "config.ini": true, "robot-token.cron": true}
	for _, d := range exampleDropIns {
		checked[d.file] = true
	}
	for job := range exampleJobs {
		checked[job] = true
	}
	entries, err := os.ReadDir(examplesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !checked[e.Name()] {
			t.Errorf("examples/condor/%s is checked by no test", e.Name())
		}
		delete(checked, e.Name())
	}
	for f := range checked {
		t.Errorf("examples/condor/%s is missing", f)
	}
}

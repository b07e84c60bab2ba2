package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkSite writes a condor_config that includes the shipped example
// drop-ins (examples/condor) and then moves every path into the test's
// directory, as a site's own later drop-in would.
func checkSite(t *testing.T, extra string) (cfgFile string) {
	t.Helper()
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples/condor")
	if err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(dir, "oauth_credentials")
	if err := os.Mkdir(cred, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cred, 0o2770)
	conf := "include : " + filepath.Join(examples, "40-credmon.conf") + "\n" +
		"include : " + filepath.Join(examples, "45-credmon-client-credentials.conf") + "\n" +
		"SEC_CREDENTIAL_DIRECTORY_OAUTH = " + cred + "\nLOG = " + dir + "\n" +
		"LOCAL_CREDMON_PRIVATE_KEY = " + filepath.Join(dir, "priv.pem") + "\n" +
		"LOCAL_CREDMON_PUBLIC_KEY = " + filepath.Join(dir, "pub.pem") + "\n" +
		"LOCAL_CREDMON_ISSUER = https://ap.example.org\n" +
		strings.ReplaceAll(extra, "$DIR", dir)
	cfgFile = filepath.Join(dir, "condor_config")
	if err := os.WriteFile(cfgFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgFile
}

func runCheckBinary(t *testing.T, cfgFile string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"check"}, args...)...)
	cmd.Env = append(os.Environ(), "CONDOR_CONFIG="+cfgFile, "PATH=/nonexistent")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if errb.Len() > 0 {
		t.Logf("stderr: %s", errb.String())
	}
	return out.String(), code
}

type checkProblem struct{ Severity, Knob, What, Fix string }

type checkJSON struct {
	Version   int
	Providers []struct{ Name, Type string }
	Errors    []checkProblem
	Warnings  []checkProblem
}

// TestCheckExamples runs the built binary against the example drop-ins:
// as shipped they name /usr/sbin/credmon and a secret file this machine
// does not have (errors); with the site's paths filled in they pass.
func TestCheckExamples(t *testing.T) {
	cfg := checkSite(t, "")
	out, code := runCheckBinary(t, cfg, "--offline", "--json")
	if code != checkErrors {
		t.Fatalf("exit %d, want %d; output:\n%s", code, checkErrors, out)
	}
	var rep checkJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	knobs := map[string]bool{}
	for _, e := range rep.Errors {
		knobs[e.Knob] = true
		if e.Severity != "error" {
			t.Errorf("severity %q in errors", e.Severity)
		}
	}
	if !knobs["CREDMON_OAUTH"] || !knobs["CLIENT_CREDMON_ROBOTS_CLIENT_SECRET_FILE"] {
		t.Errorf("errors %+v, want CREDMON_OAUTH and the robots secret file", rep.Errors)
	}
	if rep.Version != 1 || len(rep.Providers) != 2 {
		t.Errorf("version %d providers %+v", rep.Version, rep.Providers)
	}

	// The site's own drop-in fixes both: the daemon is this binary, the
	// secret file exists and is private.
	cfg = checkSite(t, "CREDMON_OAUTH = "+binary+"\nCLIENT_CREDMON_robots_CLIENT_SECRET_FILE = $DIR/robots.secret\n")
	secret := filepath.Join(filepath.Dir(cfg), "robots.secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = runCheckBinary(t, cfg, "--offline")
	if code != checkOK {
		t.Fatalf("exit %d, want 0; output:\n%s", code, out)
	}
	// The local key does not exist yet: a warning, in the text form.
	if !strings.Contains(out, "LOCAL_CREDMON_PRIVATE_KEY: ") || !strings.Contains(out, " — ") || !strings.HasSuffix(out, "OK (network checks skipped: --offline)\n") {
		t.Errorf("text output:\n%s", out)
	}

	// An unreadable configuration and a usage error have their own codes.
	if _, code := runCheckBinary(t, filepath.Join(t.TempDir(), "missing")); code != checkUnreadable {
		t.Errorf("missing config: exit %d, want %d", code, checkUnreadable)
	}
	if _, code := runCheckBinary(t, cfg, "extra"); code != exitUsage {
		t.Errorf("extra argument: exit %d, want %d", code, exitUsage)
	}
}

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/producer/renewer"
)

// exampleFile is a file of examples/condor.
func exampleFile(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("../../examples/condor", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExampleConfigINI: the example config.ini loads with the renewer's
// own loader, every token names a valid account, and both account kinds
// (an oidc-agent account, client credentials) are shown.
func TestExampleConfigINI(t *testing.T) {
	cfg, err := renewer.LoadConfig(exampleFile(t, "config.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tokens) != 2 {
		t.Errorf("%d tokens, want 2", len(cfg.Tokens))
	}
	modes := map[renewer.AccountMode]bool{}
	for _, a := range cfg.AllAccounts {
		if a.Invalid != nil || a.Unused {
			t.Errorf("account %s: unused %v, invalid %v", a.Name, a.Unused, a.Invalid)
		}
		modes[a.Mode] = true
	}
	if !modes[renewer.ModeOIDC] || !modes[renewer.ModeClientCredentials] {
		t.Errorf("account modes %v, want an oidc-agent account and client credentials", modes)
	}
	for _, tok := range cfg.Tokens {
		if tok.Invalid != nil || !tok.HasMinLifetime || cfg.Accounts[tok.Account] == nil {
			t.Errorf("token %s: invalid %v, min_lifetime set %v, account %s", tok.Name, tok.Invalid, tok.HasMinLifetime, tok.Account)
		}
	}
}

// TestExampleCron: each crontab line of robot-token.cron runs
// /usr/bin/credmon-token with a command line its parser accepts: with
// --help appended it prints help (exit 0, nothing run), and run for real
// on this machine (no keytab, no account, no config.ini of its paths) it
// fails on the missing credential or configuration, not on usage (2).
func TestExampleCron(t *testing.T) {
	f, err := os.Open(exampleFile(t, "robot-token.cron"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 7 || fields[5] != "/usr/bin/credmon-token" {
			t.Fatalf("not a 5-field crontab line running /usr/bin/credmon-token: %q", line)
		}
		lines = append(lines, fields[6:])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d crontab lines, want 3 (keytab, account, renew)", len(lines))
	}
	sawCondor := false
	for _, args := range lines {
		r := robotWith(t, nil)
		cfg := filepath.Join(r.base, "condor_config")
		if err := os.WriteFile(cfg, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r.env = append(r.env, "HOME="+r.base, "BEARER_TOKEN_FILE="+filepath.Join(r.base, "bt"),
			"CONDOR_CONFIG="+cfg, "PATH="+storeCredBin)
		for i, a := range args {
			// The crontab's paths, moved into the test's directory (the
			// example config.ini stays: renew must load it).
			args[i] = strings.Replace(a, "/home/user/", r.base+"/", 1)
			if a == "/etc/osg/token-renewer/config.ini" {
				args[i] = exampleFile(t, "config.ini")
			}
			sawCondor = sawCondor || a == "--condor"
		}
		if code, out, errs := r.run(append(append([]string{}, args...), "--help")...); code != 0 || !strings.Contains(out+errs, "Usage:") {
			t.Errorf("%v --help: exit %d\n%s%s", args, code, out, errs)
		}
		code, out, errs := r.run(args...)
		if code == exitOK || code == exitUsage {
			t.Errorf("%v: exit %d, want a failure other than usage\n%s%s", args, code, out, errs)
		}
		t.Logf("%v: exit %d: %s", args, code, strings.TrimSpace(errs))
	}
	if !sawCondor {
		t.Error("no crontab line uses --condor (the seed's HTCondor pipeline)")
	}
}

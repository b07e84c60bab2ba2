package main

// Tests of the cobra command line: help lists each option once as
// `-x, --long`, usage errors are one line, a hint and exit 2, completion
// and man pages come from the same tree, and the daemon's argparse
// spellings keep working through it (options_test.go).

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	a := &app{out: &out, err: &errb, daemon: func(*options) int { return 42 }}
	code = a.execute(args)
	return code, out.String(), errb.String()
}

func TestHelpListsEachOptionOnce(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		flags []string // each must appear exactly once, with its short name where it has one
	}{
		{[]string{"--help"}, []string{"-n, --name NAME", "-c, --cred-dir DIR", "-l, --log-file FILE", "-d, --debug", "-v, --verbose", "--version", "--cpuprofile FILE"}},
		{[]string{"check", "--help"}, []string{"-n, --name NAME", "-c, --cred-dir DIR", "--offline", "--json", "--standalone", "--timeout"}},
		{[]string{"status", "-h"}, []string{"-n, --name NAME", "--user USER", "--json", "--file FILE"}},
		{[]string{"issuer", "--help"}, []string{"-n, --name NAME", "--provider PROVIDER", "--jwks-uri URL", "--write"}},
		{[]string{"token", "verify", "--help"}, []string{"-n, --name NAME", "--provider PROVIDER", "--jwks FILE", "--issuer URL", "--audience AUDIENCE"}},
		{[]string{"help", "token", "decode"}, []string{"-h, --help"}},
	} {
		code, out, errOut := runCLI(tt.args...)
		if code != exitOK {
			t.Errorf("%q: exit %d; stderr %s", tt.args, code, errOut)
			continue
		}
		for _, f := range tt.flags {
			if n := strings.Count(out, f); n != 1 {
				t.Errorf("%q: %q appears %d times in\n%s", tt.args, f, n, out)
			}
		}
		// No Go flag-package style single-dash long option line.
		if regexp.MustCompile(`(?m)^\s+-[a-z]{2,}`).MatchString(out) {
			t.Errorf("%q: a single-dash long option in\n%s", tt.args, out)
		}
	}
	// The root's help shows the daemon's options and lists the subcommands.
	_, out, _ := runCLI("--help")
	for _, sub := range []string{"check", "status", "issuer", "token", "completion"} {
		if !regexp.MustCompile(`(?m)^  ` + sub + `\s`).MatchString(out) {
			t.Errorf("credmon --help does not list %s:\n%s", sub, out)
		}
	}
	if strings.Contains(out, "gen-man") {
		t.Error("credmon --help lists the hidden gen-man")
	}
}

func TestUsageErrorsOneLineAndHint(t *testing.T) {
	for _, tt := range []struct {
		args []string
		path string
	}{
		{[]string{"check", "--bogus"}, "credmon check"},
		{[]string{"check", "extra"}, "credmon check"},
		{[]string{"status", "-x"}, "credmon status"},
		{[]string{"issuer", "bogus"}, "credmon issuer"},
		{[]string{"token", "verify"}, "credmon token verify"},
		{[]string{"token", "verify", "--nope", "f"}, "credmon token verify"},
		{[]string{"token"}, "credmon token"},
		{[]string{"token", "decode"}, "credmon token decode"},
		{[]string{"--bogus"}, "credmon"},
		{[]string{"-dx"}, "credmon"},
		{[]string{"--ver"}, "credmon"}, // ambiguous: verbose, version
		{[]string{"extra"}, "credmon"},
	} {
		code, out, errOut := runCLI(tt.args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != exitUsage || out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], tt.path+": ") ||
			lines[1] != "see "+tt.path+" --help" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2, %q: ... and the hint", tt.args, code, out, errOut, tt.path)
		}
	}
	// A near miss is suggested.
	if _, _, errOut := runCLI("stauts"); !strings.Contains(errOut, "did you mean status") {
		t.Errorf("no suggestion: %s", errOut)
	}
}

// TestDaemonPathThroughCobra: the root runs the daemon with the parsed
// options (exit status the daemon's), -h and --version exit 0 without it.
func TestDaemonPathThroughCobra(t *testing.T) {
	if code, _, errOut := runCLI("-dv", "--cred", "/x"); code != 42 {
		t.Errorf("-dv --cred /x: exit %d (%s); want the daemon's 42", code, errOut)
	}
	if code, _, errOut := runCLI("--version"); code != exitOK || !strings.HasPrefix(errOut, "credmon ") {
		t.Errorf("--version: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runCLI("-version"); code != exitOK {
		t.Errorf("-version: exit %d", code)
	}
	if code, out, _ := runCLI("-h"); code != exitOK || !strings.Contains(out, "--cred-dir") {
		t.Errorf("-h: exit %d\n%s", code, out)
	}
	// A value that looks like a subcommand stays a value.
	o, err := parseFlags([]string{"-l", "status"}, os.Stderr)
	if err != nil || o.logFile != "status" {
		t.Errorf("-l status: %+v, %v", o, err)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_credmon", "zsh": "#compdef credmon", "fish": "complete -c credmon"} {
		code, out, errOut := runCLI("completion", shell)
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, no %q (stderr %s)", shell, code, want, errOut)
		}
	}
	// The shells ask the binary: subcommands and flags complete.
	_, out, _ := runCLI("__complete", "st")
	if !strings.Contains(out, "status") {
		t.Errorf("__complete st: %q", out)
	}
	_, out, _ = runCLI("__complete", "check", "--of")
	if !strings.Contains(out, "--offline") {
		t.Errorf("__complete check --of: %q", out)
	}
	_, out, _ = runCLI("__complete", "issuer", "")
	if !strings.Contains(out, "openid-configuration") || !strings.Contains(out, "jwks") {
		t.Errorf("__complete issuer: %q", out)
	}
}

func TestManPagesOnePerCommand(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCLI("gen-man", dir); code != exitOK {
		t.Fatalf("gen-man: exit %d: %s", code, errOut)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*"))
	var got []string
	for _, p := range m {
		got = append(got, filepath.Base(p))
	}
	want := []string{"credmon-check.8", "credmon-completion-bash.8", "credmon-completion-fish.8", "credmon-completion-powershell.8",
		"credmon-completion-zsh.8", "credmon-completion.8", "credmon-issuer.8", "credmon-status.8", "credmon-token-decode.8",
		"credmon-token-verify.8", "credmon-token.8", "credmon.8"}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %q; want %q", got, want)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "credmon.8"))
	for _, s := range []string{`\fB-c\fP, \fB--cred-dir\fP`, "<NAME>_LOG", "credmon-check(8)"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("credmon.8 has no %q:\n%s", s, page)
		}
	}
	page, _ = os.ReadFile(filepath.Join(dir, "credmon-status.8"))
	if !bytes.Contains(page, []byte("4 a credential needs a human")) {
		t.Errorf("credmon-status.8 lacks the exit statuses:\n%s", page)
	}
}

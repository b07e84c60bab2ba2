package main

// The command line itself (cli.go, man.go): help, usage errors, the
// spellings of earlier releases and igwn-robot-get, completion, man pages.

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// runCLI runs the command line in this process.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// optionLine is one option of a help text: "  -o, --outfile FILE  ..." or
// "      --account NAME  ...".
var optionLine = regexp.MustCompile(`^(?:  -([a-zA-Z]), |      )--([a-z][a-z0-9-]*)`)

// TestHelpListsEachOptionOnceWithItsShortName protects the help: every
// command's --help exits 0 on stdout; each option is listed once, as
// "-x, --long" when it has a short name; no option is listed with one dash
// and a long name (Go's flag usage); get's options are in groups.
func TestHelpListsEachOptionOnceWithItsShortName(t *testing.T) {
	wantPairs := map[string][]string{
		"get":    {"-o, --outfile FILE", "-m, --minsecs N", "-k, --keytab FILE", "-c, --ccache FILE", "-a, --vaultserver HOST", "-r, --role ROLE", "-i, --issuer ISSUER", "-v, --verbose", "-V, --version", "-h, --help"},
		"renew":  {"-v, --verbose", "--config FILE", "--watch"},
		"setup":  {"--issuer URL", "--pw-file FILE"},
		"status": {"--json", "--state FILE"},
		"path":   {"-h, --help"},
		"decode": {"-h, --help"},
	}
	for cmd, pairs := range wantPairs {
		for _, helpFlag := range []string{"--help", "-h"} {
			code, out, errOut := runCLI(cmd, helpFlag)
			if code != exitOK || errOut != "" {
				t.Fatalf("%s %s: exit %d, stderr %q; want 0 and the help on stdout", cmd, helpFlag, code, errOut)
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(out, "\n") {
				if regexp.MustCompile(`^\s+-[a-zA-Z][a-z-]+`).MatchString(line) {
					t.Errorf("%s: a long option with one dash: %q", cmd, line)
				}
				m := optionLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				if seen[m[2]] {
					t.Errorf("%s: --%s listed twice", cmd, m[2])
				}
				seen[m[2]] = true
			}
			for _, p := range pairs {
				if !strings.Contains(out, p) {
					t.Errorf("%s %s: no %q in\n%s", cmd, helpFlag, p, out)
				}
			}
		}
	}
	_, out, _ := runCLI("get", "--help")
	for _, g := range []string{"\nToken file:\n", "\nVault (igwn-robot-get, htgettoken):\n", "\nHTCondor:\n", "\nFlags:\n"} {
		if !strings.Contains(out, g) {
			t.Errorf("get --help: no group %q", g)
		}
	}
	for _, alias := range []string{"--bearertokenfile", "--scopes", "--kerberos-keytab"} {
		if strings.Contains(out, "\n      "+alias+" ") {
			t.Errorf("get --help lists the alias %s as an option", alias)
		}
	}
	// Go's flag spelled it -help.
	if code, out, _ := runCLI("get", "-help"); code != exitOK || !strings.Contains(out, "-k, --keytab") {
		t.Errorf("get -help: exit %d", code)
	}
	// help COMMAND is --help; the root's help lists the commands.
	if code, out, _ := runCLI("help", "get"); code != exitOK || !strings.Contains(out, "-k, --keytab") {
		t.Errorf("help get: exit %d", code)
	}
	code, out, _ := runCLI("--help")
	if code != exitOK {
		t.Errorf("--help: exit %d", code)
	}
	for _, c := range []string{"setup", "get", "renew", "status", "path", "decode", "completion"} {
		if !regexp.MustCompile(`\n  ` + c + ` +\S`).MatchString(out) {
			t.Errorf("--help does not list %s:\n%s", c, out)
		}
	}
	if strings.Contains(out, "gen-man") {
		t.Error("--help lists the hidden gen-man")
	}
	// No command: the usage on stderr, exit 2 (as before).
	if code, out, errOut := runCLI(); code != exitUsage || out != "" || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no command: exit %d, stdout %q; want %d and the usage on stderr", code, out, exitUsage)
	}
}

// TestUsageErrorsExitTwoWithAHint protects usage errors: exit 2, one line
// naming the command and the problem, and a line naming its --help.
func TestUsageErrorsExitTwoWithAHint(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		cmd, about string
	}{
		{[]string{"get", "--frobnicate"}, "credmon-token get", "unknown flag: --frobnicate"},
		{[]string{"get", "-Z"}, "credmon-token get", "unknown shorthand flag: 'Z'"},
		{[]string{"get", "--minsecs", "soon"}, "credmon-token get", "--minsecs"},
		{[]string{"get", "--account"}, "credmon-token get", "--account"},
		{[]string{"get", "a/b", "c/d"}, "credmon-token get", "accepts at most 1 arg"},
		{[]string{"renew", "--watch", "extra"}, "credmon-token renew", "extra"},
		{[]string{"status", "--frob"}, "credmon-token status", "--frob"},
		{[]string{"path", "x"}, "credmon-token path", `"x"`},
		{[]string{"decode", "a", "b"}, "credmon-token decode", "accepts at most 1 arg"},
		{[]string{"setup", "--issuer", "https://issuer.example"}, "credmon-token setup", "NAME"},
		{[]string{"setup", "robot"}, "credmon-token setup", "--issuer"},
		{[]string{"frobnicate"}, "credmon-token", `unknown command "frobnicate"`},
		{[]string{"--frob"}, "credmon-token", "--frob"},
	} {
		code, out, errOut := runCLI(tc.args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if code != exitUsage || out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], tc.cmd+": ") ||
			!strings.Contains(lines[0], tc.about) || lines[1] != "see "+tc.cmd+" --help" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q naming %q, and the hint", tc.args, code, out, errOut, exitUsage, tc.cmd, tc.about)
		}
	}
	if _, _, errOut := runCLI("gte"); !strings.Contains(errOut, "did you mean get") {
		t.Errorf("a misspelt command: %q; want a suggestion", errOut)
	}
}

// TestGoFlagSpellingsStillParse protects the spellings that Go's flag
// package accepted in earlier releases (-account NAME, -minsecs=60,
// --o FILE) next to igwn-robot-get's and htgettoken's (--opt=value, --opt
// value, -k FILE, -kFILE, -vv), the aliases, and values that look like
// options.
func TestGoFlagSpellingsStillParse(t *testing.T) {
	parse := func(args ...string) (*getOptions, int, countFlag, *pflag.FlagSet, []string) {
		t.Helper()
		var o getOptions
		var minsecs int
		var v countFlag
		var version bool
		fl := pflag.NewFlagSet("get", pflag.ContinueOnError)
		o.register(fl, &minsecs, &v, &version)
		args = goFlagSpellings(fl, args)
		if err := fl.Parse(args); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return &o, minsecs, v, fl, args
	}
	o, minsecs, _, _, _ := parse("-account", "robot", "-minsecs=60", "--o", "bt", "-insecure", "-pw-file", "-x-file")
	if o.account != "robot" || minsecs != 60 || o.out != "bt" || !o.af.insec || o.af.pwFile != "-x-file" {
		t.Errorf("Go flag spellings: account %q minsecs %d out %q insecure %v pw-file %q", o.account, minsecs, o.out, o.af.insec, o.af.pwFile)
	}
	o, minsecs, v, fl, args := parse("p/h", "-vv", "-kkt", "-m", "60", "--vaultserver=v.example", "--role", "r", "-o", "-minsecs",
		"--bearertokenfile", "bt2", "--scopes=a,b", "--kerberos-ccache", "cc", "-v")
	if o.vf.keytab != "kt" || minsecs != 60 || o.vf.server != "v.example" || o.vf.role != "r" || o.out != "bt2" ||
		o.scope != "a,b" || o.vf.ccache != "cc" || v != 3 || !slices.Equal(fl.Args(), []string{"p/h"}) {
		t.Errorf("igwn-robot-get spellings: %+v minsecs %d -v %d args %q", o.vf, minsecs, v, fl.Args())
	}
	for name, want := range map[string]string{"outfile": "-o", "minsecs": "-m", "role": "--role", "keytab": "-k", "vaulttokenfile": ""} {
		if got := spelled(fl, args, name); got != want {
			t.Errorf("spelled(%s) = %q; want %q", name, got, want)
		}
	}
	_, _, _, fl, args = parse("--bearertokenfile", "bt", "--minsecs=5")
	if got := spelled(fl, args, "outfile"); got != "--bearertokenfile" {
		t.Errorf("spelled(outfile) = %q; want --bearertokenfile", got)
	}
	// The version, as igwn-robot-get's -V, and as the root's.
	for _, args := range [][]string{{"get", "-V"}, {"--version"}, {"-V"}, {"version"}} {
		if code, out, _ := runCLI(args...); code != exitOK || out != "credmon-token "+Version+"\n" {
			t.Errorf("%q: exit %d, %q", args, code, out)
		}
	}
}

// TestCompletionScripts protects shell completion: a script for bash, zsh
// and fish, and completions of get's options and of the commands.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runCLI("completion", sh)
		if code != exitOK || !strings.Contains(out, "credmon-token") || len(out) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", sh, code, len(out), errOut)
		}
	}
	if code, out, _ := runCLI("__complete", "get", "--vaultt"); code != exitOK ||
		!strings.Contains(out, "--vaulttokenfile") || !strings.Contains(out, "--vaulttokenminttl") {
		t.Errorf("completing get --vaultt: exit %d: %q", code, out)
	}
	if code, out, _ := runCLI("__complete", "re"); code != exitOK || !strings.Contains(out, "renew") {
		t.Errorf("completing re: exit %d: %q", code, out)
	}
	// Fixed values; file names where a flag takes a file (directive 0,
	// the shell's default), directory names for a directory (16), nothing
	// for the principal (4).
	if _, out, _ := runCLI("__complete", "get", "--condor-store", ""); !strings.Contains(out, "exchange\n") || !strings.Contains(out, "plain\n") {
		t.Errorf("completing --condor-store: %q", out)
	}
	for _, tc := range []struct{ args, directive string }{
		{"get --keytab", ":0"}, {"get --config-dir", ":16"}, {"get", ":4"}, {"renew --state", ":0"},
	} {
		_, out, _ := runCLI(append(append([]string{"__complete"}, strings.Fields(tc.args)...), "")...)
		if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != tc.directive {
			t.Errorf("completing %s: %q; want directive %s", tc.args, out, tc.directive)
		}
	}
}

// TestManPagesOnePerCommand protects the man pages: one page per
// command, generated from the command definitions, with the options as
// the help shows them; and gen-man (make man) writes the same.
func TestManPagesOnePerCommand(t *testing.T) {
	dir := t.TempDir()
	if err := writeManPages(newRoot(&app{s: &stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &bytes.Buffer{}}}), dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"", "-setup", "-get", "-renew", "-status", "-path", "-decode", "-version", "-completion", "-completion-bash"} {
		b, err := os.ReadFile(filepath.Join(dir, "credmon-token"+c+".1"))
		if err != nil {
			t.Errorf("no page for credmon-token%s: %v", c, err)
			continue
		}
		if !bytes.Contains(b, []byte(".TH \"CREDMON-TOKEN\" \"1\"")) {
			t.Errorf("credmon-token%s.1 has no section 1 title:\n%.200s", c, b)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*gen-man*")); len(m) > 0 {
		t.Errorf("a page for the hidden gen-man: %q", m)
	}
	get, _ := os.ReadFile(filepath.Join(dir, "credmon-token-get.1"))
	for _, want := range []string{`\fB-k\fP, \fB--keytab\fP`, `\fB-m\fP, \fB--minsecs\fP`, "igwn-robot-get"} {
		if !bytes.Contains(get, []byte(want)) {
			t.Errorf("credmon-token-get.1 lacks %q", want)
		}
	}
	root, _ := os.ReadFile(filepath.Join(dir, "credmon-token.1"))
	if !bytes.Contains(root, []byte("Exit status")) {
		t.Error("credmon-token.1 does not give the exit statuses")
	}

	dir2 := filepath.Join(t.TempDir(), "man1")
	if code, _, errOut := runCLI("gen-man", dir2); code != exitOK {
		t.Fatalf("gen-man: exit %d: %s", code, errOut)
	}
	a, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	b, _ := filepath.Glob(filepath.Join(dir2, "*.1"))
	if len(a) != len(b) {
		t.Errorf("gen-man wrote %d pages, the generator %d", len(b), len(a))
	}
}

// FuzzGoFlagSpellings: rewriting the old spellings never panics, keeps
// the number of arguments, and changes an argument only by one dash; an
// argument after a leading "--" is never changed. (A "--" elsewhere may be
// an option's value, -a --, as pflag reads it: the finding in testdata.)
func FuzzGoFlagSpellings(f *testing.F) {
	for _, seed := range [][]string{
		{"-account", "robot", "-minsecs=60", "--o", "bt"},
		{"p/h", "-vv", "-kkt", "-o", "-minsecs", "--", "-account"},
		{"--bearertokenfile=x", "-", "--", "-v"},
		{"-o"}, {"--o"}, {"-=x"}, {"--=x"},
	} {
		f.Add(strings.Join(seed, "\x00"))
	}
	var o getOptions
	var minsecs int
	var v countFlag
	var version bool
	fl := pflag.NewFlagSet("get", pflag.ContinueOnError)
	o.register(fl, &minsecs, &v, &version)
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		out := goFlagSpellings(fl, args)
		if len(out) != len(args) {
			t.Fatalf("%q -> %q: length changed", args, out)
		}
		for i := range args {
			if i > 0 && args[0] == "--" && out[i] != args[i] {
				t.Fatalf("%q -> %q: changed after --", args, out)
			}
			if out[i] != args[i] && out[i] != "-"+args[i] && "-"+out[i] != args[i] {
				t.Fatalf("%q -> %q: %q became %q", args, out, args[i], out[i])
			}
		}
	})
}

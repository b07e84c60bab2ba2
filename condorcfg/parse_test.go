package condorcfg

import (
	"strings"
	"testing"
)

func TestSyntax(t *testing.T) {
	tests := []struct {
		name   string
		subsys string
		env    []string
		conf   string
		want   map[string]string // knob -> value, "<unset>" for unset
	}{
		{name: "spaces around =", conf: "A = 1\nB=2\n  C   =   three  \n",
			want: map[string]string{"A": "1", "B": "2", "C": "three"}},
		{name: "names are case-insensitive", conf: "MixedCase = v\n",
			want: map[string]string{"MIXEDCASE": "v", "mixedcase": "v"}},
		{name: "empty value is unset", conf: "A =\nB = \n", want: map[string]string{"A": "<unset>", "B": "<unset>"}},
		{name: "empty value unsets a default", conf: "LOG =\n", want: map[string]string{"LOG": "<unset>"}},
		{name: "later definition wins", conf: "A = 1\nA = 2\n", want: map[string]string{"A": "2"}},
		{name: "value keeps inner spaces and #", conf: "A = x  y # not a comment\n",
			want: map[string]string{"A": "x  y # not a comment"}},
		{name: "comments and blank lines", conf: "# c\n\n   # indented\nA = 1\n", want: map[string]string{"A": "1"}},
		{name: "colon assignment", conf: "A : 1\n", want: map[string]string{"A": "1"}},
		{name: "ini section header ignored", conf: "[Condor]\nA = 1\n", want: map[string]string{"A": "1"}},
		{name: "dots and slashes in names", conf: "a.b/c = 1\n", want: map[string]string{"A.B/C": "1"}},
		{name: "continuation", conf: "A = one, \\\n      two\n", want: map[string]string{"A": "one, two"}},
		{name: "self reference appends", conf: "A = x\nA = $(A) y\nA = $(a) z\n", want: map[string]string{"A": "x y z"}},
		{name: "self reference of undefined knob uses the default", conf: "DAEMON_LIST = $(DAEMON_LIST) CREDD\n",
			want: map[string]string{"DAEMON_LIST": "MASTER CREDD"}},
		{name: "self reference is expanded at definition time", conf: "B = 1\nA = $(A:none) $(B)\nB = 2\n",
			want: map[string]string{"A": "none 2"}},
		{name: "references expand at lookup time", conf: "A = $(B)/x\nB = first\nB = second\n",
			want: map[string]string{"A": "second/x"}},
		{name: "default when undefined", conf: "A = $(NOPE:fallback)\n", want: map[string]string{"A": "fallback"}},
		{name: "default when empty", conf: "E =\nA = $(E:fb)\n", want: map[string]string{"A": "fb"}},
		{name: "default may hold a reference", conf: "Y = why\nA = $(NOPE:$(Y))\n", want: map[string]string{"A": "why"}},
		{name: "default with spaces commas and colons", conf: "A = $(NOPE:a b,c:d)\n", want: map[string]string{"A": "a b,c:d"}},
		{name: "undefined reference is empty", conf: "A = [$(NOPE)]\n", want: map[string]string{"A": "[]"}},
		{name: "nested references", conf: "A = $(B)\nB = $(C)\nC = deep\n", want: map[string]string{"A": "deep"}},
		{name: "computed names", conf: "WHICH = TWO\nTWO = 2\nA = $($(WHICH))\n", want: map[string]string{"A": "2"}},
		{name: "names may contain references", conf: "P = MY\n$(P)_KNOB = 1\n", want: map[string]string{"MY_KNOB": "1"}},
		{name: "$$ is left for the submit side", conf: "A = $$(Memory) $$([1+1]) $$(X:y)\n",
			want: map[string]string{"A": "$$(Memory) $$([1+1]) $$(X:y)"}},
		{name: "$(DOLLAR) is a dollar, expanded last", conf: "A = $(DOLLAR)(B)\nB = no\n", want: map[string]string{"A": "$(B)"}},
		{name: "unknown function is literal text", conf: "A = $FOO(x) $(\n", want: map[string]string{"A": "$FOO(x) $("}},
		{name: "invalid name chars make it literal", conf: "A = $(not a name)\n", want: map[string]string{"A": "$(not a name)"}},
		{name: "multi-line value", conf: "A @=end\n  line one\n  # comment dropped\n\n    line two\n@end\nB = 1\n",
			want: map[string]string{"A": "line one\nline two", "B": "1"}},
		{name: "multi-line value self reference", conf: "A = x\nA @=tag\n$(A)\ny\n@tag\n", want: map[string]string{"A": "x\ny"}},
		{name: "subsystem knob beats plain knob", subsys: "CREDMON_OAUTH",
			conf: "CREDMON_OAUTH.A = sub\nA = plain\nSCHEDD.B = other\nB = plain\n",
			want: map[string]string{"A": "sub", "B": "plain", "SUBSYSTEM": "CREDMON_OAUTH"}},
		{name: "subsystem knob applies inside references", subsys: "CREDMON_OAUTH",
			conf: "CREDMON_OAUTH.LOG = /s\nX = $(LOG)/x\n", want: map[string]string{"X": "/s/x"}},
		{name: "empty subsystem knob unsets for that subsystem", subsys: "CREDMON_OAUTH",
			conf: "A = plain\nCREDMON_OAUTH.A =\n", want: map[string]string{"A": "<unset>"}},
		{name: "subsystem self reference reaches the plain knob", subsys: "CREDMON_OAUTH",
			conf: "A = base\nCREDMON_OAUTH.A = $(A) more\n", want: map[string]string{"A": "base more"}},
		{name: "no subsystem: prefixed knobs are ordinary names",
			conf: "CREDMON_OAUTH.A = sub\nA = plain\n", want: map[string]string{"A": "plain", "CREDMON_OAUTH.A": "sub"}},
		{name: "leading colon in if body", conf: "if true\n:A = 1\nendif\n:if true\nB = 2\nendif\n",
			want: map[string]string{"A": "1", "B": "2"}},
		{name: "@use and @include spellings", conf: "@use feature : OAUTH\n",
			want: map[string]string{"TRUST_CREDENTIAL_DIRECTORY": "True"}},
		{name: "env override beats file", env: []string{"_CONDOR_A=env"}, conf: "A = file\n", want: map[string]string{"A": "env"}},
		{name: "env prefix is case-insensitive", env: []string{"_condor_a=env"}, conf: "", want: map[string]string{"A": "env"}},
		{name: "env value: leading space trimmed, references expanded", env: []string{"_CONDOR_A=   $(B)/x", "_CONDOR_B=b"},
			conf: "", want: map[string]string{"A": "b/x"}},
		{name: "env self reference appends to file value", env: []string{"_CONDOR_DAEMON_LIST=$(DAEMON_LIST) CREDD"},
			conf: "DAEMON_LIST = MASTER SCHEDD\n", want: map[string]string{"DAEMON_LIST": "MASTER SCHEDD CREDD"}},
		{name: "empty env value unsets", env: []string{"_CONDOR_A="}, conf: "A = file\n", want: map[string]string{"A": "<unset>"}},
		{name: "env subsystem override", subsys: "CREDMON_OAUTH", env: []string{"_CONDOR_CREDMON_OAUTH.A=env"},
			conf: "A = file\n", want: map[string]string{"A": "env"}},
		{name: "file subsystem knob beats env plain knob (as in HTCondor)", subsys: "CREDMON_OAUTH",
			env: []string{"_CONDOR_A=env"}, conf: "CREDMON_OAUTH.A = file\n", want: map[string]string{"A": "file"}},
		{name: "env subsystem value may refer to the plain knob", subsys: "CREDMON_OAUTH",
			env: []string{"_CONDOR_CREDMON_OAUTH.LOG=$(LOG)/credmon"}, conf: "LOG = /l\n",
			want: map[string]string{"LOG": "/l/credmon", "CREDMON_OAUTH_LOG": "<unset>"}},
		{name: "START_owner env special", env: []string{"_CONDOR_START_owner=bob"}, conf: "",
			want: map[string]string{"START": `Owner == "bob"`}},
		{name: "config cannot override detected specials", subsys: "CREDMON_OAUTH",
			conf: "HOSTNAME = fake\nSUBSYSTEM = fake\nPID = 1\n",
			want: map[string]string{"HOSTNAME": "ap1", "SUBSYSTEM": "CREDMON_OAUTH", "PID": "4242"}},
		{name: "config may override ARCH", conf: "ARCH = SPARC\n", want: map[string]string{"ARCH": "SPARC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.conf, testOpts(tt.subsys, tt.env...))
			for k, want := range tt.want {
				if got := lookup(t, cfg, k); got != want {
					t.Errorf("Lookup(%s) = %q; want %q", k, got, want)
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	cfg := mustLoad(t, "A : 1\nB extra = 2\nwarning : careful $(B)\nRunBenchmarks : 0\n", testOpts(""))
	w := cfg.Warnings()
	for _, want := range []string{
		"test.conf:1: obsolete use of ':' for parameter assignment at A : 1",
		`test.conf:2: ignoring "extra" between B and the operator`,
		"test.conf:3: warning: careful 2",
	} {
		if !contains(w, want) {
			t.Errorf("Warnings() = %q; want an entry containing %q", w, want)
		}
	}
	if contains(w, "RunBenchmarks") {
		t.Errorf("Warnings() = %q; RunBenchmarks : is grandfathered and must not warn", w)
	}
	if got := lookup(t, cfg, "B"); got != "2" {
		t.Errorf("Lookup(B) = %q; want %q (HTCondor ignores the extra word)", got, "2")
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want string
	}{
		{"no operator", "A = 1\nJUSTAWORD\n", `test.conf:2: syntax error: "JUSTAWORD" is not of the form NAME = value`},
		{"no operator after words", "A B C\n", `test.conf:1: syntax error, missing : or = in "A B C"`},
		{"illegal identifier", "A-B = 1\n", "test.conf:1: illegal identifier: <A-B>"},
		{"illegal identifier after expansion", "X = a b\n$(X) = 1\n", "test.conf:2: illegal identifier: <a b>"},
		{"unterminated multi-line value", "A = 1\nM @=end\nx\n", "test.conf:3: end of file while scanning for '@end' (opened by M @=end on line 2)"},
		{"missing endif", "if true\nA = 1\n", "test.conf:2: endif(s) not found before end-of-file"},
		{"else without if", "else\n", "test.conf:1: else without matching if"},
		{"endif without if", "endif\n", "test.conf:1: endif without matching if"},
		{"elif after else", "if false\nelse\nelif true\nendif\n", "test.conf:3: elif is not allowed after else"},
		{"else after else", "if false\nelse\nelse\nendif\n", "test.conf:3: else is not allowed after else"},
		{"complex if", "A = 2\nif $(A) > 1\nendif\n", "test.conf:2: $(A) > 1 is not a valid if condition because complex conditionals are not supported (use a number, true/false, defined <knob>, or version <op> <x.y.z>)"},
		{"identifier if", "if foo\nendif\n", "test.conf:1: foo is not a valid if condition because expression is not a conditional"},
		{"bad version literal", "if version >= 5.1\nendif\n", "test.conf:1: version >= 5.1 is not a valid if condition because the version literal is invalid"},
		{"bad defined argument", "if defined a b\nendif\n", "test.conf:1: defined a b is not a valid if condition because defined argument must be param name, boolean, or number"},
		{"error statement", "X = bad\nerror : stop here: $(X)\n", "test.conf:2: error: stop here: bad"},
		{"strict colon", "#opt:strict\nA : 1\n", "test.conf:2: obsolete use of ':' for parameter assignment at A : 1"},
		{"use without category", "use : OAUTH\n", "test.conf:1: use needs a category before ':' (as in use FEATURE : OAUTH)"},
		{"unknown use category", "use EXPERIMENTAL : HAD\n", "test.conf:1: use EXPERIMENTAL: metaknob category not known to the native parser (known: FEATURE, POLICY, ROLE, SECURITY)"},
		{"unknown metaknob", "\nuse FEATURE : GPUs\n", "test.conf:2: use FEATURE:GPUs: metaknob not known to the native parser (known FEATURE metaknobs: ADSTASH, KRB, OAUTH, PartitionableSlot, REMOTE_CONFIG, REMOTE_RUNTIME_CONFIG)"},
		{"unbalanced metaknob args", "use FEATURE : PartitionableSlot(1\n", "test.conf:1: use FEATURE : PartitionableSlot(1: unbalanced parentheses in arguments of PartitionableSlot"},
		{"include command", "include command : /bin/echo A=1\n", "test.conf:1: include /bin/echo A=1: running a command to produce configuration is not supported by the native parser (install condor_config_val)"},
		{"include bad keyword", "include sometimes : /x\n", `test.conf:1: unexpected keyword(s) "sometimes" after include`},
		{"include missing file", "\ninclude : /nonexistent/x.conf\n", "test.conf:2: include /nonexistent/x.conf: stat /nonexistent/x.conf: no such file or directory"},
		{"NUL byte", "A = 1\nB = \x00\n", "test.conf:2: NUL byte in configuration file"},
		{"error in self expansion", "A = $STRING(A)\nA = $Fp(A)\n", "test.conf:2: A: $STRING() needs ClassAd evaluation: condorcfg: not supported by the native parser"},
		{"unsupported function in a name", "$EVAL(1) = 2\n", "test.conf:1: expanding name $EVAL(1): $EVAL() needs ClassAd evaluation: condorcfg: not supported by the native parser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErr(tt.conf, testOpts("")); got != tt.want {
				t.Errorf("Load error = %q\nwant            %q", got, tt.want)
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	inc := writeFile(t, dir, "inc.conf", "B = from include\nC = $(A)+\ninclude ifexist : "+dir+"/nope.conf\n")
	writeFile(t, dir, "deep.conf", "D = deep\n")
	cfg := mustLoad(t, "A = a\nDIR = "+dir+"\ninclude : "+inc+"\ninclude : $(DIR)/deep.conf\n@include ifexists : /nonexistent\n", testOpts(""))
	for k, want := range map[string]string{"B": "from include", "C": "a+", "D": "deep"} {
		if got := lookup(t, cfg, k); got != want {
			t.Errorf("Lookup(%s) = %q; want %q", k, got, want)
		}
	}
	want := []string{"test.conf", inc, dir + "/deep.conf"}
	if got := cfg.Files(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Files() = %q; want %q", got, want)
	}

	// An error inside an included file names that file and its line.
	bad := writeFile(t, dir, "bad.conf", "OK = 1\n\nnot valid\n")
	if got, want := loadErr("include : "+bad+"\n", testOpts("")), bad+`:3: syntax error, missing : or = in "not valid"`; got != want {
		t.Errorf("Load error = %q; want %q", got, want)
	}

	// Self-inclusion stops at the nesting limit instead of recursing forever.
	loop := dir + "/loop.conf"
	writeFile(t, dir, "loop.conf", "include : "+loop+"\n")
	if got := loadErr("include : "+loop+"\n", testOpts("")); !strings.Contains(got, "includes nested too deep") {
		t.Errorf("Load error = %q; want includes nested too deep", got)
	}
}

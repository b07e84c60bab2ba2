package condorcfg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// HTCondor cannot be installed on the build machines, so these tests run a
// stand-in condor_config_val: a POSIX shell script, written into
// t.TempDir(), that reproduces the real tool's behaviour for the options we
// use (src/condor_tools/config_val.cpp):
//
//   - "-subsystem X" makes X.NAME win over NAME;
//   - "-config" prints "Configuration source:" / "Local configuration
//     sources:" headers on stderr and each file as "\t<path>\n" on stdout;
//   - "-macro TEXT" replaces every $(NAME) in TEXT by NAME's value ("" when
//     undefined) and prints the result followed by one newline;
//   - an unknown option prints "<arg> is not a valid argument" on stderr and
//     exits 1.
//
// Unlike the real tool it does not expand references inside values (the
// test values contain none, except $(DOLLAR), which -macro leaves alone).
// Every run is appended to calls.log so tests can count invocations.
type fakeTool struct {
	dir  string
	path string
	log  string
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func newFakeTool(t *testing.T, values map[string]string) *fakeTool {
	t.Helper()
	dir := t.TempDir()
	f := &fakeTool{dir: dir, path: filepath.Join(dir, "condor_config_val"), log: filepath.Join(dir, "calls.log")}
	var cases strings.Builder
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&cases, "\t%s) printf '%%s' %s ;;\n", shQuote(n), shQuote(values[n]))
	}
	script := `#!/bin/sh
printf '%s\n' "$*" >> ` + shQuote(f.log) + `
if [ -n "$FAKE_SLEEP" ]; then sleep "$FAKE_SLEEP"; fi
if [ -n "$FAKE_FAIL" ]; then
	echo "Configuration Error Line 3 while reading config source /etc/condor/condor_config" >&2
	exit 1
fi
value() {
	case "$1" in
` + cases.String() + `	*) return 1 ;;
	esac
}
lookup() {
	if [ -n "$subsys" ] && v=$(value "$subsys.$1"); then printf '%s' "$v"; return; fi
	value "$1" || true
}
subsys= config= macro= text=
while [ $# -gt 0 ]; do
	case "$1" in
	-subsystem) subsys=$2; shift ;;
	-config) config=1 ;;
	-macro) macro=1 ;;
	-*) echo "$1 is not a valid argument" >&2; exit 1 ;;
	*) text=$1 ;;
	esac
	shift
done
if [ -n "$config" ]; then
	echo "Configuration source:" >&2
	printf '\t%s\n' /etc/condor/condor_config
	echo "Local configuration sources:" >&2
	printf '\t%s\n' /etc/condor/config.d/00-htcondor-9.0.config /etc/condor/config.d/50-credmon.conf
	echo >&2
fi
if [ -z "$macro" ]; then echo "only -macro is emulated" >&2; exit 1; fi
if [ -n "$FAKE_GARBAGE" ]; then echo "garbage"; exit 0; fi
s=$text out=
while :; do
	case $s in
	*'$('*')'*) ;;
	*) break ;;
	esac
	pre=${s%%'$('*}
	rest=${s#*'$('}
	name=${rest%%')'*}
	s=${rest#*')'}
	out=$out$pre$(lookup "$name")
done
printf '%s\n' "$out$s"
`
	if err := os.WriteFile(f.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// calls returns the argument lists of every run so far.
func (f *fakeTool) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func (f *fakeTool) opts(env ...string) Options {
	return Options{
		Subsystem: "CREDMON_OAUTH",
		ConfigVal: f.path,
		Env:       append([]string{"PATH=/usr/bin:/bin"}, env...),
	}
}

var fakeValues = map[string]string{
	"SEC_CREDENTIAL_DIRECTORY_OAUTH": "/var/lib/condor/oauth_credentials",
	"LOG":                            "/var/log/condor",
	"CREDMON_OAUTH.LOG":              "/var/log/credmon",
	"MULTI":                          "line one\nline two",
	"EMPTY":                          "",
	"PRICE":                          "cost $(DOLLAR)5",
	"BOX_CLIENT_ID":                  "box-id",
	"GDRIVE_CLIENT_ID":               "gd-id",
	"WORKERS":                        "4*2",
	"FLAG":                           "yes",
	"WEIRD":                          "a; b | c 'd' \"e\" \\f",
}

func TestConfigValLoad(t *testing.T) {
	f := newFakeTool(t, fakeValues)
	opts := f.opts()
	opts.Prefetch = []string{"SEC_CREDENTIAL_DIRECTORY_OAUTH", "log", "MULTI", "EMPTY", "UNDEFINED", "PRICE", "WEIRD", "not a name", "LOG"}
	cfg, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.calls(t)
	if len(calls) != 1 {
		t.Fatalf("Load ran condor_config_val %d times; want exactly 1: %q", len(calls), calls)
	}
	if !strings.HasPrefix(calls[0], "-subsystem CREDMON_OAUTH -config -macro ") {
		t.Errorf("Load ran condor_config_val %q; want -subsystem CREDMON_OAUTH -config -macro ...", calls[0])
	}
	for _, n := range []string{"$(SEC_CREDENTIAL_DIRECTORY_OAUTH)", "$(LOG)", "$(UNDEFINED)"} {
		if !strings.Contains(calls[0], n) {
			t.Errorf("batched call %q lacks %s", calls[0], n)
		}
	}
	if strings.Count(calls[0], "$(LOG)") != 1 || strings.Contains(calls[0], "not a name") {
		t.Errorf("batched call %q: want names deduplicated (case-insensitively) and invalid names dropped", calls[0])
	}
	want := map[string]string{
		"SEC_CREDENTIAL_DIRECTORY_OAUTH": "/var/lib/condor/oauth_credentials",
		"LOG":                            "/var/log/credmon", // -subsystem makes CREDMON_OAUTH.LOG win
		"MULTI":                          "line one\nline two",
		"EMPTY":                          "<unset>",
		"UNDEFINED":                      "<unset>",
		"PRICE":                          "cost $5",
		"WEIRD":                          "a; b | c 'd' \"e\" \\f",
	}
	for k, v := range want {
		if got := lookup(t, cfg, k); got != v {
			t.Errorf("Lookup(%s) = %q; want %q", k, got, v)
		}
	}
	if n := len(f.calls(t)); n != 1 {
		t.Errorf("looking up prefetched names ran condor_config_val again (%d runs)", n)
	}
	if got, want := cfg.Source(), "condor_config_val ("+f.path+")"; got != want {
		t.Errorf("Source() = %q; want %q", got, want)
	}
	wantFiles := []string{"/etc/condor/condor_config", "/etc/condor/config.d/00-htcondor-9.0.config", "/etc/condor/config.d/50-credmon.conf"}
	if got := cfg.Files(); strings.Join(got, "|") != strings.Join(wantFiles, "|") {
		t.Errorf("Files() = %q; want %q", got, wantFiles)
	}
}

func TestConfigValLookupAndPrefetch(t *testing.T) {
	f := newFakeTool(t, fakeValues)
	cfg, err := Load(f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.calls(t)); n != 1 {
		t.Fatalf("Load with no Prefetch ran condor_config_val %d times; want 1 (to read the file list)", n)
	}
	// A name not fetched yet costs one run, then it is cached (also when undefined).
	if got := lookup(t, cfg, "FLAG"); got != "yes" {
		t.Errorf("Lookup(FLAG) = %q", got)
	}
	if got := lookup(t, cfg, "NOPE"); got != "<unset>" {
		t.Errorf("Lookup(NOPE) = %q", got)
	}
	cfg.Lookup("flag")
	cfg.Lookup("Nope")
	calls := f.calls(t)
	if len(calls) != 3 {
		t.Fatalf("condor_config_val ran %d times; want 3 (Load, FLAG, NOPE): %q", len(calls), calls)
	}
	if strings.Contains(calls[1], "-config") {
		t.Errorf("single lookup %q should not ask for -config", calls[1])
	}
	// Prefetch: one run for all names not cached yet.
	if err := cfg.Prefetch("BOX_CLIENT_ID", "GDRIVE_CLIENT_ID", "FLAG", "box_client_id", "bad name"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Prefetch("BOX_CLIENT_ID", "FLAG"); err != nil { // all cached: no run
		t.Fatal(err)
	}
	calls = f.calls(t)
	if len(calls) != 4 {
		t.Fatalf("condor_config_val ran %d times; want 4: %q", len(calls), calls)
	}
	if c := calls[3]; !strings.Contains(c, "$(BOX_CLIENT_ID)") || !strings.Contains(c, "$(GDRIVE_CLIENT_ID)") || strings.Contains(c, "$(FLAG)") {
		t.Errorf("Prefetch ran %q; want exactly the uncached names", c)
	}
	if got := lookup(t, cfg, "GDRIVE_CLIENT_ID"); got != "gd-id" {
		t.Errorf("Lookup(GDRIVE_CLIENT_ID) = %q", got)
	}
	if n, err := cfg.Int("WORKERS", 1); err != nil || n != 8 {
		t.Errorf("Int(WORKERS) = %d, %v; want 8", n, err)
	}
	if b, err := cfg.Bool("FLAG", false); err != nil || !b {
		t.Errorf("Bool(FLAG) = %v, %v; want true", b, err)
	}
}

func TestConfigValNoSubsystem(t *testing.T) {
	f := newFakeTool(t, fakeValues)
	opts := f.opts()
	opts.Subsystem = ""
	opts.Prefetch = []string{"LOG"}
	cfg, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := f.calls(t)[0]; strings.Contains(c, "-subsystem") {
		t.Errorf("call %q: want no -subsystem when Options.Subsystem is empty", c)
	}
	if got := lookup(t, cfg, "LOG"); got != "/var/log/condor" {
		t.Errorf("Lookup(LOG) = %q; want the plain value without a subsystem", got)
	}
}

func TestConfigValErrors(t *testing.T) {
	f := newFakeTool(t, fakeValues)
	if _, err := Load(f.opts("FAKE_FAIL=1")); err == nil || !strings.Contains(err.Error(), "Configuration Error Line 3") {
		t.Errorf("failing tool: Load error = %v; want it to carry the tool's stderr", err)
	}
	if _, err := Load(f.opts("FAKE_GARBAGE=1")); err == nil || !strings.Contains(err.Error(), "no expansion result") {
		t.Errorf("garbage output: Load error = %v", err)
	}
	// The tool sleeps a minute: a Load that ignored the timeout would take
	// that long, so the bound below tells the two apart on any machine.
	opts := f.opts("FAKE_SLEEP=60")
	opts.Timeout = 200 * time.Millisecond
	start := time.Now()
	if _, err := Load(opts); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("hung tool: Load error = %v; want a timeout", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("hung tool: Load took %v; want about the timeout", d)
	}
	opts = f.opts()
	opts.ConfigVal = filepath.Join(f.dir, "missing")
	if _, err := Load(opts); err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Errorf("missing ConfigVal: Load error = %v", err)
	}

	// A failure after Load surfaces through LookupErr and Err.
	good := newFakeTool(t, fakeValues)
	cfg, err := Load(good.opts())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good.path, []byte("#!/bin/sh\necho broken >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cfg.LookupErr("FLAG"); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("LookupErr after the tool broke: %v", err)
	}
	cfg.Lookup("OTHER")
	if cfg.Err() == nil {
		t.Errorf("Err() = nil after a failed lookup")
	}
	if err := cfg.Prefetch("X1", "X2"); err == nil {
		t.Errorf("Prefetch after the tool broke: got nil error")
	}
}

func TestConfigValDiscovery(t *testing.T) {
	f := newFakeTool(t, fakeValues)
	cfg, err := Load(Options{Env: []string{"PATH=/nonexistent:relative/dir:" + f.dir}, Prefetch: []string{"LOG"}, sys: testSys()})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Source(); got != "condor_config_val ("+f.path+")" {
		t.Errorf("found in PATH: Source() = %q", got)
	}
	// "-" never uses it, even when it is in PATH.
	cfg, err = Load(Options{Env: []string{"PATH=" + f.dir, "CONDOR_CONFIG=ONLY_ENV"}, ConfigVal: "-", sys: testSys()})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Source(); !strings.HasPrefix(got, "native") {
		t.Errorf(`ConfigVal "-": Source() = %q; want native`, got)
	}
	// Not in PATH: native.
	cfg, err = Load(Options{Env: []string{"PATH=/nonexistent", "CONDOR_CONFIG=ONLY_ENV"}, sys: testSys()})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Source(); !strings.HasPrefix(got, "native") {
		t.Errorf("no tool in PATH: Source() = %q; want native", got)
	}
	// A non-executable file of that name is not a tool.
	dir := t.TempDir()
	writeFile(t, dir, "condor_config_val", "#!/bin/sh\n")
	cfg, err = Load(Options{Env: []string{"PATH=" + dir, "CONDOR_CONFIG=ONLY_ENV"}, sys: testSys()})
	if err != nil || !strings.HasPrefix(cfg.Source(), "native") {
		t.Errorf("non-executable condor_config_val: Source() = %q, %v; want native", cfg.Source(), err)
	}
	if len(f.calls(t)) != 1 {
		t.Errorf("tool ran %d times; want 1", len(f.calls(t)))
	}
}

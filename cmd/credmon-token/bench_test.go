package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/credmon/credtest"
)

// BenchmarkGetFresh is the cron path of `get` when the token on disk is
// still good: the whole process (start, read, parse, decide, exit) against
// three floors measured in the same run: `cat` of the same file (the
// issue's floor), `true`, and an empty Go program (what any Go binary pays
// to start; built here with the same toolchain). The goal is under
// 5 ms. Where valgrind is installed it also counts the user-space
// instructions of one run of each (callgrind): a figure that does not
// depend on how slow this machine's page faults and process creation are.
func BenchmarkGetFresh(b *testing.B) {
	dir := b.TempDir()
	tokFile := filepath.Join(dir, "bt")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "robot", "aud": "https://storage.example.org", "scope": "storage.read:/data",
		"exp": time.Now().Add(3 * time.Hour).Unix(), "iat": time.Now().Unix(),
	}).SignedString([]byte("not-verified-here"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty+".go", []byte("package main\n\nfunc main() {}\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	if out, err := credtest.GoBuild(empty, empty+".go"); err != nil {
		b.Fatalf("building the empty Go program: %v\n%s", err, out)
	}
	get := []string{binary, "get", "--account", "robot", "-o", tokFile, "--minsecs", "3600",
		"--audience", "https://storage.example.org", "--scope", "storage.read:/data"}
	cat := []string{"cat", tokFile}
	const n = 200
	timeIt := func(argv []string) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				b.Fatalf("%s: %v %s", argv[0], err, out)
			}
		}
		return time.Since(start) / n
	}
	b.ResetTimer()
	getT := timeIt(get)
	catT := timeIt(cat)
	trueT := timeIt([]string{"true"})
	emptyT := timeIt([]string{empty})
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(getT), "get_fresh_ms")
	b.ReportMetric(ms(catT), "cat_ms")
	b.ReportMetric(ms(trueT), "true_ms")
	b.ReportMetric(ms(emptyT), "empty_go_ms")
	b.ReportMetric(float64(getT)/float64(catT), "ratio_vs_cat")
	b.ReportMetric(float64(getT)/float64(emptyT), "ratio_vs_empty_go")

	if _, err := exec.LookPath("valgrind"); err != nil {
		b.Log("valgrind not installed: no instruction counts")
		return
	}
	getI, catI := instructions(b, get), instructions(b, cat)
	if getI == 0 || catI == 0 {
		return
	}
	b.ReportMetric(float64(getI)/1e6, "get_fresh_Minstr")
	b.ReportMetric(float64(catI)/1e6, "cat_Minstr")
	b.ReportMetric(float64(getI)/float64(catI), "instr_ratio_vs_cat")
}

// instructions is the number of user-space instructions one run of argv
// executes (valgrind's callgrind "Collected" total), or 0 when valgrind
// fails. Go's asynchronous preemption signals are off under valgrind: with
// them valgrind 3.19 sometimes aborts on a Go binary (seen here, under load).
func instructions(b *testing.B, argv []string) int64 {
	b.Helper()
	cmd := exec.Command("valgrind", append([]string{"--tool=callgrind", "--callgrind-out-file=/dev/null"}, argv...)...)
	cmd.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1")
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`Collected : ([0-9]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		b.Logf("valgrind %s: %v (no instruction counts)\n%s", argv[0], err, out[max(0, len(out)-2000):])
		return 0
	}
	v, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return v
}

// BenchmarkGetFreshKeytabVsAccount is the IGWN cron line when the token
// file is still good: `get --keytab FILE --minsecs 3600` against today's
// `get --account NAME --minsecs 3600` on the same file, in the same run,
// interleaved so that both see the same machine. The goal is a ratio of
// about 1: choosing Vault must cost the fresh path nothing (no krb5.conf,
// no keytab read, no network).
func BenchmarkGetFreshKeytabVsAccount(b *testing.B) {
	dir := b.TempDir()
	tokFile := filepath.Join(dir, "bt")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "robot", "exp": time.Now().Add(3 * time.Hour).Unix(), "iat": time.Now().Unix(),
	}).SignedString([]byte("not-verified-here"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	keytab := filepath.Join(dir, "robot.keytab")
	if err := os.WriteFile(keytab, []byte("not read on the fresh path"), 0o600); err != nil {
		b.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5") && !strings.HasPrefix(kv, "BEARER_TOKEN") {
			env = append(env, kv)
		}
	}
	keytabGet := []string{"get", "--keytab", keytab, "--minsecs", "3600", "-o", tokFile}
	accountGet := []string{"get", "--account", "robot", "--minsecs", "3600", "-o", tokFile}
	run := func(args []string) time.Duration {
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v %s", args, err, out)
		}
		return time.Since(start)
	}
	const n = 200
	var keytabT, accountT time.Duration
	b.ResetTimer()
	for i := 0; i < n; i++ {
		keytabT += run(keytabGet)
		accountT += run(accountGet)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
	b.ReportMetric(ms(keytabT), "get_keytab_fresh_ms")
	b.ReportMetric(ms(accountT), "get_account_fresh_ms")
	b.ReportMetric(float64(keytabT)/float64(accountT), "ratio_keytab_vs_account")
}

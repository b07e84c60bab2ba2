package pkgtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testVersion is linked into the packaged binaries: --version must show it.
const testVersion = "9.8.7"

// wantFiles is every file the packages install and its mode. Directories
// are not listed (the package managers create them 0755 root). Files under
// /usr/share/doc/credmon are checked apart (they follow docs/ and
// examples/): regular, 0644; so are the man pages beyond those listed
// (one per credmon-token command in man1, credmon's completion pages in
// man8).
var wantFiles = map[string]fs.FileMode{
	"/usr/sbin/credmon":                                         0o755,
	"/usr/sbin/credmon-web":                                     0o755,
	"/usr/lib/systemd/system/credmon-web.service":               0o644,
	"/usr/bin/credmon-token":                                    0o755,
	"/usr/bin/credmon-producer":                                 0o755,
	"/usr/lib/systemd/system/credmon-token-renew.service":       0o644,
	"/usr/lib/systemd/system/credmon-token-renew.timer":         0o644,
	"/usr/lib/systemd/system/credmon-token-renew-watch.service": 0o644,
	"/usr/lib/sysusers.d/credmon-token.conf":                    0o644,
	"/usr/lib/tmpfiles.d/credmon-token.conf":                    0o644,
	"/etc/sysconfig/credmon-token":                              0o644,
	"/usr/share/doc/credmon/README.md":                          0o644,
	"/usr/share/man/man1/credmon-token.1":                       0o644,
	"/usr/share/man/man1/credmon-token-get.1":                   0o644,
	"/usr/share/man/man1/credmon-producer.1":                    0o644,
	"/usr/share/man/man8/credmon.8":                             0o644,
	"/usr/share/man/man8/credmon-check.8":                       0o644,
	"/usr/share/man/man8/credmon-status.8":                      0o644,
	"/usr/share/man/man8/credmon-issuer.8":                      0o644,
	"/usr/share/man/man8/credmon-token.8":                       0o644,
	"/usr/share/man/man8/credmon-token-verify.8":                0o644,
	"/usr/share/man/man8/credmon-token-decode.8":                0o644,
	"/usr/share/man/man8/credmon-web.8":                         0o644,
	"/usr/share/doc/credmon/examples/condor/40-credmon.conf":    0o644,
}

// configFiles are the files marked as configuration (kept on upgrade when
// edited): rpm %config(noreplace), deb conffiles.
var configFiles = []string{"/etc/sysconfig/credmon-token"}

func TestPackagesInstallAndRun(t *testing.T) {
	repo := repoRoot(t)
	requireTools(t, repo)
	tmp := t.TempDir()
	out, bin := filepath.Join(tmp, "out"), filepath.Join(tmp, "bin")

	start := time.Now()
	// The Makefile's own targets, so that what is tested is what make rpm
	// and make deb build. The outer make's job server is not ours.
	mk := exec.Command("make", "--no-print-directory", "-C", repo, "-j2", "rpm", "deb",
		"PKG_OUT="+out, "PKG_BIN="+bin, "VERSION="+testVersion)
	mk.Env = withoutMake(os.Environ())
	if b, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make rpm deb: %v\n%s", err, b)
	}
	built := time.Since(start)
	rpmFile, debFile := only(t, out, "*.rpm"), only(t, out, "*.deb")
	rpmSize, debSize := size(t, rpmFile), size(t, debFile)

	t.Run("rpm metadata", func(t *testing.T) {
		// Static binaries: nothing but the scriptlets' shell.
		var reqs []string
		for _, r := range lines(run(t, "rpm", "-qp", "--requires", rpmFile)) {
			if !strings.HasPrefix(r, "rpmlib(") {
				reqs = append(reqs, r)
			}
		}
		if !slices.Equal(reqs, []string{"/bin/sh"}) {
			t.Errorf("rpm -qp --requires: %q; want only /bin/sh (the binaries are static)", reqs)
		}
		if got := lines(run(t, "rpm", "-qp", "--configfiles", rpmFile)); !slices.Equal(got, configFiles) {
			t.Errorf("rpm -qp --configfiles: %q; want %q", got, configFiles)
		}
		// %config(noreplace): RPMFILE_CONFIG (1) | RPMFILE_NOREPLACE (16).
		flags := run(t, "rpm", "-qp", "--queryformat", "[%{FILEFLAGS} %{FILENAMES}\n]", rpmFile)
		for _, c := range configFiles {
			if !strings.Contains(flags, "17 "+c+"\n") {
				t.Errorf("%s is not %%config(noreplace):\n%s", c, flags)
			}
		}
		files := map[string]string{}
		for _, l := range lines(run(t, "rpm", "-qp", "--queryformat", "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]", rpmFile)) {
			f := strings.Fields(l)
			files[f[3]] = f[0] + " " + f[1] + ":" + f[2]
		}
		checkModes(t, "rpm", files)
		if got := run(t, "rpm", "-qp", "--queryformat", "%{VERSION}", rpmFile); got != testVersion {
			t.Errorf("rpm version %q; want %q", got, testVersion)
		}
		scripts := run(t, "rpm", "-qp", "--scripts", rpmFile)
		for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "systemd-sysusers"} {
			if !strings.Contains(scripts, s) {
				t.Errorf("rpm --scripts lacks %q", s)
			}
		}
	})

	t.Run("deb metadata", func(t *testing.T) {
		if dep := strings.TrimSpace(run(t, "dpkg-deb", "-f", debFile, "Depends")); dep != "" {
			t.Errorf("deb Depends: %q; want none (the binaries are static)", dep)
		}
		if got := lines(run(t, "dpkg-deb", "-I", debFile, "conffiles")); !slices.Equal(got, configFiles) {
			t.Errorf("deb conffiles: %q; want %q", got, configFiles)
		}
		files := map[string]string{}
		for _, l := range lines(run(t, "dpkg-deb", "-c", debFile)) {
			// -rwxr-xr-x root/root  11938373 2026-12-04 14:58 ./usr/sbin/credmon
			f := strings.Fields(l)
			name := strings.TrimPrefix(f[len(f)-1], ".")
			if strings.HasPrefix(f[0], "d") {
				continue
			}
			files[name] = f[0] + " " + strings.Replace(f[1], "/", ":", 1)
		}
		checkModes(t, "deb", files)
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			if !strings.Contains(run(t, "dpkg-deb", "-I", debFile), s) {
				t.Errorf("deb lacks %s", s)
			}
		}
	})

	// Both formats unpacked into roots of their own, at once.
	rpmRoot, debRoot := filepath.Join(tmp, "rpm-root"), filepath.Join(tmp, "deb-root")
	unpackStart := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = unpackRPM(rpmFile, rpmRoot) }()
	go func() { defer wg.Done(); errs[1] = sh(nil, "", "dpkg-deb", "-x", debFile, debRoot) }()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	unpacked := time.Since(unpackStart)
	rpmTree, debTree := tree(t, rpmRoot), tree(t, debRoot)
	if !slices.Equal(rpmTree, debTree) {
		t.Errorf("the rpm and the deb install different files:\nrpm %q\ndeb %q", rpmTree, debTree)
	}
	var names []string
	for _, f := range rpmTree {
		names = append(names, strings.Fields(f)[0])
	}
	if listed := lines(run(t, "rpm", "-qpl", rpmFile)); !slices.Equal(names, listed) {
		t.Errorf("unpacked from the rpm %q; rpm -qpl lists %q", names, listed)
	}

	for _, root := range []string{rpmRoot, debRoot} {
		t.Run(filepath.Base(root), func(t *testing.T) {
			t.Parallel()
			runPackaged(t, root)
		})
	}
	t.Cleanup(func() {
		t.Logf("make rpm deb (binaries + nfpm): %v; rpm %.1f MB, deb %.1f MB; unpacking both: %v; whole test: %v",
			built.Round(time.Millisecond), rpmSize, debSize, unpacked.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
}

// checkModes compares a package's listing (path → "perms owner:group") with
// wantFiles.
func checkModes(t *testing.T, format string, files map[string]string) {
	t.Helper()
	for path, mode := range wantFiles {
		want := mode.String() + " root:root"
		if got, ok := files[path]; !ok {
			t.Errorf("%s: %s is missing", format, path)
		} else if got != want {
			t.Errorf("%s: %s is %q; want %q", format, path, got, want)
		}
	}
	for path, got := range files {
		if _, ok := wantFiles[path]; ok {
			continue
		}
		if !strings.HasPrefix(path, "/usr/share/doc/credmon/") && !strings.HasPrefix(path, "/usr/share/man/man1/credmon-") &&
			!strings.HasPrefix(path, "/usr/share/man/man8/credmon-") {
			t.Errorf("%s: unexpected file %s (%s): add it to wantFiles", format, path, got)
		} else if got != "-rw-r--r-- root:root" {
			t.Errorf("%s: %s is %q; want -rw-r--r-- root:root", format, path, got)
		}
	}
	// Every example (drop-ins, submit files, config.ini, the crontab) is
	// shipped: they are checked by cmd/credmon's and cmd/credmon-token's
	// example tests, and documented as installed here.
	examples, err := os.ReadDir(filepath.Join(repoRoot(t), "examples/condor"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range examples {
		if _, ok := files["/usr/share/doc/credmon/examples/condor/"+e.Name()]; !ok {
			t.Errorf("%s: examples/condor/%s is not packaged", format, e.Name())
		}
	}
	// Installing must not activate anything in HTCondor.
	for path := range files {
		if strings.HasPrefix(path, "/etc/condor") {
			t.Errorf("%s: %s would change HTCondor's configuration on install", format, path)
		}
	}
}

// runPackaged runs the binaries of an unpacked package.
func runPackaged(t *testing.T, root string) {
	credmon := filepath.Join(root, "usr/sbin/credmon")
	token := filepath.Join(root, "usr/bin/credmon-token")

	for _, c := range []struct {
		argv []string
		want string // in stdout+stderr
	}{
		{[]string{credmon, "--version"}, "credmon " + testVersion},
		{[]string{credmon, "--help"}, "cred-dir"},
		{[]string{token, "--version"}, testVersion},
		{[]string{token, "--help"}, "renew"},
	} {
		cmd := exec.Command(c.argv[0], c.argv[1:]...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", filepath.Base(c.argv[0]), c.argv[1], err, b)
		} else if !strings.Contains(strings.ToLower(string(b)), strings.ToLower(c.want)) {
			t.Errorf("%s %s: no %q in\n%s", filepath.Base(c.argv[0]), c.argv[1], c.want, b)
		}
	}

	// Every packaged path the HTCondor drop-ins name exists and runs.
	examples := filepath.Join(root, "usr/share/doc/credmon/examples/condor")
	named := regexp.MustCompile(`/usr/s?bin/credmon[a-z-]*`)
	entries, err := os.ReadDir(examples)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(examples, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range named.FindAllString(string(b), -1) {
			if fi, err := os.Stat(filepath.Join(root, p)); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("examples/condor/%s names %s, which the package does not install as a program (%v)", e.Name(), p, err)
			}
		}
	}

	daemonOnePass(t, root, filepath.Join(examples, "40-credmon.conf"))
}

// daemonOnePass runs the packaged daemon with the packaged drop-in, plus
// the test's paths and a local issuer, until one pass has turned a user's
// .top into a .use (CREDMON_COMPLETE), then stops it with SIGTERM. Before,
// it runs credmon-producer on the same configuration.
func daemonOnePass(t *testing.T, root, dropIn string) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "oauth_credentials")
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	user := filepath.Join(creds, "alice")
	if err := os.Mkdir(user, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(user, "scitokens.top"), []byte("alice@ap.example.org"), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "CredMonOAuthLog")
	cfg := filepath.Join(dir, "condor_config")
	conf := fmt.Sprintf(`# The packaged drop-in, as /etc/condor/config.d would hold it.
include : %s
SEC_CREDENTIAL_DIRECTORY_OAUTH = %s
CREDMON_OAUTH_LOG = %s
LOCAL_CREDMON_PROVIDER_NAMES = scitokens
LOCAL_CREDMON_PRIVATE_KEY = %s/scitokens-private.pem
LOCAL_CREDMON_PUBLIC_KEY = %s/scitokens.pem
LOCAL_CREDMON_ISSUER = https://ap.example.org
LOCAL_CREDMON_TOKEN_AUDIENCE = https://storage.example.org
`, dropIn, creds, logFile, dir, dir)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "CONDOR_CONFIG="+cfg, "PATH=/nonexistent") // no condor_config_val

	// credmon-producer as SEC_CREDENTIAL_PRODUCER (condor_submit runs it
	// with no arguments): the local issuer's provider on stdout.
	prod := exec.Command(filepath.Join(root, "usr/bin/credmon-producer"))
	prod.Env = env
	if b, err := prod.Output(); err != nil || string(b) != "LOCAL:scitokens" {
		t.Errorf("credmon-producer as SEC_CREDENTIAL_PRODUCER: %q, %v; want LOCAL:scitokens", b, err)
	}

	var stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "usr/sbin/credmon"))
	cmd.Env = env
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("daemon stderr:\n%s\ndaemon log:\n%s", stderr.String(), b)
		}
	}()
	use := filepath.Join(user, "scitokens.use")
	complete := filepath.Join(creds, "CREDMON_COMPLETE")
	// A failure bound only: the pass is what ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for !exists(complete) || !exists(use) {
		select {
		case err := <-exited:
			t.Fatalf("daemon exited before its first pass: %v", err)
		case <-ctx.Done():
			cmd.Process.Kill()
			<-exited
			t.Fatalf("no CREDMON_COMPLETE and alice/scitokens.use after 60 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if fi, err := os.Stat(use); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("scitokens.use: %v, mode %v; want no group/other access", err, fi.Mode())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("daemon after SIGTERM: %v", err)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// requireTools skips (or, with CREDMON_REQUIRE_PKG=1, fails) when a tool
// the test needs is missing.
func requireTools(t *testing.T, repo string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("packages are built on Linux")
	}
	var missing []string
	if _, err := os.Stat(filepath.Join(repo, ".cache/bin/nfpm")); err != nil {
		missing = append(missing, "nfpm (make nfpm)")
	}
	for _, tool := range []string{"make", "rpm", "rpm2cpio", "cpio", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "install test: missing " + strings.Join(missing, ", ") + " (apt-get install rpm cpio; make nfpm)"
	if os.Getenv("CREDMON_REQUIRE_PKG") == "1" {
		t.Fatal(msg + "; CREDMON_REQUIRE_PKG=1 requires them")
	}
	t.Skip(msg + "; set CREDMON_REQUIRE_PKG=1 to fail instead")
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// withoutMake drops the outer make's variables (its job server is not
// open in this process).
func withoutMake(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=")
	})
}

func only(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) != 1 {
		t.Fatalf("%s in %s: %q; want exactly one", pattern, dir, m)
	}
	return m[0]
}

func size(t *testing.T, p string) float64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return float64(fi.Size()) / 1e6
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := sh(&out, "", name, args...); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// sh runs a command, stdout to out, and says what failed with its stderr.
func sh(out *bytes.Buffer, dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	if out != nil {
		cmd.Stdout = out
	}
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// unpackRPM is rpm2cpio FILE | cpio -idm, in root.
func unpackRPM(file, root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	r2c := exec.Command("rpm2cpio", file)
	// nfpm's payload names are absolute (/usr/sbin/credmon, goreleaser/nfpm#1122):
	// without --no-absolute-filenames cpio would write into the real /usr.
	cpio := exec.Command("cpio", "-idm", "--quiet", "--no-absolute-filenames")
	cpio.Dir = root
	pipe, err := r2c.StdoutPipe()
	if err != nil {
		return err
	}
	cpio.Stdin = pipe
	var e1, e2 bytes.Buffer
	r2c.Stderr, cpio.Stderr = &e1, &e2
	if err := cpio.Start(); err != nil {
		return err
	}
	r2cErr := r2c.Run()
	if err := cpio.Wait(); err != nil {
		return fmt.Errorf("rpm2cpio %s | cpio -idm: %v, %v\n%s%s", file, r2cErr, err, e1.String(), e2.String())
	}
	// rpm2cpio exits 1, silently, on every rpm nfpm writes: rpmpack
	// records a payload size that rpm2cpio does not find
	// (goreleaser/nfpm#341, google/rpmpack#60); rpm itself installs them.
	// Its status is not what says the payload is whole: cpio read it to
	// its trailer, and the caller compares every file with the deb's.
	if r2cErr != nil && e1.Len() > 0 {
		return fmt.Errorf("rpm2cpio %s: %v\n%s", file, r2cErr, e1.String())
	}
	return nil
}

// tree lists the regular files under root, relative to it, with their
// modes and SHA-256 digests.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, fmt.Sprintf("/%s %v %x", rel, fi.Mode(), sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

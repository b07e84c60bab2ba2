package kdc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// DefaultRealm is the realm StartKDC creates when Options.Realm is empty.
const DefaultRealm = "CREDMON.TEST"

// EnvRequireKDC, when set to "1", turns "the MIT KDC programs are not
// installed" from a skipped test into a failed one. CI sets it so that a
// broken image cannot silently skip every Kerberos test.
const EnvRequireKDC = "CREDMON_REQUIRE_KDC"

// masterPassword protects the throw-away database's stash; it never leaves
// the test's temporary directory.
const masterPassword = "credmon-test-master"

// Options say what StartKDC puts in the new realm.
type Options struct {
	// Realm is the realm's name; DefaultRealm when empty.
	Realm string
	// Users are client principals (without the realm, e.g. "robot/host"),
	// each created with a random key, pre-authentication required, and
	// exported to its own keytab (KDC.Keytab).
	Users []string
	// Hosts are service host names: each gets the principal
	// host/<name>@REALM and a service keytab (KDC.ServiceKeytab), the
	// principal htgettoken asks a ticket for when it logs in to Vault.
	Hosts []string
}

// KDC is a running krb5kdc serving one realm on a loopback port.
type KDC struct {
	// Realm is the realm's name.
	Realm string
	// Addr is the KDC's host:port, on both UDP and TCP.
	Addr string
	// Dir holds the configuration, database and keytabs.
	Dir string
	// Krb5Conf is a krb5.conf for clients of this realm: default_realm,
	// the KDC's address, no DNS lookups, and a default ccache inside Dir
	// (so nothing touches the machine's own ticket cache).
	Krb5Conf string

	kdcConf string
	cmd     *exec.Cmd
	waited  chan struct{}
	out     *capBuffer

	stopOnce sync.Once
}

// StartKDC creates a realm with its database, principals and keytabs under
// t.TempDir(), starts krb5kdc on a loopback port and stops it when the test
// ends. When krb5kdc, kdb5_util or kadmin.local is missing the test is
// skipped, or failed under CREDMON_REQUIRE_KDC=1.
func StartKDC(t TB, opts Options) *KDC {
	t.Helper()
	bins := map[string]string{}
	for _, name := range []string{"krb5kdc", "kdb5_util", "kadmin.local"} {
		p, err := lookPath(name)
		if err != nil {
			unavailable(t, "%s not found (Debian: apt-get install krb5-kdc krb5-admin-server): %v", name, err)
			return nil
		}
		bins[name] = p
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	k := &KDC{Realm: realm, Dir: t.TempDir()}
	k.Krb5Conf = filepath.Join(k.Dir, "krb5.conf")
	k.kdcConf = filepath.Join(k.Dir, "kdc.conf")
	t.Cleanup(k.Stop)

	// The port is picked by binding :0 and releasing it, so another process
	// can take it before krb5kdc binds; krb5kdc then exits and we retry
	// with a new port.
	var err error
	for attempt := 0; ; attempt++ {
		var port int
		port, err = freePort()
		if err != nil {
			t.Fatalf("kdc: picking a port: %v", err)
		}
		k.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := k.writeConfig(port); err != nil {
			t.Fatalf("kdc: %v", err)
		}
		if attempt == 0 {
			if out, err := k.run(bins["kdb5_util"], "create", "-s", "-r", realm, "-P", masterPassword); err != nil {
				t.Fatalf("kdc: kdb5_util create: %v\n%s", err, out)
			}
		}
		err = k.start(bins["krb5kdc"])
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(k.out.String(), "in use") {
			continue
		}
		t.Fatalf("kdc: starting krb5kdc: %v\noutput:\n%s", err, k.out.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("krb5kdc output (%s, realm %s):\n%s", k.Addr, k.Realm, k.out.String())
		}
	})

	for _, u := range opts.Users {
		k.AddUser(t, u)
	}
	for _, h := range opts.Hosts {
		k.AddHost(t, h)
	}
	return k
}

// unavailable skips the test, or fails it under CREDMON_REQUIRE_KDC=1.
func unavailable(t TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequireKDC) == "1" {
		t.Fatalf("%s (fatal because %s=1)", msg, EnvRequireKDC)
	}
	t.Skipf("%s (set %s=1 to fail instead of skipping)", msg, EnvRequireKDC)
}

// lookPath finds an MIT admin program, which Debian installs in /usr/sbin,
// a directory not always on a test's PATH.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

// freePort returns a loopback port that was free for both TCP and UDP a
// moment ago.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, errors.New("no port free for both TCP and UDP after 20 tries")
}

func (k *KDC) writeConfig(port int) error {
	p := strconv.Itoa(port)
	// Only AES with SHA-1 (the MIT default set): gokrb5 and every MIT
	// client speak it, and the test does not depend on the distribution's
	// defaults changing.
	kdcConf := `[kdcdefaults]
	kdc_listen = 127.0.0.1:` + p + `
	kdc_tcp_listen = 127.0.0.1:` + p + `

[realms]
	` + k.Realm + ` = {
		database_name = ` + filepath.Join(k.Dir, "principal") + `
		key_stash_file = ` + filepath.Join(k.Dir, "stash") + `
		acl_file = ` + filepath.Join(k.Dir, "kadm5.acl") + `
		kdc_listen = 127.0.0.1:` + p + `
		kdc_tcp_listen = 127.0.0.1:` + p + `
		max_life = 10h 0m 0s
		max_renewable_life = 7d 0h 0m 0s
		master_key_type = aes256-cts-hmac-sha1-96
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}

[logging]
	kdc = STDERR
	admin_server = FILE:` + filepath.Join(k.Dir, "kadmin.log") + `
	default = STDERR
`
	krb5Conf := `[libdefaults]
	default_realm = ` + k.Realm + `
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	default_ccache_name = FILE:` + filepath.Join(k.Dir, "ccache") + `
	default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96

[realms]
	` + k.Realm + ` = {
		kdc = 127.0.0.1:` + p + `
		admin_server = 127.0.0.1:` + p + `
	}

[domain_realm]
	.` + strings.ToLower(k.Realm) + ` = ` + k.Realm + `
	` + strings.ToLower(k.Realm) + ` = ` + k.Realm + `
`
	if err := os.WriteFile(k.kdcConf, []byte(kdcConf), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(k.Dir, "kadm5.acl"), nil, 0o600); err != nil {
		return err
	}
	return os.WriteFile(k.Krb5Conf, []byte(krb5Conf), 0o644)
}

// Env is the environment the MIT programs (and the client under test) run
// with: this realm's krb5.conf and kdc.conf, and no inherited ccache or
// keytab variables.
func (k *KDC) Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KRB5") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"KRB5_CONFIG="+k.Krb5Conf,
		"KRB5_KDC_PROFILE="+k.kdcConf,
		"KRB5CCNAME=FILE:"+filepath.Join(k.Dir, "ccache"),
	)
}

// run runs an MIT program with the realm's environment.
func (k *KDC) run(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = k.Env()
	cmd.Dir = k.Dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start runs krb5kdc in the foreground and returns once it logged that it
// serves requests, or with an error once it exited.
func (k *KDC) start(bin string) error {
	k.out = &capBuffer{}
	cmd := exec.Command(bin, "-n", "-r", k.Realm)
	cmd.Env = k.Env()
	cmd.Dir = k.Dir
	pr, pw := io.Pipe()
	cmd.Stdout = k.out
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return err
	}
	k.cmd = cmd
	k.waited = make(chan struct{})
	go func() {
		cmd.Wait()
		pw.Close()
		close(k.waited)
	}()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			k.out.Write([]byte(line + "\n"))
			// krb5kdc logs this line once its sockets are bound.
			if !signalled && strings.Contains(line, "commencing operation") {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-ready:
		return nil
	case <-k.waited:
		return fmt.Errorf("krb5kdc exited before serving (%v)", cmd.ProcessState)
	}
}

// Stop kills krb5kdc and waits for it to exit. It is safe to call more
// than once.
func (k *KDC) Stop() {
	k.stopOnce.Do(func() {
		if k.cmd == nil || k.cmd.Process == nil {
			return
		}
		k.cmd.Process.Kill()
		<-k.waited
	})
}

// Log is what krb5kdc has logged so far (its first 64 KiB): one line per
// request, e.g. "AS_REQ ... ISSUE: ... alice@REALM for krbtgt/REALM@REALM".
func (k *KDC) Log() string { return k.out.String() }

// WaitLog waits until krb5kdc has logged a line containing every one of
// parts, and returns that line. The KDC logs a request as it answers it, so
// the line may come a moment after the client got its reply; it fails the
// test if the KDC exits first.
func (k *KDC) WaitLog(t TB, parts ...string) string {
	t.Helper()
	for {
		ch := k.out.changed()
		for _, line := range strings.Split(k.out.String(), "\n") {
			if containsAll(line, parts) {
				return line
			}
		}
		select {
		case <-ch:
		case <-k.waited:
			for _, line := range strings.Split(k.out.String(), "\n") {
				if containsAll(line, parts) {
					return line
				}
			}
			t.Fatalf("kdc: krb5kdc exited without logging %q; output:\n%s", parts, k.out.String())
			return ""
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// Kadmin runs one kadmin.local query against the realm's database and
// returns its output.
func (k *KDC) Kadmin(t TB, query string) string {
	t.Helper()
	bin, err := lookPath("kadmin.local")
	if err != nil {
		t.Fatalf("kdc: %v", err)
	}
	out, err := k.run(bin, "-r", k.Realm, "-q", query)
	if err != nil {
		t.Fatalf("kdc: kadmin.local -q %q: %v\n%s", query, err, out)
	}
	// kadmin.local exits 0 even when the query failed; its errors say so.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "while ") || strings.HasPrefix(line, "kadmin.local:") && strings.Contains(line, "rror") {
			t.Fatalf("kdc: kadmin.local -q %q failed:\n%s", query, out)
		}
	}
	return out
}

// Principal returns name@REALM.
func (k *KDC) Principal(name string) string { return name + "@" + k.Realm }

// Keytab is the path of the keytab AddUser exported for name.
func (k *KDC) Keytab(name string) string {
	return filepath.Join(k.Dir, "keytabs", strings.ReplaceAll(name, "/", "_")+".keytab")
}

// ServiceKeytab is the path of the keytab of host/<host>@REALM.
func (k *KDC) ServiceKeytab(host string) string { return k.Keytab("host/" + host) }

// AddUser creates the client principal name@REALM with a random key,
// pre-authentication required (as a site's robots are), and exports it to
// a new 0600 keytab at Keytab(name), which it returns.
func (k *KDC) AddUser(t TB, name string) string {
	t.Helper()
	k.Kadmin(t, "addprinc -randkey +requires_preauth "+k.Principal(name))
	return k.Export(t, name, k.Keytab(name))
}

// AddHost creates the service principal host/<host>@REALM and exports it to
// ServiceKeytab(host), which it returns.
func (k *KDC) AddHost(t TB, host string) string {
	t.Helper()
	name := "host/" + host
	k.Kadmin(t, "addprinc -randkey "+k.Principal(name))
	return k.Export(t, name, k.Keytab(name))
}

// Export writes the principal's current keys to a new keytab at path
// (replacing any file there) without changing them, and returns path.
func (k *KDC) Export(t TB, name, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatalf("kdc: %v", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("kdc: %v", err)
	}
	k.Kadmin(t, "ktadd -norandkey -k "+path+" "+k.Principal(name))
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatalf("kdc: %v", err)
	}
	return path
}

// RandomizeKey gives the principal new random keys and a higher key version
// number (kadmin's cpw -randkey), which makes every keytab exported before
// out of date, as a re-keyed robot's old keytab is.
func (k *KDC) RandomizeKey(t TB, name string) {
	t.Helper()
	k.Kadmin(t, "cpw -randkey "+k.Principal(name))
}

// Kinit runs MIT's kinit for name with its keytab into the FILE ccache at
// path, so that a test can read a ticket cache written by MIT itself. It
// skips (or fails under CREDMON_REQUIRE_KDC=1) when kinit is missing.
func (k *KDC) Kinit(t TB, name, path string) {
	t.Helper()
	bin, err := lookPath("kinit")
	if err != nil {
		unavailable(t, "kinit not found (Debian: apt-get install krb5-user): %v", err)
		return
	}
	if out, err := k.run(bin, "-k", "-t", k.Keytab(name), "-c", "FILE:"+path, k.Principal(name)); err != nil {
		t.Fatalf("kdc: kinit %s: %v\n%s", name, err, out)
	}
}

// capBuffer keeps the first 64 KiB of krb5kdc's output, for a failed
// test's log; writes after that are dropped, never blocked.
type capBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// grew is closed and replaced on every write, waking WaitLog.
	grew chan struct{}
}

// changed returns a channel closed at the next write.
func (b *capBuffer) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.grew == nil {
		b.grew = make(chan struct{})
	}
	return b.grew
}

const capBufferMax = 64 << 10

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := capBufferMax - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	if b.grew != nil {
		close(b.grew)
		b.grew = nil
	}
	return len(p), nil
}

func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

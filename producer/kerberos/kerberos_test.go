package kerberos_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/goidentity/v6"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/credmon/credmon/internal/kdc"
	"github.com/credmon/credmon/producer/kerberos"
)

const (
	robot     = "robot/ap1.credmon.test"
	vaultHost = "vault.credmon.test"
)

// startKDC starts a realm with the robot and the Vault host, and returns it
// with its client configuration.
func startKDC(t *testing.T) (*kdc.KDC, *config.Config) {
	t.Helper()
	k := kdc.StartKDC(t, kdc.Options{Users: []string{robot}, Hosts: []string{vaultHost}})
	conf, err := kerberos.LoadConfig(k.Krb5Conf)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	return k, conf
}

func login(t *testing.T, opts kerberos.Options) *kerberos.Client {
	t.Helper()
	c, err := kerberos.Login(opts)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// verify checks a Negotiate header the way the Vault test server will:
// gokrb5's SPNEGO service handler with the service keytab. DecodePAC is
// off because MIT's KDC (since 1.20) puts a PAC in every ticket that lacks
// the Active Directory logon info gokrb5 would insist on. It returns the
// client principal the service saw, or "" and the status when it refused.
func verify(t *testing.T, header, serviceKeytab string) (string, int) {
	t.Helper()
	kt, err := keytab.Load(serviceKeytab)
	if err != nil {
		t.Fatal(err)
	}
	var who string
	h := spnego.SPNEGOKRB5Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := goidentity.FromHTTPRequestContext(r)
		if id != nil {
			who = id.UserName() + "@" + id.Domain()
		}
	}), kt, service.DecodePAC(false))
	req := httptest.NewRequest(http.MethodPost, "https://"+vaultHost+":8200/v1/auth/kerberos-igwn_robot/login", nil)
	req.Header.Set("Authorization", header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return who, rec.Code
}

func wantKind(t *testing.T, err, kind error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %v", kind)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, kind) {
		t.Fatalf("error %q is not %v", err, kind)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

// TestKeytabLoginGetsATGTFromTheKDC protects the robot's login: with its
// keytab and principal, the KDC itself issues it a ticket-granting ticket.
func TestKeytabLoginGetsATGTFromTheKDC(t *testing.T) {
	k, conf := startKDC(t)
	c := login(t, kerberos.Options{Keytab: k.Keytab(robot), Principal: robot, Config: conf})
	if got := c.Principal().String(); got != k.Principal(robot) {
		t.Fatalf("Principal() = %q; want %q", got, k.Principal(robot))
	}
	k.WaitLog(t, "AS_REQ", "ISSUE", k.Principal(robot)+" for krbtgt/"+k.Realm+"@"+k.Realm)
}

// TestKeytabLoginTakesThePrincipalFromTheKeytab protects igwn-robot-get's
// "principal optional" form: the keytab's entry is the principal.
func TestKeytabLoginTakesThePrincipalFromTheKeytab(t *testing.T) {
	k, conf := startKDC(t)
	c := login(t, kerberos.Options{Keytab: "FILE:" + k.Keytab(robot), Config: conf})
	if got := c.Principal().String(); got != k.Principal(robot) {
		t.Fatalf("Principal() = %q; want %q", got, k.Principal(robot))
	}
}

// TestKeytabLoginUsesKRB5CONFIG protects the default configuration: without
// Options.Config the realm and KDC come from $KRB5_CONFIG.
func TestKeytabLoginUsesKRB5CONFIG(t *testing.T) {
	k, _ := startKDC(t)
	t.Setenv("KRB5_CONFIG", filepath.Join(t.TempDir(), "missing.conf")+":"+k.Krb5Conf)
	c := login(t, kerberos.Options{Keytab: k.Keytab(robot), Principal: "robot/ap1.credmon.test"})
	if got := c.Principal().Realm; got != k.Realm {
		t.Fatalf("realm %q; want the default realm %q", got, k.Realm)
	}
}

// TestNegotiateHeaderVerifiesAgainstTheServiceKeytab protects what Vault's
// Kerberos login checks: the header's SPNEGO token is accepted by
// host/<vault host>'s keytab and names the robot.
func TestNegotiateHeaderVerifiesAgainstTheServiceKeytab(t *testing.T) {
	k, conf := startKDC(t)
	c := login(t, kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
	h, err := c.Negotiate("Vault.Credmon.Test.")
	if err != nil {
		t.Fatalf("Negotiate: %v", err)
	}
	if !strings.HasPrefix(h, "Negotiate ") {
		t.Fatalf("header %.20q... does not start with Negotiate", h)
	}
	who, code := verify(t, h, k.ServiceKeytab(vaultHost))
	if code != http.StatusOK || who != k.Principal(robot) {
		t.Fatalf("service saw %q with status %d; want %q, 200", who, code, k.Principal(robot))
	}
	k.WaitLog(t, "TGS_REQ", "ISSUE", k.Principal(robot)+" for host/"+vaultHost+"@"+k.Realm)
}

// TestNegotiateHeaderFailsWithAnotherServiceKeytab shows the verification
// above can fail: a ticket for one host is useless to another.
func TestNegotiateHeaderFailsWithAnotherServiceKeytab(t *testing.T) {
	k, conf := startKDC(t)
	other := k.AddHost(t, "other.credmon.test")
	c := login(t, kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
	h, err := c.Negotiate(vaultHost)
	if err != nil {
		t.Fatalf("Negotiate: %v", err)
	}
	if who, code := verify(t, h, other); code == http.StatusOK || who != "" {
		t.Fatalf("another host's keytab accepted the token (status %d, %q)", code, who)
	}
}

// TestNegotiateForAnUnknownHostNamesTheService protects the message when
// the Vault host has no host/ principal.
func TestNegotiateForAnUnknownHostNamesTheService(t *testing.T) {
	k, conf := startKDC(t)
	c := login(t, kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
	_, err := c.Negotiate("nosuch.credmon.test")
	wantKind(t, err, kerberos.ErrUnknownPrincipal, "host/nosuch.credmon.test")
	for _, bad := range []string{"", "https://vault", "vault:8200", "host/vault"} {
		if _, err := c.Negotiate(bad); !errors.Is(err, kerberos.ErrConfig) {
			t.Errorf("Negotiate(%q) = %v; want ErrConfig", bad, err)
		}
	}
}

// TestOutOfDateKeytabSaysReExport protects the commonest robot failure: the
// principal was re-keyed (higher kvno) and the old keytab is still in use.
func TestOutOfDateKeytabSaysReExport(t *testing.T) {
	k, conf := startKDC(t)
	k.RandomizeKey(t, robot)
	_, err := kerberos.Login(kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
	wantKind(t, err, kerberos.ErrOutOfDate, "the keytab is out of date: re-export it", k.Keytab(robot), k.Principal(robot))

	k.Export(t, robot, k.Keytab(robot))
	login(t, kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
}

// TestGroupReadableKeytabIsRefusedBeforeUse protects the keytab like a
// password: a file group or others may read or write is refused with the
// chmod that fixes it, before its contents are even parsed.
func TestGroupReadableKeytabIsRefusedBeforeUse(t *testing.T) {
	k, conf := startKDC(t)
	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o602, 0o644} {
		if err := os.Chmod(k.Keytab(robot), mode); err != nil {
			t.Fatal(err)
		}
		_, err := kerberos.Login(kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
		wantKind(t, err, kerberos.ErrKeytab, "chmod 600 "+k.Keytab(robot))
	}
	garbage := filepath.Join(t.TempDir(), "garbage.keytab")
	if err := os.WriteFile(garbage, []byte("not a keytab"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := kerberos.Login(kerberos.Options{Keytab: garbage, Config: conf})
	wantKind(t, err, kerberos.ErrKeytab, "chmod 600 "+garbage)
	if err := os.Chmod(garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = kerberos.Login(kerberos.Options{Keytab: garbage, Config: conf})
	wantKind(t, err, kerberos.ErrKeytab, "is not a keytab")
}

// TestSymlinkedKeytabIsFollowedButItsTargetMustBePrivate protects the
// documented symlink choice: a link is followed, as MIT does, and the mode
// checked is the target's.
func TestSymlinkedKeytabIsFollowedButItsTargetMustBePrivate(t *testing.T) {
	k, conf := startKDC(t)
	link := filepath.Join(t.TempDir(), "robot.keytab")
	if err := os.Symlink(k.Keytab(robot), link); err != nil {
		t.Fatal(err)
	}
	login(t, kerberos.Options{Keytab: link, Config: conf})
	if err := os.Chmod(k.Keytab(robot), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := kerberos.Login(kerberos.Options{Keytab: link, Config: conf})
	wantKind(t, err, kerberos.ErrKeytab, "chmod 600 "+link)
}

// TestPrincipalNotInKeytabSaysWhatItHolds protects the message for a wrong
// principal argument.
func TestPrincipalNotInKeytabSaysWhatItHolds(t *testing.T) {
	k, conf := startKDC(t)
	_, err := kerberos.Login(kerberos.Options{Keytab: k.Keytab(robot), Principal: "someone/else", Config: conf})
	wantKind(t, err, kerberos.ErrNoPrincipal, "someone/else@"+k.Realm, k.Principal(robot), k.Keytab(robot))
	_, err = kerberos.Login(kerberos.Options{Keytab: filepath.Join(t.TempDir(), "none"), Config: conf})
	wantKind(t, err, kerberos.ErrKeytab, "does not exist")
}

// TestUnreachableKDCIsNamed protects the message when the KDC does not
// answer: it names the KDC that was tried; and when krb5.conf names none. The "KDC" here accepts TCP
// connections and closes them, so the failure is immediate.
func TestUnreachableKDCIsNamed(t *testing.T) {
	k, _ := startKDC(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	conf, err := config.NewFromString(`[libdefaults]
	default_realm = ` + k.Realm + `
	dns_lookup_kdc = false
	udp_preference_limit = 1
[realms]
	` + k.Realm + ` = {
		kdc = ` + l.Addr().String() + `
	}
`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kerberos.Login(kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
	wantKind(t, err, kerberos.ErrKDCUnreachable, l.Addr().String(), k.Realm)

	noKDC, err := config.NewFromString("[libdefaults]\n\tdefault_realm = " + k.Realm + "\n\tdns_lookup_kdc = false\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = kerberos.Login(kerberos.Options{Keytab: k.Keytab(robot), Config: noKDC})
	wantKind(t, err, kerberos.ErrConfig, "names no KDC for realm "+k.Realm)
}

// TestClockSkewIsExplained protects the clock skew message on a real AS
// exchange: with an allowed skew of 1 ns, the KDC's authtime (whole
// seconds) is always "too far" from our clock.
func TestClockSkewIsExplained(t *testing.T) {
	k, conf := startKDC(t)
	conf.LibDefaults.Clockskew = time.Nanosecond
	_, err := kerberos.Login(kerberos.Options{Keytab: k.Keytab(robot), Config: conf})
	wantKind(t, err, kerberos.ErrClockSkew, "clock", "NTP")
}

// TestCCacheLoginUsesMITsTicket protects login from a ticket cache written
// by MIT's kinit: the cache's TGT gets a service ticket that host/<vault>
// accepts.
func TestCCacheLoginUsesMITsTicket(t *testing.T) {
	k, conf := startKDC(t)
	cc := filepath.Join(t.TempDir(), "krb5cc_robot")
	k.Kinit(t, robot, cc)
	for _, opts := range []kerberos.Options{
		{CCache: "FILE:" + cc, Config: conf},
		{CCache: cc, Principal: robot, Config: conf},
	} {
		c := login(t, opts)
		if got := c.Principal().String(); got != k.Principal(robot) {
			t.Fatalf("Principal() = %q; want %q", got, k.Principal(robot))
		}
		h, err := c.Negotiate(vaultHost)
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		if who, code := verify(t, h, k.ServiceKeytab(vaultHost)); code != http.StatusOK || who != k.Principal(robot) {
			t.Fatalf("service saw %q with status %d", who, code)
		}
	}
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	login(t, kerberos.Options{Config: conf})

	_, err := kerberos.Login(kerberos.Options{CCache: cc, Principal: "someone", Config: conf})
	wantKind(t, err, kerberos.ErrCCache, "someone@"+k.Realm, k.Principal(robot))
	_, err = kerberos.Login(kerberos.Options{CCache: filepath.Join(t.TempDir(), "none"), Config: conf})
	wantKind(t, err, kerberos.ErrCCache, "does not exist", "kinit")
	_, err = kerberos.Login(kerberos.Options{CCache: "KCM:1000", Config: conf})
	wantKind(t, err, kerberos.ErrCCache, "KCM", "not supported")
	_, err = kerberos.Login(kerberos.Options{CCache: k.Keytab(robot), Config: conf})
	wantKind(t, err, kerberos.ErrCCache, "not a ticket cache")
}

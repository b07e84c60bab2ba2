package vaulttest_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/credmon/credmon/internal/kdc"
	"github.com/credmon/credmon/internal/vaulttest"
)

// negotiate is a Negotiate header for host/<host>, from a keytab login at
// the real KDC (gokrb5's client directly: the module's own Kerberos
// client lives in producer/, which internal/ does not import).
func negotiate(t *testing.T, k *kdc.KDC, user, host string) string {
	t.Helper()
	conf, err := config.Load(k.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := keytab.Load(k.Keytab(user))
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithKeytab(user, k.Realm, kt, conf, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		t.Fatalf("kerberos login of %s: %v", user, err)
	}
	s := spnego.SPNEGOClient(cl, "host/"+host)
	if err := s.AcquireCred(); err != nil {
		t.Fatal(err)
	}
	tok, err := s.InitSecContext()
	if err != nil {
		t.Fatalf("service ticket for host/%s: %v", host, err)
	}
	b, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b)
}

// TestKerberosKeytabChecksRealTickets protects the Kerberos mount of the
// test server: with KerberosKeytab it logs in exactly the principal whose
// ticket the KDC issued for host/<vault host>, and refuses a ticket for
// another service and a header that is not SPNEGO at all.
func TestKerberosKeytabChecksRealTickets(t *testing.T) {
	const robot, vaultHost = "robot/ap1.credmon.test", "localhost"
	k := kdc.StartKDC(t, kdc.Options{Users: []string{robot}, Hosts: []string{vaultHost, "other.credmon.test"}})
	e := start(t, vaulttest.Options{KerberosKeytab: k.ServiceKeytab(vaultHost)})
	path := "auth/kerberos-" + e.s.Issuer() + "_" + e.s.Role() + "/login"

	e.c.SetHeaders(http.Header{"Authorization": {negotiate(t, k, robot, "other.credmon.test")}})
	_, err := e.c.Logical().Write(path, nil)
	responseError(t, err, http.StatusUnauthorized)
	e.c.SetHeaders(http.Header{"Authorization": {"Negotiate Ym9ndXM="}})
	_, err = e.c.Logical().Write(path, nil)
	responseError(t, err, http.StatusUnauthorized)

	e.c.SetHeaders(http.Header{"Authorization": {negotiate(t, k, robot, vaultHost)}})
	sec, err := e.c.Logical().Write(path, nil)
	if err != nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		t.Fatalf("kerberos login with a real ticket: %v %v", sec, err)
	}
	if sec.Auth.Metadata["user"] != robot || sec.Auth.Metadata["domain"] != k.Realm {
		t.Fatalf("login metadata %v; want user %s, domain %s", sec.Auth.Metadata, robot, k.Realm)
	}
	if got := e.s.Stats().Logins; got != 1 {
		t.Fatalf("logins = %d; want 1 (only the real ticket for this host)", got)
	}
}

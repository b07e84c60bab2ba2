// Package kdc runs a real MIT Kerberos KDC on a loopback port for the tests
// of the Kerberos client (producer/kerberos) and of anything that logs in
// to Vault with a keytab. It imports no "testing": StartKDC takes the small
// TB interface, which *testing.T and *testing.B satisfy.
//
// StartKDC builds a realm (CREDMON.TEST unless told otherwise) from scratch
// under t.TempDir(): a kdc.conf and a krb5.conf of its own (the machine's
// /etc/krb5.conf is never read or written), a database made by
// "kdb5_util create -s", and principals and keytabs made by kadmin.local:
// one keytab per user principal, and a service keytab for host/<name>, the
// principal htgettoken asks a ticket for when it logs in to Vault. krb5kdc
// runs in the foreground on one port for UDP and TCP; StartKDC returns once
// the KDC has logged that it serves requests, and the test's Cleanup kills
// it.
//
// Beyond StartKDC's Options, a test can add principals (AddUser, AddHost),
// re-key one so that its exported keytab is out of date (RandomizeKey, as
// kadmin's cpw -randkey), export again (Export), write an MIT ticket cache
// with kinit (Kinit), run any kadmin.local query (Kadmin), and wait for the
// KDC's own log line for a request (WaitLog), e.g. the AS_REQ that issued a
// ticket-granting ticket.
//
// A real KDC, rather than a fake AS/TGS responder, is used because what the
// client must get right is MIT's behaviour: pre-authentication, key version
// numbers after a re-key, its error codes and its ticket cache format. The
// realm costs about 0.1 s to create.
//
// The programs come from Debian's krb5-kdc and krb5-admin-server packages
// (kinit, for the ticket cache tests, from krb5-user). When they are
// missing the test is skipped, unless CREDMON_REQUIRE_KDC=1 is set (CI,
// make test), when it fails.
package kdc

// Package kerberos logs a robot in to Kerberos and makes the SPNEGO
// "Negotiate" header Vault's Kerberos auth method expects, in pure Go
// (github.com/jcmturner/gokrb5/v8: no cgo, no libgssapi), so that
// credmon-token can replace igwn-robot-get + htgettoken's Kerberos step.
//
// Login takes its credentials from a keytab (the robot's usual case:
// "credmon-token get --keytab FILE [PRINCIPAL]") or from an MIT file ticket
// cache (--ccache, $KRB5CCNAME, else /tmp/krb5cc_<uid>). With a keytab and
// no principal, the keytab's first entry is the principal, as in
// igwn-robot-get. The realm's KDCs and the default realm come from
// krb5.conf: $KRB5_CONFIG (a colon-separated list, earlier files winning)
// or /etc/krb5.conf. Client.Negotiate then gets a service ticket for
// host/<vault host>, the name htgettoken's GSSAPI host-based service
// host@<vault host> resolves to with reverse DNS off, and returns
// "Negotiate <base64 SPNEGO token>".
//
// # Files
//
// A keytab is a password. One that group or others may read or write is
// refused before its contents are parsed, with the fix in the message
// (chmod 600 FILE), as igwn-robot-get does. A keytab or ticket cache that
// is a symlink is followed, as MIT Kerberos and htgettoken do (sites point
// fixed names at files managed elsewhere); the mode checked is that of the
// file actually opened (fstat), so a private link to a world-readable
// keytab is still refused. Only regular files of at most 1 MiB are read.
// Nothing is written: a keytab login keeps its tickets in memory and never
// touches the user's ticket cache (igwn-robot-get's GSSAPI login may
// overwrite the default one).
//
// # Errors
//
// Every error is an *Error whose kind is one of the Err values (errors.Is)
// and whose message names the file, principal or KDC and what to do: a
// principal missing from the keytab lists what it holds; an unreachable KDC
// is named; clock skew says to fix the time; a key the KDC rejects (wrong
// key or key version, the usual state after a re-key) says "the keytab is
// out of date: re-export it". gokrb5 reports KDC errors as text only, so
// the Kerberos error code (KDC_ERR_..., KRB_AP_ERR_...) is read from it.
//
// Key material and tickets are never logged or put in an error; the
// Negotiate header is a credential and the caller must not log it either.
package kerberos

package kerberos

import (
	"errors"
	"strings"
)

// The kinds of failure a caller may want to tell apart (errors.Is). Every
// error this package returns is an *Error of one of these kinds, and its
// message says what to do.
var (
	// ErrConfig: no usable krb5.conf, or it lacks what is needed (a
	// default realm, a KDC for the realm).
	ErrConfig = errors.New("kerberos configuration")
	// ErrKeytab: the keytab cannot be used: missing, not a keytab, or
	// readable or writable by group or others.
	ErrKeytab = errors.New("unusable keytab")
	// ErrNoPrincipal: the keytab holds no key for the principal asked for.
	ErrNoPrincipal = errors.New("principal not in keytab")
	// ErrCCache: the ticket cache is missing, of an unsupported type, not a
	// ticket cache, or holds no valid ticket-granting ticket.
	ErrCCache = errors.New("unusable ticket cache")
	// ErrKDCUnreachable: no KDC of the realm answered.
	ErrKDCUnreachable = errors.New("KDC unreachable")
	// ErrClockSkew: the KDC's clock and ours differ by more than it allows.
	ErrClockSkew = errors.New("clock skew")
	// ErrOutOfDate: the KDC rejected the keytab's key (wrong key or key
	// version): the keytab must be exported again.
	ErrOutOfDate = errors.New("keytab out of date")
	// ErrUnknownPrincipal: the KDC does not know the client or the service
	// principal.
	ErrUnknownPrincipal = errors.New("principal unknown to the KDC")
	// ErrRejected: any other refusal by the KDC (principal locked or
	// expired, policy).
	ErrRejected = errors.New("KDC refused")
)

// Error is a failure with a message for the person running the robot: what
// went wrong, with which file, principal or KDC, and what to do. It never
// carries key material or tickets.
type Error struct {
	kind error
	msg  string
	err  error
}

func (e *Error) Error() string { return e.msg }

// Is reports whether target is the error's kind (ErrKeytab, ...).
func (e *Error) Is(target error) bool { return target == e.kind }

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.err }

// krbCode returns the name of the Kerberos error code (KDC_ERR_...,
// KRB_AP_ERR_...) that gokrb5 put in err's text, or "". gokrb5 flattens a
// KDC's KRB-ERROR into its error strings ("KRB Error: (24)
// KDC_ERR_PREAUTH_FAILED ..."), so the text is all there is to go by.
func krbCode(err error) string {
	s := err.Error()
	for _, prefix := range []string{"KDC_ERR_", "KRB_AP_ERR_", "KRB_ERR_"} {
		i := strings.Index(s, prefix)
		if i < 0 {
			continue
		}
		j := i
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		return s[i:j]
	}
	return ""
}

package storer

import (
	"errors"
	"fmt"
)

// QueryResult is what `condor_store_cred query-oauth` says of one name.
type QueryResult int

const (
	// Missing: exit 1, nothing stored under the name (condor_store_cred
	// also exits 1 when it cannot ask credd; the add that follows then
	// fails with credd's reason).
	Missing QueryResult = iota
	// Present: exit 0, a credential is stored and matches the request's
	// scopes and audience (its .use may still be pending).
	Present
	// Mismatch: exit 2, a credential is stored with other scopes or
	// audience; only the user can decide to delete it.
	Mismatch
)

func (q QueryResult) String() string {
	switch q {
	case Missing:
		return "missing"
	case Present:
		return "present"
	case Mismatch:
		return "mismatch"
	}
	return fmt.Sprintf("QueryResult(%d)", int(q))
}

// QueryResultOf maps condor_store_cred query-oauth's exit status: 0
// present, 1 missing, 2 mismatch; anything else (a signal, 127 for a
// missing program) is an error, as in condor_vault_storer.
func QueryResultOf(exit int) (QueryResult, error) {
	switch exit {
	case 0:
		return Present, nil
	case 1:
		return Missing, nil
	case 2:
		return Mismatch, nil
	}
	return Missing, fmt.Errorf("condor_store_cred query-oauth exited with status %d", exit)
}

// MismatchError says credd holds Name with other scopes or audience than
// requested. Nothing is stored over it: jobs already queued may use it.
type MismatchError struct{ Name string }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("credentials for %s exist that do not match the request", e.Name)
}

// ErrNotNew: the source was asked for a new credential (credd holds none)
// and returned none.
var ErrNotNew = errors.New("the source returned no new credential for a service credd does not hold")

// Plan is what to store for one request.
type Plan struct {
	Service bool // add-oauth <service>
	Handle  bool // add-oauth <service>_<handle> with -S/-A
}

// MustRenew reports whether the source must produce a new long-lived
// credential for the service: credd holds none, so a cached session of the
// source (for Vault, the 7-day token in /tmp/vt_<id>-<service>) is not
// enough. condor_vault_storer learns the same by deleting that file and
// running htgettoken again.
func MustRenew(service QueryResult) bool { return service == Missing }

// Check is the decision before the source runs: a mismatch of the service
// or of its handle stops the request (the handle is checked with its -S/-A).
func Check(service, handle QueryResult, hasHandle bool, serviceName, handleName string) error {
	if service == Mismatch {
		return &MismatchError{Name: serviceName}
	}
	if hasHandle && handle == Mismatch {
		return &MismatchError{Name: handleName}
	}
	return nil
}

// Decide is the decision after the source ran: store the service's
// credential when the source made a new one (credd's copy, if any, holds
// an older long-lived token), and the handle's when there is a new
// service credential (its vault_url may have changed, and it inherits the
// service's vault_token) or credd holds none for the handle. Nothing is
// stored for a name credd holds and the source did not renew, so a second
// run within the source's session stores nothing.
func Decide(service, handle QueryResult, hasHandle, isNew bool) (Plan, error) {
	if MustRenew(service) && !isNew {
		return Plan{}, ErrNotNew
	}
	p := Plan{Service: isNew}
	if hasHandle {
		p.Handle = isNew || handle == Missing
	}
	return p, nil
}

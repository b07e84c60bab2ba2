// Package statefile is the schema of the credmon daemon's state snapshot
// (<NAME>_STATE_FILE, docs/htcondor-contract.md#state-file) and its one
// reader: the daemon (package credmon, state.go) writes it, `credmon
// status` reads it. It holds what the log would otherwise be searched for —
// each credential's type, the expiry of its .use, the last refresh, the
// last error, the backoff and what needs a human — and never a token, a
// refresh token or a secret.
//
// A snapshot says when it was written and by which pid, so a reader can
// tell a stopped daemon (Stopped, or a pid that no longer runs) and a stale
// file (older than StaleAfter scan intervals) from a live one: Assess.
package statefile

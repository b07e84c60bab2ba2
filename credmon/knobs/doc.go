// Package knobs turns an HTCondor configuration (condorcfg.Config) into the
// credmon daemon's own settings: LoadCredmon reads every <NAME>_* knob, the
// provider lists and SEC_CREDENTIAL_* knobs once, range-checks the numbers
// (bounds.go) and returns an immutable *Credmon; Provider and Local read a
// provider's OAuth2 or local-issuer knobs. Defaults and bounds are exported
// so the documentation and the daemon quote one source.
//
// It lives under credmon/ because these are the daemon's types: condorcfg
// stays a reader of the HTCondor configuration language with no idea what a
// credmon is (docs/architecture.md).
package knobs

// Package knobs turns an HTCondor configuration (condorcfg.Config) into the
// credmon daemon's own settings: LoadCredmon reads every <NAME>_* knob, the
// provider lists and SEC_CREDENTIAL_* knobs once, range-checks the numbers
// (bounds.go) and returns an immutable *Credmon; Provider, Local, Client and
// Pelican read a provider's OAuth2, local-issuer, client-credentials
// (client.go: ClientCredmon's CLIENT_CREDMON_[<P>_]X scheme and the
// choices made where the Python code is unclear) or Pelican (pelican.go)
// knobs, and ReadSecretFile the last two's secret files. Defaults and bounds are exported
// so the documentation and the daemon quote one source.
//
// It lives under credmon/ because these are the daemon's types: condorcfg
// stays a reader of the HTCondor configuration language with no idea what a
// credmon is (docs/architecture.md).
package knobs

// Package check validates the configuration the credmon daemon reads,
// before an admin runs condor_reconfig: `credmon check` (cmd/credmon) is
// its command line.
//
// Run takes what the daemon itself would load (the condorcfg.Config and the
// knobs.Credmon that knobs.LoadCredmon made of it: the command loads them
// with the daemon's own code, never a copy) and returns a Report of
// Problems, each one knob, what is wrong with it and how to fix it. Errors
// are what would make the daemon refuse to start or leave tokens without a
// .use; warnings are what works but is probably not meant (a group-readable
// key, a name two provider lists claim, a token URL not reachable right
// now).
//
// Every check is a function of the configuration, the file system as seen
// through os (real files: the tests write them) and, for reachability, an
// HTTP client (Options.HTTPClient; Offline skips the network). The rules
// are the daemon's own where the daemon has one: provider types are
// credfile.Sorter's (credd's precedence), secret files are read with
// knobs.ReadSecretFile / knobs.ReadClientSecret, keys with
// localissuer.LoadPrivateKey, URLs probed with internal/tokenclient.
//
// DAEMON_LIST rule (docs/htcondor-contract.md, spec §4.1): condor_master
// starts the credmon only if DAEMON_LIST names it (<NAME>, CREDMON_OAUTH by
// default). `use feature:OAUTH` appends it (and sets
// SEC_CREDENTIAL_DIRECTORY_OAUTH); setting SEC_CREDENTIAL_DIRECTORY_OAUTH
// alone does not start it — the master adds only CREDD
// (AUTO_INCLUDE_CREDD_IN_DAEMON_LIST, with a SCHEDD) and SHARED_PORT by
// itself. A DAEMON_LIST without the name is therefore an error, unless the
// admin says a supervisor other than the master runs the daemon
// (Options.Standalone, `credmon check --standalone`: a systemd unit).
package check

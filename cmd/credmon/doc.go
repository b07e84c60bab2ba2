// Command credmon is a drop-in replacement for HTCondor's Python
// condor_credmon_oauth. condor_master starts it as CREDMON_OAUTH:
//
//	CREDMON_OAUTH = /usr/sbin/credmon
//
// It accepts the Python credmon's options (-n/--name, -c/--cred-dir,
// -l/--log-file, -d/--debug, -v/--verbose) in every spelling its argparse
// parser accepts (-dv, -nNAME, --name=NAME, unambiguous prefixes such as
// --cred), and exits as it does: 0 on SIGTERM/SIGINT/SIGQUIT, 44 when the
// log cannot be opened, 99 (master: do not restart) for invalid provider
// names, 1 for other start-up errors, 2 for bad options.
//
// It also has administrator subcommands for the local issuer: `credmon
// issuer` prints the OpenID configuration and JWKS to publish, and `credmon
// token verify|decode FILE` checks a token (see tools.go); for operations,
// `credmon check` validates every knob the daemon reads before
// condor_reconfig (check.go, package credmon/check) and `credmon status`
// shows every credential from the daemon's state file (status.go, package
// credmon/statefile). tools.go dispatches them all; each one's logic is in
// a package, so a move to another command-line library changes only the
// dispatch.
package main

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
// credmon/statefile). Each one's logic is in a package.
//
// The command line is spf13/cobra with pflag, as credmon-token's (cli.go):
//
//	credmon [-n NAME] [-c DIR] [-l FILE] [-d] [-v]      the daemon
//	credmon issuer [openid-configuration | jwks]
//	credmon token verify|decode FILE
//	credmon check [--offline] [--json] [--standalone]
//	credmon status [--json] [--user U]
//	credmon completion bash|zsh|fish
//
// `credmon --help` shows the daemon's options and lists the subcommands;
// each subcommand has --help and documents its exit statuses. A usage
// error is one line and `see credmon <cmd> --help`, exit 2. The hidden
// `credmon gen-man DIR` writes the man pages (section 8) from the same
// definitions. The daemon's options parse through pflag (bundled short
// options, attached values) and its NormalizeFunc (argparse's unambiguous
// prefixes); only Go's single-dash long names are rewritten by hand.
package main

// Package cli is what the commands' cobra command lines share (credmon,
// credmon-token, credmon-web): a usage error is one line naming the
// command, then `see <command> --help`, and exit status 2 (ExitUsage);
// cobra's flag and positional-argument errors are usage errors (FlagError,
// Positional); a stray argument where a subcommand was expected suggests
// the nearest subcommand (NoSubcommand). GoSpellings rewrites the Go flag
// package's spellings that earlier releases accepted (-name X) into
// pflag's, and GenMan is the hidden `gen-man DIR` of a command tree.
//
// A command line built with Setup reports failures of its own through its
// documented exit statuses, never through cobra's errors: every error
// Execute returns is a usage error, which Fail prints.
package cli

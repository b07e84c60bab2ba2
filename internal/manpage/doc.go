// Package manpage writes the man pages of a command line defined with
// spf13/cobra, through cobra/doc: one page per available command, from the
// same definitions as the commands' --help (one source of truth for both).
// `make man` runs it through each binary's own entry point (credmon-token
// gen-man DIR, credmon-producer --gen-man DIR, credmon gen-man DIR: section 8).
package manpage

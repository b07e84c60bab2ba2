package main

import (
	"github.com/spf13/cobra"

	"github.com/credmon/credmon/internal/manpage"
)

// writeManPages writes one page per available command into dir, generated
// by cobra/doc from the same definitions as the help (one source of
// truth): `credmon-token gen-man DIR` (cli.GenMan), which `make man` runs;
// packages ship its output.
func writeManPages(root *cobra.Command, dir string) error {
	return manpage.Write(root, dir, "CREDMON-TOKEN", "credmon "+Version)
}

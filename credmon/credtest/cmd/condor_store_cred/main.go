// Command condor_store_cred is the tests' stand-in for HTCondor's
// condor_store_cred oauth verbs, on top of the credd emulator
// (credtest.StoreCredMain). Tests build it (credtest.BuildStoreCred) and
// put it first on PATH; it is never shipped.
package main

import (
	"os"

	"github.com/credmon/credmon/credmon/credtest"
)

func main() {
	os.Exit(credtest.StoreCredMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

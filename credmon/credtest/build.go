package credtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// GoBuild builds pkg (a package directory or a .go file, relative to the
// current directory) into out the way `make build` does: static
// (CGO_ENABLED=0) and -trimpath, so tests and benchmarks exercise the
// binary that ships. It returns the go command's combined output.
func GoBuild(out, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

// BuildForTests builds the command in the current directory (a TestMain's
// package under cmd/) with GoBuild into a new temporary directory and
// returns the binary's path and a cleanup that removes it. A build failure
// ends the test binary with its output, as no test can run without it.
func BuildForTests(name string) (path string, cleanup func()) {
	dir, err := os.MkdirTemp("", name+"-bin")
	if err != nil {
		fmt.Fprintf(os.Stderr, "building %s: %v\n", name, err)
		os.Exit(1)
	}
	path = filepath.Join(dir, name)
	if out, err := GoBuild(path, "."); err != nil {
		os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "building %s: %v\n%s", name, err, out)
		os.Exit(1)
	}
	return path, func() { os.RemoveAll(dir) }
}

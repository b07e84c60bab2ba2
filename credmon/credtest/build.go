package credtest

import (
	"os"
	"os/exec"
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

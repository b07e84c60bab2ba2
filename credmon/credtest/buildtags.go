package credtest

import (
	"os"
	"os/exec"
	"path/filepath"
)

// StoreCredPkg is the condor_store_cred stand-in's import path.
const StoreCredPkg = "github.com/credmon/credmon/credmon/credtest/cmd/condor_store_cred"

// GoBuildTags is GoBuild with build tags (comma-separated), for a binary
// that links a test-only part (cmd/credmon-producer's fixed source).
func GoBuildTags(out, pkg, tags string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-tags", tags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

// BuildStoreCred builds the condor_store_cred stand-in as
// dir/condor_store_cred, so that putting dir first on PATH makes a storer
// find it, and returns its path.
func BuildStoreCred(dir string) (string, []byte, error) {
	path := filepath.Join(dir, "condor_store_cred")
	out, err := GoBuild(path, StoreCredPkg)
	return path, out, err
}

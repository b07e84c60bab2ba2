package oidcprovider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// OIDCProviderVersion is the exact oidc-provider release that server.mjs was
// written and tested against (package.json pins it, package-lock.json locks
// its dependencies). server.mjs deep-imports two files of the package, which
// is only safe with a pinned version.
const OIDCProviderVersion = "9.13.3"

// EnvOIDCProviderDir names a directory holding server.mjs, package.json and
// package-lock.json to use instead of the server directory next to this
// package's source (for example a pre-installed copy on a CI image).
const EnvOIDCProviderDir = "CREDMON_OIDC_PROVIDER_DIR"

// EnvRequireOIDC, when set to "1", turns "node or the provider packages are
// not available" from a skipped test into a failed one. CI sets it so that a
// broken image cannot silently skip every end-to-end test.
const EnvRequireOIDC = "CREDMON_REQUIRE_OIDC"

// npmInstallTimeout bounds "npm ci". A cold install of the 40 packages takes
// 2–5 s; a minute covers a slow registry without hanging a test binary.
const npmInstallTimeout = 2 * time.Minute

var install struct {
	once sync.Once
	dir  string
	err  error
}

// EnsureOIDCProviderInstalled returns the directory holding server.mjs with
// its node_modules installed. It checks that node is on PATH and, when
// node_modules/oidc-provider is missing or is not OIDCProviderVersion, runs
// "npm ci --no-audit --no-fund" there. The work is done once per process;
// across processes (go test runs one binary per package, in parallel) an
// flock on a lock file serializes installs, so two binaries never run npm ci
// in the same directory at once.
//
// The directory is $CREDMON_OIDC_PROVIDER_DIR if set, else the server
// directory next to this source file, else one found by walking up from the
// working directory.
func EnsureOIDCProviderInstalled() (dir string, err error) {
	install.once.Do(func() {
		install.dir, install.err = ensureInstalled()
	})
	return install.dir, install.err
}

func ensureInstalled() (string, error) {
	dir, err := providerDir()
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return dir, fmt.Errorf("node (Node.js ≥ 20) is not on PATH: %w", err)
	}
	if installedVersion(dir) == OIDCProviderVersion {
		return dir, nil
	}

	unlock, err := lockInstall(dir)
	if err != nil {
		return dir, err
	}
	defer unlock()
	// Another process may have installed while we waited for the lock.
	if installedVersion(dir) == OIDCProviderVersion {
		return dir, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return dir, fmt.Errorf("oidc-provider is not installed in %s and npm is not on PATH: %w", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmInstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return dir, fmt.Errorf("running npm ci in %s: %w\n%s", dir, err, out)
	}
	if v := installedVersion(dir); v != OIDCProviderVersion {
		return dir, fmt.Errorf("npm ci in %s installed oidc-provider %q; want %s", dir, v, OIDCProviderVersion)
	}
	return dir, nil
}

// providerDir finds the directory that holds server.mjs.
func providerDir() (string, error) {
	if d := os.Getenv(EnvOIDCProviderDir); d != "" {
		if !hasServer(d) {
			return "", fmt.Errorf("%s=%s: no server.mjs there", EnvOIDCProviderDir, d)
		}
		return filepath.Abs(d)
	}
	// The source tree is where the package was compiled from; it is the
	// usual answer because go test runs inside the module.
	if _, file, _, ok := runtime.Caller(0); ok {
		if d := filepath.Join(filepath.Dir(file), "server"); hasServer(d) {
			return d, nil
		}
	}
	// -trimpath builds lose the source path; search from the working
	// directory (a package directory inside the module) upwards.
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locating oidcprovider directory: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if c := filepath.Join(d, "internal", "oidcprovider", "server"); hasServer(c) {
			return c, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("cannot find internal/oidcprovider/server/server.mjs (set %s)", EnvOIDCProviderDir)
}

func hasServer(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "server.mjs"))
	return err == nil && fi.Mode().IsRegular()
}

// installedVersion returns the version of node_modules/oidc-provider in dir,
// or "" when it is not installed.
func installedVersion(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &pkg) != nil {
		return ""
	}
	return pkg.Version
}

// lockInstall takes an exclusive flock for installs into dir. The lock file
// lives in dir (ignored by git); if dir is read-only, it lives in the temp
// directory under a name derived from dir, which serializes the same
// installs.
func lockInstall(dir string) (unlock func(), err error) {
	name := filepath.Join(dir, ".npm-install.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
		sum := sha256.Sum256([]byte(dir))
		name = filepath.Join(os.TempDir(), "credtest-npm-"+hex.EncodeToString(sum[:8])+".lock")
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("opening install lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	// Closing the descriptor releases the flock.
	return func() { f.Close() }, nil
}

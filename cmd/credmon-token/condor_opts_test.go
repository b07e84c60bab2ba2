package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckGettokenOptsIsIgwnRobotGets protects igwn-robot-get's
// check_condor_config: the shell words of SEC_CREDENTIAL_GETTOKEN_OPTS, in
// any order (repeats collapse, as in a Python set), must be exactly
// --credkey=K --role=R --vaultserver=V; anything else names the user
// config file, with the line to add only when that file is missing.
func TestCheckGettokenOptsIsIgwnRobotGets(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	const k, r, v = "robot/host.example", "robot", "vault.example"
	for _, ok := range []string{
		"--credkey=robot/host.example --role=robot --vaultserver=vault.example",
		"  --vaultserver=vault.example\t'--role=robot' \"--credkey=robot/host.example\" --role=robot",
	} {
		if err := checkGettokenOpts(ok, "", k, r, v); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	line := "SEC_CREDENTIAL_GETTOKEN_OPTS = --credkey=robot/host.example --role=robot --vaultserver=vault.example"
	for _, bad := range []string{
		"",
		"--credkey=robot/host.example --role=robot",
		"--credkey=robot/host.example --role=robot --vaultserver=vault.example --cafile=/x",
		"--credkey robot/host.example --role=robot --vaultserver=vault.example",
		"--credkey=robot/host.example --role=robot --vaultserver=other.example",
		"'--credkey=robot/host.example --role=robot --vaultserver=vault.example",
	} {
		err := checkGettokenOpts(bad, "", k, r, v)
		if err == nil || exitCodeFor(err) != exitConfig || !strings.Contains(err.Error(), "~/.condor/user_config") || !strings.Contains(err.Error(), line) {
			t.Errorf("%q: %v; want a configuration error naming ~/.condor/user_config and %q", bad, err, line)
		}
	}
	if err := os.MkdirAll(filepath.Join(home, ".condor"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".condor", "my_config"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := checkGettokenOpts("", "my_config", k, r, v)
	if err == nil || !strings.Contains(err.Error(), "~/.condor/my_config") || strings.Contains(err.Error(), "create it") {
		t.Errorf("existing USER_CONFIG_FILE: %v; want it named, without the line to create it", err)
	}
}

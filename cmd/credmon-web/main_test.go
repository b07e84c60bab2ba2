package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRefusesRoot(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(nil, &stderr, 0); code != 1 || !strings.Contains(stderr.String(), "refusing to run as root") {
		t.Errorf("as root: exit %d, %q", code, stderr.String())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("CONDOR_CONFIG", "/nonexistent/condor_config")
	var stderr bytes.Buffer
	if code := run([]string{"-c", t.TempDir()}, &stderr, 1000); code != 1 {
		t.Errorf("unreadable config: exit %d; want 1 (%s)", code, stderr.String())
	}
	if code := run([]string{"-bogus"}, &stderr, 1000); code != 2 {
		t.Errorf("bad flag: exit %d; want 2", code)
	}
}

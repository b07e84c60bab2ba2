package condorcfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testSys is a host that never touches the real /etc, DNS or passwd.
func testSys() *sysInfo {
	return &sysInfo{
		hostname:   func() (string, error) { return "ap1", nil },
		canonical:  func(string) string { return "ap1.example.org" },
		homeOf:     func(string) (string, bool) { return "", false },
		username:   func() (string, bool) { return "condor", true },
		uid:        0,
		gid:        0,
		euid:       0,
		pid:        4242,
		ppid:       1,
		searchPath: nil,
	}
}

// testOpts returns Options for the native parser with a fixed host and an
// environment that contains only env.
func testOpts(subsys string, env ...string) Options {
	if env == nil {
		env = []string{}
	}
	return Options{Subsystem: subsys, Env: env, ConfigVal: "-", sys: testSys()}
}

// mustLoad parses text as the global config file "test.conf".
func mustLoad(t *testing.T, text string, opts Options) *Config {
	t.Helper()
	cfg, err := LoadString("test.conf", text, opts)
	if err != nil {
		t.Fatalf("LoadString: %v", err)
	}
	return cfg
}

// loadErr parses text and returns the error message ("" if none).
func loadErr(text string, opts Options) string {
	_, err := LoadString("test.conf", text, opts)
	if err == nil {
		return ""
	}
	var se *SyntaxError
	if !errors.As(err, &se) {
		return "not a SyntaxError: " + err.Error()
	}
	return se.Error()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lookup returns the value or "<unset>".
func lookup(t *testing.T, cfg *Config, name string) string {
	t.Helper()
	v, ok, err := cfg.LookupErr(name)
	if err != nil {
		t.Fatalf("LookupErr(%s): %v", name, err)
	}
	if !ok {
		return "<unset>"
	}
	return v
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

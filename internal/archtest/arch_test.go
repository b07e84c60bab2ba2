package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/credmon/credmon/"

// knownDebt are today's wrong-way edges (importer → imported, both
// relative to the module), to be removed by issue 10's redesign.
var knownDebt = map[string][]string{}

// harnesses run real or emulated peers (an OIDC provider, a KDC, a Vault
// API server, a condor_master, a browser driver) for the tests and the demos; they are not
// test helpers in the testing.TB sense, since the demos run them too, but no
// shipped binary may link one.
var harnesses = []string{"internal/oidcprovider", "internal/kdc", "internal/vaulttest", "internal/ready/mastertest", "internal/browsertest"}

// violation says which rule importer → imported breaks, or "". test is
// true for an import made only by the importer's _test.go files: those may
// use a test helper, but the layering rules hold for them too (a producer
// test that needs the daemon's packages means the code it tests is in the
// wrong layer).
func violation(importer, imported string, test bool) string {
	in := func(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	switch {
	case in(importer, "condorcfg"):
		return "condorcfg depends on the standard library only"
	case in(importer, "internal") && !in(imported, "internal"):
		return "internal packages import only internal packages"
	case in(importer, "producer") && in(imported, "credmon"):
		return "producer imports nothing from credmon"
	case in(importer, "credmon") && in(imported, "producer"):
		return "credmon imports nothing from producer (what both need lives in internal/)"
	case !test && in(imported, "credmon/credtest") && !in(importer, "credmon/credtest"):
		// credtest's own commands (the condor_store_cred stand-in) are
		// test peers built by tests, never shipped.
		return "no non-test package imports a test helper"
	case !test && in(importer, "credmon/credtest") && !in(importer, "credmon/credtest/daemontest") && imported == "credmon":
		// credtest is linked into the condor_store_cred stand-in, a
		// process of its own, as credd is.
		return "the credd emulator does not link the daemon (credtest/daemontest runs it)"
	case !test && in(imported, "internal/browsertest"):
		// It imports "testing": a browser for tests only.
		return "no non-test package imports a test helper"
	case !test && in(importer, "credmon/web") && imported == "credmon":
		// The web app runs as condor in its own process; the daemon's
		// files are its only interface with the daemon.
		return "the login web app does not link the daemon"
	case !test && in(importer, "cmd") && slices.ContainsFunc(harnesses, func(h string) bool { return in(imported, h) }):
		return "the shipped binaries link no test peer (the demos may)"
	}
	return ""
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestLayersPointOneWay fails when an import points the wrong way.
func TestLayersPointOneWay(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	found := map[string][]string{}
	packages := 0
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		packages++
		from := strings.TrimPrefix(p.ImportPath, module)
		check := func(imports []string, test bool) {
			for _, imp := range imports {
				if !strings.HasPrefix(imp, module) {
					continue
				}
				to := strings.TrimPrefix(imp, module)
				if to == from {
					continue // an external test package importing what it tests
				}
				rule := violation(from, to, test)
				if rule == "" {
					continue
				}
				found[from] = append(found[from], to)
				if !slices.Contains(knownDebt[from], to) {
					t.Errorf("%s imports %s: %s (docs/architecture.md)", from, to, rule)
				}
			}
		}
		check(p.Imports, false)
		check(p.TestImports, true)
		check(p.XTestImports, true)
	}
	if packages < 10 {
		t.Fatalf("go list found %d packages; the test is not looking at the module", packages)
	}
	for from, tos := range knownDebt {
		for _, to := range tos {
			if !slices.Contains(found[from], to) {
				t.Errorf("knownDebt lists %s → %s, which is gone: remove the entry", from, to)
			}
		}
	}
}

// TestRulesCatchWrongEdges keeps the rules honest: each one rejects the
// edge it is about and accepts the allowed direction.
func TestRulesCatchWrongEdges(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		test     bool
		bad      bool
	}{
		{"condorcfg", "credmon/credfile", false, true},
		{"producer/source", "credmon/knobs", false, true},
		{"producer/renewer", "credmon", false, true},
		{"producer/renewer", "credmon/credtest", true, true},
		{"cmd/credmon", "credmon/credtest", false, true},
		{"internal/atomicfile", "producer/bearer", false, true},
		{"cmd/credmon", "credmon/credtest", true, false},
		{"credmon/credtest/cmd/condor_store_cred", "credmon/credtest", false, false},
		{"credmon/credtest/daemontest", "credmon", false, false},
		{"credmon/credtest", "credmon", false, true},
		{"credmon/credtest/cmd/condor_store_cred", "credmon", false, true},
		{"cmd/credmon", "credmon/credtest/daemontest", false, true},
		{"credmon/web", "credmon/credtest/daemontest", false, true},
		{"credmon/web", "credmon/credtest/daemontest", true, false},
		{"cmd/credmon-token", "credmon/credtest/daemontest", true, false},
		{"cmd/credmon-producer", "credmon/credtest", false, true},
		{"credmon", "condorcfg", false, false},
		{"credmon", "producer/bearer", false, true},
		{"cmd/credmon-token", "internal/oidcprovider", false, true},
		{"cmd/credmon-token", "internal/oidcprovider", true, false},
		{"examples/demo-oauth", "internal/oidcprovider", false, false},
		{"credmon/knobs", "internal/tokenclient", false, false},
		{"credmon", "internal/atomicfile", false, false},
		{"cmd/credmon-token", "internal/tokenclient", false, false},
		{"internal/tokenclient", "internal/oidcprovider", true, false},
		{"internal/tokenclient", "internal/redact", false, false},
		{"internal/tokenclient", "producer/source", false, true},
		{"cmd/credmon", "internal/ready/mastertest", false, true},
		{"cmd/credmon", "internal/ready/mastertest", true, false},
		{"cmd/credmon", "internal/ready", false, false},
		{"credmon/web", "internal/browsertest", true, false},
		{"credmon/web", "internal/browsertest", false, true},
		{"cmd/credmon-web", "internal/browsertest", false, true},
		{"credmon/web", "credmon", true, false},
		{"credmon/web", "credmon", false, true},
		{"credmon/web", "credmon/classad", false, false},
		{"cmd/credmon-web", "credmon/web", false, false},
		{"cmd/credmon-web", "internal/cli", false, false},
		{"internal/cli", "credmon", false, true},
	} {
		if got := violation(tc.from, tc.to, tc.test) != ""; got != tc.bad {
			t.Errorf("%s → %s (test %v): violation %v; want %v", tc.from, tc.to, tc.test, got, tc.bad)
		}
	}
}

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
var knownDebt = map[string][]string{
	"condorcfg":           {"credmon/credfile", "producer/oauth2refresh"},
	"examples/demo-oauth": {"credmon/credtest"},
}

// violation says which rule importer → imported breaks, or "".
func violation(importer, imported string) string {
	switch {
	case importer == "condorcfg" || strings.HasPrefix(importer, "condorcfg/"):
		return "condorcfg depends on the standard library only"
	case strings.HasPrefix(importer, "producer") && (imported == "credmon" || strings.HasPrefix(imported, "credmon/")):
		return "producer imports nothing from credmon"
	case imported == "credmon/credtest" || strings.HasPrefix(imported, "credmon/credtest/"):
		return "no non-test package imports a test helper"
	}
	return ""
}

type pkg struct {
	ImportPath string
	Imports    []string
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
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := strings.TrimPrefix(imp, module)
			rule := violation(from, to)
			if rule == "" {
				continue
			}
			found[from] = append(found[from], to)
			if !slices.Contains(knownDebt[from], to) {
				t.Errorf("%s imports %s: %s (docs/architecture.md)", from, to, rule)
			}
		}
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
		bad      bool
	}{
		{"condorcfg", "credmon/credfile", true},
		{"producer/source", "credmon/atomicfile", true},
		{"producer/renewer", "credmon", true},
		{"cmd/credmon", "credmon/credtest", true},
		{"credmon", "producer/oauth2refresh", false},
		{"credmon", "condorcfg", false},
		{"cmd/credmon-token", "producer/oidc", false},
		{"producer/oidc", "producer/internal/redact", false},
	} {
		if got := violation(tc.from, tc.to) != ""; got != tc.bad {
			t.Errorf("%s → %s: violation %v; want %v", tc.from, tc.to, got, tc.bad)
		}
	}
}

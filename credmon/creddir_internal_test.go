package credmon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// TestPrepareCredDirFollowsConfiguredSymlink: sites link the credential
// directory to another volume. The link is resolved once, the checks apply
// to the real directory, and the Dir's path is the real one.
func TestPrepareCredDirFollowsConfiguredSymlink(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "volume", "oauth_credentials")
	if err := os.MkdirAll(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, credDirMode); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "oauth_credentials")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	d, err := PrepareCredDir(link)
	if err != nil {
		t.Fatalf("PrepareCredDir(symlink) = %v; want the linked directory accepted", err)
	}
	defer d.Close()
	if d.Path() != real {
		t.Errorf("Path() = %q; want the resolved %q", d.Path(), real)
	}
	if err := writePid(d, 42); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(real, "pid")); err != nil || string(b) != "42" {
		t.Errorf("pid file in the real directory = %q, %v", b, err)
	}

	// The checks apply to the target: o+r there is refused through a link.
	if err := os.Chmod(real, 0o774); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareCredDir(link); err == nil || !strings.Contains(err.Error(), "must not be accessible by others") {
		t.Errorf("PrepareCredDir(link to an o+r directory) = %v; want refused", err)
	}
	// A dangling link is an error, not a directory created somewhere.
	dangling := filepath.Join(base, "dangling")
	if err := os.Symlink(filepath.Join(base, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareCredDir(dangling); err == nil {
		t.Error("PrepareCredDir(dangling link) succeeded")
	}
	if _, err := os.Stat(filepath.Join(base, "nowhere")); err == nil {
		t.Error("a dangling link's target was created")
	}
}

// TestAuthzExprValue: the ad LocalCredmon builds, {Username = <user>, Scopes =
// <the expression>}, evaluated through Scopes.
func TestAuthzExprValue(t *testing.T) {
	tests := []struct {
		expr, want string
		isErr      bool
	}{
		{`strcat("read:/user/", Username)`, "read:/user/alice", false},
		{`isUndefined(Scopes) ? "undefined" : "defined"`, "defined", false},
		{`MY.Scopes =?= undefined ? "undefined" : "defined"`, "defined", false},
		{`strcat("read:/x ", Scopes)`, "", true}, // circular, as in the Python credmon's ad
	}
	for _, tt := range tests {
		v := authzExprValue(classad.MustParse(tt.expr), "alice")
		s, ok := v.StringValue()
		if tt.isErr {
			if !v.IsError() {
				t.Errorf("%s = %v; want ERROR", tt.expr, v)
			}
			continue
		}
		if !ok || s != tt.want {
			t.Errorf("%s = %v; want %q", tt.expr, v, tt.want)
		}
	}
}

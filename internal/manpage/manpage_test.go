package manpage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/credmon/credmon/internal/manpage"
)

// TestWriteOnePagePerCommandKeepsAngleBrackets protects the pages: one per
// available command (hidden ones left out, help and completion in), and a
// <uid> in a text or a flag's usage survives cobra/doc's Markdown.
func TestWriteOnePagePerCommandKeepsAngleBrackets(t *testing.T) {
	root := &cobra.Command{Use: "tool", Short: "a tool", Long: "Writes /tmp/bt_u<uid>."}
	sub := &cobra.Command{Use: "sub", Short: "a sub", Run: func(*cobra.Command, []string) {}}
	sub.Flags().StringP("out", "o", "", "write to `FILE` (default /tmp/vt_u<uid>)")
	hidden := &cobra.Command{Use: "secret", Hidden: true, Run: func(*cobra.Command, []string) {}}
	root.AddCommand(sub, hidden)
	dir := t.TempDir()
	if err := manpage.Write(root, dir, "TOOL", "test"); err != nil {
		t.Fatal(err)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	want := []string{"tool-completion-bash.1", "tool-completion-fish.1", "tool-completion-powershell.1", "tool-completion-zsh.1",
		"tool-completion.1", "tool-sub.1", "tool.1"}
	var got []string
	for _, p := range m {
		got = append(got, filepath.Base(p))
	}
	if len(got) != len(want) {
		t.Fatalf("pages %q; want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pages %q; want %q", got, want)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "tool.1"))
	if !bytes.Contains(page, []byte("bt_u<uid>")) {
		t.Errorf("tool.1 lost <uid>:\n%s", page)
	}
	page, _ = os.ReadFile(filepath.Join(dir, "tool-sub.1"))
	if !bytes.Contains(page, []byte("vt_u<uid>")) || !bytes.Contains(page, []byte(`\fB-o\fP, \fB--out\fP`)) {
		t.Errorf("tool-sub.1:\n%s", page)
	}
}

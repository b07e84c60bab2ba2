package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/tokenclient"
)

// TestWriteTokensWithHandle: the files of service "box" handle "h1" are
// box_h1.*, in the Python app's spelling, readable by the credmon's
// parsers, 0400; a symlinked user directory is refused.
func TestWriteTokensWithHandle(t *testing.T) {
	dir := t.TempDir()
	s := &Service{Provider: "box", Handle: "h1", LocalUser: "alice", ScopesRaw: "read,write", AudienceRaw: "",
		ClientID: "c<&>id", ClientSecret: "sé\"c"}
	resp, err := jsonobj.Parse([]byte(`{"access_token":"at","refresh_token":"rt","expires_in":3600,"scope":"read write","token_type":"Bearer"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := &tokenclient.Result{Response: resp, RefreshToken: "rt", Received: time.Unix(1_700_000_000, 0)}
	if err := writeTokens(dir, s, "https://idp/token", res); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "alice", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(filepath.Join(dir, "alice", name)); fi.Mode().Perm() != 0o400 {
			t.Errorf("%s mode %v", name, fi.Mode())
		}
		return string(b)
	}
	if got := read("box_h1.top"); got != `{"refresh_token": "rt", "scopes": "read,write"}` {
		t.Errorf(".top = %s", got)
	}
	if got := read("box_h1.meta"); got != `{"client_id": "c<&>id", "client_secret": "s\u00e9\"c", "token_url": "https://idp/token", "use_refresh_token": true}` {
		t.Errorf(".meta = %s", got)
	}
	m, err := credfile.ParseMeta([]byte(read("box_h1.meta")))
	if err != nil || m.ClientSecret != "sé\"c" || !m.UseRefreshToken {
		t.Errorf("ParseMeta: %+v, %v", m, err)
	}
	if top, err := credfile.ParseTop([]byte(read("box_h1.top"))); err != nil || top.RefreshToken() != "rt" || strings.Join(top.Scopes(), " ") != "read write" {
		t.Errorf("ParseTop: %v", err)
	}
	use := read("box_h1.use")
	if strings.Contains(use, "rt") || !strings.Contains(use, `"scope":["read","write"]`) || !strings.Contains(use, `"expires_at":1700003600`) {
		t.Errorf(".use = %s", use)
	}
	if !done(dir, s) {
		t.Error("done() = false after the write")
	}

	// No refresh token: use_refresh_token false, refresh_token "".
	res.RefreshToken = ""
	s.Handle = "h2"
	if err := writeTokens(dir, s, "https://idp/token", res); err != nil {
		t.Fatal(err)
	}
	if got := read("box_h2.top"); got != `{"refresh_token": "", "scopes": "read,write"}` || !strings.Contains(read("box_h2.meta"), `"use_refresh_token": false`) {
		t.Errorf("without a refresh token: %s / %s", got, read("box_h2.meta"))
	}

	// A symlink as the user directory is not written through.
	other := t.TempDir()
	os.Symlink(other, filepath.Join(dir, "mallory"))
	s.LocalUser = "mallory"
	if err := writeTokens(dir, s, "https://idp/token", res); err == nil {
		t.Error("wrote through a symlinked user directory")
	}
	if ents, _ := os.ReadDir(other); len(ents) != 0 {
		t.Errorf("files appeared in the link's target: %v", ents)
	}
}

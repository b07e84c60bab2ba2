package web_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/credmon/credmon/internal/browsertest"
)

// The second handle's request: another audience, and a path scope the
// first does not ask for (the test IdP grants every token its base scopes,
// compute.read among them, plus what was requested).
const (
	handle2Aud    = "https://compute.example.org"
	handle2Scopes = "openid, offline_access, storage.create:/home/alice/out"
)

// wantClaims checks a .use access token's audience (exactly aud) and
// scopes (every one of want, none of not).
func wantClaims(t *testing.T, what string, claims map[string]any, aud string, want, not []string) {
	t.Helper()
	if a := claims["aud"]; a != aud && !(func() bool { l, ok := a.([]any); return ok && len(l) == 1 && l[0] == aud })() {
		t.Errorf("%s: aud = %v; want %s", what, a, aud)
	}
	sc, _ := claims["scope"].(string)
	for _, s := range want {
		if !slices.Contains(strings.Fields(sc), s) {
			t.Errorf("%s: scope %q lacks %s", what, sc, s)
		}
	}
	for _, s := range not {
		if slices.Contains(strings.Fields(sc), s) {
			t.Errorf("%s: scope %q has %s, another handle's", what, sc, s)
		}
	}
}

// TestBrowserHandles: credd lists one service twice, with two handles
// (use_oauth_services = webidp; webidp_h1_oauth_permissions = …,
// webidp_h2_oauth_permissions = …): the page offers webidp_h1 and
// webidp_h2, each login writes <service>_<handle>.top/.use/.meta (0400)
// with that handle's scopes and audience, the other handle's files are
// left alone, and the key file goes when both are done.
func TestBrowserHandles(t *testing.T) {
	b := browsertest.New(t)
	f := newFixture(t, fixtureOptions{idp: true})
	// One client for the service, as credd takes <SVC>_CLIENT_ID and the
	// return URL (/return/<service>) for every handle of it.
	h1 := f.client("webidp", testUser, testScopes, testAud)
	h1.Handle = "h1"
	h2 := h1
	h2.Handle, h2.Scopes, h2.Audience = "h2", handle2Scopes, handle2Aud
	key := f.writeKeyFile(h1, h2)

	pages := b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		one(browsertest.Step{Click: "role=button[name='Log in to webidp_h1']"}),
		loginAtIdP("alice"),
	)...)
	wantPage(t, pages[0], 200, "Log in to your services", "2 of 2 still to do", "webidp_h1", "webidp_h2",
		"storage.read:/home/alice", testAud, "storage.create:/home/alice/out", handle2Aud)
	nav := navigations(pages)
	wantPage(t, nav[len(nav)-1], 200, "Log in to your services", "1 of 2 still to do")
	if !f.keyExists(key) {
		t.Fatal("the key file was removed with a handle still to do")
	}
	for _, suf := range []string{".top", ".use", ".meta"} {
		for _, name := range []string{"webidp_h2", "webidp"} {
			if _, err := os.Lstat(f.path(testUser, name+suf)); err == nil {
				t.Errorf("%s%s written by webidp_h1's login", name, suf)
			}
		}
	}
	top1Raw := checkHandleFiles(t, f, "webidp_h1", h1, testAud, []string{"storage.read:/home/alice", "compute.read"}, []string{"storage.create:/home/alice/out"})

	// A second browser session on the same key does the other handle.
	pages = b.Run(t, steps(
		one(browsertest.Step{Goto: f.base + "/key/" + key}),
		one(browsertest.Step{Click: "role=button[name='Log in to webidp_h2']"}),
		loginAtIdP("alice"),
	)...)
	nav = navigations(pages)
	wantPage(t, nav[len(nav)-1], 200, "All done", "webidp_h1", "webidp_h2")
	if f.keyExists(key) {
		t.Error("the key file is still there after both handles were done")
	}
	checkHandleFiles(t, f, "webidp_h2", h2, handle2Aud, []string{"storage.create:/home/alice/out"}, []string{"storage.read:/home/alice"})
	if _, raw := readJSON(t, f.path(testUser, "webidp_h1.top")); string(raw) != string(top1Raw) {
		t.Error("webidp_h2's login changed webidp_h1.top")
	}
	entries, err := os.ReadDir(f.path(testUser, ""))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"webidp_h1.meta", "webidp_h1.top", "webidp_h1.use", "webidp_h2.meta", "webidp_h2.top", "webidp_h2.use"}
	if !slices.Equal(names, want) {
		t.Errorf("user directory holds %q; want %q", names, want)
	}
}

// checkHandleFiles checks a handle's three files: mode 0400, .top with its
// scopes and audience as credd compares them (no spaces), .meta with the
// service's client, .use a token the IdP signed for aud with scopes want
// and none of not. It returns the .top.
func checkHandleFiles(t *testing.T, f *fixture, name string, a ad, aud string, want, not []string) []byte {
	t.Helper()
	for _, suf := range []string{".top", ".use", ".meta"} {
		if m := mode(t, f.path(testUser, name+suf)); m != 0o400 {
			t.Errorf("%s%s mode %v; want -r--------", name, suf, m)
		}
	}
	top, topRaw := readJSON(t, f.path(testUser, name+".top"))
	if rt, _ := top["refresh_token"].(string); rt == "" || top["scopes"] != strings.ReplaceAll(a.Scopes, " ", "") || top["audience"] != aud {
		t.Errorf("%s.top = %s; want a refresh token, its handle's scopes and audience", name, topRaw)
	}
	meta, _ := readJSON(t, f.path(testUser, name+".meta"))
	if meta["client_id"] != a.ClientID || meta["token_url"] != a.TokenURL || meta["use_refresh_token"] != true {
		t.Errorf("%s.meta = %v", name, meta)
	}
	use, _ := readJSON(t, f.path(testUser, name+".use"))
	at, _ := use["access_token"].(string)
	wantClaims(t, name+" token", f.idp.VerifyAccessToken(t, at), aud, want, not)
	return topRaw
}

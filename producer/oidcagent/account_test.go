package oidcagent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/credmon/credmon/producer/oidcagent"
)

// TestAccountGoldenRoundTrip: parsing what oidc-agent 4.2.6 wrote and
// encoding it again gives the same bytes, since MarshalJSON uses
// cJSON_Print's layout and keeps every value's bytes.
func TestAccountGoldenRoundTrip(t *testing.T) {
	for _, golden := range []string{"oidc-gen-4.2.6.json", "oidc-agent-4.2.6-rotated.json"} {
		plain := bytes.TrimSuffix(readTestdata(t, golden), []byte("\n"))
		a, err := oidcagent.ParseAccount(plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("MarshalJSON(ParseAccount(%s)) =\n%s\nwant\n%s", golden, got, plain)
		}
	}

	a, err := oidcagent.ParseAccount(readTestdata(t, "oidc-gen-4.2.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"Name", a.Name(), "fresh"},
		{"ClientName", a.ClientName(), "oidc-agent:fresh-vm"},
		{"IssuerURL", a.IssuerURL(), "http://127.0.0.1:9188/"},
		{"DeviceAuthorizationEndpoint", a.DeviceAuthorizationEndpoint(), "http://127.0.0.1:9188/device/auth"},
		{"ClientID", a.ClientID(), "credmon"},
		{"ClientSecret", a.ClientSecret(), "credmon-secret"},
		{"Scope", a.Scope(), "openid offline_access storage.read:/ compute.read"},
		{"RefreshScope", a.RefreshScope(), ""},
		{"Audience", a.Audience(), ""},
		{"CertPath", a.CertPath(), "/etc/ssl/certs/ca-certificates.crt"},
		{"OPUsername", a.OPUsername(), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s() = %q; want %q", c.name, c.got, c.want)
		}
	}
	if rt := a.RefreshToken(); rt == "" {
		t.Error("RefreshToken() is empty")
	}
	if got := a.RedirectURIs(); !slices.Equal(got, []string{"http://localhost:8765"}) {
		t.Errorf("RedirectURIs() = %q; want [http://localhost:8765]", got)
	}
}

// TestNewAccountMatchesOidcGen: NewAccount has oidc-gen 4.2.6's members in
// its order.
func TestNewAccountMatchesOidcGen(t *testing.T) {
	gen, err := oidcagent.ParseAccount(readTestdata(t, "oidc-gen-4.2.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := oidcagent.NewAccount("x")
	if got, want := a.Keys(), gen.Keys(); !slices.Equal(got, want) {
		t.Errorf("NewAccount keys = %q; want oidc-gen's %q", got, want)
	}
	if a.Name() != "x" {
		t.Errorf("Name() = %q; want x", a.Name())
	}
	if raw, _ := a.Raw(oidcagent.KeyDAESetByUser); string(raw) != "0" {
		t.Errorf("daeSetByUser = %s; want 0", raw)
	}
}

func TestAccountPreservesUnknownMembers(t *testing.T) {
	const in = `{
	"name":	"acct",
	"refresh_token":	"old",
	"x_nested":	{ "a" : [1, 2.50, 1e3],	"b": {"c": null} },
	"x_number":	12345678901234567890123,
	"x_escapes":	"caf\u00e9 \"q\" \/ <&>",
	"scope":	"openid",
	"x_bool":	true,
	"x_null":	null,
	"name":	"duplicate"
}`
	a, err := oidcagent.ParseAccount([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"name", "refresh_token", "x_nested", "x_number", "x_escapes", "scope", "x_bool", "x_null", "name"}
	if got := a.Keys(); !slices.Equal(got, wantKeys) {
		t.Fatalf("Keys() = %q; want %q", got, wantKeys)
	}
	if a.Name() != "acct" {
		t.Errorf("Name() = %q; want the first occurrence, acct (as cJSON_GetObjectItem)", a.Name())
	}
	before := map[string]string{}
	for _, k := range []string{"x_nested", "x_number", "x_escapes", "x_bool", "x_null"} {
		raw, _ := a.Raw(k)
		before[k] = string(raw)
	}

	a.SetRefreshToken("new <&> token")
	a.SetString("x_added", "v")
	out, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("MarshalJSON output is not JSON:\n%s", out)
	}
	b, err := oidcagent.ParseAccount(out)
	if err != nil {
		t.Fatalf("re-parsing %s: %v", out, err)
	}
	if got, want := b.Keys(), append(wantKeys, "x_added"); !slices.Equal(got, want) {
		t.Errorf("keys after re-encoding = %q; want %q", got, want)
	}
	for k, v := range before {
		if raw, _ := b.Raw(k); string(raw) != v {
			t.Errorf("%s after re-encoding = %s; want the original bytes %s", k, raw, v)
		}
	}
	if got := b.RefreshToken(); got != "new <&> token" {
		t.Errorf("RefreshToken() = %q; want the new one", got)
	}
	if !bytes.Contains(out, []byte(`"new <&> token"`)) {
		t.Errorf("SetString escaped HTML characters (cJSON does not):\n%s", out)
	}
	if s, _ := b.GetString("x_escapes"); s != `café "q" / <&>` {
		t.Errorf(`GetString("x_escapes") = %q`, s)
	}
}

func TestAccountVersion5Members(t *testing.T) {
	a, err := oidcagent.ParseAccount([]byte(`{"name":"five","issuer":"https://iss/","auth_scope":"openid offline_access","refresh_scope":"openid","scope":"ignored","redirect_uris":"not an array"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.IssuerURL(); got != "https://iss/" {
		t.Errorf("IssuerURL() = %q; want issuer's value when issuer_url is absent", got)
	}
	if got := a.Scope(); got != "openid offline_access" {
		t.Errorf("Scope() = %q; want auth_scope's value", got)
	}
	if got := a.RefreshScope(); got != "openid" {
		t.Errorf("RefreshScope() = %q; want openid", got)
	}
	if got := a.RedirectURIs(); got != nil {
		t.Errorf("RedirectURIs() = %q; want nil for a non-array", got)
	}
	a.SetScope("openid")
	if s, _ := a.GetString(oidcagent.KeyAuthScope); s != "openid" {
		t.Errorf("SetScope wrote %q to auth_scope; want openid", s)
	}
	if s, _ := a.GetString(oidcagent.KeyScope); s != "ignored" {
		t.Errorf("SetScope changed scope to %q although auth_scope exists", s)
	}
}

func TestAccountEditing(t *testing.T) {
	a := &oidcagent.Account{}
	if out, _ := a.MarshalJSON(); !json.Valid(out) {
		t.Errorf("empty account encodes to invalid JSON %q", out)
	}
	a.SetRedirectURIs([]string{"http://localhost:1", "edu.kit.data.oidc-agent:/redirect"})
	if got := a.RedirectURIs(); len(got) != 2 || got[1] != "edu.kit.data.oidc-agent:/redirect" {
		t.Errorf("RedirectURIs() = %q", got)
	}
	if err := a.SetRaw("obj", json.RawMessage(`{ "k" : [ 1 ] }`)); err != nil {
		t.Fatal(err)
	}
	if raw, _ := a.Raw("obj"); string(raw) != `{"k":[1]}` {
		t.Errorf(`Raw("obj") = %s; want it compacted`, raw)
	}
	if err := a.SetRaw("bad", json.RawMessage(`{`)); err == nil {
		t.Error("SetRaw accepted invalid JSON")
	}
	c := a.Clone()
	c.SetString("obj", "changed")
	if raw, _ := a.Raw("obj"); string(raw) != `{"k":[1]}` {
		t.Errorf("changing a Clone changed the original: %s", raw)
	}
	a.SetString("dup", "1")
	if err := a.UnmarshalJSON([]byte(`{"dup":1,"keep":2,"dup":3}`)); err != nil {
		t.Fatal(err)
	}
	a.Delete("dup")
	if got := a.Keys(); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("Keys() after Delete = %q; want [keep]", got)
	}
	if a.Has("dup") || !a.Has("keep") {
		t.Error("Has disagrees with Keys")
	}
	if _, ok := a.GetString("keep"); ok {
		t.Error("GetString reported a number as a string")
	}
}

func TestParseAccountErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `"s"`, `{`, `{"a":}`, `{"a":1}x`, `{"a":1}{}`, `{1:2}`} {
		_, err := oidcagent.ParseAccount([]byte(in))
		if !errors.Is(err, oidcagent.ErrCorrupt) {
			t.Errorf("ParseAccount(%q) error = %v; want ErrCorrupt", in, err)
		}
	}
	if _, err := oidcagent.ParseAccount([]byte(" {\"a\":1}\n ")); err != nil {
		t.Errorf("surrounding whitespace refused: %v", err)
	}
}

func FuzzParseAccount(f *testing.F) {
	f.Add([]byte(`{"name":"a","x":{"y":[1,"2",null]}}`))
	f.Add(readTestdata(f, "oidc-gen-4.2.6.json"))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := oidcagent.ParseAccount(in)
		if err != nil {
			return
		}
		out, err := a.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b, err := oidcagent.ParseAccount(out)
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", out, in, err)
		}
		if !slices.Equal(a.Keys(), b.Keys()) {
			t.Fatalf("keys changed: %q -> %q", a.Keys(), b.Keys())
		}
		for _, k := range a.Keys() {
			ra, _ := a.Raw(k)
			rb, _ := b.Raw(k)
			if !bytes.Equal(ra, rb) {
				t.Fatalf("value of %q changed: %s -> %s", k, ra, rb)
			}
		}
	})
}

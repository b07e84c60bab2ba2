package credfile

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseTopKeepsOtherKeys(t *testing.T) {
	// credd's -S/-A rewrite: multi-line JSON with a trailing newline.
	in := "{\n    \"refresh_token\": \"rt-1\",\n    \"scopes\": \"storage.read:/,compute.read\",\n    \"audience\": \"https://aud.example\",\n    \"extra\": {\"n\": [1, 2.50, true]}\n}\n"
	top, err := ParseTop([]byte(in))
	if err != nil {
		t.Fatalf("ParseTop: %v", err)
	}
	if top.RefreshToken() != "rt-1" {
		t.Errorf("RefreshToken() = %q; want rt-1", top.RefreshToken())
	}
	if got := strings.Join(top.Scopes(), " "); got != "storage.read:/ compute.read" {
		t.Errorf("Scopes() = %q", got)
	}
	if got := strings.Join(top.Audience(), " "); got != "https://aud.example" {
		t.Errorf("Audience() = %q", got)
	}
	out := string(top.WithRefreshToken("rt-2"))
	want := `{"refresh_token":"rt-2","scopes":"storage.read:/,compute.read","audience":"https://aud.example","extra":{"n":[1,2.50,true]}}`
	if out != want {
		t.Errorf("WithRefreshToken =\n %s\nwant\n %s", out, want)
	}
	if strings.Contains(out, "\n") {
		t.Error("rewritten .top is not one line")
	}
}

func TestParseTopRejects(t *testing.T) {
	for _, in := range []string{
		"alice",                           // local-issuer .top: a bare username
		"alice@example.org",               // what credd 25.14 actually writes
		`{"refresh_token": ""}`,           // empty token
		`{"refresh_token": 5}`,            // wrong type
		`{"vault_token": "x"}`,            // Vault blob
		`["refresh_token"]`,               // not an object
		`{"refresh_token": "a"} trailing`, // trailing garbage
		`{"refresh_token": "a"`,           // truncated
		"",
	} {
		if _, err := ParseTop([]byte(in)); err == nil {
			t.Errorf("ParseTop(%q) succeeded; want error", in)
		}
	}
}

// TestParseTopRefusesDuplicateKeys: a .top that gives a top-level key twice
// was read as its last value and then rewritten with only that value, so the
// other was lost from the file. It is refused (the daemon leaves an unusable
// .top alone until it changes); repeated keys inside a nested value are kept
// byte for byte by a rewrite, so they are accepted. .meta and .use are only
// read, never rewritten from what was parsed: they keep Python's
// last-one-wins.
func TestParseTopRefusesDuplicateKeys(t *testing.T) {
	for _, tt := range []struct{ in, key string }{
		{`{"refresh_token":"a","refresh_token":"b"}`, "refresh_token"},
		{`{"refresh_token":"a","scopes":"x","scopes":"y"}`, "scopes"},
		{"{\n \"audience\": \"a\",\n \"refresh_token\": \"r\",\n \"audience\": \"b\"\n}\n", "audience"},
		{`{"refresh_token":"a","refresh\u005ftoken":"b"}`, "refresh_token"}, // the same key, escaped
	} {
		_, err := ParseTop([]byte(tt.in))
		if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), `duplicate key "`+tt.key+`"`) {
			t.Errorf("ParseTop(%q) error = %v; want duplicate key %q", tt.in, err, tt.key)
		}
	}
	top, err := ParseTop([]byte(`{"refresh_token":"a","extra":{"k":1,"k":2}}`))
	if err != nil {
		t.Fatalf("ParseTop(nested repeated key): %v", err)
	}
	if got, want := string(top.WithRefreshToken("b")), `{"refresh_token":"b","extra":{"k":1,"k":2}}`; got != want {
		t.Errorf("rewrite = %s; want %s", got, want)
	}
	if m, err := ParseMeta([]byte(`{"client_id":"c","token_url":"https://a","token_url":"https://b"}`)); err != nil || m.TokenURL != "https://b" {
		t.Errorf("ParseMeta(repeated token_url) = %+v, %v; want the last value, as Python", m, err)
	}
	if u, err := ParseUse([]byte(`{"access_token":"a","access_token":"b"}`)); err != nil || u.AccessToken != "b" {
		t.Errorf("ParseUse(repeated access_token) = %+v, %v; want the last value, as Python", u, err)
	}
}

func TestParseMeta(t *testing.T) {
	m, err := ParseMeta([]byte(`{"client_id": "c", "client_secret": "s", "token_url": "https://idp/token", "use_refresh_token": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.ClientID != "c" || m.ClientSecret != "s" || m.TokenURL != "https://idp/token" || m.UseRefreshToken {
		t.Errorf("ParseMeta = %+v", m)
	}
	m, err = ParseMeta([]byte(`{"client_id": "c", "token_url": "https://idp/token"}`))
	if err != nil || !m.UseRefreshToken {
		t.Errorf("absent use_refresh_token: %+v, %v; want true", m, err)
	}
	for _, in := range []string{`{}`, `{"client_id":"c"}`, `{"token_url":"u"}`, `nope`} {
		if _, err := ParseMeta([]byte(in)); err == nil {
			t.Errorf("ParseMeta(%q) succeeded; want error", in)
		}
	}
}

func jwtWith(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".sig"
}

func TestUseLifetime(t *testing.T) {
	written := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name           string
		in             string
		issued, expiry int64
		ok             bool
	}{
		{"expires_in from write time", `{"access_token":"x","expires_in":1200}`, 1_800_000_000, 1_800_001_200, true},
		{"expires_at wins over expires_in", `{"access_token":"x","expires_in":1200,"expires_at":1800000600}`, 1_800_000_000, 1_800_000_600, true},
		{"string expires_in", `{"access_token":"x","expires_in":"600"}`, 1_800_000_000, 1_800_000_600, true},
		{"jwt exp and iat", `{"access_token":"` + jwtWith(`{"iat":1799999900,"exp":1800000500}`) + `"}`, 1_799_999_900, 1_800_000_500, true},
		{"earliest of jwt exp and expires_at", `{"access_token":"` + jwtWith(`{"exp":1800000500}`) + `","expires_at":1800000900}`, 1_800_000_000, 1_800_000_500, true},
		{"bare jwt", jwtWith(`{"iat":1800000000,"exp":1800001200}`) + "\n", 1_800_000_000, 1_800_001_200, true},
		{"bare opaque", "opaque-token\n", 1_800_000_000, 0, false},
		{"no expiry", `{"access_token":"x"}`, 1_800_000_000, 0, false},
		{"negative expires_in ignored", `{"access_token":"x","expires_in":-5}`, 1_800_000_000, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseUse([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseUse: %v", err)
			}
			iss, exp, ok := u.Lifetime(written)
			if ok != tt.ok || iss.Unix() != tt.issued || (ok && exp.Unix() != tt.expiry) {
				t.Errorf("Lifetime = %d, %d, %v; want %d, %d, %v", iss.Unix(), exp.Unix(), ok, tt.issued, tt.expiry, tt.ok)
			}
		})
	}
}

func TestParseUseConsumerRules(t *testing.T) {
	u, err := ParseUse([]byte("# comment\n\n  tok123  \n"))
	if err != nil || u.AccessToken != "tok123" || u.JSON {
		t.Errorf("bare token with comment = %+v, %v", u, err)
	}
	for _, in := range []string{"", "\n# only comments\n", `{"expires_in": 5}`, `[1]`, `{"access_token": 5}`, "{broken"} {
		if _, err := ParseUse([]byte(in)); err == nil {
			t.Errorf("ParseUse(%q) succeeded; want error", in)
		}
	}
}

func TestEncodeUse(t *testing.T) {
	resp, err := ParseObject([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":599.6,"refresh_token":"rt","scope":"openid storage.read:/","id_token":"idt"}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 400_000_000)
	b, err := EncodeUse(resp, now)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"access_token":"at","token_type":"Bearer","expires_in":600,"scope":["openid","storage.read:/"],"id_token":"idt","expires_at":1800000600}`
	if string(b) != want {
		t.Errorf("EncodeUse =\n %s\nwant\n %s", b, want)
	}
	if strings.Contains(string(b), "rt") && strings.Contains(string(b), `"refresh_token"`) {
		t.Error("refresh_token leaked into .use")
	}
	var anyv map[string]any
	if err := json.Unmarshal(b, &anyv); err != nil {
		t.Errorf("output is not JSON: %v", err)
	}
	if _, err := EncodeUse(NewObject(), now); err == nil {
		t.Error("EncodeUse without access_token succeeded")
	}
}

func FuzzParseTop(f *testing.F) {
	for _, s := range []string{`{"refresh_token":"a","scopes":"x,y"}`, "alice", "{\n \"refresh_token\": \"r\"\n}\n", `{"a":{"b":[1,{"c":null}]}}`,
		`{"refresh_token":"a","refresh_token":"b"}`, `{"refresh_token":"a","scopes":"x","scopes":"y"}`,
		`{"refresh_token":"a","refresh\u005ftoken":"b"}`, `{"refresh_token":"a","x":{"k":1,"k":2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		top, err := ParseTop(b)
		if err != nil {
			return
		}
		if lenient, err := ParseObject(b); err != nil || len(lenient.Keys()) != len(top.Object().Keys()) {
			t.Fatalf("ParseTop accepted what ParseObject reads differently (%v): %q", err, b)
		}
		out := top.WithRefreshToken("new")
		again, err := ParseTop(out)
		if err != nil {
			t.Fatalf("rewritten .top does not parse: %v\n%s", err, out)
		}
		if again.RefreshToken() != "new" {
			t.Fatalf("rewritten refresh token = %q", again.RefreshToken())
		}
		if fmt.Sprint(again.Object().Keys()) != fmt.Sprint(top.Object().Keys()) {
			t.Fatalf("keys changed: %v -> %v", top.Object().Keys(), again.Object().Keys())
		}
		for _, k := range top.Object().Keys() {
			before, _ := top.Object().Raw(k)
			after, _ := again.Object().Raw(k)
			if k != "refresh_token" && string(before) != string(after) {
				t.Fatalf("rewrite changed %q: %s -> %s", k, before, after)
			}
		}
		if strings.ContainsAny(string(out), "\n") {
			t.Fatalf("rewritten .top has a newline: %q", out)
		}
	})
}

func FuzzParseUse(f *testing.F) {
	for _, s := range []string{`{"access_token":"x","expires_in":10}`, "tok\n", "# c\n" + jwtWith(`{"exp":1}`), `{"access_token":"x","expires_at":1e300}`,
		`{"access_token":"x","access_token":"y","expires_in":1,"expires_in":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUse(b)
		if err != nil {
			return
		}
		w := time.Unix(1_800_000_000, 0)
		iss, exp, ok := u.Lifetime(w)
		if ok && iss.After(exp) {
			t.Fatalf("issued %v after expiry %v", iss, exp)
		}
	})
}

func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(`{"client_id":"c","client_secret":"s","token_url":"https://x","use_refresh_token":true}`))
	f.Add([]byte(`{"client_id":"c","token_url":"https://x","token_url":"","client_id":"d"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMeta(b)
		if err == nil && (m.ClientID == "" || m.TokenURL == "") {
			t.Fatalf("accepted meta without required fields: %+v", m)
		}
	})
}

func FuzzEncodeUse(f *testing.F) {
	f.Add([]byte(`{"access_token":"at","expires_in":"60","scope":"a b","refresh_token":"r"}`))
	f.Add([]byte(`{"access_token":"at","refresh_token":"r1","refresh_token":"r2","access_token":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := ParseObject(b)
		if err != nil {
			return
		}
		out, err := EncodeUse(obj, time.Unix(1_800_000_000, 0))
		if err != nil {
			return
		}
		if strings.Contains(string(out), "\n") {
			t.Fatalf(".use has a newline: %q", out)
		}
		u, err := ParseUse(out)
		if err != nil {
			t.Fatalf("encoded .use does not parse: %v: %s", err, out)
		}
		if !u.JSON || u.AccessToken == "" {
			t.Fatalf("encoded .use lost its token: %s", out)
		}
		o2, _ := ParseObject(out)
		if o2.Has("refresh_token") {
			t.Fatalf(".use kept refresh_token: %s", out)
		}
	})
}

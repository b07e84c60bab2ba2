package localissuer_test

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/localissuer"
)

func TestEncodeUse(t *testing.T) {
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
	tests := []struct {
		name     string
		token    string
		lifetime time.Duration
		json     bool
		want     string
	}{
		{"json", jwt, 1200 * time.Second, true, `{"access_token": "` + jwt + `", "expires_in": 1200}`},
		{"json, fraction truncated like int()", jwt, 1200*time.Second + 900*time.Millisecond, true, `{"access_token": "` + jwt + `", "expires_in": 1200}`},
		{"json, empty token for non-members", "", 1200 * time.Second, true, `{"access_token": "", "expires_in": 1200}`},
		{"bare", jwt, 1200 * time.Second, false, jwt + "\n"},
		{"bare, empty token for non-members", "", 1200 * time.Second, false, "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eq(t, "EncodeUse", string(localissuer.EncodeUse(tc.token, tc.lifetime, tc.json)), tc.want)
		})
	}
}

// TestEncodeUseMatchesPython compares EncodeUse with CPython's json.dumps of
// the dict write_access_token builds, byte for byte, including strings no
// JWT contains (the escaping must still be Python's).
func TestEncodeUseMatchesPython(t *testing.T) {
	py := python3(t)
	tokens := []string{"", "a.b.c", `quote" back\slash`, "ctl\x00\x01\x1f\x7f", "\b\f\n\r\t", "é€😀", "\u2028</script>&", "\ufffd"}
	in, _ := json.Marshal(tokens)
	const script = `
import json, sys
out = [json.dumps({"access_token": t, "expires_in": int(1200)}) for t in json.load(sys.stdin)]
json.dump(out, sys.stdout)
`
	var want []string
	if err := json.Unmarshal(run(t, in, py, "-c", script), &want); err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		eq(t, "EncodeUse("+tok+")", string(localissuer.EncodeUse(tok, 1200*time.Second, true)), want[i])
	}
}

// TestMintedUseParses checks the .use of a real token the way consumers
// read it: one JSON object on one line with access_token and expires_in.
func TestMintedUseParses(t *testing.T) {
	m := fixedMinter(esKey(t, "local"))
	tok, _ := mint2(t, m)
	use := localissuer.EncodeUse(tok, m.Config.Lifetime, true)
	for _, c := range use {
		if c == '\n' {
			t.Fatal(".use JSON spans more than one line")
		}
	}
	var v struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(use, &v); err != nil {
		t.Fatal(err)
	}
	eq(t, "access_token", v.AccessToken, tok)
	eq(t, "expires_in", v.ExpiresIn, 1200)
}

// Mint encodes claims from a struct and assembles the JWS itself (the
// daemon's fast path); MintClaims goes through BuildClaims and golang-jwt's
// Token API (the reference). For every claim rule both must produce the same
// header and payload, and Mint's token must verify.
func TestMintFastPathMatchesReference(t *testing.T) {
	key := esKey(t, "k<&>1") // a kid that json.Marshal escapes
	jwks, err := localissuer.JWKS(key)
	if err != nil {
		t.Fatal(err)
	}
	configs := map[string]func(*localissuer.Config){
		"scitoken":     func(c *localissuer.Config) {},
		"wlcg":         func(c *localissuer.Config) { c.Version = "WLCG:1.0" },
		"no version":   func(c *localissuer.Config) { c.Version = ""; c.Audience = nil },
		"other ver":    func(c *localissuer.Config) { c.Version = "scitokens:1.0"; c.Audience = []string{"a", "", "b"} },
		"group scopes": func(c *localissuer.Config) { c.AuthzGroupTemplate = "read:/g/{groupname} {{x}}" },
	}
	reqs := []localissuer.Request{
		{Username: "alice"},
		{Username: "bob", ExprScope: "compute.create \"q\"", HasExprScope: true, Groups: []string{"g1", "", "g2"}},
		{Username: "ünï<code>"},
	}
	for name, mod := range configs {
		for _, req := range reqs {
			cfg := baseConfig()
			mod(&cfg)
			m := &localissuer.Minter{Key: key, Config: cfg, Now: func() time.Time { return fixedNow }}
			fast, err := m.Mint(req)
			if err != nil {
				t.Fatalf("%s %s: %v", name, req.Username, err)
			}
			ref, _, err := m.MintClaims(req)
			if err != nil {
				t.Fatal(err)
			}
			fp, rp := strings.Split(fast, "."), strings.Split(ref, ".")
			if fp[0] != rp[0] {
				t.Errorf("%s: header %s; reference %s", name, fp[0], rp[0])
			}
			fc, rc := decodeJSONSegment(t, fp[1]), decodeJSONSegment(t, rp[1])
			delete(fc, "jti")
			delete(rc, "jti")
			if !reflect.DeepEqual(fc, rc) {
				t.Errorf("%s %s: payload\n%v\nreference\n%v", name, req.Username, fc, rc)
			}
			if _, err := localissuer.Verify(fast, jwks, localissuer.VerifyOptions{Now: func() time.Time { return fixedNow }}); err != nil {
				t.Errorf("%s: fast token does not verify: %v", name, err)
			}
		}
	}
}

func decodeJSONSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

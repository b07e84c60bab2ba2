package vault

import (
	"strings"
	"testing"

	"github.com/credmon/credmon/internal/redact"
	"github.com/credmon/credmon/internal/tokenchars"
)

// The parsers read what a Vault, or anything answering in its place,
// sends: they must never panic, and what they keep must be usable (tokens
// a header can carry, durations that are not negative) and, for error
// texts, one scrubbed line.

const fuzzSecret = "hvs.FUZZSECRETFUZZSECRETFUZZSECRET0123"

func FuzzParseErrors(f *testing.F) {
	for _, s := range []string{
		`{"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]}`,
		`{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`,
		`{"errors":[]}`,
		`{"errors":["authorization_pending"]}`,
		`{"errors":["token ` + fuzzSecret + ` expired", 42, null]}`,
		`{"errors":"not a list"}`,
		`<html>502</html>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs := parseErrors(body, []string{fuzzSecret})
		if len(msgs) > maxMessages {
			t.Fatalf("%d messages; at most %d", len(msgs), maxMessages)
		}
		for _, m := range msgs {
			if m == "" || len(m) > redact.DescriptionLen+3 || strings.Contains(m, fuzzSecret) {
				t.Fatalf("message %q is empty, too long or holds the secret", m)
			}
			for i := 0; i < len(m); i++ {
				if m[i] < 0x20 || m[i] > 0x7e {
					t.Fatalf("message %q has byte %#x", m, m[i])
				}
			}
		}
	})
}

func FuzzParseAuth(f *testing.F) {
	for _, s := range []string{
		`{"auth":{"client_token":"hvs.abc","accessor":"x","policies":["default"],"metadata":{"credkey":"alice","n":1},"lease_duration":2419200,"renewable":true}}`,
		`{"auth":{"client_token":"hvs.abc","lease_duration":"3600"}}`,
		`{"auth":{"client_token":"bad token","lease_duration":1}}`,
		`{"auth":{"client_token":"hvs.abc","lease_duration":-1}}`,
		`{"auth":null,"data":{}}`,
		`{"auth":{"client_token":"hvs.abc","lease_duration":1e300}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := parseAuth(body)
		if err != nil {
			return
		}
		if !tokenchars.AccessToken(a.ClientToken) || a.LeaseDuration < 0 {
			t.Fatalf("parsed %+v: unusable token or negative lease", a)
		}
	})
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{
		`{"data":{"access_token":"eyJ.a.b","type":"Bearer","expire_time":"2026-12-04T08:00:00.123456789Z","server":"igwn"}}`,
		`{"data":{"access_token":"eyJ.a.b","expire_time":null}}`,
		`{"data":{"access_token":"eyJ.a.b","expire_time":"yesterday"}}`,
		`{"data":{"access_token":"a b"}}`,
		`{"data":{}}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := parseBearer(body)
		if err != nil {
			return
		}
		if !tokenchars.AccessToken(b.AccessToken) {
			t.Fatalf("parsed access token %q is not header-safe", b.AccessToken)
		}
	})
}

func FuzzParseLookupAndAuthURL(f *testing.F) {
	for _, s := range []string{
		`{"data":{"ttl":604800,"policies":["default"],"renewable":false,"expire_time":"2026-12-11T08:00:00Z","id":"hvs.x"}}`,
		`{"data":{"ttl":"60","expire_time":null}}`,
		`{"data":{"ttl":-5}}`,
		`{"data":{"auth_url":"https://cilogon.org/device/?user_code=ABC","user_code":"ABC","state":"st","poll_interval":"3"}}`,
		`{"data":{"auth_url":"javascript:alert(1)","state":"st","poll_interval":3}}`,
		`{"data":{"auth_url":"https://x","state":"st","poll_interval":1.5}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if info, err := parseLookup(body); err == nil && info.TTL < 0 {
			t.Fatalf("negative ttl %v", info.TTL)
		}
		if da, err := parseAuthURL(body); err == nil {
			if da.PollInterval < 0 || !strings.HasPrefix(strings.ToLower(da.AuthURL), "http") {
				t.Fatalf("parsed %+v: negative interval or a non-http auth_url", da)
			}
		}
	})
}

func TestMultierrorHeader(t *testing.T) {
	for in, want := range map[string]bool{
		"1 error occurred:": true, "12 errors occurred:": true, "error occurred:": false,
		"1 error occurred: permission denied": false, "x errors occurred:": false,
	} {
		if got := isMultierrorHeader(in); got != want {
			t.Errorf("isMultierrorHeader(%q) = %v; want %v", in, got, want)
		}
	}
}

package credfile

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestParsePelicanTop(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://issuer.example","sub":"alice"}`))
	jwt := "eyJhbGciOiJub25lIn0." + payload + ".sig"
	for _, tc := range []struct {
		name, in            string
		rt, subject, issuer string
		scopes              []string
		err                 string
	}{
		{name: "storer", in: `{"access_token": "` + jwt + `", "scope": "offline_access storage.read:/a", "audience": "https://osdf"}`,
			subject: jwt, issuer: "https://issuer.example", scopes: []string{"offline_access", "storage.read:/a"}},
		{name: "subject_token", in: `{"subject_token": "opaque"}`, subject: "opaque"},
		{name: "exchanged", in: `{"refresh_token": "rt", "token_url": "https://i/token", "iss": "https://i", "scope": ["a", "b"]}`,
			rt: "rt", issuer: "https://i", scopes: []string{"a", "b"}},
		{name: "neither", in: `{"scope": "x"}`, err: "neither"},
		{name: "bad subject", in: `{"access_token": "a b"}`, err: "visible ASCII"},
		{name: "not JSON", in: `refresh_token`, err: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top, err := ParsePelicanTop([]byte(tc.in))
			if tc.err != "" || tc.name == "not JSON" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if top.RefreshToken != tc.rt || top.SubjectToken != tc.subject || top.Issuer != tc.issuer || strings.Join(top.Scopes(), " ") != strings.Join(tc.scopes, " ") {
				t.Errorf("top = %+v scopes %v", top, top.Scopes())
			}
		})
	}
}

func TestPelicanExchangedAndUse(t *testing.T) {
	top, err := ParsePelicanTop([]byte(`{"access_token": "sub", "scope": "offline_access s", "audience": "https://a", "extra": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(top.Exchanged("rt1", "https://i/token")), `{"refresh_token":"rt1","token_url":"https://i/token","scope":"offline_access s","audience":"https://a"}`; got != want {
		t.Errorf("Exchanged = %s; want %s", got, want)
	}
	if got, want := string(EncodePelicanUse("at", "", 1200)), `{"access_token": "at", "token_type": "Bearer", "expires_in": 1200}`; got != want {
		t.Errorf("EncodePelicanUse = %s; want %s", got, want)
	}
	u, err := ParseUse(EncodePelicanUse("at", "bearer", 60))
	if err != nil || u == nil {
		t.Errorf("ParseUse of a Pelican .use: %v", err)
	}
}

func FuzzParsePelicanTop(f *testing.F) {
	f.Add([]byte(`{"access_token": "a.eyJpc3MiOiJ4In0.c", "scope": "s", "audience": ["a"]}`))
	f.Add([]byte(`{"refresh_token": "r", "token_url": "u", "iss": "i"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		top, err := ParsePelicanTop(b)
		if err != nil {
			return
		}
		if top.RefreshToken == "" && top.SubjectToken == "" {
			t.Fatal("accepted a .top without a token")
		}
		out := top.Exchanged("rt", "https://i/token")
		again, err := ParsePelicanTop(out)
		if err != nil || again.RefreshToken != "rt" || again.Issuer != top.Issuer {
			t.Fatalf("Exchanged does not parse back: %s: %v", out, err)
		}
		_ = top.Scopes()
		_ = top.Audiences()
	})
}

package credfile

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseVaultTop: what condor_vault_storer and credd write for Vault
// credentials, and what is refused.
func TestParseVaultTop(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     *VaultTop // nil: an error
	}{
		{"storer's parent", `{"vault_token": "hvs.abc", "vault_url": "https://v.example:8200/v1/secret/oauth/creds/igwn/alice:default"}`,
			&VaultTop{Token: "hvs.abc", URL: "https://v.example:8200/v1/secret/oauth/creds/igwn/alice:default"}},
		{"credd's handle with -S/-A, no vault_token",
			"{\n    \"vault_url\": \"https://v.example:8200/v1/secret/oauth/sts/igwn/alice:default\",\n    \"scopes\": \"read:/a,read:/b\",\n    \"audience\": \"https://aud\"\n}\n",
			&VaultTop{URL: "https://v.example:8200/v1/secret/oauth/sts/igwn/alice:default", Scopes: []string{"read:/a", "read:/b"}, Audience: []string{"https://aud"}}},
		{"no vault_url", `{"vault_token": "hvs.abc"}`, nil},
		{"empty vault_url", `{"vault_token": "hvs.abc", "vault_url": " "}`, nil},
		{"a line break in the token", `{"vault_token": "hvs.a\nX-Evil: 1", "vault_url": "https://v:8200/v1/x"}`, nil},
		{"duplicate key", `{"vault_url": "https://a:8200/v1/x", "vault_url": "https://b:8200/v1/x"}`, nil},
		{"not JSON", `hvs.abc`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVaultTop([]byte(tt.in))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("ParseVaultTop = %+v; want an error", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseVaultTop = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestVaultParent: a handle takes its Vault token from the name up to
// its last "_", as condor_credmon_vault does.
func TestVaultParent(t *testing.T) {
	for in, want := range map[string]string{"igwn_read": "igwn", "igwn_robot_read": "igwn_robot", "igwn": "", "_x": ""} {
		got, ok := VaultParent(in)
		if got != want || ok != (want != "") {
			t.Errorf("VaultParent(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// FuzzParseVaultTop: total, and what it accepts is usable: a vault_url,
// and a Vault token that can go into a header.
func FuzzParseVaultTop(f *testing.F) {
	f.Add([]byte(`{"vault_token":"hvs.x","vault_url":"https://v:8200/v1/secret/oauth/creds/i/a:r"}`))
	f.Add([]byte("{\"vault_url\":\"https://v:8200/v1/x\",\"scopes\":[\"a\",\"b\"],\"audience\":\"c\"}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseVaultTop(b)
		if err != nil {
			return
		}
		if v.URL == "" || strings.ContainsAny(v.Token, "\r\n \t") {
			t.Fatalf("accepted an unusable Vault .top: url %q, token with white space %v", v.URL, v.Token != "")
		}
	})
}

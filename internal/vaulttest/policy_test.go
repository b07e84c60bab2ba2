package vaulttest

import "testing"

func TestPathMatchIsVaults(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"secret/oauth/creds/test/alice:default", "secret/oauth/creds/test/alice:default", true},
		{"secret/oauth/creds/test/alice:default", "secret/oauth/creds/test/alice:defaultx", false},
		{"secret/oauth/creds/test/alice/*", "secret/oauth/creds/test/alice/robot/host:default", true},
		{"secret/oauth/creds/test/alice/*", "secret/oauth/creds/test/alice:default", false},
		{"secret/oauth/creds/test/alice*", "secret/oauth/creds/test/alice:default", true},
		{"secret/oauth/creds/test/alice*", "secret/oauth/creds/test/bob:default", false},
		{"secret/oauth/+/test/alice:default", "secret/oauth/sts/test/alice:default", true},
		{"secret/oauth/+/test/alice:default", "secret/oauth/sts/x/test/alice:default", false},
		{"auth/token/create", "auth/token/create-orphan", false},
	} {
		if got := pathMatch(tc.pattern, tc.path); got != tc.want {
			t.Errorf("pathMatch(%q, %q) = %v; want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

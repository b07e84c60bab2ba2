package vaultsource

import (
	"strings"
	"testing"
	"time"
)

// TestGettokenOptsLaterWinsAndUnknownRefused protects how htgettoken's
// options reach the Vault source: later options win (HTGETTOKENOPTS, then
// the knob, then &options=), both --opt=value and --opt value work, and
// an option the source would not follow fails the run instead of being
// silently ignored.
func TestGettokenOptsLaterWinsAndUnknownRefused(t *testing.T) {
	o, err := parseGettokenOpts([]string{"--vaulttokenttl=14d", "-a", "v1.example", "--vaultserver=v2.example",
		"--credkey=a", "--credkey", "b", "-r", "r1", "--minsecs=3600", "-v", "--nokerberos", "--vaulttokenminttl", "6d"})
	if err != nil {
		t.Fatal(err)
	}
	if o.server != "v2.example" || o.credkey != "b" || o.role != "r1" || o.minsecs != time.Hour || o.ttl != 14*24*time.Hour || !o.noKerberos || o.noOIDC {
		t.Errorf("parsed %+v", o)
	}
	o, err = parseGettokenOpts([]string{"--vaultserver=v.example"})
	if err != nil || o.role != "default" || o.ttl != condorVaultTokenTTL || o.minsecs != time.Minute {
		t.Errorf("defaults %+v, %v; want role default, 28 days, 60 s", o, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--vaultserver=v", "--kerbpath=auth/x"}, "not supported"},
		{[]string{"--vaultserver=v", "--credkey"}, "needs a value"},
		{[]string{"--credkey=k"}, "no --vaultserver"},
		{[]string{"--vaultserver=v", "--vaulttokenttl=3d"}, "must be longer"},
		{[]string{"--vaultserver=v", "--minsecs=1h"}, "--minsecs"},
	} {
		if _, err := parseGettokenOpts(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want %q", tc.args, err, tc.want)
		}
	}
}

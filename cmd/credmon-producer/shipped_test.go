package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/credtest"
)

// TestShippedBinarySaysTheVaultSourceIsMissing runs run() as linked
// without -tags credmontest, i.e. with the shipped source: until the Vault
// source is plugged in, a Vault service must fail the submit with a reason,
// after asking credd and before storing anything.
func TestShippedBinarySaysTheVaultSourceIsMissing(t *testing.T) {
	s := newSubmit(t, siteConfig)
	t.Setenv("CONDOR_CONFIG", s.config)
	t.Setenv("PATH", s.env["PATH"])
	t.Setenv(credtest.EnvStoreCredLog, s.storeLog)
	t.Setenv(credtest.EnvStoreCredDir, s.credd.Dir)
	env := func(k string) string {
		if v, ok := s.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"/usr/bin/credmon-producer", "igwn"}, env, &stdout, &stderr)
	if code != exitFailure || !strings.HasPrefix(stderr.String(), "\ncredmon-producer: ") || !strings.Contains(stderr.String(), errNoVaultSource.Error()) {
		t.Errorf("exit %d, stderr %q; want 1 and the missing-source reason", code, stderr.String())
	}
	b, _ := os.ReadFile(s.storeLog)
	if got := string(b); got != "query-oauth -s igwn\n" {
		t.Errorf("condor_store_cred calls %q; want the query only", got)
	}
	if _, err := os.Stat(s.credd.TopPath(s.user, "igwn")); !os.IsNotExist(err) {
		t.Errorf("igwn.top exists (%v); want nothing stored", err)
	}
}

package renewer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// BenchmarkRunOnce renews 1,000 tokens spread over 4 oidc-agent accounts
// against the real provider (which rotates the refresh token on every
// refresh). Per run each account is decrypted once (Argon2id, ~100 ms,
// 64 MiB) and saved about once a second (defaultCommitInterval), so the
// fixed cost is per account and the rest is one refresh request per
// token. "norotate" is a provider that keeps the refresh token (no
// account saves). "skip" is the min_lifetime path: no network, one JWT decode per
// token, no decryption at all.
func BenchmarkRunOnce(b *testing.B) {
	b.Run("rotating", func(b *testing.B) { benchRunOnce(b, oidcprovider.ProviderOptions{}) })
	b.Run("norotate", func(b *testing.B) { benchRunOnce(b, oidcprovider.ProviderOptions{NoRotate: true}) })
}

func benchRunOnce(b *testing.B, opts oidcprovider.ProviderOptions) {
	const tokens, accounts = 1000, 4
	e2 := newEnv(b, opts)
	var ini strings.Builder
	for a := range accounts {
		pw := e2.account(fmt.Sprintf("acct%d", a), "compute.read")
		fmt.Fprintf(&ini, "[account acct%d]\npassword_file = %s\n", a, pw)
	}
	for i := range tokens {
		fmt.Fprintf(&ini, "[token t%d]\naccount = acct%d\ntoken_path = %s/t%d.token\nscope = compute.read\n", i, i%accounts, e2.dir, i)
	}
	for _, bc := range []struct {
		name  string
		extra string
	}{{"renew", ""}, {"skip", "[DEFAULT]\nmin_lifetime = 60\n"}} {
		b.Run(bc.name, func(b *testing.B) {
			r := e2.renewer(bc.extra + ini.String())
			r.Log = hclog.NewNullLogger()
			if bc.name == "skip" {
				if _, err := r.RunOnce(context.Background()); err != nil { // make every file fresh
					b.Fatal(err)
				}
			}
			var n int
			start := time.Now()
			for b.Loop() {
				rep, err := r.RunOnce(context.Background())
				if err != nil || rep.exitCode() != exitOK {
					b.Fatalf("RunOnce: %v, exit %d", err, rep.exitCode())
				}
				n += len(rep.Tokens)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "tokens/s")
		})
	}
}

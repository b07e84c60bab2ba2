package oidcprovider_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// These benchmarks give the baselines that credmon's own benchmarks are
// compared with: how fast the provider hands out grants (the setup cost of
// a 10,000-user benchmark) and how fast a bare client can refresh against
// it (an upper bound on credmon's refresh throughput).

var benchReq = oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret}

func BenchmarkStartOIDCProvider(b *testing.B) {
	for b.Loop() {
		p := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{})
		p.Stop()
	}
}

func BenchmarkNewRefreshToken(b *testing.B) {
	p := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{})
	for b.Loop() {
		p.NewRefreshToken(b, benchReq)
	}
}

func BenchmarkNewRefreshTokens(b *testing.B) {
	for _, conc := range []int{2, 4, 8} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			p := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{})
			const n = 64
			for b.Loop() {
				p.NewRefreshTokens(b, benchReq, n, conc)
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N*n)/float64(time.Millisecond), "ms/grant")
		})
	}
}

func BenchmarkCloneRefreshTokens(b *testing.B) {
	p := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{})
	const n = 256
	for b.Loop() {
		p.CloneRefreshTokens(b, benchReq, n, 4)
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N*n)/float64(time.Millisecond), "ms/grant")
}

// BenchmarkRefresh is a rotated refresh chain: every refresh uses the
// refresh token the previous one returned, as credmon does.
func BenchmarkRefresh(b *testing.B) {
	p := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{})
	rt := p.NewRefreshToken(b, benchReq).RefreshToken
	ctx := context.Background()
	for b.Loop() {
		body, status, err := p.Refresh(ctx, benchReq.ClientID, benchReq.ClientSecret, rt, nil)
		if err != nil || status != 200 {
			b.Fatalf("refresh: HTTP %d %v %v", status, body, err)
		}
		rt = body["refresh_token"].(string)
	}
}

// BenchmarkRefreshConcurrent8 runs 8 independent rotated chains at once.
func BenchmarkRefreshConcurrent8(b *testing.B) {
	const conc = 8
	p := oidcprovider.StartOIDCProvider(b, oidcprovider.ProviderOptions{})
	grants := p.NewRefreshTokens(b, benchReq, conc, conc)
	ctx := context.Background()
	b.ResetTimer()
	work := make(chan struct{})
	var wg sync.WaitGroup
	for i := range conc {
		rt := grants[i].RefreshToken
		wg.Go(func() {
			for range work {
				body, status, err := p.Refresh(ctx, benchReq.ClientID, benchReq.ClientSecret, rt, nil)
				if err != nil || status != 200 {
					b.Errorf("refresh: HTTP %d %v %v", status, body, err)
					return
				}
				rt = body["refresh_token"].(string)
			}
		})
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
}

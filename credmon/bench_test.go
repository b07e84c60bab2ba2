package credmon_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/internal/vaulttest"
)

// BenchmarkMonitorRefresh measures the in-process cost of refreshing many
// tokens with no .use (a fresh start): run with -cpuprofile to see where the
// daemon's own CPU goes. The issuer is the real provider.
func BenchmarkMonitorRefresh(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b, envOptions{noStart: true, infoLog: true, noWatch: os.Getenv("BENCH_NOWATCH") != ""})
		grants := e.idp.CloneRefreshTokens(b, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"}, n, 4)
		for j, g := range grants {
			u := filepath.Join(e.dir, fmt.Sprintf("u%04d", j))
			os.MkdirAll(u, 0o700)
			blob, _ := json.Marshal(map[string]string{"refresh_token": g.RefreshToken})
			os.WriteFile(filepath.Join(u, "disc.top"), blob, 0o600)
		}
		b.StartTimer()
		e.start()
		e.waitFor("all refreshed", func() bool { return e.mon.Stats().Refreshes >= n })
		b.StopTimer()
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(float64(ru.Utime.Nano()+ru.Stime.Nano())/1e9, "process_cpu_s")
		st := e.mon.Stats()
		b.ReportMetric(float64(st.Listings), "dir_listings")
		b.ReportMetric(float64(st.Passes), "passes")
		e.stop()
	}
}

// BenchmarkVaultRefresh: N Vault credentials (CREDMON_BENCH_VAULT_CREDS,
// default 200; the figure is 10000), none with a .use: time from
// the daemon's start until every one is refreshed through the Vault test
// server (which refreshes each at the real provider), against a bare HTTP
// client sending the same N requests (GET vault_url with X-Vault-Token and
// minimum_seconds) for other credentials at the daemon's concurrency
// (WORKERS), without writing anything: the floor. Both runs make Vault do
// the same work (one refresh grant at the provider per credential); the
// daemon also looks each user's Vault token up once.
func BenchmarkVaultRefresh(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("CREDMON_BENCH_VAULT_CREDS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b, envOptions{noStart: true, vault: true, infoLog: true,
			provider: oidcprovider.ProviderOptions{AccessTokenTTL: time.Hour}})
		grants := e.idp.CloneRefreshTokens(b, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDBasic,
			ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"}, 2*n, 4)
		e.vault.AddPolicy("bench", vaulttest.Rule{Path: "secret/oauth/creds/" + vaulttest.DefaultIssuer + "/*", Capabilities: []string{"read"}})
		users := make([]string, 2*n)
		for j, g := range grants {
			users[j] = fmt.Sprintf("u%05d", j)
			e.vault.SeedRefreshToken(vaulttest.DefaultIssuer, users[j], vaulttest.DefaultRole, g.RefreshToken)
		}
		// One Vault token per user, as condor_vault_storer leaves them: the
		// daemon looks each up once (lookup-self, for the expiry warning),
		// a request the bare client does not make.
		tokens := make([]string, 2*n)
		for j := range tokens {
			tokens[j] = e.vault.MintToken(vaulttest.TokenSpec{Policies: []string{"bench"}, TTL: vaulttest.DefaultLoginTTL})
		}
		for j, u := range users[n:] {
			top, _ := json.Marshal(map[string]string{"vault_token": tokens[n+j], "vault_url": vaultURL("creds", u)})
			os.MkdirAll(filepath.Join(e.dir, u), 0o700)
			os.WriteFile(filepath.Join(e.dir, u, "igwn.top"), top, 0o600)
		}

		bare := bareVault(b, e, tokens[:n], users[:n])
		b.StartTimer()
		start := time.Now()
		e.start()
		e.waitFor("all refreshed", func() bool { return e.mon.Stats().Refreshes >= int64(n) })
		took := time.Since(start)
		b.StopTimer()
		if f := e.mon.Stats().Failures; f > 0 {
			b.Fatalf("%d failures:\n%s", f, e.logs.String())
		}
		b.ReportMetric(float64(n), "creds")
		b.ReportMetric(bare.Seconds(), "bare_s")
		b.ReportMetric(took.Seconds(), "daemon_s")
		b.ReportMetric(took.Seconds()/bare.Seconds(), "ratio_vs_bare")
		e.stop()
	}
}

// bareVault sends condor_credmon_vault's request for each user with a
// plain HTTP client (the test server's CA, keep-alive) at the daemon's
// concurrency, and returns how long they took.
func bareVault(b *testing.B, e *env, tokens, users []string) time.Duration {
	b.Helper()
	pem, err := os.ReadFile(e.vault.CAFile)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	const workers = 8 // the daemon's default WORKERS, its slots per issuer
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: workers}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				req, _ := http.NewRequest(http.MethodGet, e.vault.URL+"/v1/"+vault.CredsPath(vaulttest.DefaultIssuer, users[i], vaulttest.DefaultRole)+"?minimum_seconds=2400", nil)
				req.Header.Set("X-Vault-Token", tokens[i])
				resp, err := hc.Do(req)
				if err != nil {
					failed.Store(err.Error())
					continue
				}
				var body struct {
					Data struct {
						AccessToken string `json:"access_token"`
					} `json:"data"`
				}
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || body.Data.AccessToken == "" {
					failed.Store(resp.Status)
				}
			}
		}()
	}
	for i := range users {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	if v := failed.Load(); v != nil {
		b.Fatalf("bare Vault request failed: %v", v)
	}
	return took
}

package credmon_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/oidcprovider"
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

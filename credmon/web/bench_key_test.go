package web_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkKeyHandler is the server's own share of one /key visit, without
// the network or the scheduler: the key file read and parsed, a session
// made, the redirect written (key_ns, key_allocs, both counting the test's
// request and recorder). Its baseline, measured in
// the same run, is the static stylesheet through the same handler (headers,
// routing, the recorder): key_vs_static says what a key file costs.
func BenchmarkKeyHandler(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	const n = 1000
	keys := writeBenchKeys(b, f, n)
	visit := func(path string, want int) {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			b.Fatalf("%s: HTTP %d", path, w.Code)
		}
	}
	// Its own loop, like BenchmarkKeyVisits, so that `-benchtime=1x`
	// (make bench) still times 20,000 visits of each.
	const visits = 20000
	per := func(path string, want int) (time.Duration, float64) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		for i := range visits * b.N {
			visit(strings.Replace(path, "KEY", keys[i%n], 1), want)
		}
		d := time.Since(t0) / time.Duration(visits*b.N)
		runtime.ReadMemStats(&m1)
		return d, float64(m1.Mallocs-m0.Mallocs) / float64(visits*b.N)
	}
	static, _ := per("/static/web.css", http.StatusOK)
	key, allocs := per("/key/KEY", http.StatusSeeOther)
	b.ReportMetric(float64(key.Nanoseconds()), "key_ns")
	b.ReportMetric(allocs, "key_allocs")
	b.ReportMetric(float64(static.Nanoseconds()), "static_ns")
	b.ReportMetric(float64(key)/float64(static), "key_vs_static")
}

package web_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkKeyHandler is the server's own share of one /key visit, without
// the network or the scheduler: the key file read and parsed, a session
// made, the redirect written (ns/op, allocs/op). Its baseline, measured in
// the same run, is the static stylesheet through the same handler (headers,
// routing, the recorder): key_vs_static says what a key file costs.
func BenchmarkKeyHandler(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	const n = 1000
	keys := make([]string, n)
	for i := range keys {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		keys[i] = hex.EncodeToString(k)
		a1, a2 := testAd(f), testAd(f)
		a2.Provider = "gdrive"
		if err := os.WriteFile(filepath.Join(f.credDir, keys[i]), []byte(a1.String()+"\n"+a2.String()), 0o640); err != nil {
			b.Fatal(err)
		}
	}
	visit := func(path string, want int) {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			b.Fatalf("%s: HTTP %d", path, w.Code)
		}
	}
	const baseline = 20000
	t0 := time.Now()
	for range baseline {
		visit("/static/web.css", http.StatusOK)
	}
	static := time.Since(t0) / baseline
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		visit("/key/"+keys[i%n], http.StatusSeeOther)
		i++
	}
	perKey := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(static.Nanoseconds()), "static_ns")
	b.ReportMetric(float64(perKey)/float64(static), "key_vs_static")
}

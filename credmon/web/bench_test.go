package web_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkKeyVisits is issue 14's figure: 1,000 concurrent first visits
// of /key/<key> (1,000 distinct key files of two services each: read,
// parsed, a session made, the redirect sent) over loopback TCP, each
// request timed by its client. It prints p50/p99 and, as the house does, a
// ratio to a baseline measured in the same run: the same 1,000 concurrent
// requests for the app's static stylesheet (the server, the network and
// the scheduler without the key file's work). The goal is p99 < 50 ms; no
// wall-clock figure is asserted. It manages its own timing (nine pairs of
// waves per b.N), so `-benchtime=1x` (make bench) gives real figures.
//
// The visitors are 1,000 kept-alive HTTP/1.1 connections, as a reverse
// proxy holds them to the app (TLS ends at the proxy or, standalone, was
// paid when the browser connected), driven by rawConn, the least client
// there is: the visitors' browsers are not on the app's machine, but here
// they share its two cores, and net/http's client costs about twice what
// the server does per request, which would measure the load generator.
// The server is the app's real handler behind net/http's server.
func BenchmarkKeyVisits(b *testing.B) {
	const visits, wavePairs = 1000, 9
	// Server-side time: from the handler's start to its end, without the
	// queueing of 1,000 connections for two cores.
	var mu sync.Mutex
	var served []time.Duration
	f := newFixture(b, fixtureOptions{wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			h.ServeHTTP(w, r)
			if len(r.URL.Path) > 5 && r.URL.Path[:5] == "/key/" {
				d := time.Since(t0)
				mu.Lock()
				served = append(served, d)
				mu.Unlock()
			}
		})
	}})
	keys := writeBenchKeys(b, f, visits)
	addr := f.ts.Listener.Addr().String()
	conns := make([]*rawConn, visits)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = &rawConn{c: c, r: bufio.NewReader(c)}
	}
	wave := func(path func(i int) string, want int) []time.Duration {
		lat := make([]time.Duration, visits)
		reqs := make([][]byte, visits)
		for i := range reqs {
			reqs[i] = []byte("GET " + path(i) + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: bench\r\n\r\n")
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, visits)
		for i := 0; i < visits; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				t0 := time.Now()
				code, err := conns[i].do(reqs[i])
				lat[i] = time.Since(t0)
				if err == nil && code != want {
					err = fmt.Errorf("HTTP %d", code)
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %v", path(i), err)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return lat
	}
	pct := func(l []time.Duration, p float64) time.Duration {
		s := slices.Clone(l)
		slices.Sort(s)
		return s[int(p*float64(len(s)-1))]
	}
	median := func(l []float64) float64 {
		s := slices.Clone(l)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	// Warm the connections so both waves measure requests, not dials.
	wave(func(int) string { return "/static/web.css" }, http.StatusOK)
	// Waves in pairs, a static one then a key one, so that each ratio is
	// taken in the same conditions. A wave's p99 is the figure the goal
	// speaks of; the median wave is the estimate (a VM's neighbour or a
	// GC cycle can slow any one wave), and the worst wave is printed too.
	var keyP99, staticP99, ratios, keyP50 []float64
	for n := 0; n < wavePairs*b.N; n++ {
		base := wave(func(int) string { return "/static/web.css" }, http.StatusOK)
		key := wave(func(i int) string { return "/key/" + keys[i] }, http.StatusSeeOther)
		keyP99 = append(keyP99, ms(pct(key, 0.99)))
		keyP50 = append(keyP50, ms(pct(key, 0.50)))
		staticP99 = append(staticP99, ms(pct(base, 0.99)))
		ratios = append(ratios, float64(pct(key, 0.99))/float64(pct(base, 0.99)))
	}
	mu.Lock()
	s99 := pct(served, 0.99)
	mu.Unlock()
	b.ReportMetric(median(keyP50), "p50_ms")
	b.ReportMetric(median(keyP99), "p99_ms")
	b.ReportMetric(slices.Max(keyP99), "p99_worst_ms")
	b.ReportMetric(median(staticP99), "static_p99_ms")
	b.ReportMetric(median(ratios), "p99_vs_static")
	b.ReportMetric(ms(s99), "handler_p99_ms")
	b.Logf("%d concurrent /key visits, client-timed, median of %d waves: p50 %.1fms, p99 %.1fms (goal < 50ms; worst wave %.1fms); "+
		"static file p99 %.1fms; ratio %.2f; in the handler: p99 %v", visits, len(keyP99), median(keyP50), median(keyP99),
		slices.Max(keyP99), median(staticP99), median(ratios), s99)
}

// rawConn is one kept-alive HTTP/1.1 connection with the least client
// work: a prepared request written, the status line and headers scanned,
// the body (Content-Length) discarded.
type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

func (rc *rawConn) do(req []byte) (int, error) {
	if _, err := rc.c.Write(req); err != nil {
		return 0, err
	}
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		line, err = rc.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("no Content-Length")
	}
	_, err = io.CopyN(io.Discard, rc.r, int64(length))
	return code, err
}

// writeBenchKeys writes n key files of two services each, as credd would,
// and returns their keys.
func writeBenchKeys(b *testing.B, f *fixture, n int) []string {
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
	return keys
}

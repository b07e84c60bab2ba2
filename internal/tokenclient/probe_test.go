package tokenclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/credmon/credmon/internal/tokenclient"
)

// TestProbe: any HTTP answer is a status; a redirect is not followed; an
// http URL is refused without AllowInsecure before anything is sent.
func TestProbe(t *testing.T) {
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/token", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusMethodNotAllowed)
	}))
	defer srv.Close()
	c := &tokenclient.Client{AllowInsecure: true}
	for path, want := range map[string]int{"/token": http.StatusMethodNotAllowed, "/moved": http.StatusFound} {
		got, err := c.Probe(context.Background(), srv.URL+path)
		if err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", path, got, err, want)
		}
	}
	for _, m := range methods {
		if m != http.MethodHead {
			t.Errorf("probe sent %s", m)
		}
	}
	n := len(methods)
	_, err := (&tokenclient.Client{}).Probe(context.Background(), srv.URL+"/token")
	if !errors.Is(err, tokenclient.ErrInsecureURL) || len(methods) != n {
		t.Errorf("http without AllowInsecure: %v, %d requests", err, len(methods)-n)
	}
}

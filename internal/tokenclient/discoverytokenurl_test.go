package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// discoveryServer serves a discovery document naming tokenEndpoint (with
// %s replaced by the server's own URL) and counts requests.
func discoveryServer(t *testing.T, tls bool, tokenEndpoint string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	var srv *httptest.Server
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer": %q, "token_endpoint": %q}`, srv.URL, strings.ReplaceAll(tokenEndpoint, "%s", srv.URL))
	})
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDiscoverTokenURLHTTPSRule(t *testing.T) {
	t.Run("http issuer refused without a request", func(t *testing.T) {
		srv, hits := discoveryServer(t, false, "%s/token")
		_, err := DiscoverTokenURL(context.Background(), srv.Client(), srv.URL, false)
		if !errors.Is(err, ErrInsecureURL) || !IsPermanent(err) {
			t.Errorf("DiscoverTokenURL(http issuer) = %v; want a permanent ErrInsecureURL", err)
		}
		if hits.Load() != 0 {
			t.Errorf("%d requests sent to an http issuer", hits.Load())
		}
	})
	t.Run("http issuer allowed with the insecure switch", func(t *testing.T) {
		srv, _ := discoveryServer(t, false, "%s/token")
		u, err := DiscoverTokenURL(context.Background(), srv.Client(), srv.URL, true)
		if err != nil || u != srv.URL+"/token" {
			t.Errorf("DiscoverTokenURL(http issuer, insecure) = %q, %v; want %s/token", u, err, srv.URL)
		}
	})
	t.Run("https issuer naming an http token endpoint refused", func(t *testing.T) {
		srv, hits := discoveryServer(t, true, "http://idp.example.org/token")
		_, err := DiscoverTokenURL(context.Background(), srv.Client(), srv.URL, false)
		if !errors.Is(err, ErrInsecureURL) || !IsPermanent(err) {
			t.Errorf("DiscoverTokenURL(http token endpoint) = %v; want a permanent ErrInsecureURL", err)
		}
		if hits.Load() != 1 {
			t.Errorf("%d discovery requests; want 1", hits.Load())
		}
	})
	t.Run("https issuer and endpoint", func(t *testing.T) {
		srv, _ := discoveryServer(t, true, "%s/token")
		u, err := DiscoverTokenURL(context.Background(), srv.Client(), srv.URL, false)
		if err != nil || u != srv.URL+"/token" {
			t.Errorf("DiscoverTokenURL(https) = %q, %v; want %s/token", u, err, srv.URL)
		}
	})
	t.Run("bad issuer URLs", func(t *testing.T) {
		for _, issuer := range []string{"", "idp.example.org", "ftp://idp.example.org", "https:///x"} {
			if _, err := DiscoverTokenURL(context.Background(), nil, issuer, true); err == nil || !IsPermanent(err) {
				t.Errorf("DiscoverTokenURL(%q) = %v; want a permanent error", issuer, err)
			}
		}
	})
}

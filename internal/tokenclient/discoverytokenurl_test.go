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

// Discovery follows an issuer's redirect to another https document, but
// never one from https to http: a downgraded document could name any token
// endpoint. The insecure switch lifts the rule, as it does for URLs given.
func TestDiscoverRedirectPolicy(t *testing.T) {
	plain, plainHits := discoveryServer(t, false, "%s/token")
	var tlsSrv *httptest.Server
	tlsSrv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("to") {
		case "http":
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
		case "":
			http.Redirect(w, r, r.URL.Path+"?to=self-served", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer": %q, "token_endpoint": "%s/token"}`, tlsSrv.URL, tlsSrv.URL)
		}
	}))
	t.Cleanup(tlsSrv.Close)

	u, err := DiscoverTokenURL(context.Background(), tlsSrv.Client(), tlsSrv.URL, false)
	if err != nil || u != tlsSrv.URL+"/token" {
		t.Errorf("https redirect: %q, %v; want %s/token", u, err, tlsSrv.URL)
	}

	c := &Client{HTTPClient: tlsSrv.Client()}
	_, _, err = c.fetchMetadata(context.Background(), tlsSrv.URL+"/.well-known/openid-configuration?to=http")
	if !errors.Is(err, ErrInsecureURL) || plainHits.Load() != 0 {
		t.Errorf("https → http redirect: %v, %d requests to the http server; want ErrInsecureURL and none", err, plainHits.Load())
	}
	c.AllowInsecure = true
	if _, _, err = c.fetchMetadata(context.Background(), tlsSrv.URL+"/.well-known/openid-configuration?to=http"); err != nil || plainHits.Load() != 1 {
		t.Errorf("https → http redirect with the insecure switch: %v, %d requests; want it followed", err, plainHits.Load())
	}
}

package credmon

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/knobs"
)

// TestPelicanHTTPClientTLS: PELICAN_CREDMON_CA_FILE makes the Pelican
// client trust that CA (and only it); PELICAN_CREDMON_TLS_SKIP_VERIFY
// trusts anything; neither reaches the daemon's other HTTP client.
func TestPelicanHTTPClientTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(extra string) *knobs.Credmon {
		cfg, err := condorcfg.LoadString("t", "PELICAN_CREDMON_PROVIDER_NAMES = osdf\nosdf_PELICAN_CLIENT_ID = x\nosdf_PELICAN_CLIENT_SECRET_FILE = /x\n"+extra,
			condorcfg.Options{Subsystem: "CREDMON_OAUTH", ConfigVal: "-", Env: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := knobs.LoadCredmon(cfg, "CREDMON_OAUTH", knobs.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	get := func(hc *http.Client) error {
		resp, err := hc.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for _, tc := range []struct {
		name, extra string
		ok          bool
	}{
		{"system roots", "", false},
		{"CA file", "PELICAN_CREDMON_CA_FILE = " + ca, true},
		{"skip verify", "PELICAN_CREDMON_TLS_SKIP_VERIFY = true", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := load(tc.extra)
			p, err := m.Pelican("osdf")
			if err != nil {
				t.Fatal(err)
			}
			hc, err := pelicanHTTPClient(m, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := get(hc); (err == nil) != tc.ok {
				t.Errorf("GET: %v; want ok %v", err, tc.ok)
			}
			if err := get(newHTTPClient(m)); err == nil {
				t.Error("the daemon's other HTTP client trusts the Pelican TLS settings")
			}
		})
	}
	m := load("PELICAN_CREDMON_CA_FILE = /nonexistent.pem")
	p, _ := m.Pelican("osdf")
	if _, err := pelicanHTTPClient(m, p); err == nil || !strings.Contains(err.Error(), "PELICAN_CREDMON_CA_FILE") {
		t.Errorf("a missing CA file: %v", err)
	}
}

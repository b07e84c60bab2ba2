package knobs

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/credmon/credmon/condorcfg"
)

func TestLoadWeb(t *testing.T) {
	load := func(text string) (*Web, error) {
		cfg, err := condorcfg.LoadString("test_config", text, condorcfg.Options{Subsystem: "CREDMON_OAUTH", ConfigVal: "-", Env: []string{}})
		if err != nil {
			t.Fatalf("LoadString: %v", err)
		}
		return LoadWeb(cfg)
	}
	w, err := load("")
	if err != nil || w.Listen != "127.0.0.1:8080" || w.Prefix != "" || w.TrustedProxies != nil {
		t.Errorf("defaults: %+v, %v", w, err)
	}
	w, err = load(`CREDMON_WEB_PREFIX = https://ap.example.org/creds
CREDMON_WEB_TLS_CERTIFICATE = /etc/pki/c.pem
CREDMON_WEB_TLS_KEY = /etc/pki/k.pem
CREDMON_WEB_TRUSTED_PROXIES = 10.0.0.0/8, 192.0.2.7 ::1
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("::1/128")}
	if w.Listen != ":443" || w.Prefix != "https://ap.example.org/creds" || !reflect.DeepEqual(w.TrustedProxies, want) {
		t.Errorf("got %+v", w)
	}
	for _, bad := range []string{"CREDMON_WEB_TLS_KEY = /k.pem\n", "CREDMON_WEB_TRUSTED_PROXIES = proxy.example\n"} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "CREDMON_WEB_") {
			t.Errorf("%q: err = %v; want one naming the knob", bad, err)
		}
	}
}

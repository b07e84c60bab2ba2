package knobs

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/credfile"
)

// Web is the login web app's configuration (cmd/credmon-web).
type Web struct {
	// Prefix is CREDMON_WEB_PREFIX, the public URL credd puts in front of
	// /key/<key> (it may carry a path, under which the app then lives).
	Prefix string
	// Listen is CREDMON_WEB_LISTEN, host:port; default 127.0.0.1:8080
	// behind a proxy, :443 with TLS.
	Listen string
	// TLSCertificate and TLSKey are CREDMON_WEB_TLS_CERTIFICATE and
	// CREDMON_WEB_TLS_KEY: both set, the app serves HTTPS itself.
	TLSCertificate, TLSKey string
	// TrustedProxies is CREDMON_WEB_TRUSTED_PROXIES: addresses or CIDR
	// prefixes (comma or space separated) whose X-Forwarded-* headers are
	// believed.
	TrustedProxies []netip.Prefix
}

// WebKnobs lists the knobs LoadWeb reads, for one batched prefetch.
func WebKnobs() []string {
	return []string{"CREDMON_WEB_PREFIX", "CREDMON_WEB_LISTEN", "CREDMON_WEB_TLS_CERTIFICATE",
		"CREDMON_WEB_TLS_KEY", "CREDMON_WEB_TRUSTED_PROXIES"}
}

// LoadWeb reads the web app's knobs. Errors name the knob.
func LoadWeb(c *condorcfg.Config) (*Web, error) {
	w := &Web{
		Prefix:         strings.TrimSpace(c.Get("CREDMON_WEB_PREFIX")),
		Listen:         strings.TrimSpace(c.Get("CREDMON_WEB_LISTEN")),
		TLSCertificate: strings.TrimSpace(c.Get("CREDMON_WEB_TLS_CERTIFICATE")),
		TLSKey:         strings.TrimSpace(c.Get("CREDMON_WEB_TLS_KEY")),
	}
	if (w.TLSCertificate == "") != (w.TLSKey == "") {
		return nil, fmt.Errorf("CREDMON_WEB_TLS_CERTIFICATE and CREDMON_WEB_TLS_KEY must be set together")
	}
	if w.Listen == "" {
		w.Listen = "127.0.0.1:8080"
		if w.TLSCertificate != "" {
			w.Listen = ":443"
		}
	}
	for _, f := range credfile.SplitList(c.Get("CREDMON_WEB_TRUSTED_PROXIES")) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, err2 := netip.ParseAddr(f)
			if err2 != nil {
				return nil, fmt.Errorf("CREDMON_WEB_TRUSTED_PROXIES: %q is not an address or prefix", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		w.TrustedProxies = append(w.TrustedProxies, p.Masked())
	}
	return w, nil
}

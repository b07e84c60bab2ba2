package credmon

// The loop's side of the client-credentials and Pelican types (issue 13):
// their configuration per generation, and where their requests go (the
// issuer key of their queue and breaker). The workers are
// worker_client.go and worker_pelican.go; everything else (decide, the
// queues, the breaker, backoff, the timer) is the OAuth2 tokens'.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/credmon/credmon/credmon/classad"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
)

// clientProvider is one client-credentials provider for the current
// configuration generation. Its claim knobs make a localIssuer (no key),
// so the scopes are templated per user by the local issuer's own code
// (authzRequest, localissuer.Scope).
type clientProvider struct {
	cfg   *knobs.Client
	err   error
	authz *localIssuer
}

func (m *Monitor) clientProv(p string) *clientProvider {
	if cp, ok := m.gen.clients[p]; ok {
		return cp
	}
	cp := &clientProvider{}
	cp.cfg, cp.err = m.cfg.Client(p)
	if cp.err == nil {
		cp.authz = &localIssuer{cfg: cp.cfg.Claims, log: m.oauth}
		if e := cp.cfg.Claims.AuthzTemplateExpr; e != "" {
			var err error
			if cp.authz.expr, err = classad.Parse(e); err != nil {
				m.oauth.Error(fmt.Sprintf("CLIENT_CREDMON_AUTHZ_TEMPLATE_EXPR of provider %s does not parse; ignoring it", p), "error", err)
			}
		}
	}
	m.gen.clients[p] = cp
	return cp
}

// pelicanProvider is one Pelican service for the current generation,
// with the HTTP client its CA file and TLS switch make.
type pelicanProvider struct {
	cfg  *knobs.Pelican
	err  error
	http *http.Client
}

// pelicanTimeout bounds each Pelican request, as PelicanCredmon's 30 s
// (requests' timeout=30), whatever HTTP_TIMEOUT says.
const pelicanTimeout = 30 * time.Second

func (m *Monitor) pelicanProv(p string) *pelicanProvider {
	if pp, ok := m.gen.pelicans[p]; ok {
		return pp
	}
	pp := &pelicanProvider{}
	pp.cfg, pp.err = m.cfg.Pelican(p)
	if pp.err == nil {
		pp.http, pp.err = pelicanHTTPClient(m.cfg, pp.cfg)
	}
	m.gen.pelicans[p] = pp
	return pp
}

// pelicanHTTPClient is the daemon's HTTP client with the Pelican TLS
// knobs: they apply to the Pelican requests only, never to the other
// issuers' (a CA file that replaces the system roots, or no verification
// at all, must not reach them).
func pelicanHTTPClient(c *knobs.Credmon, p *knobs.Pelican) (*http.Client, error) {
	hc := newHTTPClient(c)
	tr := hc.Transport.(*http.Transport)
	tr.ResponseHeaderTimeout = pelicanTimeout
	tlsc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case p.SkipVerify:
		tlsc.InsecureSkipVerify = true //nolint:gosec // PELICAN_CREDMON_TLS_SKIP_VERIFY, warned at start
	case p.CAFile != "":
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return nil, fmt.Errorf("PELICAN_CREDMON_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("PELICAN_CREDMON_CA_FILE = %s holds no PEM certificate", p.CAFile)
		}
		tlsc.RootCAs = pool
	}
	tr.TLSClientConfig = tlsc
	return hc, nil
}

// typedProblem says why a client-credentials or Pelican token cannot be
// refreshed with the current configuration ("" when it can).
func (m *Monitor) typedProblem(c *cred) string {
	var err error
	switch c.kind {
	case credfile.KindClient:
		err = m.clientProv(c.provider).err
	case credfile.KindPelican:
		err = m.pelicanProv(c.provider).err
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// typedIssuerURL is where a client-credentials or Pelican token's
// requests go as far as the loop knows: the configured token URL, else
// the issuer discovery starts from. A Pelican token without
// <S>_PELICAN_TOKEN_URL has its issuer only in its .top, which the loop
// does not read: its service names its queue and breaker.
func (m *Monitor) typedIssuerURL(c *cred) (tokenURL, issuer string) {
	switch c.kind {
	case credfile.KindClient:
		if cp := m.clientProv(c.provider); cp.cfg != nil {
			return cp.cfg.TokenURL, cp.cfg.Issuer
		}
	case credfile.KindPelican:
		if pp := m.pelicanProv(c.provider); pp.cfg != nil && pp.cfg.TokenURL != "" {
			return pp.cfg.TokenURL, ""
		}
		return "", "pelican:" + c.provider
	}
	return "", ""
}

// hostKey is the issuer key of a URL: its scheme and host (raw itself
// when it has no host).
func hostKey(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return strings.ToLower(u.Scheme + "://" + u.Host)
	}
	return raw
}

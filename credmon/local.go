package credmon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/classad"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
)

func (m *Monitor) local(p string) *localIssuer {
	if li, ok := m.gen.locals[p]; ok {
		return li
	}
	li := &localIssuer{log: m.mintLog}
	li.cfg, li.err = m.cfg.Local(p)
	if li.err == nil && li.cfg.AuthzTemplateExpr != "" {
		li.expr, li.exprErr = classad.Parse(li.cfg.AuthzTemplateExpr)
		if li.exprErr != nil {
			m.mintLog.Error(fmt.Sprintf("LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR of provider %s does not parse; ignoring it", p), "error", li.exprErr)
		}
	}
	if li.err != nil {
		m.mintLog.Error(fmt.Sprintf("local issuer %s is misconfigured; no %s tokens until the configuration is fixed", p, p), "error", li.err)
	}
	m.gen.locals[p] = li
	return li
}

// logMint logs a finished local mint (Run goroutine). The first sentence
// is LocalCredmon's: HTCondor's tests grep "Successfully renewed".
func (m *Monitor) logMint(c *cred, r *result) {
	for _, w := range r.local.warnings {
		c.setStatus(hclog.Warn, w)
	}
	if r.local.denied != "" {
		c.setStatus(hclog.Warn, fmt.Sprintf("User %s is not a member of group %s required for %s tokens; wrote an empty token",
			c.user, r.local.denied, c.provider))
		return
	}
	// Exactly LocalCredmon's sentence, nothing appended: HTCondor's tests
	// and admins' scripts match it. Details go to a D_FULLDEBUG line.
	m.mintLog.Info(fmt.Sprintf("Successfully renewed SciToken for user: %s", c.user))
	m.mintLog.Debug("mint details", "user", c.user, "token", c.name, "took", r.elapsed.Round(time.Millisecond))
}

// localUseLifetime handles the one .use shape ParseUse refuses on purpose:
// a bare empty token (TOKEN_USE_JSON=false for a user denied by
// AUTHZ_GROUP_REQUIREMENT). It lives as long as a token would, so a denied
// user is re-evaluated at the same pace instead of on every pass.
func (m *Monitor) localUseLifetime(c *cred, b []byte, written time.Time) bool {
	for _, ch := range b {
		if ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' {
			return false
		}
	}
	li := m.local(c.provider)
	if li.cfg == nil {
		return false
	}
	c.obs.issued, c.obs.expiry, c.obs.expiryKnown = written, written.Add(li.cfg.Lifetime), true
	return true
}

// ensureLocalKeys creates the EC P-256 key pair of every local provider
// whose private key file does not exist, as the Python credmon does at
// start-up (docs/htcondor-contract.md#local-issuer): private key SEC1 PEM 0600, public key SPKI
// PEM 0644, never overwriting an existing file. Only ES256 providers get a
// key: a generated EC key could not serve RS256. Errors are logged; OAuth2
// tokens do not need the key.
func ensureLocalKeys(cfg *knobs.Credmon, log hclog.Logger) {
	done := map[string]bool{}
	for _, p := range cfg.LocalNames {
		l, err := cfg.Local(p)
		if err != nil || done[l.PrivateKey] {
			continue
		}
		done[l.PrivateKey] = true
		if _, err := os.Stat(l.PrivateKey); err == nil {
			log.Debug("local issuer key present", "provider", p, "path", l.PrivateKey)
			continue
		}
		if l.Algorithm != "ES256" {
			log.Warn(fmt.Sprintf("local issuer %s: private key %s is missing and PRIVATE_KEY_ALGORITHM is %s; create an RSA key there (only ES256 keys are generated)",
				p, l.PrivateKey, l.Algorithm))
			continue
		}
		created, err := localissuer.EnsureKeyPair(l.PrivateKey, l.PublicKey)
		switch {
		case err != nil:
			level := hclog.Error
			if errors.Is(err, fs.ErrNotExist) {
				level = hclog.Warn // no /etc/condor: an OAuth2-only host
			}
			log.Log(level, fmt.Sprintf("cannot create the local issuer key pair %s / %s", l.PrivateKey, l.PublicKey), "error", err)
		case created:
			log.Info(fmt.Sprintf("created local issuer key pair: private key %s, public key %s (publish the public key for token verifiers)",
				l.PrivateKey, l.PublicKey))
		}
	}
}

// localJobs bounds local mints in flight. A mint is a signature (tens of
// microseconds) and a durable file replacement (a few fsyncs), so a small
// pool keeps the disk busy without queueing behind OAuth2 refreshes: local
// tokens gate condor_submit (docs/htcondor-contract.md#handshake, step 4) and must never wait for an issuer.
const localJobs = 16

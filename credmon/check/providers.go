package check

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/tokenclient"
)

// providerList is one provider-name knob and the type it declares.
type providerList struct {
	knob  string
	names []string
	kind  credfile.Kind
}

func (c *checker) lists() []providerList {
	localKnob := "LOCAL_CREDMON_PROVIDER_NAMES"
	if _, ok := c.cfg.Lookup(localKnob); !ok {
		localKnob = "LOCAL_CREDMON_PROVIDER_NAME"
	}
	return []providerList{
		{localKnob, c.cm.LocalNames, credfile.KindLocal},
		{"CLIENT_CREDMON_PROVIDER_NAMES", c.cm.ClientNames, credfile.KindClient},
		{"OAUTH2_CREDMON_PROVIDER_NAMES", c.cm.OAuth2Names, credfile.KindOAuth2},
		{"VAULT_CREDMON_PROVIDER_NAMES", c.cm.VaultNames, credfile.KindVault},
		{"PELICAN_CREDMON_PROVIDER_NAMES", c.cm.PelicanNames, credfile.KindPelican},
	}
}

// checkProviders sorts every configured name (and every token name found
// in the credential directory) with credd's precedence (credfile.Sorter,
// the daemon's one copy of it) and checks each provider's knobs for the
// type that owns it.
func (c *checker) checkProviders(ctx context.Context) {
	sorter := c.cm.Sorter()
	owner := map[string]credfile.Kind{}
	for _, l := range c.lists() {
		for _, n := range l.names {
			if n == "*" {
				continue
			}
			if !credfile.ValidProviderName(n, c.cm.AllowSpecialNames) {
				c.errorf(l.knob, fmt.Sprintf("provider name %q is invalid: names must match ^[A-Za-z0-9-]+$ and the daemon exits (99) until it is fixed", n),
					"rename the provider, or set CREDMON_ALLOW_SPECIAL_CHAR_NAMES = True")
				continue
			}
			k := sorter.Sort(n)
			owner[n] = k
			if k != l.kind {
				c.warnf(l.knob, fmt.Sprintf("lists %s, but credd gives %s to the %s type (precedence: local, client, oauth2, vault, pelican)", n, n, k),
					"remove "+n+" from one of the provider lists")
			}
		}
	}
	for _, name := range tokenNames(c.cm.CredDir) {
		p, _, ok := credfile.SplitName(name, c.cm.AllowSpecialNames)
		if !ok {
			continue
		}
		if _, done := owner[p]; done {
			continue
		}
		k := sorter.Sort(p)
		owner[p] = k
		if k == credfile.KindUnknown {
			c.warnf(p+"_CLIENT_ID", fmt.Sprintf("tokens named %s are stored, but no credmon type owns provider %s: their .use is never refreshed (unless a .top describes a robot token)", name, p),
				"configure "+p+" (e.g. "+p+"_CLIENT_ID and "+p+"_TOKEN_URL for OAuth2), or remove the stale tokens")
		}
	}
	names := make([]string, 0, len(owner))
	for n := range owner {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k := owner[n]
		c.rep.Providers = append(c.rep.Providers, ProviderInfo{Name: n, Type: k.String()})
		switch k {
		case credfile.KindOAuth2:
			c.checkOAuth2(ctx, n)
		case credfile.KindLocal:
			c.checkLocal(ctx, n)
		case credfile.KindClient:
			c.checkClient(ctx, n)
		case credfile.KindPelican:
			c.checkPelican(ctx, n)
		}
	}
}

func (c *checker) checkOAuth2(ctx context.Context, p string) {
	pc, err := c.cm.Provider(p)
	if err != nil {
		c.errorf(knobOf(err.Error(), p+"_CLIENT_ID"), err.Error(), "")
		return
	}
	if strings.TrimSpace(pc.ClientID) == "" {
		c.errorf(p+"_CLIENT_ID", "is not set: the refresh requests of provider "+p+" have no client", "set "+p+"_CLIENT_ID to the client id registered at the provider")
	}
	if f := strings.TrimSpace(pc.ClientSecretFile); f == "" {
		c.warnf(p+"_CLIENT_SECRET_FILE", "is not set: refreshes are sent as a public client", "set it to the file holding the client secret, if the client has one")
	} else if _, err := knobs.ReadClientSecret(f); err != nil {
		c.errorf(p+"_CLIENT_SECRET_FILE", fmt.Sprintf("= %s: %v", f, err), "create it (one line, the client secret), mode 0600 or 0640 root:condor")
	} else if w := knobs.ClientSecretWarning(p+"_CLIENT_SECRET_FILE", f); w != "" {
		c.warnf(p+"_CLIENT_SECRET_FILE", strings.TrimPrefix(w, p+"_CLIENT_SECRET_FILE "), "make it 0600 or 0640 root:condor")
	}
	switch {
	case strings.TrimSpace(pc.TokenURL) != "":
		c.checkURL(ctx, p+"_TOKEN_URL", strings.TrimSpace(pc.TokenURL), false, false)
	case strings.TrimSpace(pc.Issuer) != "":
		c.checkURL(ctx, p+"_ISSUER", strings.TrimSpace(pc.Issuer), true, false)
	default:
		c.errorf(p+"_TOKEN_URL", "neither "+p+"_TOKEN_URL nor "+p+"_ISSUER is set: tokens of "+p+" cannot be refreshed", "set "+p+"_TOKEN_URL (or "+p+"_ISSUER for OIDC discovery)")
	}
}

func (c *checker) checkClient(ctx context.Context, p string) {
	cl, err := c.cm.Client(p)
	if err != nil {
		c.errorf("CLIENT_CREDMON_"+p+"_*", err.Error(), "set the missing knobs (docs/htcondor-contract.md#client)")
		return
	}
	if _, err := knobs.ReadSecretFile(cl.SecretKnob, cl.ClientSecretFile); err != nil {
		c.errorf(cl.SecretKnob, strings.TrimPrefix(err.Error(), cl.SecretKnob+" "), "create it (one line, the client secret), mode 0600, owned by root")
	}
	if cl.TokenURL != "" {
		c.checkURL(ctx, "CLIENT_CREDMON_"+p+"_TOKEN_URL", cl.TokenURL, false, false)
	} else {
		c.checkURL(ctx, "CLIENT_CREDMON_"+p+"_ISSUER", cl.Issuer, true, false)
	}
}

func (c *checker) checkPelican(ctx context.Context, p string) {
	pc, err := c.cm.Pelican(p)
	if err != nil {
		c.errorf(p+"_PELICAN_*", err.Error(), "set the missing knobs")
		return
	}
	if _, err := knobs.ReadSecretFile(pc.SecretKnob(), pc.ClientSecretFile); err != nil {
		c.errorf(pc.SecretKnob(), strings.TrimPrefix(err.Error(), pc.SecretKnob()+" "), "create it (one line, the client secret), mode 0600, owned by root")
	}
	if pc.SkipVerify {
		c.warnf("PELICAN_CREDMON_TLS_SKIP_VERIFY", "is true: the Pelican issuers' TLS certificates are not verified", "set PELICAN_CREDMON_CA_FILE instead")
	}
	if pc.CAFile != "" {
		if _, err := os.Stat(pc.CAFile); err != nil {
			c.errorf("PELICAN_CREDMON_CA_FILE", fmt.Sprintf("= %s: %v", pc.CAFile, err), "point it at a PEM bundle of the Pelican issuers' CAs")
		}
	}
	if pc.TokenURL != "" {
		// The daemon's Pelican requests use their own TLS settings; probe
		// only the scheme and reachability with the default roots.
		c.checkURL(ctx, p+"_PELICAN_TOKEN_URL", pc.TokenURL, false, pc.SkipVerify || pc.CAFile != "")
	}
}

// checkLocal: the signing key is present (or will be generated),
// parseable, private, has a key id, and its public half matches the
// published public key file; the issuer is https.
func (c *checker) checkLocal(ctx context.Context, p string) {
	l, err := c.cm.Local(p)
	if err != nil {
		c.errorf("LOCAL_CREDMON_"+p+"_*", err.Error(), "")
		if l == nil {
			return
		}
	}
	privKnob, pubKnob := c.localKnob(p, "PRIVATE_KEY"), c.localKnob(p, "PUBLIC_KEY")
	key, err := localissuer.LoadPrivateKey(l.PrivateKey, l.Algorithm, l.KeyID)
	_, pubErr := os.Stat(l.PublicKey)
	switch {
	case errors.Is(err, fs.ErrNotExist) && pubErr == nil:
		c.errorf(privKnob, l.PrivateKey+" does not exist but its public key "+l.PublicKey+" does: the daemon refuses to generate a new pair under the same key id",
			"restore the private key, or remove "+l.PublicKey+" to get a new pair (and publish its JWKS: credmon issuer)")
	case errors.Is(err, fs.ErrNotExist):
		c.warnf(privKnob, l.PrivateKey+" does not exist: the daemon generates a new key pair at start",
			"publish the new public key afterwards (credmon issuer --write DIR)")
	case err != nil:
		c.errorf(privKnob, err.Error(), "generate a key: openssl ecparam -name prime256v1 -genkey -noout -out "+l.PrivateKey+"; chmod 0600 "+l.PrivateKey)
	default:
		if key.ModeWarning != "" {
			c.warnf(privKnob, key.ModeWarning, "")
		}
		c.checkPublicKey(pubKnob, l.PublicKey, key)
	}
	if u, err := url.Parse(l.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
		c.errorf(c.localKnob(p, "ISSUER"), fmt.Sprintf("= %q: the issuer must be an https URL (verifiers fetch its keys there)", l.Issuer), "set it to https://<host>[/path]")
	}
}

// localKnob is the knob that sets X for local provider p: the
// per-provider one when set, else the shared one.
func (c *checker) localKnob(p, x string) string {
	k := "LOCAL_CREDMON_" + p + "_" + x
	if _, ok := c.cfg.Lookup(k); ok {
		return k
	}
	return "LOCAL_CREDMON_" + x
}

// checkPublicKey compares the public key file (PEM "PUBLIC KEY", as the
// daemon writes it) with the private key's public half.
func (c *checker) checkPublicKey(knob, path string, key *localissuer.Key) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.warnf(knob, path+" does not exist: verifiers that read the public key file have nothing to read", "publish the key set instead (credmon issuer --write DIR), or write the public key: openssl pkey -pubout")
		return
	}
	if err != nil {
		c.errorf(knob, err.Error(), "")
		return
	}
	var block *pem.Block
	for rest := b; ; {
		if block, rest = pem.Decode(rest); block == nil || block.Type == "PUBLIC KEY" {
			break
		}
	}
	if block == nil {
		c.errorf(knob, path+" holds no PEM \"PUBLIC KEY\" block", "regenerate it: openssl pkey -in PRIVATE -pubout -out "+path)
		return
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		c.errorf(knob, fmt.Sprintf("%s: %v", path, err), "regenerate it: openssl pkey -in PRIVATE -pubout -out "+path)
		return
	}
	if eq, ok := key.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
		c.errorf(knob, path+" is not the public half of the private key (key id "+key.KeyID+"): verifiers using it reject every token",
			"regenerate it: openssl pkey -in PRIVATE -pubout -out "+path)
	}
}

// checkURL: an https URL (http only with <NAME>_ALLOW_INSECURE_TOKEN_URL)
// that answers. issuer: OIDC/OAuth discovery (GET of the well-known
// document, which must name the issuer and a token endpoint); otherwise a
// HEAD of the endpoint, where any HTTP answer proves it reachable. own TLS:
// the daemon uses a CA file or no verification for it, so a TLS failure
// here proves nothing and is only a warning.
func (c *checker) checkURL(ctx context.Context, knob, raw string, issuer, ownTLS bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.errorf(knob, fmt.Sprintf("= %q is not an absolute https URL", raw), "set it to https://...")
		return
	}
	if u.Scheme != "https" && !c.cm.AllowInsecure {
		c.errorf(knob, "= "+raw+" is not https: the daemon refuses to send a client secret or refresh token over it",
			"use the https URL")
		return
	}
	if c.opts.Offline || c.probed[raw] {
		return
	}
	c.probed[raw] = true
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	tc := &tokenclient.Client{HTTPClient: c.opts.HTTPClient, AllowInsecure: c.cm.AllowInsecure, UserAgent: "credmon-check"}
	sev := Error
	if ownTLS {
		sev = Warning
	}
	if issuer {
		md, err := tc.Discover(ctx, raw)
		if err != nil {
			c.add(sev, knob, fmt.Sprintf("= %s: discovery failed: %v", raw, err), "check the URL and that this host reaches it (or run with --offline)")
			return
		}
		c.checkURL(ctx, knob+" (token_endpoint)", md.TokenEndpoint, false, ownTLS)
		return
	}
	status, err := tc.Probe(ctx, raw)
	if err != nil {
		c.add(sev, knob, fmt.Sprintf("= %s is not reachable: %v", raw, err), "check the URL and that this host reaches it (or run with --offline)")
		return
	}
	if status >= 500 || status == 404 {
		c.warnf(knob, fmt.Sprintf("= %s answers HTTP %d to a HEAD request", raw, status), "check the URL (a token endpoint normally answers 400 or 405 to a HEAD)")
	}
}

// checkTrustLists: the trusted issuer and Vault host lists.
func (c *checker) checkTrustLists(ctx context.Context) {
	n := c.cm.Name
	if c.cm.AllowInsecure {
		c.warnf(n+"_ALLOW_INSECURE_TOKEN_URL", "is true: token endpoints and issuers may be plain http, so refresh tokens and client secrets may travel in clear text",
			"remove it outside tests")
	}
	for _, iss := range c.cm.TrustedIssuers {
		if strings.HasPrefix(iss, "http://") {
			c.warnf(n+"_TRUSTED_ISSUERS", "lists "+iss+", which is not https", "list the https issuer")
		}
		// Robot tokens are refreshed at the token endpoint discovered
		// from their issuer.
		c.checkURL(ctx, n+"_TRUSTED_ISSUERS", iss, true, false)
	}
	vaultUsed := c.cm.VaultEnabled || len(c.cm.VaultNames) > 0
	for _, h := range c.cm.TrustedVaultHosts {
		if strings.ContainsAny(h, "/:@") {
			c.errorf("TRUSTED_VAULT_HOSTS", fmt.Sprintf("entry %q is not a host name: entries are compared with the host of the Vault URL, without scheme or port", h),
				"list bare host names, e.g. vault.example.org")
		}
	}
	if vaultUsed {
		for _, kp := range [][2]string{{"AUTH_SSL_CLIENT_CAFILE", c.cm.VaultCAFile}, {"AUTH_SSL_CLIENT_CADIR", c.cm.VaultCADir}} {
			knob, path := kp[0], kp[1]
			if path == "" {
				continue
			}
			if _, err := os.Stat(path); err != nil {
				c.errorf(knob, fmt.Sprintf("= %s: %v: the daemon cannot verify the Vault servers' certificates", path, err), "point it at the CA bundle (or directory) of your Vault servers")
			}
		}
	}
	if vaultUsed && len(c.cm.TrustedVaultHosts) == 0 {
		c.warnf("TRUSTED_VAULT_HOSTS", "is empty: the daemon sends Vault tokens to whatever Vault host a .top names", "list your Vault servers' host names")
	}
	if slices.Contains(c.cm.VaultNames, "*") && !c.cm.VaultEnabled {
		c.warnf("VAULT_CREDMON_PROVIDER_NAMES", "is * but Vault is not enabled", "")
	}
}

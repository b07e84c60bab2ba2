package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/producer/kerberos"
	"github.com/credmon/credmon/producer/source"
)

// igwn-robot-get's defaults.
const (
	defaultVaultServer = "vault.ligo.org"
	defaultVaultIssuer = "igwn"
	// defaultVaultTokenMinTTL is igwn-robot-get's --vaulttokenminttl: a
	// cached Vault token with less left is replaced by a new login.
	defaultVaultTokenMinTTL = "24h"
)

// vaultFlags are igwn-robot-get's (and htgettoken's) flags of get: the
// Vault source.
type vaultFlags struct {
	vault       bool // the Vault source was selected
	principal   string
	keytab      string
	ccache      string
	server      string
	credkey     string
	role        string
	tokenFile   string
	tokenMinTTL string
	caFile      string
	caPath      string
}

func (v *vaultFlags) register(fl *pflag.FlagSet) {
	fl.StringVarP(&v.keytab, "keytab", "k", "", "Vault: log in to Kerberos with this keytab `FILE` (default $KRB5_KTNAME; also --kerberos-keytab)")
	fl.StringVarP(&v.ccache, "ccache", "c", "", "Vault without a keytab: use the ticket-granting ticket of this ticket cache `FILE` (default $KRB5CCNAME); "+
		"with a keytab it is ignored: no ticket cache is ever written (also --kerberos-ccache)")
	fl.StringVarP(&v.server, "vaultserver", "a", "", "Vault server, `HOST` or https://host:port (default "+defaultVaultServer+")")
	fl.StringVar(&v.credkey, "credkey", "", "Vault: the credential's `KEY` (default: the principal without @REALM)")
	fl.StringVarP(&v.role, "role", "r", "", "Vault: the `ROLE` (default: the principal's first component)")
	fl.StringVar(&v.tokenFile, "vaulttokenfile", "", "Vault: cache the Vault token in `FILE` (default /tmp/vt_u<uid>)")
	fl.StringVar(&v.tokenMinTTL, "vaulttokenminttl", defaultVaultTokenMinTTL, "Vault: log in again when the cached Vault token has less than `TTL` left (N[smhd])")
	fl.StringVar(&v.caFile, "cafile", "", "Vault: trust the CAs of this PEM `FILE` instead of the system's")
	fl.StringVar(&v.caPath, "capath", "", "Vault: trust the CAs of this `DIR` (e.g. /etc/grid-security/certificates); default $X509_CERT_DIR when set")
}

// vaultOnly are the flags that only make sense with Vault: any of them
// selects it (canonical names: the aliases normalize to them).
var vaultOnly = map[string]bool{
	"keytab": true, "ccache": true, "vaultserver": true, "credkey": true, "role": true,
	"vaulttokenfile": true, "vaulttokenminttl": true, "cafile": true, "capath": true,
}

// selected reports whether get reads from Vault: a principal or a
// Vault-only flag was given, or no other source was named and
// $KRB5_KTNAME is set (igwn-robot-get's keytab default).
func (v *vaultFlags) selected(fl *pflag.FlagSet, o *getOptions) bool {
	sel := v.principal != ""
	fl.Visit(func(f *pflag.Flag) {
		if vaultOnly[f.Name] {
			sel = true
		}
	})
	if sel {
		return true
	}
	return o.account == "" && o.clientID == "" && o.token == "" && os.Getenv("KRB5_KTNAME") != ""
}

// vaultSource builds the Vault source from igwn-robot-get's flags. It
// reads krb5.conf and the keytab's principal (for the credkey and role
// defaults) but sends nothing: it runs only once the token file was
// found wanting.
func (o *getOptions) vaultSource(s *stdio) (*source.Vault, error) {
	v := &o.vf
	server := v.server
	if server == "" {
		server = defaultVaultServer
	}
	caPath := v.caPath
	if caPath == "" && v.caFile == "" {
		caPath = os.Getenv("X509_CERT_DIR")
	}
	addr, err := vault.ParseAddress(server)
	if err != nil {
		return nil, configError{err}
	}
	cl, err := vault.New(vault.Config{Address: server, CAFile: v.caFile, CAPath: caPath, UserAgent: "credmon-token/" + Version, Dial: vaultDial})
	if err != nil {
		return nil, configError{err}
	}
	minTTL, err := source.ParseTTL(v.tokenMinTTL)
	if err != nil {
		return nil, configErrorf("--vaulttokenminttl: %v", err)
	}
	if minTTL >= source.DefaultVaultTokenTTL {
		return nil, configErrorf("--vaulttokenminttl %v must be shorter than the Vault token's lifetime (%v)", minTTL, source.DefaultVaultTokenTTL)
	}
	kopts, p, err := o.kerberosIdentity()
	if err != nil {
		return nil, err
	}
	issuer := o.issuer
	if issuer == "" {
		issuer = defaultVaultIssuer
	}
	src := &source.Vault{
		Client: cl, Issuer: issuer, Role: v.role, CredKey: v.credkey,
		KerberosHost: addr.Hostname(), Kerberos: kopts,
		TokenFile: v.tokenFile, MinTTL: minTTL, MinLifetime: o.minsecs,
	}
	src.CredKey, src.Role = o.vf.credkeyRole(p)
	if src.TokenFile == "" {
		src.TokenFile = "/tmp/vt_u" + strconv.Itoa(os.Geteuid())
	}
	src.Warn = func(msg string) { fmt.Fprintf(s.err, "credmon-token get: warning: %s\n", msg) }
	if o.verbose {
		src.Verbose = func(msg string) { fmt.Fprintf(s.err, "%s\n", msg) }
	}
	return src, nil
}

// kerberosIdentity is the robot's Kerberos login (krb5.conf, --keytab
// else $KRB5_KTNAME, --ccache) and principal (robotPrincipal). It reads
// files only.
func (o *getOptions) kerberosIdentity() (*kerberos.Options, kerberos.Principal, error) {
	v := &o.vf
	conf, err := kerberos.LoadConfig("")
	if err != nil {
		return nil, kerberos.Principal{}, err
	}
	kopts := &kerberos.Options{Keytab: v.keytab, CCache: v.ccache, Config: conf}
	if kopts.Keytab == "" {
		kopts.Keytab = os.Getenv("KRB5_KTNAME")
	}
	p, err := robotPrincipal(v.principal, kopts, conf.LibDefaults.DefaultRealm)
	if err != nil {
		return nil, p, err
	}
	kopts.Principal = p.String()
	return kopts, p, nil
}

// credkeyRole are --credkey and --role, else igwn-robot-get's defaults:
// the principal without its realm, and its first component.
func (v *vaultFlags) credkeyRole(p kerberos.Principal) (credkey, role string) {
	credkey, role = v.credkey, v.role
	if credkey == "" {
		credkey = strings.Join(p.Components, "/")
	}
	if role == "" {
		role = p.Components[0]
	}
	return credkey, role
}

// robotPrincipal is the principal given (krb5.conf's default realm when
// it has none), else the keytab's first entry, else the ticket cache's.
func robotPrincipal(given string, kopts *kerberos.Options, defaultRealm string) (kerberos.Principal, error) {
	switch {
	case given != "":
		p, err := kerberos.ParsePrincipal(given, defaultRealm)
		if err != nil {
			return p, configError{err}
		}
		return p, nil
	case kopts.Keytab != "":
		path, err := kerberos.ParseKeytabName(kopts.Keytab)
		if err != nil {
			return kerberos.Principal{}, configError{err}
		}
		kt, err := kerberos.LoadKeytab(path)
		if err != nil {
			return kerberos.Principal{}, err
		}
		e := kt.Entries[0].Principal
		return kerberos.Principal{Components: e.Components, Realm: e.Realm}, nil
	}
	name := kopts.CCache
	if name == "" {
		name = kerberos.DefaultCCache()
	}
	path, err := kerberos.ParseCCacheName(name)
	if err != nil {
		return kerberos.Principal{}, configError{err}
	}
	cc, err := kerberos.LoadCCache(path)
	if err != nil {
		return kerberos.Principal{}, err
	}
	pn := cc.GetClientPrincipalName()
	return kerberos.Principal{Components: pn.NameString, Realm: cc.GetClientRealm()}, nil
}

// vaultLoginHint is what a person must do when Vault needs a login.
const vaultLoginHint = "a human must run this get command once at a terminal to log in to Vault with OIDC"

// fetchVault gets the token from Vault; at a terminal, a missing or dead
// refresh token in Vault is replaced by an OIDC login there and then.
func (o *getOptions) fetchVault(ctx context.Context, s *stdio, req source.Request, sent func()) (string, error) {
	src, err := o.vaultSource(s)
	if err != nil {
		return "", err
	}
	src.OnRefreshSent = sent
	if source.IsTerminal(os.Stdin) {
		src.DeviceLogin = func(da *vault.DeviceAuth) {
			fmt.Fprintf(s.err, "Vault has no usable refresh token for %s/%s:%s: log in with OIDC.\n", src.Issuer, src.CredKey, src.Role)
			fmt.Fprintf(s.err, "Complete the authentication at:\n    %s\n", da.AuthURL)
			if da.UserCode != "" && !strings.Contains(da.AuthURL, da.UserCode) {
				fmt.Fprintf(s.err, "and enter the code %s\n", da.UserCode)
			}
			fmt.Fprintln(s.err, "Waiting for the login (no time limit; Ctrl-C stops) ...")
		}
	}
	tok, err := src.Token(ctx, req)
	if errors.Is(err, source.ErrNeedsLogin) {
		return "", needsLogin{err: err, hint: vaultLoginHint}
	}
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

package vaultsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/producer/kerberos"
	"github.com/credmon/credmon/producer/source"
	"github.com/credmon/credmon/producer/storer"
)

// condorVaultTokenTTL is the lifetime of the Vault token credd keeps
// (condor_vault_storer's --vaulttokenttl=28d); the one cached locally has
// source.DefaultVaultTokenTTL (7 days) and is made from it.
const condorVaultTokenTTL = 28 * 24 * time.Hour

// Source is the storer's Source: producer/source's Vault, with
// condor_vault_storer's files and htgettoken's options.
type Source struct {
	// UserAgent is sent to Vault ("credmon-producer", "credmon-token/1.2").
	UserAgent string
	// Keytab and CCache, when set, replace $KRB5_KTNAME and the default
	// ticket cache as the Kerberos credentials a login uses (credmon-token
	// get --condor's --keytab and --ccache).
	Keytab, CCache string
	// Principal, when set, is the client principal to log in as (else the
	// keytab's first, or the ticket cache's).
	Principal string
	// Dial, when set, replaces the TCP connect to Vault (vault.Config.Dial):
	// tests reach a Vault test server on another port than 8200.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ storer.Source = (*Source)(nil)

// gettokenOpts are the htgettoken options the storer honours.
type gettokenOpts struct {
	server, alias, credkey, role, caFile, caPath, configDir string
	minsecs                                                 time.Duration
	ttl                                                     time.Duration
	noKerberos, noOIDC                                      bool
}

// parseGettokenOpts reads htgettoken's options as it would (later ones
// win, --opt=value or --opt value). Options that change where Vault's
// mounts are or how to log in in ways this source does not follow are
// refused rather than ignored.
func parseGettokenOpts(args []string) (gettokenOpts, error) {
	o := gettokenOpts{role: "default", minsecs: 60 * time.Second, ttl: condorVaultTokenTTL}
	str := map[string]*string{
		"-a": &o.server, "--vaultserver": &o.server, "--vaultalias": &o.alias,
		"--credkey": &o.credkey, "-r": &o.role, "--role": &o.role,
		"--cafile": &o.caFile, "--capath": &o.caPath, "-c": &o.configDir, "--configdir": &o.configDir,
	}
	var issuer, minsecs, ttl string
	str["-i"], str["--issuer"], str["--minsecs"], str["--vaulttokenttl"] = &issuer, &issuer, &minsecs, &ttl
	// Accepted and without effect here: the storer decides what they
	// decide for htgettoken (output files, verbosity, scopes per handle).
	ignoredValue := map[string]bool{"--vaulttokenminttl": true, "--web-open-command": true, "-o": true, "--outfile": true, "--scopes": true, "--audience": true, "--vaultcertname": true}
	ignored := map[string]bool{"-v": true, "--verbose": true, "-d": true, "--debug": true, "-q": true, "--quiet": true, "--nossh": true}
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		switch {
		case name == "--nokerberos":
			o.noKerberos = true
			continue
		case name == "--nooidc":
			o.noOIDC = true
			continue
		case name == "--novaulttoken":
			o.noKerberos, o.noOIDC = true, true
			continue
		case ignored[name]:
			continue
		}
		p, ok := str[name]
		if !ok && !ignoredValue[name] {
			return o, fmt.Errorf("htgettoken option %q is not supported by this storer", name)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return o, fmt.Errorf("htgettoken option %s needs a value", name)
			}
			i++
			val = args[i]
		}
		if ok {
			*p = val
		}
	}
	var err error
	if minsecs != "" {
		n, perr := strconv.ParseUint(minsecs, 10, 32)
		if perr != nil {
			return o, fmt.Errorf("--minsecs %q: want a number of seconds", minsecs)
		}
		o.minsecs = time.Duration(n) * time.Second
	}
	if ttl != "" {
		if o.ttl, err = source.ParseTTL(ttl); err != nil {
			return o, fmt.Errorf("--vaulttokenttl: %w", err)
		}
		if o.ttl <= source.DefaultVaultTokenTTL {
			return o, fmt.Errorf("--vaulttokenttl %v must be longer than the local Vault token's %v", o.ttl, source.DefaultVaultTokenTTL)
		}
	}
	if o.server == "" {
		return o, errors.New("no --vaultserver in SEC_CREDENTIAL_GETTOKEN_OPTS or HTGETTOKENOPTS")
	}
	return o, nil
}

// Obtain is condor_vault_storer's htgettoken runs for one service: the
// 7-day Vault token in /tmp/vt_<id>-<service> if it still reads a token
// (and credd holds the service), else a login (Kerberos when a keytab or
// ticket cache is there, else OIDC on the terminal) whose 28-day token
// goes to credd and whose 7-day child is cached; the bearer token is
// written as htgettoken -o would.
func (s *Source) Obtain(ctx context.Context, req storer.SourceRequest) (*storer.Credential, error) {
	o, err := parseGettokenOpts(req.GettokenOptions)
	if err != nil {
		return nil, err
	}
	// The service names issuer and role after the options, as the script
	// passes -i ISSUER [-r ROLE] last.
	role := o.role
	if req.Role != "" {
		role = req.Role
	}
	term := func(format string, args ...any) { fmt.Fprintf(req.Terminal, format+"\n", args...) }
	verbose := func(msg string) {
		if req.Verbose {
			term("%s", msg)
		}
	}
	// Without --credkey, htgettoken's credkey cache names it; without
	// either only an OIDC login can, which then fills the cache.
	credkey, cacheFile := o.credkey, ""
	if credkey == "" {
		if cacheFile, err = credKeyFile(o.configDir, req.Issuer, role); err != nil {
			return nil, err
		}
		if credkey, err = cachedCredKey(cacheFile); err != nil {
			return nil, err
		}
		if credkey == "" {
			verbose("no --credkey and no " + cacheFile + ": only an OIDC login can tell the credkey")
		}
	}
	caPath := o.caPath
	if caPath == "" && o.caFile == "" {
		caPath = os.Getenv("X509_CERT_DIR")
	}
	addr, err := vault.ParseAddress(o.server)
	if err != nil {
		return nil, err
	}
	cl, err := vault.New(vault.Config{Address: o.server, CAFile: o.caFile, CAPath: caPath, UserAgent: s.UserAgent, Dial: s.Dial})
	if err != nil {
		return nil, err
	}
	host := addr.Hostname()
	if o.alias != "" {
		a, err := vault.ParseAddress(o.alias)
		if err != nil {
			return nil, fmt.Errorf("--vaultalias: %w", err)
		}
		host = a.Hostname()
	}
	vtFile := "/tmp/vt_" + req.ID
	src := &source.Vault{
		Client: cl, Issuer: req.Issuer, Role: role, CredKey: credkey, KerberosHost: host,
		TokenFile: vtFile + "-" + req.Service, MinLifetime: o.minsecs, CondorTTL: o.ttl,
		KerberosFallback: true, Verbose: verbose,
		Warn: func(msg string) { term("warning: %s", msg) },
	}
	if !o.noKerberos {
		src.Kerberos = s.kerberosOptions(verbose)
	}
	if credkey == "" {
		src.LearnedCredKey = func(k string) {
			if err := saveCredKey(cacheFile, k); err != nil {
				// The login worked and Vault holds the refresh token; only
				// the next run without a terminal is affected.
				term("warning: the credkey %q could not be saved (a later submit will need a terminal login again, or --credkey=%s): %v", k, k, err)
				return
			}
			verbose("saved the credkey " + k + " to " + cacheFile)
		}
	}
	if !o.noOIDC && (source.IsTerminal(os.Stdin) || source.IsTerminal(os.Stderr)) {
		src.DeviceLogin = func(da *vault.DeviceAuth) {
			term("Authentication needed for %s", req.Service)
			term("Complete the authentication at:\n    %s", da.AuthURL)
			if da.UserCode != "" && !strings.Contains(da.AuthURL, da.UserCode) {
				term("and enter the code %s", da.UserCode)
			}
			term("Waiting for the login (no time limit; Ctrl-C stops) ...")
		}
	}
	ct, err := src.Condor(ctx, source.Request{}, req.Renew)
	if err != nil {
		if errors.Is(err, source.ErrNeedsLogin) && src.DeviceLogin == nil {
			if src.CredKey == "" {
				return nil, fmt.Errorf("%w: no --credkey in SEC_CREDENTIAL_GETTOKEN_OPTS or HTGETTOKENOPTS and no credkey cache %s; "+
					"run condor_submit at a terminal to log in to Vault with OIDC (that login writes the cache)", err, cacheFile)
			}
			return nil, fmt.Errorf("%w; run condor_submit at a terminal to log in to Vault with OIDC", err)
		}
		return nil, err
	}
	btFile, copyTo := bearerFiles(req.ID, req.Service)
	if err := writeToken(btFile, ct.Token.AccessToken); err != nil {
		return nil, err
	}
	if copyTo != "" {
		if err := writeToken(copyTo, ct.Token.AccessToken); err != nil {
			return nil, err
		}
	}
	c := &storer.Credential{New: ct.VaultToken != ""}
	if c.New {
		// The script copies the service's 7-day token to /tmp/vt_<id>
		// for tools that read htgettoken's default file.
		if b, err := os.ReadFile(src.TokenFile); err == nil {
			if err := atomicfile.Replace(vtFile, b, atomicfile.Options{}); err != nil {
				term("warning: copying the Vault token to %s: %v", vtFile, err)
			}
		}
		if c.Service, err = json.Marshal(map[string]string{"vault_token": ct.VaultToken, "vault_url": ct.URL}); err != nil {
			return nil, err
		}
	}
	if req.Handle != "" {
		hreq := source.Request{Scopes: source.SplitList(req.Scopes)}
		if req.Audience != "" {
			hreq.Audiences = []string{req.Audience}
		}
		// The handle's token is read with the cached 7-day token, which
		// also checks that Vault grants the reduced scopes.
		tok, err := src.Token(ctx, hreq)
		if err != nil {
			return nil, fmt.Errorf("handle %s: %w", req.Handle, err)
		}
		if _, ok := os.LookupEnv("BEARER_TOKEN_FILE"); !ok {
			if err := writeToken(filepath.Join(runtimeDir(), "bt_"+req.ID+"-"+req.StoreName()), tok.AccessToken); err != nil {
				return nil, err
			}
		}
		if c.Handle, err = json.Marshal(map[string]string{"vault_url": src.URL(hreq)}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// kerberosOptions are the Kerberos credentials to try: Keytab (else
// $KRB5_KTNAME's keytab), else CCache (else the default ticket cache);
// nil when neither file is there.
func (s *Source) kerberosOptions(verbose func(string)) *kerberos.Options {
	conf, err := kerberos.LoadConfig("")
	if err != nil {
		verbose("no Kerberos login: " + err.Error())
		return nil
	}
	kt := s.Keytab
	if kt == "" {
		kt = os.Getenv("KRB5_KTNAME")
	}
	if kt != "" {
		if p, err := kerberos.ParseKeytabName(kt); err == nil && exists(p) {
			return &kerberos.Options{Keytab: kt, Principal: s.Principal, Config: conf}
		}
	}
	cc := s.CCache
	if cc == "" {
		cc = kerberos.DefaultCCache()
	}
	if p, err := kerberos.ParseCCacheName(cc); err == nil && exists(p) {
		return &kerberos.Options{CCache: s.CCache, Principal: s.Principal, Config: conf}
	}
	verbose("no Kerberos keytab or ticket cache")
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// credKeyFile is htgettoken's credkey cache, <configdir>/credkey-<issuer>-<role>
// (configdir ~/.config/htgettoken unless -c). Issuer and role passed the
// storer's service-name check, so they add no path separators.
func credKeyFile(dir, issuer, role string) (string, error) {
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --credkey and no home directory for htgettoken's credkey cache: %w", err)
		}
		dir = filepath.Join(home, ".config", "htgettoken")
	}
	return filepath.Join(dir, "credkey-"+issuer+"-"+role), nil
}

// cachedCredKey reads the credkey cache; "" when there is none yet.
func cachedCredKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", fmt.Errorf("%s is empty (remove it to log in with OIDC again, or give --credkey)", path)
	}
	return k, nil
}

// saveCredKey writes the credkey an OIDC login named to the cache, 0600
// like every file here, making the directory (0700) as htgettoken does.
// The content is the bare credkey (readers trim).
func saveCredKey(path, credkey string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Replace(path, []byte(credkey), atomicfile.Options{})
}

func runtimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return d
	}
	return "/tmp"
}

// bearerFiles are where the service's bearer token goes: $BEARER_TOKEN_FILE
// when set, else <runtime dir>/bt_<id>-<service>, copied to bt_<id>.
func bearerFiles(id, service string) (string, string) {
	if f, ok := os.LookupEnv("BEARER_TOKEN_FILE"); ok && f != "" {
		return f, ""
	}
	bt := filepath.Join(runtimeDir(), "bt_"+id)
	return bt + "-" + service, bt
}

func writeToken(path, tok string) error {
	if err := atomicfile.Replace(path, []byte(tok+"\n"), atomicfile.Options{}); err != nil {
		return fmt.Errorf("writing the bearer token: %w", err)
	}
	return nil
}

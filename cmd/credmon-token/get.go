package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credmon/credmon/internal/cli"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/bearer"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/renewer"
	"github.com/credmon/credmon/producer/source"
)

// getOptions are the flags of get.
type getOptions struct {
	af           accountFlags
	out          string
	minsecs      time.Duration
	audience     string
	scope        string
	account      string
	token        string
	config       string
	clientID     string
	secretFile   string
	secretKey    string // what named secretFile, for errors; "" is the flag
	tokenURL     string
	issuer       string
	audienceMode string
	noNewline    bool
	verbose      bool
	inlineSecret string // client_secret from config.ini
	vf           vaultFlags
	cf           condorFlags
	src          source.Source // built by source()
}

// getLong is get's help text.
const getLong = `Keeps a bearer token file fresh for cron jobs and scripts (igwn-robot-get's job): when the
existing file still has more than --minsecs seconds (and the requested audience and scopes), it
does nothing, with no network; else it refreshes the account (or asks Vault) and writes the new token.

Vault is the source when a PRINCIPAL, --keytab, --ccache, --vaultserver, --credkey, --role or
--vaulttokenfile is given, or when none of --account, --client-id, --token is and $KRB5_KTNAME is set.
igwn-robot-get's command line works unchanged, options before or after the principal.

--condor also stores a credential in HTCondor's credd for jobs with use_oauth_services: with Vault,
igwn-robot-get's --condor (SEC_CREDENTIAL_GETTOKEN_OPTS must be exactly --credkey=K --role=R --vaultserver=V;
--outfile, --minsecs, --vaulttokenfile and --vaulttokenminttl are then ignored); with an account or client
credentials, after the token file is fresh, a self-describing .top the credmon refreshes (--condor-store=exchange)
or the access token itself (plain, -P), stored only when credd lacks it or the token changed.

SIGTERM, SIGINT or SIGQUIT starts no refresh; one already sent finishes (within --timeout), its rotated
refresh token is saved and the token written. Then get exits 143 or 130.`

const getExample = `  credmon-token get --account robot --pw-file /etc/robot.pw --minsecs 3600
  credmon-token get --client-id ID --client-secret-file FILE --issuer https://issuer.example
  credmon-token get robot/host.example.org -k /etc/robot.keytab -a vault.example.org   (igwn-robot-get)
  credmon-token get --token t --condor`

// register defines get's flags (igwn-robot-get's short options among
// them) and their help groups.
func (o *getOptions) register(fl *pflag.FlagSet, minsecs *int, verbosity *countFlag, version *bool) {
	fl.StringVarP(&o.out, "outfile", "o", "", "write the token to `FILE` (default: WLCG bearer token discovery, see: credmon-token path; "+
		"also --bearertokenfile, igwn-robot-get's name)")
	fl.IntVarP(minsecs, "minsecs", "m", 3600, "do nothing when the existing token has more than `N` seconds left (and the requested audience and scopes)")
	fl.StringVar(&o.audience, "audience", "", "request a token for the audience `AUD` (several: space separated; with Vault also comma separated)")
	fl.StringVar(&o.scope, "scope", "", "request these `SCOPES` (space separated; with Vault also comma separated; also --scopes, htgettoken's name)")
	fl.StringVar(&o.audienceMode, "audience-mode", "audience", "how the audience is sent: `MODE` audience, resource (RFC 8707) or both")
	fl.BoolVar(&o.noNewline, "no-newline", false, "write the token without a trailing newline")
	fl.StringVar(&o.account, "account", "", "the stored account `NAME` (credmon-token setup / oidc-gen) to refresh")
	fl.StringVar(&o.token, "token", "", "use the account, audience and scope of this [token `NAME`] of config.ini (flags override them)")
	fl.StringVar(&o.config, "config", "", "config.ini `FILE` for --token (default $"+renewer.EnvConfigPath+", else "+renewer.DefaultConfigPath+")")
	o.af.register(fl)
	fl.StringVar(&o.clientID, "client-id", "", "client credentials grant with this client `ID` (no account needed)")
	fl.StringVar(&o.secretFile, "client-secret-file", "", "the client's secret, for --client-id, in `FILE`")
	fl.StringVar(&o.tokenURL, "token-url", "", "token endpoint `URL` for --client-id (default: discovered from --issuer)")
	fl.StringVarP(&o.issuer, "issuer", "i", "", "`ISSUER`: discovery for --client-id, and the first login when the account does not exist yet; "+
		"with Vault, the issuer's name in Vault (default "+defaultVaultIssuer+")")
	o.vf.register(fl)
	o.cf.register(fl)
	countVarP(fl, verbosity, "verbose", "v", "say what was done and why (igwn-robot-get's -v, -vv: the same)")
	fl.BoolVarP(version, "version", "V", false, "print the version and exit")
	aliases(fl, map[string]string{"bearertokenfile": "outfile", "scopes": "scope", "kerberos-keytab": "keytab", "kerberos-ccache": "ccache"})
	group(fl, "Token file", "outfile", "minsecs", "audience", "scope", "audience-mode", "no-newline")
	group(fl, "Account (oidc-agent) and client credentials", "account", "token", "config", "config-dir", "pw-file", "pw-env", "pw-fd",
		"client-id", "client-secret-file", "token-url", "issuer")
	group(fl, "Vault (igwn-robot-get, htgettoken)", "keytab", "ccache", "vaultserver", "credkey", "role",
		"vaulttokenfile", "vaulttokenminttl", "cafile", "capath")
	group(fl, "HTCondor", "condor", "condor-service", "condor-store")
}

func newGetCmd(a *app) *cobra.Command {
	var o getOptions
	var minsecs int
	var verbosity countFlag
	var version bool
	cmd := &cobra.Command{
		Use:     "get [PRINCIPAL] [flags]",
		Short:   "write a fresh bearer token where WLCG Bearer Token Discovery finds it",
		Long:    getLong,
		Example: getExample,
		Args:    cli.Positional(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version {
				fmt.Fprintf(a.s.out, "credmon-token %s\n", Version)
				return nil
			}
			if len(args) == 1 {
				o.vf.principal = args[0]
			}
			o.verbose = verbosity > 0
			o.minsecs = time.Duration(minsecs) * time.Second
			a.code = o.run(cmd.Context(), a.s, cmd.Flags(), a.args)
			return nil
		},
	}
	o.register(cmd.Flags(), &minsecs, &verbosity, &version)
	completeFiles(cmd, "outfile", "config", "pw-file", "client-secret-file", "keytab", "ccache", "vaulttokenfile", "cafile")
	completeDirs(cmd, "config-dir", "capath")
	completeValues(cmd, "audience-mode", "audience", "resource", "both")
	completeValues(cmd, "condor-store", condorStoreAuto, condorStoreExchange, condorStorePlain)
	// PRINCIPAL: nothing to offer, and not a file name.
	cmd.ValidArgsFunction = cobra.NoFileCompletions
	return cmd
}

// run is get, its flags parsed; args are the command line's words (for
// messages that echo the user's spelling of a flag).
func (o *getOptions) run(ctx context.Context, s *stdio, fl *pflag.FlagSet, args []string) int {
	o.vf.vault = o.vf.selected(fl, o)
	if o.vf.vault && (o.account != "" || o.clientID != "" || o.token != "") {
		return fail(s, "get", configErrorf("Vault (a principal, --keytab, --vaultserver ...) and --account, --client-id or --token are different sources: give one"))
	}
	if o.cf.on && o.vf.vault {
		return o.runCondorVault(ctx, s, fl, args)
	}
	if !o.cf.on && (o.cf.service != "" || o.cf.store != condorStoreAuto) {
		return fail(s, "get", configErrorf("--condor-service and --condor-store need --condor"))
	}
	if o.token != "" {
		if err := o.fromConfig(); err != nil {
			return fail(s, "get", err)
		}
	}

	loc := bearer.WritePath(os.LookupEnv, os.Geteuid())
	if o.out != "" {
		loc = bearer.Location{Path: o.out, Source: "-o"}
	}
	scopes, audiences := strings.Fields(o.scope), strings.Fields(o.audience)
	if o.vf.vault {
		// htgettoken's lists are comma or space separated.
		scopes, audiences = source.SplitList(o.scope), source.SplitList(o.audience)
	}
	var plan *condorPlan
	if o.cf.on {
		// credd first: a mismatch stops the run before anything is
		// refreshed, as the storer does.
		var code int
		if plan, code = o.prepareCondor(ctx, s); code != exitOK {
			return code
		}
	}
	token, isNew, code := o.tokenFile(ctx, s, loc, scopes, audiences)
	if code != exitOK || plan == nil {
		return code
	}
	return o.storeCondor(ctx, s, plan, token, isNew, source.Request{Scopes: scopes, Audiences: audiences})
}

// tokenFile is get's job: when the token file still has more than
// --minsecs (and the requested audience and scopes) nothing is fetched,
// with no network; else a new token is fetched and written there. With
// --condor the token is returned (isNew: this run fetched it); code is
// exitOK to go on.
func (o *getOptions) tokenFile(ctx context.Context, s *stdio, loc bearer.Location, scopes, audiences []string) (token string, isNew bool, code int) {
	// The cron path: no configuration, no network, no account decryption
	// when the token on disk is still good.
	info, err := bearer.ReadInfo(loc.Path, bearer.ReadOptions{})
	if err != nil && o.verbose {
		fmt.Fprintf(s.err, "%v\n", err)
	}
	if err == nil {
		ok, why := bearer.Satisfies(info, time.Now(), o.minsecs, audiences, scopes)
		if ok && o.cf.on {
			token, err = bearer.ReadTokenFile(loc.Path)
			ok = err == nil
		}
		if ok {
			if o.verbose {
				fmt.Fprintf(s.err, "%s is fresh (%v left); nothing to do\n", loc.Path, time.Until(info.Expiry).Round(time.Second))
			}
			return token, false, exitOK
		}
		if o.verbose {
			fmt.Fprintf(s.err, "%s needs a new token: %s\n", loc.Path, why)
		}
	}

	var sent atomic.Bool
	token, err = o.fetch(ctx, s, scopes, audiences, func() {
		sent.Store(true)
		if o.verbose {
			fmt.Fprintln(s.err, "refresh request sent; a stop now lets it finish")
		}
	})
	if err == nil {
		// Also after a stop: the token is the result of a request that
		// was already sent.
		err = writeToken(loc.Path, token, !o.noNewline)
	}
	if st, ok := stoppedBy(ctx); ok {
		return "", false, getStopped(s, st, err, sent.Load())
	}
	if err != nil {
		return "", false, fail(s, "get", err)
	}
	if o.verbose {
		fmt.Fprintf(s.err, "wrote %s (%s)\n", loc.Path, loc.Source)
	}
	return token, true, exitOK
}

// writeToken writes get's token file. A file that cannot be written or
// replaced (a directory or FIFO at the path, a symlink, someone else's
// file, no permission) is exitPermission, as renew's token files are; a
// token the issuer got wrong is not.
func writeToken(path, token string, newline bool) error {
	err := bearer.WriteFile(path, token, bearer.WriteOptions{Mode: 0o600, UID: -1, GID: -1, Newline: newline})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bearer.ErrInvalidToken), errors.Is(err, bearer.ErrEmptyToken):
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return fileError{fmt.Errorf("writing %s: %w", path, err)}
}

// getStopped reports a get that a signal stopped, and returns the status
// that says so. err is what the refresh (or the write) ended with; sent
// says whether a refresh had been sent.
func getStopped(s *stdio, st stopped, err error, sent bool) int {
	var what string
	switch {
	case err == nil:
		what = "the request already sent was finished, its result saved and the token written"
	case sent:
		fail(s, "get", err)
		what = "the refresh already sent was finished"
	default:
		if !errors.Is(err, context.Canceled) && !errors.Is(err, oidcagent.ErrAccountBusy) {
			fail(s, "get", err)
		}
		what = "no refresh was sent"
	}
	fmt.Fprintf(s.err, "credmon-token get: %s: %s\n", st, what)
	return st.exitCode()
}

// source is the token source the flags name, built once: a password
// from --pw-fd or a pipe cannot be read twice, and get --condor asks for
// the source again after the fetch.
func (o *getOptions) source() (source.Source, error) {
	if o.src == nil {
		src, err := o.buildSource()
		if err != nil {
			return nil, err
		}
		o.src = src
	}
	return o.src, nil
}

// buildSource builds the token source the flags name.
func (o *getOptions) buildSource() (source.Source, error) {
	mode, err := tokenclient.ParseAudienceMode(o.audienceMode)
	if err != nil {
		return nil, configError{err}
	}
	cl := o.af.client()
	switch {
	case o.clientID != "":
		cc := &source.ClientCredentials{TokenURL: o.tokenURL, Issuer: o.issuer, ClientID: o.clientID,
			ClientSecret: o.inlineSecret, Client: cl, AudienceMode: mode}
		if o.secretFile != "" {
			b, err := os.ReadFile(o.secretFile)
			if err != nil {
				// Say which file this is and what names it: a missing file
				// named by config.ini is otherwise a bare "no such file".
				from := o.secretKey
				if from == "" {
					from = "--client-secret-file"
				}
				return nil, fmt.Errorf("reading the client secret file %s (%s): %w", o.secretFile, from, err)
			}
			cc.ClientSecret = strings.TrimRight(string(b), "\r\n")
		}
		if cc.ClientSecret == "" {
			return nil, configErrorf("the client credentials grant needs the client's secret: give --client-secret-file")
		}
		if cc.TokenURL == "" && cc.Issuer == "" {
			return nil, configErrorf("--client-id needs --token-url or --issuer")
		}
		return cc, nil
	case o.account == "":
		return nil, configErrorf("give --account NAME (an account stored by `credmon-token setup` or oidc-gen) or --client-id")
	}
	pw, err := o.af.password()
	if err != nil {
		return nil, err
	}
	dir, err := o.af.findDir(false)
	if err != nil && !errors.Is(err, oidcagent.ErrNoConfigDir) {
		return nil, err
	}
	return &source.Account{Dir: dir, Name: o.account, Password: pw, Client: cl, AudienceMode: mode}, nil
}

// fetch gets a new access token from the chosen source. An account that
// does not exist yet is created by the device flow when a human is at a
// terminal and the issuer is known; otherwise a human must run setup.
// sent is called when a refresh has been sent (Account.OnRefreshSent).
func (o *getOptions) fetch(ctx context.Context, s *stdio, scopes, audiences []string, sent func()) (string, error) {
	req := source.Request{Audiences: audiences, Scopes: scopes}
	if o.vf.vault {
		return o.fetchVault(ctx, s, req, sent)
	}
	src, err := o.source()
	if err != nil {
		return "", err
	}
	if a, ok := src.(*source.Account); ok {
		a.OnRefreshSent = sent
	}
	tok, err := src.Token(ctx, req)
	if errors.Is(err, source.ErrNoCredential) && source.IsTerminal(os.Stdin) && o.issuer != "" {
		fmt.Fprintf(s.err, "No stored account %q: logging in with the device flow at %s\n", o.account, o.issuer)
		// The password already read is handed over: a --pw-fd or a pipe
		// cannot be read twice, and --pw-env is not a file to name.
		var pw []byte
		if a, ok := src.(*source.Account); ok {
			pw = a.Password
		}
		p := setupParams{name: o.account, issuer: o.issuer, scope: o.scope, af: o.af, pw: pw,
			pwPath: passwordFileForConfig("", o.af)}
		if code := doSetup(ctx, &stdio{in: s.in, out: s.err, err: s.err}, p); code != exitOK {
			return "", needsLogin{err: fmt.Errorf("setup of %q failed", o.account)}
		}
		if a, ok := src.(*source.Account); ok && a.Dir == "" {
			// setup created the account directory; the password is not
			// read again (a descriptor cannot be).
			if a.Dir, err = o.af.findDir(false); err != nil {
				return "", err
			}
		}
		tok, err = src.Token(ctx, req)
	}
	if errors.Is(err, source.ErrNeedsLogin) {
		return "", needsLogin{err: err}
	}
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// fromConfig fills the source (and, unless given, audience and scope) from
// a [token NAME] section of osg-token-renewer's config.ini, so a robot and
// the renewal service share one description of a token.
func (o *getOptions) fromConfig() error {
	path := o.config
	if path == "" {
		path = renewer.ConfigPath()
	}
	cfg, err := renewer.LoadConfig(path)
	if err != nil {
		return configError{err}
	}
	var tok *renewer.Token
	for _, t := range cfg.Tokens {
		if t.Name == o.token {
			tok = t
		}
	}
	if tok == nil {
		return configErrorf("%s has no [token %s]", path, o.token)
	}
	acct := cfg.Accounts[tok.Account]
	if acct == nil {
		return configErrorf("[token %s] names account %q, which %s does not define", o.token, tok.Account, path)
	}
	if o.audience == "" {
		o.audience = tok.Audience
	}
	if o.scope == "" {
		o.scope = tok.Scope
	}
	switch acct.Mode {
	case renewer.ModeOIDC:
		o.account = acct.Name
		if o.af.pwFile == "" && o.af.pwEnv == "" && o.af.pwFD < 0 {
			o.af.pwFile = acct.PasswordFile
		}
	default:
		o.clientID, o.tokenURL = acct.ClientID, acct.TokenRequestURL
		o.secretFile = acct.ClientSecretFile
		o.secretKey = fmt.Sprintf("client_secret_file in [account %s] of %s", acct.Name, path)
		if acct.ClientSecret != "" {
			o.inlineSecret = acct.ClientSecret
		}
	}
	return nil
}

func newPathCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "print where get writes the bearer token",
		Long:  "Prints where get writes the bearer token (WLCG Bearer Token Discovery): $BEARER_TOKEN_FILE,\nelse $XDG_RUNTIME_DIR/bt_u<uid>, else /tmp/bt_u<uid>.",
		Args:  cli.Positional(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			loc := bearer.WritePath(os.LookupEnv, os.Geteuid())
			fmt.Fprintln(a.s.out, loc.Path)
			return nil
		},
	}
}

func newDecodeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "decode [FILE]",
		Short: "print a token's claims with dates (no signature check)",
		Long:  "Prints the claims of the token in FILE (default: the discovered bearer token) with its dates;\nthe signature is not checked.",
		Args:  cli.Positional(cobra.MaximumNArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			a.code = runDecode(args, a.s)
			return nil
		},
	}
}

func runDecode(args []string, s *stdio) int {
	var tok string
	var err error
	if len(args) == 1 {
		tok, err = bearer.ReadTokenFile(args[0])
	} else {
		tok, _, err = bearer.Find(os.LookupEnv, os.Geteuid())
	}
	if err != nil {
		return fail(s, "decode", err)
	}
	info, err := bearer.Inspect(tok)
	if err != nil {
		return fail(s, "decode", err)
	}
	fmt.Fprint(s.out, bearer.Describe(info, time.Now()))
	return exitOK
}

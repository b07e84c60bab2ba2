package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/credmon/credmon/internal/credname"
	"github.com/credmon/credmon/producer/source"
	"github.com/credmon/credmon/producer/storer"
	"github.com/credmon/credmon/producer/vaultsource"
)

// The --condor-store modes.
const (
	condorStoreAuto     = "auto"
	condorStoreExchange = "exchange"
	condorStorePlain    = "plain"
)

// vaultDial, when set, replaces the TCP connect to Vault. Only tests set
// it: credd's vault_url must name port 8200, and a test's Vault server
// listens elsewhere.
var vaultDial func(ctx context.Context, network, addr string) (net.Conn, error)

// condorFlags are get's --condor flags.
type condorFlags struct {
	on      bool
	service string
	store   string
}

func (c *condorFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&c.on, "condor", false, "also store the credential in HTCondor's credd for jobs (use_oauth_services); "+
		"Vault: igwn-robot-get's --condor (the SEC_CREDENTIAL_STORER flow for service --issuer)")
	fl.StringVar(&c.service, "condor-service", "", "with --condor (account, client credentials): the credd service `NAME` "+
		"(default: the account name; for --client-id the first label of the issuer's host)")
	fl.StringVar(&c.store, "condor-store", condorStoreAuto, "with --condor (account, client credentials): what credd gets (`HOW`): "+
		"exchange: a self-describing .top the credmon refreshes (account: a second refresh token by RFC 8693 token exchange; "+
		"client credentials: the client and its secret); plain: the access token (-P, a .use nothing refreshes); "+
		"auto: exchange when the account's issuer advertises token exchange (client credentials: always), else plain")
}

// condorIgnored are igwn-robot-get's options --condor ignores (the storer
// decides the files and lifetimes).
var condorIgnored = []string{"outfile", "minsecs", "vaulttokenfile", "vaulttokenminttl"}

// runCondorVault is igwn-robot-get --condor: the site's
// SEC_CREDENTIAL_GETTOKEN_OPTS must name this robot's Vault credential
// exactly (so condor_submit's storer runs store the same one), then the
// SEC_CREDENTIAL_STORER flow stores the service --issuer, in process and
// with the storer's messages (-v, as igwn-robot-get runs it).
func (o *getOptions) runCondorVault(ctx context.Context, s *stdio, fl *pflag.FlagSet, args []string) int {
	if o.verbose {
		for _, name := range condorIgnored {
			if given := spelled(fl, args, name); given != "" {
				fmt.Fprintf(s.err, "%s is ignored with --condor (as igwn-robot-get does): the storer decides files and lifetimes\n", given)
			}
		}
	}
	if o.scope != "" || o.audience != "" {
		return fail(s, "get", configErrorf("--condor with Vault stores the service's whole credential; request reduced scopes or an audience "+
			"for jobs in the submit file with a handle (<service>_oauth_permissions_<handle>, <service>_oauth_resource_<handle>)"))
	}
	kopts, p, err := o.kerberosIdentity()
	if err != nil {
		return fail(s, "get", err)
	}
	credkey, role := o.vf.credkeyRole(p)
	server := o.vf.server
	if server == "" {
		server = defaultVaultServer
	}
	issuer := o.issuer
	if issuer == "" {
		issuer = defaultVaultIssuer
	}
	knobs, err := storer.LoadKnobs()
	if err != nil {
		return fail(s, "get", configError{err})
	}
	if err := checkGettokenOpts(storer.Knob(knobs, "SEC_CREDENTIAL_GETTOKEN_OPTS"), storer.Knob(knobs, "USER_CONFIG_FILE"), credkey, role, server); err != nil {
		return fail(s, "get", err)
	}
	req, err := storer.ParseRequest(issuer)
	if err != nil {
		return fail(s, "get", configError{err})
	}
	// get's own trust flags reach the source as the request's options
	// (&options=), after the site's.
	if o.vf.caFile != "" {
		req.Options = append(req.Options, "--cafile="+o.vf.caFile)
	}
	if o.vf.caPath != "" {
		req.Options = append(req.Options, "--capath="+o.vf.caPath)
	}
	env := storer.EnvFrom(os.Getenv, os.Getuid())
	st := &storer.Storer{
		Name:   "credmon-token get",
		Args:   []string{issuer},
		Flags:  storer.Flags{Verbose: true},
		Env:    env,
		Config: storer.ConfigFrom(knobs),
		Source: &vaultsource.Source{UserAgent: "credmon-token/" + Version, Keytab: kopts.Keytab, CCache: o.vf.ccache,
			Principal: kopts.Principal, Dial: vaultDial},
		Store: storer.NewStoreCred(env),
		Term:  storer.NewTerminal(s.err),
	}
	if err := st.Run(ctx, []storer.Request{req}); err != nil {
		st.Report(err)
		return condorExit(err)
	}
	return exitOK
}

// condorExit is the status of a failed storer run: a mismatch in credd is
// for a human to resolve (3, as a configuration error); otherwise the
// source's error decides, as for get.
func condorExit(err error) int {
	var mm *storer.MismatchError
	if errors.As(err, &mm) {
		return exitConfig
	}
	if errors.Is(err, source.ErrNeedsLogin) {
		return exitNeedsLogin
	}
	return exitCodeFor(err)
}

// checkGettokenOpts is igwn-robot-get's check_condor_config: the set of
// SEC_CREDENTIAL_GETTOKEN_OPTS' shell words must be exactly
// {--credkey=K, --role=R, --vaultserver=V}, or later condor_submit runs
// would store another credential than this robot's.
func checkGettokenOpts(value, userConfigFile, credkey, role, server string) error {
	want := []string{"--credkey=" + credkey, "--role=" + role, "--vaultserver=" + server}
	words, err := storer.ShellSplit(value)
	if err == nil {
		got := map[string]bool{}
		for _, w := range words {
			got[w] = true
		}
		ok := len(got) == len(want)
		for _, w := range want {
			ok = ok && got[w]
		}
		if ok {
			return nil
		}
	}
	sort.Strings(want)
	line := "SEC_CREDENTIAL_GETTOKEN_OPTS = " + strings.Join(want, " ")
	if userConfigFile == "" {
		userConfigFile = "user_config"
	}
	file := userConfigFile
	if !filepath.IsAbs(file) {
		file = filepath.Join("~", ".condor", userConfigFile)
	}
	msg := fmt.Sprintf("the HTCondor configuration's SEC_CREDENTIAL_GETTOKEN_OPTS is %q; --condor needs exactly --credkey=%s --role=%s --vaultserver=%s "+
		"so that condor_submit stores this robot's credential: set it in %s", value, credkey, role, server, file)
	if !userFileExists(userConfigFile) {
		msg += fmt.Sprintf(", which does not exist: create it with the line\n    %s", line)
	}
	return configErrorf("%s", msg)
}

// userFileExists reports whether ~/.condor/<name> (or name, if absolute)
// exists, as igwn-robot-get's os.path.expanduser sees it.
func userFileExists(name string) bool {
	if !filepath.IsAbs(name) {
		home, err := os.UserHomeDir()
		if err != nil {
			return false
		}
		name = filepath.Join(home, ".condor", name)
	}
	_, err := os.Stat(name)
	return !errors.Is(err, fs.ErrNotExist)
}

// condorPlan is the account and client-credentials --condor run, decided
// before the token file is looked at.
type condorPlan struct {
	name  string
	mode  string // exchange or plain
	store *storer.StoreCred
	held  storer.QueryResult
}

// prepareCondor names the service, resolves --condor-store=auto and asks
// credd what it holds (query-oauth, before anything is fetched). A
// mismatch is reported with the delete-oauth command.
func (o *getOptions) prepareCondor(ctx context.Context, s *stdio) (*condorPlan, int) {
	p := &condorPlan{name: o.cf.service, mode: o.cf.store}
	if p.name == "" {
		p.name = o.defaultCondorService()
	}
	if !credname.OkayForOAuthFilename(p.name) {
		return nil, fail(s, "get", configErrorf("--condor-service %q: credd allows only letters, digits and - + = _ . in a service name", p.name))
	}
	switch p.mode {
	case condorStoreAuto, condorStoreExchange, condorStorePlain:
	default:
		return nil, fail(s, "get", configErrorf("--condor-store %q: want auto, exchange or plain", p.mode))
	}
	// For client credentials auto is exchange; for an account it needs the
	// issuer's discovery and the account decrypted, so it is decided only
	// when something may be stored (resolveMode): the cron run that finds
	// credd's copy and the token file good touches neither.
	if p.mode == condorStoreAuto && o.clientID != "" {
		p.mode = condorStoreExchange
	}
	if p.mode == condorStoreExchange && o.clientID != "" && o.issuer == "" {
		return nil, fail(s, "get", configErrorf("--condor with client credentials stores the client for the credmon, which finds the token endpoint "+
			"from the issuer: give --issuer, or --condor-store=plain"))
	}
	env := storer.EnvFrom(os.Getenv, os.Getuid())
	p.store = storer.NewStoreCred(env)
	q, out, err := p.store.Query(ctx, p.name, "", "")
	if err != nil {
		return nil, fail(s, "get", fmt.Errorf("condor_store_cred query-oauth -s %s: %w%s", p.name, err, indentOut(out)))
	}
	if o.verbose {
		fmt.Fprintf(s.err, "credd's credential %s: %s\n", p.name, q)
	}
	if q == storer.Mismatch {
		st := &storer.Storer{Name: "credmon-token get", Store: p.store, Term: storer.NewTerminal(s.err)}
		st.Report(&storer.MismatchError{Name: p.name})
		return nil, exitConfig
	}
	p.held = q
	return p, exitOK
}

// defaultCondorService is the account's name, or for client credentials
// the first label of the issuer's (else the token URL's) host:
// https://iam.example.org → "iam".
func (o *getOptions) defaultCondorService() string {
	if o.clientID == "" {
		return o.account
	}
	raw := o.issuer
	if raw == "" {
		raw = o.tokenURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host, _, _ := strings.Cut(u.Hostname(), ".")
	return host
}

// storeCondor stores what the plan says, after get's token file was made
// fresh: token is the robot's access token, isNew whether this run got it.
// Nothing is stored for a credential credd holds, except a plain token
// this run renewed.
func (o *getOptions) storeCondor(ctx context.Context, s *stdio, p *condorPlan, token string, isNew bool, req source.Request) int {
	say := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(s.err, format+"\n", args...)
		}
	}
	if p.held == storer.Present && !isNew {
		// Whatever the mode: credd's copy stands, and a plain one is
		// still this token.
		say("credd holds %s and the token did not change: nothing stored", p.name)
		return exitOK
	}
	src, err := o.source()
	if err != nil {
		return fail(s, "get", err)
	}
	if p.mode == condorStoreAuto {
		p.mode = condorStoreExchange
		if a, ok := src.(*source.Account); ok {
			yes, err := a.SupportsExchange(ctx)
			if err != nil {
				return fail(s, "get", err)
			}
			if !yes {
				p.mode = condorStorePlain
			}
		}
		say("--condor-store=auto: %s", p.mode)
	}
	if p.mode == condorStorePlain {
		if out, err := p.store.AddPlain(ctx, p.name, []byte(token)); err != nil {
			return fail(s, "get", fmt.Errorf("%w%s", err, indentOut(out)))
		}
		say("stored the access token as %s.use in credd (condor_store_cred add-oauth -P): jobs get it as it is", p.name)
		return exitOK
	}
	if p.held == storer.Present {
		say("credd holds %s (the credmon keeps it fresh): nothing stored", p.name)
		return exitOK
	}
	var top *source.Top
	switch src := src.(type) {
	case *source.Account:
		top, err = src.ExchangeTop(ctx, token, req)
	case *source.ClientCredentials:
		top, err = src.CondorTop(req)
	default:
		err = fmt.Errorf("--condor: no credd credential for this source")
	}
	if err != nil {
		return fail(s, "get", err)
	}
	blob, err := top.JSON()
	if err != nil {
		return fail(s, "get", err)
	}
	if out, err := p.store.Add(ctx, p.name, "", "", blob); err != nil {
		return fail(s, "get", fmt.Errorf("%w%s", err, indentOut(out)))
	}
	say("stored %s.top in credd (condor_store_cred add-oauth): the credmon refreshes it for jobs", p.name)
	return exitOK
}

// indentOut formats condor_store_cred's output to follow an error message.
func indentOut(out []byte) string {
	t := strings.TrimSpace(string(out))
	if t == "" {
		return ""
	}
	return "\n  " + strings.ReplaceAll(t, "\n", "\n  ")
}

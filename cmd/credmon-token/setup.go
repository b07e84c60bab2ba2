package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/source"
)

// accountFlags are the flags that locate and unlock an oidc-agent account.
type accountFlags struct {
	dir     string
	pwFile  string
	pwEnv   string
	pwFD    int
	timeout time.Duration
	insec   bool
}

func (a *accountFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.dir, "config-dir", "", "oidc-agent account directory (default: $OIDC_CONFIG_DIR, ~/.config/oidc-agent, ~/.oidc-agent)")
	fs.StringVar(&a.pwFile, "pw-file", "", "read the account's encryption password from the first line of this file")
	fs.StringVar(&a.pwEnv, "pw-env", "", "read the password from this environment variable (default "+oidcagent.EnvPassword+" when set)")
	fs.IntVar(&a.pwFD, "pw-fd", -1, "read the password from this file descriptor (e.g. 9 with 9<file)")
	fs.DurationVar(&a.timeout, "timeout", 30*time.Second, "bound on each request to the issuer")
	fs.BoolVar(&a.insec, "insecure", false, "allow http:// issuers (tests and labs only)")
}

// password returns the encryption password from the chosen source; a
// password is never taken from the command line (ps would show it).
func (a *accountFlags) password() ([]byte, error) {
	switch {
	case a.pwFile != "":
		return oidcagent.PasswordFromFile(a.pwFile)
	case a.pwFD >= 0:
		return oidcagent.PasswordFromFD(a.pwFD)
	case a.pwEnv != "":
		return oidcagent.PasswordFromEnv(a.pwEnv)
	case os.Getenv(oidcagent.EnvPassword) != "":
		return oidcagent.PasswordFromEnv(oidcagent.EnvPassword)
	}
	return nil, configError{fmt.Errorf("%w: give --pw-file, --pw-fd or --pw-env (or set %s)", oidcagent.ErrNoPassword, oidcagent.EnvPassword)}
}

func (a *accountFlags) findDir(create bool) (string, error) {
	if a.dir != "" {
		if create {
			if err := os.MkdirAll(a.dir, 0o700); err != nil {
				return "", err
			}
		}
		return a.dir, nil
	}
	d, err := oidcagent.FindConfigDir()
	if err == nil || !create {
		return d, err
	}
	return oidcagent.CreateConfigDir()
}

// client is the token client the flags configure: HTTP client, insecure
// switch, user agent. setup sends the audience as tokenclient.AudienceAuto
// (an absolute URI as RFC 8707 resource, anything else as audience).
func (a *accountFlags) client() *tokenclient.Client {
	return &tokenclient.Client{HTTPClient: httpClient(a.timeout), AllowInsecure: insecureAllowed(a.insec), UserAgent: "credmon-token/" + Version,
		AudienceMode: tokenclient.AudienceAuto}
}

func runSetup(ctx context.Context, args []string, s *stdio) int {
	fl := flag.NewFlagSet("credmon-token setup", flag.ContinueOnError)
	fl.SetOutput(s.err)
	var af accountFlags
	af.register(fl)
	issuer := fl.String("issuer", "", "the issuer URL (OIDC discovery)")
	scope := fl.String("scope", "", "scopes to request, space separated (default: asked at a terminal, from the issuer's scopes_supported; else openid offline_access); offline_access is always added")
	listScopes := fl.Bool("list-scopes", false, "print the issuer's scopes_supported, one per line, and exit")
	audience := fl.String("audience", "", "audience to request at login")
	manual := fl.Bool("manual", false, "use a pre-registered client (--client-id, --client-secret-file) instead of dynamic registration")
	clientID := fl.String("client-id", "", "pre-registered client id (implies --manual)")
	secretFile := fl.String("client-secret-file", "", "file holding the pre-registered client's secret (none: a public client)")
	authPost := fl.Bool("client-secret-post", false, "a pre-registered client authenticates with form parameters instead of HTTP Basic")
	configIni := fl.String("print-config-for", "", "password file path to show in the printed [account] section (default: --pw-file, or the file behind --pw-fd)")
	fl.Usage = func() {
		fmt.Fprintln(s.err, "usage: credmon-token setup NAME --issuer URL [flags]\n\n"+
			"Logs in once with the OAuth2 device flow (RFC 8628) and stores the account NAME, encrypted, in\n"+
			"oidc-agent's account format, so credmon-token (and oidc-agent) can refresh it without a human.\n"+
			"Prints the [account NAME] section to add to osg-token-renewer's config.ini.")
		fl.PrintDefaults()
	}
	name, rest := splitName(args)
	if err := fl.Parse(rest); err != nil {
		return exitUsage
	}
	if *listScopes && *issuer != "" && fl.NArg() == 0 {
		md, err := af.client().Discover(ctx, *issuer)
		if err != nil {
			return fail(s, "setup", fmt.Errorf("discovery at %s: %w", *issuer, err))
		}
		for _, sc := range md.ScopesSupported {
			fmt.Fprintln(s.out, sc)
		}
		return exitOK
	}
	if name == "" || fl.NArg() > 0 || *issuer == "" {
		fl.Usage()
		return exitUsage
	}
	if err := oidcagent.ValidName(name); err != nil {
		return fail(s, "setup", configError{err})
	}
	p := setupParams{name: name, issuer: *issuer, scope: *scope, audience: *audience, clientID: *clientID,
		secretFile: *secretFile, manual: *manual || *clientID != "", authPost: *authPost, af: af,
		pwPath: passwordFileForConfig(*configIni, af)}
	pw, err := af.password()
	if err != nil {
		return fail(s, "setup", err)
	}
	p.pw = pw
	return doSetup(ctx, s, p)
}

// setupParams is a parsed `setup` command line, with the password already
// read (a descriptor or pipe can be read once: `get` hands its own over).
type setupParams struct {
	name, issuer, scope, audience string
	clientID, secretFile          string
	manual, authPost              bool
	af                            accountFlags
	pw                            []byte
	// pwPath is the password file to print in the [account] section; empty
	// when the password did not come from a file.
	pwPath string
}

// passwordFileForConfig is the password_file to print for config.ini:
// --print-config-for, else --pw-file, else the regular file behind
// --pw-fd (9</etc/osg/tokens/NAME.pw); empty when there is none (an
// environment variable, a pipe).
func passwordFileForConfig(explicit string, af accountFlags) string {
	switch {
	case explicit != "":
		return explicit
	case af.pwFile != "":
		if abs, err := filepath.Abs(af.pwFile); err == nil {
			return abs
		}
		return af.pwFile
	case af.pwFD >= 0:
		target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", af.pwFD))
		if err != nil || !filepath.IsAbs(target) {
			return "" // pipe:[…], socket:[…]
		}
		if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
			return target
		}
	}
	return ""
}

// doSetup registers (or uses) a client, runs the device flow and stores the
// account.
func doSetup(ctx context.Context, s *stdio, p setupParams) int {
	name, af, pw := p.name, p.af, p.pw
	dir, err := af.findDir(true)
	if err != nil {
		return fail(s, "setup", err)
	}
	cl := af.client()
	md, err := cl.Discover(ctx, p.issuer)
	if err != nil {
		return fail(s, "setup", fmt.Errorf("discovery at %s: %w", p.issuer, err))
	}
	if md.DeviceAuthorizationEndpoint == "" {
		return fail(s, "setup", configErrorf("issuer %s does not offer the device flow (no device_authorization_endpoint)", p.issuer))
	}
	scopes := strings.Fields(p.scope)
	if len(scopes) == 0 && len(md.ScopesSupported) > 0 && source.IsTerminal(os.Stdin) && source.IsTerminal(os.Stderr) {
		scopes = askScopes(s, md.ScopesSupported)
	}
	if len(scopes) == 0 {
		scopes = []string{"openid", "offline_access"}
	} else if !contains(scopes, "offline_access") {
		// Without offline_access most issuers give no refresh token, and
		// the account would be useless to a robot.
		scopes = append(scopes, "offline_access")
	}

	// HTTP Basic, as oidc-agent authenticates and as every
	// issuer must accept (RFC 6749 §2.3.1); dynamically registered clients
	// are registered for it, so strict issuers accept our refreshes and
	// oidc-agent's alike.
	cl.AuthStyle = oauth2.AuthStyleInHeader
	if p.authPost {
		cl.AuthStyle = oauth2.AuthStyleInParams
	}
	var reg *tokenclient.Registration
	if p.manual {
		if p.clientID == "" {
			return fail(s, "setup", configErrorf("--manual needs --client-id"))
		}
		cl.ClientID = p.clientID
		if p.secretFile != "" {
			b, err := os.ReadFile(p.secretFile)
			if err != nil {
				return fail(s, "setup", err)
			}
			cl.ClientSecret = strings.TrimRight(string(b), "\r\n")
		}
	} else {
		if md.RegistrationEndpoint == "" {
			return fail(s, "setup", configErrorf("issuer %s has no registration endpoint: use --client-id (and --client-secret-file)", p.issuer))
		}
		reg, err = cl.Register(ctx, md.RegistrationEndpoint, tokenclient.RegistrationRequest{
			ClientName:   "credmon-token " + name,
			Scope:        strings.Join(registrationScopes(scopes, md.ScopesSupported), " "),
			GrantTypes:   []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"},
			RedirectURIs: []string{"http://localhost:8765"},
			// oidc-gen registers native clients too.
			ApplicationType:         "native",
			TokenEndpointAuthMethod: "client_secret_basic",
		})
		if err != nil {
			return fail(s, "setup", fmt.Errorf("dynamic client registration: %w", err))
		}
		cl.ClientID, cl.ClientSecret = reg.ClientID, reg.ClientSecret
		fmt.Fprintf(s.err, "Registered client %s at %s\n", reg.ClientID, md.RegistrationEndpoint)
	}

	cl.TokenURL, cl.DeviceAuthURL = md.TokenEndpoint, md.DeviceAuthorizationEndpoint
	da, err := cl.StartDevice(ctx, scopes, strings.Fields(p.audience))
	if err != nil {
		return fail(s, "setup", fmt.Errorf("device authorization: %w", err))
	}
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(s.err, "\nTo authorize, open\n\n    %s\n\nor go to %s and enter the code %s\n\n", da.VerificationURIComplete, da.VerificationURI, da.UserCode)
	} else {
		fmt.Fprintf(s.err, "\nTo authorize, go to\n\n    %s\n\nand enter the code %s\n\n", da.VerificationURI, da.UserCode)
	}
	tty := source.IsTerminal(os.Stderr)
	tok, err := cl.PollDevice(ctx, da, func(left, interval time.Duration) {
		if tty {
			fmt.Fprintf(s.err, "\rwaiting for approval: %v left, checking every %v   ", left.Round(time.Second), interval)
		}
	})
	if tty {
		fmt.Fprintln(s.err)
	}
	switch {
	case errors.Is(err, tokenclient.ErrAccessDenied):
		return fail(s, "setup", fmt.Errorf("the login was denied at the issuer: %w", err)) // exit 6, refused
	case errors.Is(err, tokenclient.ErrExpiredToken):
		return fail(s, "setup", needsLogin{err: fmt.Errorf("the code expired before it was approved: %w", err)}) // exit 4
	case err != nil:
		return fail(s, "setup", err)
	}
	if tok.RefreshToken == "" {
		return fail(s, "setup", fmt.Errorf("the issuer returned no refresh token (was offline_access granted?)"))
	}

	acct := oidcagent.NewAccount(name)
	// oidc-gen stores the issuer with a trailing slash and oidc-agent 4.x
	// builds its discovery URL from that form (without it oidc-add cannot
	// find the token endpoint); our own discovery accepts both.
	acct.SetIssuerURL(strings.TrimSuffix(md.Issuer, "/") + "/")
	acct.SetClientID(cl.ClientID)
	acct.SetClientSecret(cl.ClientSecret)
	acct.SetRefreshToken(tok.RefreshToken)
	acct.SetScope(strings.Join(scopes, " "))
	acct.SetAudience(p.audience)
	acct.SetRedirectURIs([]string{"http://localhost:8765"})
	if md.DeviceAuthorizationEndpoint != "" {
		acct.SetString(oidcagent.KeyDeviceAuthorizationEndpoint, md.DeviceAuthorizationEndpoint)
	}
	if err := oidcagent.Save(dir, name, acct, pw); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fail(s, "setup", err)
		}
		return fail(s, "setup", fmt.Errorf("saving the account: %w", err))
	}
	path := filepath.Join(dir, name)
	fmt.Fprintf(s.err, "Stored account %s in %s (encrypted; oidc-agent can load it too).\n", name, path)
	pwPath := p.pwPath
	if pwPath == "" {
		// No file held the password: show OSG's convention, and say on a
		// line of its own (config.ini has no inline comments) what to do.
		pwPath = "/etc/osg/tokens/" + name + ".pw"
		fmt.Fprintf(s.out, "# Create %s holding the password you used (first line), readable by the renewal service.\n", pwPath)
	}
	fmt.Fprintf(s.out, "[account %s]\npassword_file = %s\n", name, pwPath)
	return exitOK
}

// askScopes shows the issuer's scopes and reads the wanted ones (a human
// at a terminal; scripts use --scope).
func askScopes(s *stdio, supported []string) []string {
	fmt.Fprintf(s.err, "The issuer supports these scopes:\n")
	for _, sc := range supported {
		fmt.Fprintf(s.err, "    %s\n", sc)
	}
	fmt.Fprintf(s.err, "Scopes to request, space separated (WLCG paths may be narrowed, e.g. storage.read:/data)\n[openid offline_access]: ")
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	return strings.Fields(line)
}

// splitName takes a leading NAME argument so that flags may follow it
// (Go's flag package stops at the first non-flag).
func splitName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// registrationScopes is what a client may be registered for: a WLCG path
// scope such as storage.read:/data is registered as the advertised
// storage.read:/ it narrows (issuers validate registration scopes against
// scopes_supported, and grant narrower paths at login).
func registrationScopes(want, supported []string) []string {
	if len(supported) == 0 {
		return want
	}
	var out []string
	for _, s := range want {
		pick := s
		if !contains(supported, s) {
			for _, p := range supported {
				if strings.HasSuffix(p, ":/") && strings.HasPrefix(s, p) {
					pick = p
					break
				}
			}
		}
		if !contains(out, pick) {
			out = append(out, pick)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

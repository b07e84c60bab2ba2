package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/cli"
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

func (a *accountFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.dir, "config-dir", "", "oidc-agent account directory `DIR` (default: $OIDC_CONFIG_DIR, ~/.config/oidc-agent, ~/.oidc-agent)")
	fs.StringVar(&a.pwFile, "pw-file", "", "read the account's encryption password from the first line of this `FILE`")
	fs.StringVar(&a.pwEnv, "pw-env", "", "read the password from this environment variable `VAR` (default "+oidcagent.EnvPassword+" when set)")
	fs.IntVar(&a.pwFD, "pw-fd", -1, "read the password from this file descriptor `FD` (e.g. 9 with 9<file)")
	fs.DurationVar(&a.timeout, "timeout", 30*time.Second, "bound of `DURATION` on each request to the issuer")
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

// setupFlags are setup's flags.
type setupFlags struct {
	af                                accountFlags
	issuer, scope, audience, clientID string
	secretFile, configIni             string
	listScopes, manual, authPost      bool
}

func newSetupCmd(a *app) *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "setup NAME --issuer URL [flags]",
		Short: "log in once with the device flow and store the account (oidc-agent format)",
		Long: "Logs in once with the OAuth2 device flow (RFC 8628) and stores the account NAME, encrypted, in\n" +
			"oidc-agent's account format, so credmon-token (and oidc-agent) can refresh it without a human.\n" +
			"Prints the [account NAME] section to add to osg-token-renewer's config.ini.\n\n" +
			"With --list-scopes and --issuer (no NAME), prints the issuer's scopes_supported.",
		Example: "  credmon-token setup robot --issuer https://issuer.example --pw-file /etc/osg/tokens/robot.pw\n" +
			"  credmon-token setup --issuer https://issuer.example --list-scopes",
		Args: cli.Positional(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var name string
			if len(args) == 1 {
				name = args[0]
			}
			if f.listScopes && f.issuer != "" && name == "" {
				a.code = listScopes(cmd.Context(), a.s, &f)
				return nil
			}
			if name == "" || f.issuer == "" {
				return cli.Usagef(cmd, "give the account NAME and --issuer URL")
			}
			a.code = runSetup(cmd.Context(), a.s, name, &f)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.issuer, "issuer", "", "the issuer `URL` (OIDC discovery)")
	fl.StringVar(&f.scope, "scope", "", "`SCOPES` to request, space separated (default: asked at a terminal, from the issuer's scopes_supported; "+
		"else openid offline_access); offline_access is always added")
	fl.BoolVar(&f.listScopes, "list-scopes", false, "print the issuer's scopes_supported, one per line, and exit")
	fl.StringVar(&f.audience, "audience", "", "audience `AUD` to request at login")
	f.af.register(fl)
	fl.StringVar(&f.configIni, "print-config-for", "", "password `FILE` path to show in the printed [account] section (default: --pw-file, or the file behind --pw-fd)")
	fl.BoolVar(&f.manual, "manual", false, "use a pre-registered client (--client-id, --client-secret-file) instead of dynamic registration")
	fl.StringVar(&f.clientID, "client-id", "", "pre-registered client `ID` (implies --manual)")
	fl.StringVar(&f.secretFile, "client-secret-file", "", "`FILE` holding the pre-registered client's secret (none: a public client)")
	fl.BoolVar(&f.authPost, "client-secret-post", false, "a pre-registered client authenticates with form parameters instead of HTTP Basic")
	completeFiles(cmd, "client-secret-file", "print-config-for", "pw-file")
	completeDirs(cmd, "config-dir")
	group(fl, "Login", "issuer", "scope", "list-scopes", "audience")
	group(fl, "Account", "config-dir", "pw-file", "pw-env", "pw-fd", "print-config-for")
	group(fl, "Pre-registered client", "manual", "client-id", "client-secret-file", "client-secret-post")
	return cmd
}

// listScopes is setup --list-scopes: the issuer's scopes_supported.
func listScopes(ctx context.Context, s *stdio, f *setupFlags) int {
	md, err := f.af.client().Discover(ctx, f.issuer)
	if err != nil {
		return fail(s, "setup", fmt.Errorf("discovery at %s: %w", f.issuer, err))
	}
	for _, sc := range md.ScopesSupported {
		fmt.Fprintln(s.out, sc)
	}
	return exitOK
}

func runSetup(ctx context.Context, s *stdio, name string, f *setupFlags) int {
	af := f.af
	if err := oidcagent.ValidName(name); err != nil {
		return fail(s, "setup", configError{err})
	}
	p := setupParams{name: name, issuer: f.issuer, scope: f.scope, audience: f.audience, clientID: f.clientID,
		secretFile: f.secretFile, manual: f.manual || f.clientID != "", authPost: f.authPost, af: af,
		pwPath: passwordFileForConfig(f.configIni, af)}
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

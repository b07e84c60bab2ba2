package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/web"
	"github.com/credmon/credmon/internal/cli"
	"github.com/credmon/credmon/internal/manpage"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr, os.Geteuid())) }

// options are the command line; everything else is HTCondor configuration.
type options struct {
	name, credDir, listen, genMan string
}

// newCommand is credmon-web's command line, on cobra/pflag as the other
// commands (-x, --long help, one-line usage errors exiting 2, the man
// page from the same definition). It parses only: run does the work.
func newCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credmon-web [-n NAME] [-c DIR] [--listen HOST:PORT]",
		Short: "the OAuth2 login web app condor_submit's \"Please visit\" URL leads to",
		Long: `credmon-web serves https://<ap>/key/<key>: it reads credd's key file, runs the OAuth2
authorization-code flow (PKCE, checked state) at each service's IdP and writes the user's
.top, .use and .meta for the credmon. It reads the HTCondor configuration of the credmon
named by --name (<SVC>_CLIENT_ID, _CLIENT_SECRET_FILE, _AUTHORIZATION_URL, _TOKEN_URL,
_RETURN_URL_SUFFIX, _ISSUER; CREDMON_WEB_PREFIX, CREDMON_WEB_LISTEN, CREDMON_WEB_TLS_CERTIFICATE,
CREDMON_WEB_TLS_KEY, CREDMON_WEB_TRUSTED_PROXIES). It runs as the condor user, never as root.

Exit status: 0 stopped by SIGTERM/SIGINT; 1 configuration or server error; 2 usage error.`,
		Args:                  cli.Positional(cobra.NoArgs),
		DisableFlagsInUseLine: true,
		RunE:                  func(*cobra.Command, []string) error { return nil },
	}
	cli.Setup(cmd)
	cmd.SetHelpCommand(&cobra.Command{Hidden: true})
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVarP(&o.name, "name", "n", "CREDMON_OAUTH", "credmon subsystem `NAME` whose configuration (credential directory, providers, local issuer) to read")
	f.StringVarP(&o.credDir, "cred-dir", "c", "", "credential `DIR` (default SEC_CREDENTIAL_DIRECTORY_OAUTH, then SEC_CREDENTIAL_DIRECTORY)")
	f.StringVar(&o.listen, "listen", "", "`HOST:PORT` to listen on (default CREDMON_WEB_LISTEN)")
	f.StringVar(&o.genMan, "gen-man", "", "write the man page into `DIR` and exit (make man, make pkg-bin)")
	_ = f.MarkHidden("gen-man")
	return cmd
}

func run(args []string, stderr io.Writer, euid int) int {
	var o options
	cmd := newCommand(&o)
	// cobra reads os.Args when given nil; the caller's args are the command line.
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(os.Stdout)
	cmd.SetErr(stderr)
	if err := cmd.Execute(); err != nil {
		return cli.Fail(stderr, cmd, err)
	}
	if cmd.Flags().Changed("help") {
		return 0
	}
	if o.genMan != "" {
		var mo options
		if err := manpage.WriteSection(newCommand(&mo), o.genMan, "CREDMON-WEB", "8", "credmon"); err != nil {
			fmt.Fprintf(stderr, "credmon-web: %v\n", err)
			return 1
		}
		return 0
	}
	name, credDir, listen := &o.name, &o.credDir, &o.listen
	logger := log.New(stderr, "credmon-web: ", log.LstdFlags|log.LUTC)
	if euid == 0 {
		// Tokens written by the app are owned by its user, which credd,
		// the shadow and the credmon expect to be condor (spec §2.3); and a
		// web server facing users must not hold root.
		logger.Print("refusing to run as root: run as the condor user (the systemd unit does)")
		return 1
	}
	srv, addr, tlsCfg, err := configure(strings.ToUpper(*name), *credDir, *listen, logger)
	if err != nil {
		logger.Print(err)
		return 1
	}
	hs := &http.Server{
		Addr: addr, Handler: srv, TLSConfig: tlsCfg,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: logger,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Print(err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	done := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			done <- hs.ServeTLS(ln, "", "")
		} else {
			done <- hs.Serve(ln)
		}
	}()
	logger.Printf("listening on %s (TLS: %t)", ln.Addr(), tlsCfg != nil)
	select {
	case err := <-done:
		logger.Print(err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Print(err)
	}
	return 0
}

// configure reads the HTCondor configuration and builds the app.
func configure(name, credDir, listen string, logger *log.Logger) (*web.Server, string, *tls.Config, error) {
	cfg, err := condorcfg.Load(condorcfg.Options{Subsystem: name, Prefetch: append(knobs.KnobsFor(name), knobs.WebKnobs()...)})
	if err != nil {
		return nil, "", nil, err
	}
	cm, err := knobs.LoadCredmon(cfg, name, knobs.Overrides{CredDir: credDir})
	if err != nil {
		return nil, "", nil, err
	}
	if cm.CredDir == "" {
		return nil, "", nil, errors.New("no credential directory: set SEC_CREDENTIAL_DIRECTORY_OAUTH")
	}
	wc, err := knobs.LoadWeb(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	if listen != "" {
		wc.Listen = listen
	}
	var locals []*knobs.Local
	for _, p := range cm.LocalNames {
		l, err := cm.Local(p)
		if err != nil {
			return nil, "", nil, err
		}
		locals = append(locals, l)
	}
	oidc, jwks, err := web.IssuerDocuments(locals)
	if err != nil {
		// The login pages work without the issuer documents; verifiers
		// that need them fail visibly instead.
		logger.Printf("not serving the local issuer's documents: %v", err)
	}
	srv, err := web.New(web.Config{
		CredDir: cm.CredDir, Prefix: wc.Prefix, TrustedProxies: wc.TrustedProxies,
		Provider: func(svc string) (*web.ProviderConfig, error) {
			p, err := cm.Provider(svc)
			if err != nil {
				return nil, err
			}
			return &web.ProviderConfig{ClientID: p.ClientID, ClientSecretFile: p.ClientSecretFile,
				AuthorizationURL: p.AuthorizationURL, TokenURL: p.TokenURL, Issuer: p.Issuer,
				ReturnURLSuffix: p.ReturnURLSuffix, AuthStyle: orPost(p.AuthStyle), AudienceMode: p.AudienceMode}, nil
		},
		OpenIDConfiguration: oidc, JWKS: jwks,
		AllowInsecure: cm.AllowInsecure,
		HTTPClient:    &http.Client{Timeout: cm.HTTPTimeout},
		Logf:          logger.Printf,
	})
	if err != nil {
		return nil, "", nil, err
	}
	var tlsCfg *tls.Config
	if wc.TLSCertificate != "" {
		cert, err := tls.LoadX509KeyPair(wc.TLSCertificate, wc.TLSKey)
		if err != nil {
			return nil, "", nil, fmt.Errorf("CREDMON_WEB_TLS_CERTIFICATE/KEY: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	return srv, wc.Listen, tlsCfg, nil
}

// orPost keeps the configured client authentication, client_secret_post
// (the Python app's) when none is.
func orPost(s oauth2.AuthStyle) oauth2.AuthStyle {
	if s == oauth2.AuthStyleAutoDetect {
		return oauth2.AuthStyleInParams
	}
	return s
}

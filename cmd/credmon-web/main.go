package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
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

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/web"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr, os.Geteuid())) }

func run(args []string, stderr io.Writer, euid int) int {
	fs := flag.NewFlagSet("credmon-web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("n", "CREDMON_OAUTH", "credmon subsystem name whose configuration (credential directory, providers, local issuer) to read")
	credDir := fs.String("c", "", "credential directory (default SEC_CREDENTIAL_DIRECTORY_OAUTH, then SEC_CREDENTIAL_DIRECTORY)")
	listen := fs.String("listen", "", "host:port to listen on (default CREDMON_WEB_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
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

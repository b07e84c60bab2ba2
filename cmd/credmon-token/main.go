package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/credmon/credmon/internal/cli"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/producer/kerberos"
	"github.com/credmon/credmon/producer/oidcagent"
)

// Version is set at link time.
var Version = "dev"

const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = cli.ExitUsage
	exitConfig      = 3
	exitNeedsLogin  = 4
	exitUnreachable = 5
	exitRefused     = 6
	exitPermission  = 7
	// A stop signal ends get and renew with 128 + the signal's number, as
	// a shell reports a process the signal killed: 130 for SIGINT, 131 for
	// SIGQUIT, 143 for SIGTERM (see stopSignals).
	exitSignalBase = 128
)

// stopSignals stop a command: no new refresh is started, and the requests
// already sent finish (each within its timeout) and are saved before the
// command exits with exitSignalBase + the signal.
// SIGQUIT is one: condor_master's fast shutdown sends it, and Go's default
// (a goroutine dump and exit 2) would cut a refresh off on the wire.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// stopped is the cause of the commands' context when a stop signal
// arrives. It matches context.Canceled.
type stopped struct{ sig syscall.Signal }

func (s stopped) Error() string {
	switch s.sig {
	case syscall.SIGINT:
		return "stopped by SIGINT"
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	case syscall.SIGQUIT:
		return "stopped by SIGQUIT"
	}
	return "stopped by " + s.sig.String()
}

func (s stopped) Is(target error) bool { return target == context.Canceled }

// notifyStop returns a context cancelled, with cause stopped, by the first
// of stopSignals. Later signals are swallowed until stop is called: the
// requests already sent are bounded by their own timeouts, and cutting
// them off is what a stop must not do.
func notifyStop(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, stopSignals...)
	go func() {
		select {
		case sig := <-ch:
			if s, ok := sig.(syscall.Signal); ok {
				cancel(stopped{s})
			}
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		cancel(nil)
		signal.Stop(ch)
	}
}

// stoppedBy reports whether a signal stopped ctx, and which.
func stoppedBy(ctx context.Context) (stopped, bool) {
	var s stopped
	ok := errors.As(context.Cause(ctx), &s)
	return s, ok
}

// exitCode is the status of a command the signal stopped.
func (s stopped) exitCode() int { return exitSignalBase + int(s.sig) }

// configError marks a mistake in flags or configuration files.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

func configErrorf(format string, args ...any) error { return configError{fmt.Errorf(format, args...)} }

// fileError marks a file the command cannot write or replace (a
// directory, FIFO or symlink at the token path, no permission, a full
// disk): exitPermission, as renew's ClassWrite.
type fileError struct{ err error }

func (e fileError) Error() string { return e.err.Error() }
func (e fileError) Unwrap() error { return e.err }

// needsLogin marks "a human must run setup": no stored credential, or the
// issuer no longer accepts it. hint, when set, replaces the setup hint
// (Vault: log in once at a terminal).
type needsLogin struct {
	err  error
	hint string
}

func (e needsLogin) Error() string { return e.err.Error() }
func (e needsLogin) Unwrap() error { return e.err }

// exitCodeFor maps an error to the documented exit status.
func exitCodeFor(err error) int {
	var ce configError
	var fe fileError
	var nl needsLogin
	var te *tokenclient.Error
	var ne net.Error
	var ve *vault.Error
	var ke *kerberos.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &nl):
		return exitNeedsLogin
	case errors.As(err, &ve):
		return vaultExit(ve)
	case errors.As(err, &ke):
		return kerberosExit(err)
	case errors.As(err, &ce), errors.Is(err, oidcagent.ErrBadPassword), errors.Is(err, oidcagent.ErrNoPassword):
		return exitConfig
	case errors.Is(err, tokenclient.ErrInsecureURL):
		// Nothing was sent: the configuration names an http:// issuer or
		// token URL (renew's ClassConfig too).
		return exitConfig
	case errors.As(err, &fe):
		return exitPermission
	case errors.Is(err, tokenclient.ErrAccessDenied):
		return exitRefused // a human said no at the issuer's page
	case errors.As(err, &te):
		if tokenclient.Classify(err) == tokenclient.NeedsLogin {
			return exitNeedsLogin
		}
		if te.Status >= 500 || te.Status == http.StatusTooManyRequests {
			return exitUnreachable
		}
		return exitRefused
	case errors.Is(err, fs.ErrPermission):
		return exitPermission
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return exitUnreachable
	}
	return exitFailure
}

// vaultExit is the status of Vault's answer: a dead refresh token in
// Vault needs a human (4); Vault busy, rate-limited or failing is
// "unreachable" (5), as an issuer's 5xx is; any other refusal is 6.
func vaultExit(e *vault.Error) int {
	switch {
	case e.Class == tokenclient.NeedsLogin:
		return exitNeedsLogin
	case e.Class == tokenclient.Transient:
		return exitUnreachable
	}
	return exitRefused
}

// kerberosExit is the status of a Kerberos failure: the keytab's or ticket
// cache's file problems are 7 (a missing file or a bad name 3), krb5.conf
// and the principal 3, an unreachable KDC 5, an expired ticket cache 4 (a
// human runs kinit), a refusal by the KDC 6.
func kerberosExit(err error) int {
	switch {
	case errors.Is(err, kerberos.ErrKeytab) && errors.Is(err, fs.ErrNotExist):
		return exitConfig
	case errors.Is(err, kerberos.ErrKeytab):
		return exitPermission
	case errors.Is(err, kerberos.ErrConfig), errors.Is(err, kerberos.ErrNoPrincipal):
		return exitConfig
	case errors.Is(err, kerberos.ErrKDCUnreachable):
		return exitUnreachable
	case errors.Is(err, kerberos.ErrCCache):
		return exitNeedsLogin
	case errors.Is(err, kerberos.ErrOutOfDate), errors.Is(err, kerberos.ErrUnknownPrincipal), errors.Is(err, kerberos.ErrRejected):
		return exitRefused
	}
	return exitFailure
}

// fail prints err as one line and returns its exit status. The whole
// chain is printed: tokenclient's errors are one line and hold no secret,
// and what the command wrapped around them says what it was doing.
func fail(s *stdio, cmd string, err error) int {
	code := exitCodeFor(err)
	msg := err.Error()
	var nl needsLogin
	var ke *kerberos.Error
	switch {
	case errors.As(err, &nl) && nl.hint != "":
		msg += " — " + nl.hint
	case code == exitNeedsLogin && !errors.As(err, &ke):
		msg += " — a human must run `credmon-token setup` for this account"
	}
	fmt.Fprintf(s.err, "credmon-token %s: %s\n", cmd, msg)
	return code
}

// httpClient is the client every command uses: bounded connect and TLS
// handshake times, no redirects on token endpoints, and timeout as the
// bound on each whole exchange and on waiting for response headers. A
// zero timeout sets neither, for callers whose contexts bound each
// request (renew: the token's own timeout, which may exceed any fixed
// bound chosen here).
func httpClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			IdleConnTimeout:       4 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// insecureAllowed: http:// issuers only for tests and labs, as for the daemon.
func insecureAllowed(flag bool) bool {
	return flag || os.Getenv("OAUTHLIB_INSECURE_TRANSPORT") != ""
}

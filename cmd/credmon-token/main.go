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

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/producer/oauth2refresh"
	"github.com/credmon/credmon/producer/oidc"
	"github.com/credmon/credmon/producer/oidcagent"
)

// Version is set at link time.
var Version = "dev"

const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitConfig      = 3
	exitNeedsLogin  = 4
	exitUnreachable = 5
	exitRefused     = 6
	exitPermission  = 7
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io *stdio) int
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

var commands = []command{
	{"setup", "log in once with the device flow and store the account (oidc-agent format)", runSetup},
	{"get", "write a fresh bearer token where WLCG Bearer Token Discovery finds it", runGet},
	{"renew", "renew every [token] of osg-token-renewer's config.ini (--watch: stay running)", runRenew},
	{"status", "show every configured token and account, and what needs attention", runStatus},
	{"path", "print where get writes the bearer token", runPath},
	{"decode", "print a token's claims with dates (no signature check)", runDecode},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: credmon-token COMMAND [flags]   (credmon-token COMMAND -h for its flags)\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nexit status: 0 ok, 1 failure, 2 usage, 3 configuration, 4 a human must log in (run setup),\n"+
		"5 issuer unreachable, 6 issuer refused, 7 file permissions\n")
}

func run(args []string, in io.Reader, out, errw io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errw)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintf(out, "credmon-token %s\n", Version)
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], &stdio{in: in, out: out, err: errw})
		}
	}
	fmt.Fprintf(errw, "credmon-token: unknown command %q\n\n", args[0])
	usage(errw)
	return exitUsage
}

// configError marks a mistake in flags or configuration files.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

func configErrorf(format string, args ...any) error { return configError{fmt.Errorf(format, args...)} }

// needsLogin marks "a human must run setup": no stored credential, or the
// issuer no longer accepts it.
type needsLogin struct{ err error }

func (e needsLogin) Error() string { return e.err.Error() }
func (e needsLogin) Unwrap() error { return e.err }

// exitCodeFor maps an error to the documented exit status.
func exitCodeFor(err error) int {
	var ce configError
	var nl needsLogin
	var te *oidc.TokenError
	var re *oauth2.RetrieveError
	var ne net.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &nl):
		return exitNeedsLogin
	case errors.As(err, &ce), errors.Is(err, oidcagent.ErrBadPassword), errors.Is(err, oidcagent.ErrNoPassword):
		return exitConfig
	case errors.Is(err, oidc.ErrAccessDenied):
		return exitRefused // a human said no at the issuer's page
	case errors.As(err, &te):
		if te.Code == "invalid_grant" {
			return exitNeedsLogin
		}
		if te.Status >= 500 || te.Status == http.StatusTooManyRequests {
			return exitUnreachable
		}
		return exitRefused
	case errors.As(err, &re):
		if re.ErrorCode == "invalid_grant" {
			return exitNeedsLogin
		}
		if re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests) {
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

// fail prints err as one line and returns its exit status.
func fail(s *stdio, cmd string, err error) int {
	code := exitCodeFor(err)
	msg := oauth2refresh.Describe(err)
	if code == exitNeedsLogin {
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

// isTerminal reports whether f is a terminal (a human may be there).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

package credtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/credmon/credmon/internal/credname"
)

// The condor_store_cred stand-in's environment: where the credential
// directory is, as HTCondor's _CONDOR_<KNOB> override names it (there is
// no HTCondor configuration on the build machines), TRUSTED_VAULT_HOSTS the
// same way, and a file to which every run appends its argument list (never
// the credential), so tests can see what a storer asked.
const (
	EnvStoreCredDir          = "_CONDOR_SEC_CREDENTIAL_DIRECTORY_OAUTH"
	EnvStoreCredTrustedVault = "_CONDOR_TRUSTED_VAULT_HOSTS"
	EnvStoreCredLog          = "CREDTEST_STORE_CRED_LOG"
)

// ErrUntrustedHost is FAILURE_UNTRUSTED_HOST: a Vault credential whose
// vault_url host is not in TRUSTED_VAULT_HOSTS.
var ErrUntrustedHost = errors.New("credtest: vault_url host is not in TRUSTED_VAULT_HOSTS (FAILURE_UNTRUSTED_HOST)")

// maxStoreCredInput bounds what add-oauth reads, like credd's limit on a
// credential's size; a credential is a few kilobytes.
const maxStoreCredInput = 1 << 20

// OAuthAdd is one condor_store_cred add-oauth (docs/htcondor-contract.md#handshake):
// the user's blob stored as <user>/<name>.top, or as <name>.use with
// Plain (-P, condor_store_cred sends NeedRefresh=false).
type OAuthAdd struct {
	User, Name string
	Blob       []byte
	// Scopes and Audience are -S and -A, merged into a .top's JSON as
	// "scopes" and "audience" (StoreTopWithScopes).
	Scopes, Audience string
	// Plain is -P: a plain access token, written verbatim as the .use.
	Plain bool
	// TrustedVaultHosts is TRUSTED_VAULT_HOSTS: when set, a blob that is
	// a JSON object with "vault_url" must name one of these hosts.
	TrustedVaultHosts []string
}

// AddOAuth is STORE_CRED as condor_store_cred add-oauth sends it: no
// STORE_CRED_WAIT_FOR_CREDMON, so like AddNoWait it replies CredSuccess
// when the .use already exists (no kick) and otherwise kicks the credmon
// and replies CredSuccessPending whether or not the kick worked. The
// error is for a refused store, with the code CodeOf (or
// CredUntrustedHost) gives.
func (c *Credd) AddOAuth(a OAuthAdd) (int, error) {
	if a.Plain {
		if err := c.StorePlainUse(a.User, a.Name, a.Blob); err != nil {
			return CodeOf(err), err
		}
		return CredSuccess, nil
	}
	if len(a.TrustedVaultHosts) > 0 {
		var m map[string]any
		if json.Unmarshal(a.Blob, &m) == nil {
			if v, ok := m["vault_url"].(string); ok {
				u, err := url.Parse(v)
				if err != nil || !slices.Contains(a.TrustedVaultHosts, u.Hostname()) {
					return CredUntrustedHost, fmt.Errorf("%w: %q", ErrUntrustedHost, v)
				}
			}
		}
	}
	if err := c.StoreTopWithScopes(a.User, a.Name, a.Blob, a.Scopes, a.Audience); err != nil {
		return CodeOf(err), err
	}
	if _, err := os.Stat(c.UsePath(a.User, a.Name)); err == nil {
		return CredSuccess, nil
	}
	_ = c.Kick() // credd logs a failed kick and replies the same
	return CredSuccessPending, nil
}

// QueryOAuth is condor_store_cred query-oauth for one name: a .top that
// does not match scopes and audience (CredMatches) is CredMismatch, else
// Query's answer.
func (c *Credd) QueryOAuth(user, name, scopes, audience string) int {
	if checkNames(user, name) != nil {
		return CredBadArgs
	}
	if _, err := os.Stat(c.TopPath(user, name)); err == nil && !c.CredMatches(user, name, scopes, audience) {
		c.clearMark(user)
		return CredMismatch
	}
	return c.Query(user, name)
}

// StoreCredMain is a condor_store_cred for tests: the oauth verbs on top
// of Credd, following docs/htcondor-contract.md (condor_store_cred and
// STORE_CRED):
//
//	add-oauth -s SERVICE [-H HANDLE] [-S SCOPES] [-A AUDIENCE] [-P] -i FILE|-
//	query-oauth [-s SERVICE [-H HANDLE] [-S SCOPES] [-A AUDIENCE]]
//	delete-oauth [-s SERVICE [-H HANDLE]]
//	common: [-u USER[@DOMAIN]] [-n HOST] [-d] [-h]
//
// The credential name is SERVICE or SERVICE_HANDLE; names are checked as
// credd checks them. The user is -u's (without the domain) or the caller's.
// The credential directory is $_CONDOR_SEC_CREDENTIAL_DIRECTORY_OAUTH; -n
// is accepted and ignored (there is one credd). Exit status as
// condor_store_cred's: 0 success (also SUCCESS_PENDING), 2 a query-oauth
// mismatch, 1 anything else.
func StoreCredMain(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "condor_store_cred"
	if p := getenv(EnvStoreCredLog); p != "" {
		if err := appendLine(p, strings.Join(args, " ")); err != nil {
			fmt.Fprintf(stderr, "%s: logging: %v\n", prog, err)
			return 1
		}
	}
	var verb, service, handle, scopes, audience, input, userName string
	plain := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		needArg := func() (string, bool) {
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "ERROR: Option '%s' requires an argument\n", a)
				return "", false
			}
			i++
			return args[i], true
		}
		var ok = true
		switch a {
		case "-s":
			service, ok = needArg()
		case "-H":
			handle, ok = needArg()
		case "-S":
			scopes, ok = needArg()
		case "-A":
			audience, ok = needArg()
		case "-i":
			input, ok = needArg()
		case "-u":
			userName, ok = needArg()
		case "-n":
			_, ok = needArg()
		case "-P":
			plain = true
		case "-d":
		case "-h", "-help":
			storeCredUsage(stderr)
			return 1
		default:
			if strings.HasPrefix(a, "-") || verb != "" {
				fmt.Fprintf(stderr, "ERROR: Unrecognized argument - '%s'\n", a)
				storeCredUsage(stderr)
				return 1
			}
			verb = strings.ToLower(a)
		}
		if !ok {
			return 1
		}
	}
	dir := getenv(EnvStoreCredDir)
	if dir == "" {
		fmt.Fprintf(stderr, "%s: %s is not set\n", prog, EnvStoreCredDir)
		return 1
	}
	c := &Credd{Dir: dir}
	if userName == "" {
		u, err := user.Current()
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
		userName = u.Username
	}
	userName, _, _ = strings.Cut(userName, "@")
	name := service
	if handle != "" {
		name += "_" + handle
	}
	switch verb {
	case "add-oauth":
		if service == "" || input == "" {
			fmt.Fprintf(stderr, "ERROR: add-oauth needs -s and -i\n")
			return 1
		}
		blob, err := readInput(input, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "%s: reading the credential: %v\n", prog, err)
			return 1
		}
		if len(blob) == 0 {
			fmt.Fprintf(stderr, "%s: the credential is empty\n", prog)
			return 1
		}
		code, err := c.AddOAuth(OAuthAdd{
			User: userName, Name: name, Blob: blob, Scopes: scopes, Audience: audience, Plain: plain,
			TrustedVaultHosts: strings.FieldsFunc(getenv(EnvStoreCredTrustedVault), func(r rune) bool { return r == ',' || r == ' ' }),
		})
		if err != nil {
			fmt.Fprintf(stderr, "Operation failed: %v (code %d)\n", err, code)
			return 1
		}
		fmt.Fprintf(stdout, "Operation succeeded.\n")
		return 0
	case "query-oauth":
		if service == "" {
			return listCreds(c, userName, stdout)
		}
		switch code := c.QueryOAuth(userName, name, scopes, audience); code {
		case CredSuccess, CredSuccessPending:
			fmt.Fprintf(stdout, "A credential is stored and is valid.\n")
			return 0
		case CredMismatch:
			fmt.Fprintf(stdout, "A credential is stored, but it does not match the request.\n")
			return 2
		case CredNotFound:
			fmt.Fprintf(stdout, "No credential is stored.\n")
			return 1
		default:
			fmt.Fprintf(stderr, "Operation failed (code %d)\n", code)
			return 1
		}
	case "delete-oauth":
		var err error
		if service == "" {
			err = c.DeleteUser(userName)
		} else {
			err = c.Delete(userName, name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "Operation failed: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "Operation succeeded.\n")
		return 0
	}
	fmt.Fprintf(stderr, "ERROR: exactly one of add-oauth, query-oauth, delete-oauth must be given\n")
	storeCredUsage(stderr)
	return 1
}

func storeCredUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: condor_store_cred add-oauth|query-oauth|delete-oauth -s service [-H handle] [-S scopes] [-A audience] [-P] [-i file|-] [-u user] [-n host]\n")
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxStoreCredInput+1))
	if err == nil && len(b) > maxStoreCredInput {
		err = fmt.Errorf("more than %d bytes", maxStoreCredInput)
	}
	return b, err
}

// listCreds is query-oauth without a service: every .top and .use of the
// user; exit 0 (credd's SUCCESS_PENDING when a .top lacks its .use is a
// success for condor_store_cred too).
func listCreds(c *Credd, userName string, stdout io.Writer) int {
	if !credname.OkayForOAuthFilename(userName) {
		return 1
	}
	ents, err := os.ReadDir(filepath.Join(c.Dir, userName))
	if err != nil {
		fmt.Fprintf(stdout, "No credential is stored.\n")
		return 1
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".top") || strings.HasSuffix(n, ".use") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	return 0
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, line+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

package main

// Administrator subcommands of the local issuer: publishing its keys and
// checking a token. They read the same HTCondor configuration as the daemon.
//
//	credmon issuer [--provider P] [--jwks-uri URL] [--write DIR] [openid-configuration | jwks]
//	credmon token verify [--provider P | --jwks FILE] [--issuer I] [--audience A] FILE
//	credmon token decode FILE
//	credmon check [--offline] [--json] [--standalone]   (check.go)
//	credmon status [--json] [--user U]                  (status.go)
//
// The commands are built in cli.go's tree (cobra); each runX function
// here is the command's work with its options already parsed.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/cli"
)

// toolConfig loads the configuration the daemon named name would read.
func toolConfig(name string) (*knobs.Credmon, error) {
	_, cm, err := loadConfig(name, knobs.Overrides{})
	return cm, err
}

// configuredKeys reads the configuration of daemon name and returns the
// issuer and signing keys of provider (see issuerKeys).
func configuredKeys(name, provider string) (string, []*localissuer.Key, error) {
	cm, err := toolConfig(name)
	if err != nil {
		return "", nil, err
	}
	return issuerKeys(cm, provider)
}

// issuerKeys returns the configuration of provider (all local providers
// when empty: they must share one issuer) and the keys that sign for it.
func issuerKeys(cm *knobs.Credmon, provider string) (string, []*localissuer.Key, error) {
	providers := cm.LocalNames
	if provider != "" {
		providers = []string{provider}
	}
	issuer := ""
	var keys []*localissuer.Key
	seen := map[string]bool{}
	for _, p := range providers {
		l, err := cm.Local(p)
		if err != nil {
			return "", nil, err
		}
		if issuer != "" && l.Issuer != issuer {
			return "", nil, fmt.Errorf("local providers have different issuers (%s, %s): choose one with --provider", issuer, l.Issuer)
		}
		issuer = l.Issuer
		if seen[l.PrivateKey+"\x00"+l.KeyID] {
			continue
		}
		seen[l.PrivateKey+"\x00"+l.KeyID] = true
		k, err := localissuer.LoadPrivateKey(l.PrivateKey, l.Algorithm, l.KeyID)
		if err != nil {
			return "", nil, fmt.Errorf("provider %s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return issuer, keys, nil
}

func newIssuerCmd(a *app) *cobra.Command {
	var name, provider, jwksURI, write string
	cmd := &cobra.Command{
		Use:   "issuer [openid-configuration | jwks]",
		Short: "print (or write) the local issuer's OpenID configuration and JWKS",
		Long: "Prints the documents token verifiers fetch from the local issuer: the OpenID\n" +
			"configuration (whose jwks_uri names the key set) and the JWKS with the public\n" +
			"key of every local provider. Publish them at the issuer URL (LOCAL_CREDMON_ISSUER).\n\n" +
			"Exit status: 0 ok, 1 failure, 2 usage.",
		Args:      cli.Positional(cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs)),
		ValidArgs: []string{"openid-configuration", "jwks"},
		RunE: func(_ *cobra.Command, args []string) error {
			what := ""
			if len(args) > 0 {
				what = args[0]
			}
			a.code = runIssuer(a.out, a.err, name, provider, jwksURI, write, what)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&name, "name", "n", "CREDMON_OAUTH", "daemon (subsystem) `NAME` whose configuration to read")
	f.StringVar(&provider, "provider", "", "local `PROVIDER` (default: every name in LOCAL_CREDMON_PROVIDER_NAMES)")
	f.StringVar(&jwksURI, "jwks-uri", "", "`URL` where the JWKS will be served (default <issuer>/.well-known/jwks.json)")
	f.StringVar(&write, "write", "", "write DIR/.well-known/openid-configuration and DIR/.well-known/jwks.json (a web server's document root for the issuer URL)")
	_ = cmd.MarkFlagDirname("write")
	return cmd
}

func runIssuer(stdout, stderr io.Writer, name, provider, jwksURIArg, write, what string) int {
	jwksURI := &jwksURIArg
	issuer, keys, err := configuredKeys(name, provider)
	if err != nil {
		fmt.Fprintf(stderr, "credmon issuer: %v\n", err)
		return exitFailure
	}
	if *jwksURI == "" {
		*jwksURI = strings.TrimRight(issuer, "/") + "/.well-known/jwks.json"
	}
	oidc, err := localissuer.OpenIDConfiguration(issuer, *jwksURI)
	if err == nil {
		oidc = indentJSON(oidc)
	}
	jwks, err2 := localissuer.JWKS(keys...)
	if err := errors.Join(err, err2); err != nil {
		fmt.Fprintf(stderr, "credmon issuer: %v\n", err)
		return exitFailure
	}
	jwks = indentJSON(jwks)
	if write != "" {
		dir, err := writeIssuerDocs(write, map[string][]byte{"openid-configuration": oidc, "jwks.json": jwks})
		if err != nil {
			fmt.Fprintf(stderr, "credmon issuer: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(dir, "openid-configuration"), filepath.Join(dir, "jwks.json"))
		return exitOK
	}
	switch what {
	case "openid-configuration":
		stdout.Write(oidc)
	case "jwks":
		stdout.Write(jwks)
	default:
		fmt.Fprintf(stdout, "# %s/.well-known/openid-configuration\n%s# %s\n%s",
			strings.TrimRight(issuer, "/"), oidc, *jwksURI, jwks)
	}
	return exitOK
}

func indentJSON(b []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return b
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// readToken reads a token from a file ("-" for stdin): a .use in either
// shape (JSON with access_token, or a bare token) or a bare JWT.
func readToken(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", err
	}
	u, err := credfile.ParseUse(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if u.AccessToken == "" {
		return "", fmt.Errorf("%s holds an empty token (a user denied by AUTHZ_GROUP_REQUIREMENT?)", path)
	}
	return u.AccessToken, nil
}

func newVerifyCmd(a *app) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify [flags] FILE",
		Short: "check a token's signature, time claims, issuer and audience",
		Long: "Checks the signature, time claims and, when given, issuer and audience of the\n" +
			"token in FILE (a .use file or a bare JWT; - for stdin).\n\n" +
			"Exit status: 0 valid, 1 invalid or failure, 2 usage.",
		Args: cli.Positional(cobra.ExactArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			a.code = runVerify(a.out, a.err, o, args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.name, "name", "n", "CREDMON_OAUTH", "daemon (subsystem) `NAME` whose configuration to read")
	f.StringVar(&o.provider, "provider", "", "verify against this local `PROVIDER`'s key (default: every local provider)")
	f.StringVar(&o.jwks, "jwks", "", "verify against this JWKS `FILE` instead of the configured keys")
	f.StringVar(&o.issuer, "issuer", "", "require this iss `URL` (default: the configured issuer; none with --jwks)")
	f.StringVar(&o.audience, "audience", "", "require this `AUDIENCE` in aud")
	_ = cmd.MarkFlagFilename("jwks")
	return cmd
}

type verifyOptions struct{ name, provider, jwks, issuer, audience string }

func runVerify(stdout, stderr io.Writer, o verifyOptions, file string) int {
	name, provider, jwksFile, issuer, audience := &o.name, &o.provider, &o.jwks, &o.issuer, &o.audience
	token, err := readToken(file)
	if err != nil {
		fmt.Fprintf(stderr, "credmon token verify: %v\n", err)
		return exitFailure
	}
	var jwks []byte
	if *jwksFile != "" {
		if jwks, err = os.ReadFile(*jwksFile); err != nil {
			fmt.Fprintf(stderr, "credmon token verify: %v\n", err)
			return exitFailure
		}
	} else {
		iss, keys, err := configuredKeys(*name, *provider)
		if err != nil {
			fmt.Fprintf(stderr, "credmon token verify: %v\n", err)
			return exitFailure
		}
		if *issuer == "" {
			*issuer = iss
		}
		if jwks, err = localissuer.JWKS(keys...); err != nil {
			fmt.Fprintf(stderr, "credmon token verify: %v\n", err)
			return exitFailure
		}
	}
	claims, err := localissuer.Verify(token, jwks, localissuer.VerifyOptions{Issuer: *issuer, Audience: *audience})
	if err != nil {
		fmt.Fprintf(stderr, "credmon token verify: INVALID: %v\n", err)
		return exitFailure
	}
	header, _ := decodeSegment(token, 0)
	fmt.Fprintf(stdout, "valid: signature by key %q (%v)\n", header["kid"], header["alg"])
	printClaims(stdout, claims)
	return exitOK
}

func newDecodeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "decode FILE",
		Short: "print a token's header and claims (no signature check; see verify)",
		Long: "Prints the header and claims of the token in FILE (a .use file or a bare JWT;\n" +
			"- for stdin), with the time claims as dates. The signature is NOT checked: see\n" +
			"credmon token verify.\n\nExit status: 0 ok, 1 failure, 2 usage.",
		Args: cli.Positional(cobra.ExactArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			a.code = runDecode(a.out, a.err, args[0])
			return nil
		},
	}
}

func runDecode(stdout, stderr io.Writer, file string) int {
	token, err := readToken(file)
	if err != nil {
		fmt.Fprintf(stderr, "credmon token decode: %v\n", err)
		return exitFailure
	}
	header, err := decodeSegment(token, 0)
	if err != nil {
		fmt.Fprintf(stderr, "credmon token decode: header: %v\n", err)
		return exitFailure
	}
	claims, err := decodeSegment(token, 1)
	if err != nil {
		fmt.Fprintf(stderr, "credmon token decode: claims: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, "header:")
	printClaims(stdout, header)
	fmt.Fprintln(stdout, "claims (signature NOT checked):")
	printClaims(stdout, claims)
	return exitOK
}

func decodeSegment(token string, i int) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWS compact token (%d parts)", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// printClaims prints one claim per line, sorted, with the time claims also
// as dates relative to now (as htdecodetoken does).
func printClaims(w io.Writer, claims map[string]any) {
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := claims[k]
		s, _ := json.Marshal(v)
		line := string(s)
		if k == "iat" || k == "nbf" || k == "exp" {
			var sec float64
			if err := json.Unmarshal(s, &sec); err == nil {
				t := time.Unix(int64(sec), 0)
				d := time.Until(t).Round(time.Second)
				rel := fmt.Sprintf("in %v", d)
				if d < 0 {
					rel = fmt.Sprintf("%v ago", -d)
				}
				line = fmt.Sprintf("%s  (%s, %s)", line, t.Format(time.RFC3339), rel)
			}
		}
		fmt.Fprintf(w, "  %-10s %s\n", k, line)
	}
}

// writeIssuerDocs writes the public issuer documents into docroot's
// .well-known directory, mode 0644, through atomicfile: temp file, fsync,
// rename, never following a symlink. A web docroot is often writable by a
// less-privileged user; plain writes as root would follow a symlink they
// planted at .well-known or at a file name and overwrite any file on the
// machine. The docroot path itself, named by the admin, may be a symlink
// (resolved once); a symlink below it is refused or, at a file name,
// replaced by the new file, its target untouched.
func writeIssuerDocs(docroot string, files map[string][]byte) (string, error) {
	real, err := filepath.EvalSymlinks(docroot)
	if err != nil {
		return "", err
	}
	root, err := atomicfile.OpenDir(real)
	if err != nil {
		return "", err
	}
	defer root.Close()
	if err := root.Mkdir(".well-known", 0o755); err != nil {
		return "", err
	}
	wk, err := root.OpenDir(".well-known")
	if err != nil {
		return "", fmt.Errorf("%s/.well-known (a symlink is not followed): %w", real, err)
	}
	defer wk.Close()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if _, err := wk.WriteFile(name, files[name], 0o644); err != nil {
			return "", err
		}
	}
	return wk.Path(), nil
}

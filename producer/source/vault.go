package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
	"github.com/credmon/credmon/producer/bearer"
	"github.com/credmon/credmon/producer/kerberos"
)

// DefaultVaultTokenTTL is the lifetime of the Vault token a login is
// exchanged for and cached (htgettoken's --vaulttokenttl): 7 days.
const DefaultVaultTokenTTL = 7 * 24 * time.Hour

// Vault reads access tokens from an htvault-config Vault, as htgettoken
// does for igwn-robot-get: Vault holds the refresh token, the robot holds
// a Vault token (cached in TokenFile) and logs in again with Kerberos
// when that token is missing, dead or too short-lived.
type Vault struct {
	// Client talks to Vault.
	Client *vault.Client
	// Issuer, Role and CredKey name the credential:
	// secret/oauth/creds/<Issuer>/<CredKey>:<Role>, the Kerberos mount
	// kerberos-<Issuer>_<Role> and the OIDC mount oidc-<Issuer>.
	//
	// An empty CredKey is not known yet (htgettoken without --credkey and
	// without its credkey cache): the cached Vault token and the Kerberos
	// login are skipped, since what they could read is unknown, and only
	// the OIDC login is tried. Vault's login names the credkey (its
	// metadata's "credkey", htvault-config's claim mapping); Token then
	// stores the refresh token under it, sets CredKey and tells
	// LearnedCredKey. A Vault with an empty CredKey is therefore not for
	// concurrent use until its first Token returns.
	Issuer, Role, CredKey string
	// LearnedCredKey, when set, is told the credkey an OIDC login named
	// when CredKey was empty, once the refresh token is stored under it
	// (htgettoken then saves it to its credkey cache).
	LearnedCredKey func(credkey string)
	// KerberosHost is Vault's host name: the login asks the KDC for a
	// ticket for host/<KerberosHost>.
	KerberosHost string
	// Kerberos, when not nil, is how to log in when no cached Vault token
	// can be used. Nil: only a cached token or an OIDC login.
	Kerberos *kerberos.Options
	// TokenFile caches the Vault token between runs (htgettoken's
	// /tmp/vt_u<uid>); empty: no cache.
	TokenFile string
	// MinTTL: the cached token is used only while lookup-self says it has
	// at least this left (htgettoken's --vaulttokenminttl). Zero: used
	// without asking.
	MinTTL time.Duration
	// TTL is the lifetime of the token a login is exchanged for before it
	// is cached; zero means DefaultVaultTokenTTL.
	TTL time.Duration
	// MinLifetime is sent as minimum_seconds: Vault hands out its cached
	// access token only if that much is left, else refreshes.
	MinLifetime time.Duration
	// DeviceLogin, when set, shows a person Vault's OIDC device login (the
	// URL and the code) when Vault holds no usable refresh token; the
	// login is then awaited (bounded only by ctx) and the refresh token
	// stored. Nil (no one at a terminal): such a state is ErrNeedsLogin.
	DeviceLogin func(da *vault.DeviceAuth)
	// Verbose, when set, is told each step (never a token).
	Verbose func(msg string)
	// Warn, when set, is told what did not stop the run but should be
	// fixed (a Vault token that could not be cached).
	Warn func(msg string)
	// OnRefreshSent, when set, is called once the access-token request has
	// been written: from then on a stop lets it finish.
	OnRefreshSent func()
	// CondorTTL, when positive, makes a login also yield a Vault token of
	// this lifetime for HTCondor's credd (condor_vault_storer's 28 days);
	// the TTL token cached in TokenFile is then made from it, not from the
	// login's. See Condor.
	CondorTTL time.Duration
	// KerberosFallback: a failed Kerberos login (no usable ticket, a
	// keytab the KDC refuses) is told to Verbose and the OIDC device
	// login follows, as htgettoken tries one method after the other.
	// Without it the Kerberos failure is the error.
	KerberosFallback bool
}

// CondorToken is what condor_vault_storer's htgettoken runs give credd
// for one service.
type CondorToken struct {
	// VaultToken is the new CondorTTL token for credd; empty when the
	// cached token still worked and no login was needed.
	VaultToken string
	// URL is the full Vault URL of the credential (the .top's vault_url):
	// the creds path, or the sts path when the request had scopes or
	// audiences.
	URL string
	// Token is the access token read with the cached (or new) TTL token.
	Token *Token
}

// URL is the full Vault URL of the credential's creds path, or of its
// sts path when req reduces scopes or audiences.
func (v *Vault) URL(req Request) string {
	return strings.TrimSuffix(v.Client.Address(), "/") + "/v1/" + v.path(req)
}

func (v *Vault) path(req Request) string {
	if len(req.Scopes) > 0 || len(req.Audiences) > 0 {
		return vault.STSPath(v.Issuer, v.CredKey, v.Role)
	}
	return vault.CredsPath(v.Issuer, v.CredKey, v.Role)
}

// Condor is Token for condor_vault_storer: with CondorTTL set, a login
// also yields the CondorTTL Vault token for credd (VaultToken). login
// forces one even when the cached token works (credd holds no Vault token
// for the service, so the cached token's parent is unknown to it).
func (v *Vault) Condor(ctx context.Context, req Request, login bool) (*CondorToken, error) {
	if v.CondorTTL <= 0 {
		return nil, errors.New("vault source: CondorTTL is required for a credd token")
	}
	var condor string
	b, err := v.token(ctx, req, login, &condor)
	if err != nil {
		return nil, err
	}
	return &CondorToken{VaultToken: condor, URL: v.URL(req), Token: &Token{AccessToken: b.AccessToken, Expiry: b.Expiry}}, nil
}

// Token implements Source: the cached Vault token if it is good for
// MinTTL (lookup-self), else a Kerberos login exchanged for a TTL token
// and cached; then the access token from the creds path, or from the sts
// path when req names scopes or audiences. When Vault holds no usable
// refresh token, DeviceLogin's person logs in with OIDC and the refresh
// token is stored; without DeviceLogin the error wraps ErrNeedsLogin
// (and ErrNoCredential when nothing was ever stored). Without a CredKey
// only that OIDC login is tried, and it sets CredKey (see CredKey).
//
// ctx's cancellation stops logins and polls; the access-token request,
// once sent, finishes (Detach): Vault may have refreshed for it.
func (v *Vault) Token(ctx context.Context, req Request) (*Token, error) {
	b, err := v.token(ctx, req, false, nil)
	if err != nil {
		return nil, err
	}
	return &Token{AccessToken: b.AccessToken, Expiry: b.Expiry}, nil
}

// token is Token's flow; login skips the cached token, and condor, when
// not nil, receives the CondorTTL token a login made.
func (v *Vault) token(ctx context.Context, req Request, login bool, condor *string) (*vault.Bearer, error) {
	if v.Client == nil || v.Issuer == "" || v.Role == "" {
		return nil, errors.New("vault source: Client, Issuer and Role are required")
	}
	tr := vault.TokenRequest{MinLifetime: v.MinLifetime, Scopes: req.Scopes, Audiences: req.Audiences}
	if v.CredKey == "" {
		return v.firstLogin(ctx, req, tr, condor)
	}
	path := v.path(req)

	var vt string
	var err error
	if !login {
		if vt, err = v.cached(ctx); err != nil {
			return nil, err
		}
	}
	var b *vault.Bearer
	if vt != "" {
		b, err = v.read(ctx, vt, path, tr)
		if errors.Is(err, vault.ErrPermissionDenied) {
			v.verbose("the cached Vault token may not read " + path + "; logging in again")
			vt = ""
		}
	}
	if vt == "" && v.Kerberos != nil {
		var kerr error
		vt, kerr = v.kerberosLogin(ctx, condor)
		switch {
		case kerr != nil && v.KerberosFallback && v.DeviceLogin != nil && ctx.Err() == nil:
			v.verbose("no Kerberos login (" + kerr.Error() + "); trying OIDC")
		case kerr != nil:
			return nil, kerr
		default:
			b, err = v.read(ctx, vt, path, tr)
			if errors.Is(err, vault.ErrPermissionDenied) {
				return nil, fmt.Errorf("the Vault token from the Kerberos login may not read %s (check --credkey and --role): %w", path, err)
			}
		}
	}
	if vt == "" || needsHuman(err) {
		if v.DeviceLogin == nil {
			return nil, v.needsLogin(err)
		}
		if err != nil {
			v.verbose("Vault has no usable refresh token: " + err.Error())
		}
		if vt, err = v.oidcLogin(ctx, condor); err != nil {
			return nil, err
		}
		b, err = v.read(ctx, vt, path, tr)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// firstLogin is token's flow without a credkey: only the OIDC login can
// tell it, as in htgettoken, where the reuse, Kerberos and ssh steps all
// need it.
func (v *Vault) firstLogin(ctx context.Context, req Request, tr vault.TokenRequest, condor *string) (*vault.Bearer, error) {
	if v.DeviceLogin == nil {
		return nil, &loginError{msg: "no credkey known for " + v.Issuer + ":" + v.Role + " (only an OIDC login tells it)"}
	}
	v.verbose("no credkey known for " + v.Issuer + ":" + v.Role + ": logging in with OIDC, which tells it")
	vt, err := v.oidcLogin(ctx, condor)
	if err != nil {
		return nil, err
	}
	return v.read(ctx, vt, v.path(req), tr)
}

// CheckCredKey refuses a credkey that a Vault login named if it would not
// name exactly one credential below secret/oauth/creds/<issuer>/: it
// becomes part of Vault paths and URLs (and of the .top credd keeps), so
// a "/" or ".." would reach another credential, and ":", "?", "#", "%",
// spaces or control characters would change what the path means.
// htvault-config's credkeys from a login are user names (the value of a
// claim such as sub or a credkey claim): letters, digits and . _ - @ + =.
// A credkey given with --credkey is the user's choice and not checked
// (robot credkeys are user/purpose/host).
func CheckCredKey(k string) error {
	switch {
	case k == "":
		return errors.New("empty credkey")
	case len(k) > 255:
		return errors.New("credkey longer than 255 bytes")
	case strings.Contains(k, ".."):
		return errors.New(`credkey contains ".."`)
	case k[0] == '.':
		return errors.New(`credkey starts with "."`)
	}
	for _, c := range k {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@+=", c)
		if !ok {
			return fmt.Errorf("credkey contains %q (allowed: letters, digits and . _ - @ + =)", c)
		}
	}
	return nil
}

// needsHuman: Vault answered, but only a person can fix it: nothing is
// stored at the credential path, or the stored refresh token is dead.
// A dead Vault token is not one of these (a login fixes it).
func needsHuman(err error) bool {
	return err != nil && !errors.Is(err, vault.ErrInvalidToken) &&
		(errors.Is(err, vault.ErrNoCredential) || vault.Classify(err) == tokenclient.NeedsLogin)
}

// needsLogin is the error for a state no program can leave.
func (v *Vault) needsLogin(err error) error {
	name := v.Issuer + "/" + v.CredKey + ":" + v.Role
	switch {
	case err == nil:
		return &loginError{msg: "no Vault token and no Kerberos credentials to log in with"}
	case errors.Is(err, vault.ErrNoCredential):
		return &loginError{msg: "Vault holds no refresh token for " + name, noCredential: true, err: err}
	}
	why := err.Error()
	var ve *vault.Error
	if errors.As(err, &ve) && len(ve.Messages) > 0 {
		why = strings.Join(ve.Messages, "; ")
	}
	return &loginError{msg: "Vault's refresh token for " + name + " no longer works (" + why + ")", err: err}
}

// loginError is ErrNeedsLogin (and ErrNoCredential when nothing is
// stored) with its own words and Vault's error kept beneath.
type loginError struct {
	msg          string
	noCredential bool
	err          error
}

func (e *loginError) Error() string { return e.msg }
func (e *loginError) Unwrap() error { return e.err }
func (e *loginError) Is(target error) bool {
	return target == ErrNeedsLogin || (e.noCredential && target == ErrNoCredential)
}

// cached returns the cached Vault token if it can be used, "" if there
// is none or it is too short-lived or dead. Only a failure to reach Vault
// is an error: logging in would need Vault too.
func (v *Vault) cached(ctx context.Context) (string, error) {
	if v.TokenFile == "" {
		return "", nil
	}
	// The bearer-token reader's checks fit: a regular file, ours or
	// root's, not writable by others (a token planted in /tmp would
	// otherwise be used).
	tok, err := bearer.ReadTokenFile(v.TokenFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.verbose("no cached Vault token in " + v.TokenFile)
		return "", nil
	case err != nil:
		v.warn("not using the cached Vault token: " + err.Error())
		return "", nil
	case v.MinTTL <= 0:
		return tok, nil
	}
	info, err := v.Client.LookupSelf(ctx, tok)
	switch {
	case err == nil && info.TTL > 0 && info.TTL < v.MinTTL:
		v.verbose(fmt.Sprintf("the cached Vault token has %v left, less than %v; logging in again", info.TTL, v.MinTTL))
		return "", nil
	case err == nil:
		v.verbose("using the cached Vault token in " + v.TokenFile)
		return tok, nil
	case errors.Is(err, vault.ErrPermissionDenied):
		v.verbose("the cached Vault token is no longer valid; logging in again")
		return "", nil
	}
	return "", fmt.Errorf("checking the cached Vault token: %w", err)
}

// kerberosLogin logs in at the KDC, then at Vault's Kerberos mount, and
// keeps the result.
func (v *Vault) kerberosLogin(ctx context.Context, condor *string) (string, error) {
	kc, err := kerberos.Login(*v.Kerberos)
	if err != nil {
		return "", err
	}
	defer kc.Close()
	v.verbose("Kerberos login as " + kc.Principal().String())
	if ctx.Err() != nil {
		return "", fmt.Errorf("no Vault login: %w", context.Cause(ctx))
	}
	mount := vault.KerberosMount(v.Issuer, v.Role)
	auth, err := v.Client.KerberosLogin(ctx, mount, func(context.Context) (string, error) {
		return kc.Negotiate(v.KerberosHost)
	})
	if err != nil {
		return "", fmt.Errorf("Vault login at auth/%s as %s: %w", mount, kc.Principal(), err)
	}
	return v.keep(ctx, auth, condor)
}

// oidcLogin runs Vault's OIDC device login with the person DeviceLogin
// talks to, stores the refresh token it yields under the credential's
// path, and keeps the Vault token.
func (v *Vault) oidcLogin(ctx context.Context, condor *string) (string, error) {
	da, err := v.Client.OIDCAuthURL(ctx, vault.OIDCMount(v.Issuer), v.Role, "")
	if err != nil {
		return "", fmt.Errorf("starting Vault's OIDC login: %w", err)
	}
	v.DeviceLogin(da)
	auth, err := v.Client.OIDCPoll(ctx, da, nil)
	if err != nil {
		return "", fmt.Errorf("the OIDC login at Vault: %w", err)
	}
	rt := auth.Metadata["oauth2_refresh_token"]
	if rt == "" {
		return "", errors.New("the OIDC login at Vault returned no refresh token (the Vault role must map oauth2_metadata refresh_token)")
	}
	credkey, learnt := v.CredKey, v.CredKey == ""
	if learnt {
		credkey = auth.Metadata["credkey"]
		err := CheckCredKey(credkey)
		if err != nil {
			// Nothing will use the login's long-lived token: best effort,
			// it does not stay alive unreferenced.
			_ = v.Client.RevokeSelf(ctx, auth.ClientToken)
		}
		switch {
		case credkey == "":
			return "", errors.New("the OIDC login at Vault named no credkey (the Vault role must map a claim to credkey); give --credkey")
		case err != nil:
			return "", fmt.Errorf("refusing the credkey %q the OIDC login at Vault named: %w", credkey, err)
		}
		v.verbose("the OIDC login named the credkey " + credkey)
	}
	path := vault.CredsPath(v.Issuer, credkey, v.Role)
	if err := v.Client.StoreRefreshToken(ctx, auth.ClientToken, path, v.Issuer, rt); err != nil {
		return "", fmt.Errorf("storing the refresh token at %s: %w", path, err)
	}
	v.verbose("stored the refresh token at " + path)
	if learnt {
		v.CredKey = credkey
		if v.LearnedCredKey != nil {
			v.LearnedCredKey(credkey)
		}
	}
	return v.keep(ctx, auth, condor)
}

// keep exchanges a login's token for a TTL one when its lease is longer
// (as htgettoken does: the long-lived login token is never written to
// disk), and caches it.
//
// With CondorTTL and condor, the login's token is first cut down to
// CondorTTL the same way and handed to *condor (it goes to credd, never
// to disk here), and the cached TTL token is made from that one.
func (v *Vault) keep(ctx context.Context, auth *vault.Auth, condor *string) (string, error) {
	ttl := v.TTL
	if ttl <= 0 {
		ttl = DefaultVaultTokenTTL
	}
	tok := auth.ClientToken
	exchange := auth.LeaseDuration > ttl
	if condor != nil && v.CondorTTL > 0 {
		if auth.LeaseDuration > v.CondorTTL {
			child, err := v.Client.CreateToken(ctx, tok, v.CondorTTL, nil)
			if err != nil {
				return "", fmt.Errorf("making a %v Vault token for HTCondor from the login: %w", v.CondorTTL, err)
			}
			tok = child.ClientToken
		}
		*condor = tok
		// The cached token is always a child, so that credd's token is
		// never on disk here.
		exchange = true
	}
	if exchange {
		child, err := v.Client.CreateToken(ctx, tok, ttl, nil)
		if err != nil {
			return "", fmt.Errorf("making a %v Vault token from the login: %w", ttl, err)
		}
		tok = child.ClientToken
	}
	if v.TokenFile != "" {
		// A cache that cannot be written costs a login per run, not the
		// token: warn and go on.
		if err := atomicfile.Replace(v.TokenFile, []byte(tok+"\n"), atomicfile.Options{}); err != nil {
			v.warn("the Vault token could not be cached (every run will log in again): " + err.Error())
		} else {
			v.verbose("cached the Vault token in " + v.TokenFile)
		}
	}
	return tok, nil
}

// read asks for the access token. Once sent, the request finishes even
// after a stop.
func (v *Vault) read(ctx context.Context, vt, path string, tr vault.TokenRequest) (*vault.Bearer, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("no token requested from Vault: %w", context.Cause(ctx))
	}
	rctx, cancel := Detach(ctx)
	defer cancel()
	return v.Client.Token(OnSent(rctx, v.OnRefreshSent), vt, path, tr)
}

func (v *Vault) verbose(msg string) {
	if v.Verbose != nil {
		v.Verbose(msg)
	}
}

func (v *Vault) warn(msg string) {
	if v.Warn != nil {
		v.Warn(msg)
	}
}

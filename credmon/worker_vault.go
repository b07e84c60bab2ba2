package credmon

// The Vault worker: condor_credmon_vault's job, on the worker side. A
// Vault .top (condor_vault_storer's {"vault_token", "vault_url"}) is
// turned into a .use holding the bare access token that Vault hands out
// for the Vault token, with condor_credmon_vault's request: GET vault_url
// with X-Vault-Token, minimum_seconds, scopes and audience (audiences on
// an sts path). The schedule, queues, breaker and timeouts are the OAuth2
// tokens' (decide.go, issuers.go); the Vault host is the issuer.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/internal/vault"
)

// vaultTokenWarnBefore is how long before the Vault token itself expires
// the daemon warns, once per Vault token. Nothing on the access point can
// renew that token: condor_vault_storer replaces it (with a new 28-day
// one) only at a submit after its own 7-day local Vault token has
// expired, so a credd-held token with less than 7 days left is one the
// user's normal submits may no longer replace in time; a week's notice
// also spans a weekend for the user or a robot's cron to act on it.
const vaultTokenWarnBefore = 7 * 24 * time.Hour

// vaultClients are the Vault clients of one configuration generation, one
// per Vault address (a connection pool each), shared by the workers.
type vaultClients struct {
	cfg  *knobs.Credmon
	now  func() time.Time
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu sync.Mutex
	m  map[string]*vault.Client
	// expiry is when each Vault token (by vaultTokenID) expires, as
	// lookup-self said: a parent and its handles share one Vault token,
	// and it is looked up once.
	expiry map[string]time.Time
}

// maxVaultExpiries bounds the expiry cache; past it the cache starts
// over (a lookup costs one request).
const maxVaultExpiries = 1 << 16

func (vc *vaultClients) tokenExpiry(id string) (time.Time, bool) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	t, ok := vc.expiry[id]
	return t, ok
}

func (vc *vaultClients) setTokenExpiry(id string, t time.Time) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if len(vc.expiry) >= maxVaultExpiries {
		clear(vc.expiry)
	}
	vc.expiry[id] = t
}

func newVaultClients(cfg *knobs.Credmon, now func() time.Time, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *vaultClients {
	return &vaultClients{cfg: cfg, now: now, dial: dial, m: map[string]*vault.Client{}, expiry: map[string]time.Time{}}
}

// client returns the client for address (https://host:port).
func (vc *vaultClients) client(address string) (*vault.Client, error) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if c, ok := vc.m[address]; ok {
		return c, nil
	}
	c, err := vault.New(vault.Config{
		Address: address, CAFile: vc.cfg.VaultCAFile, CAPath: vc.cfg.VaultCADir,
		// The OAuth2 tokens' bounds; a read may wait at most Vault's usual
		// read timeout, and never longer than the whole request may take.
		ConnectTimeout: vc.cfg.ConnectTimeout,
		ReadTimeout:    min(vault.DefaultReadTimeout, vc.cfg.HTTPTimeout),
		RequestTimeout: vc.cfg.HTTPTimeout,
		UserAgent:      "credmon/" + Version,
		Now:            vc.now,
		Dial:           vc.dial,
	})
	if err != nil {
		return nil, err
	}
	vc.m[address] = c
	return c, nil
}

// vaultIssuerKey is the issuer a Vault credential's requests go to: the
// scheme, host and port of its vault_url ("" when it is unusable; the job
// then fails before any request).
func vaultIssuerKey(raw string) string {
	addr, _, err := vault.SplitURL(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(addr) // host names are case-insensitive: one breaker per host
}

// vaultTokenID fingerprints a Vault token, so the loop can tell a new
// Vault token from the one it already looked up (and warned about)
// without keeping the token.
func vaultTokenID(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:12])
}

// refreshVault gets a fresh access token from Vault for j and writes it as
// the .use. On any Vault answer, "permission denied" included, the user's
// files stay as they are: condor_credmon_vault deletes .top and .use then,
// which loses a handle's scopes and makes condor_submit store everything
// again; here the failure is permanent until a new .top arrives.
func (w *worker) refreshVault(ctx context.Context, j *job) *result {
	r, fail := j.newResult(vault.IsPermanent)
	permanent := func(format string, args ...any) *result {
		return fail(&tokenclient.PermanentError{Err: fmt.Errorf(format, args...)})
	}
	d, topBytes, done := w.readTop(j, r, fail)
	if done != nil {
		return done
	}
	defer d.Close()
	top, err := credfile.ParseVaultTop(topBytes)
	if err != nil {
		return permanent("unusable Vault .top: %w", err)
	}
	r.vaultKey = vaultIssuerKey(top.URL)
	token := top.Token
	if token == "" {
		// A handle's .top: the Vault token is its parent's
		// (<service>_<handle> → <service>), as condor_vault_storer stores
		// it and condor_credmon_vault reads it.
		parent, ok := credfile.VaultParent(j.name)
		if !ok {
			return permanent("the .top has no vault_token and %s has no parent credential to take it from", j.name)
		}
		pb, _, err := d.ReadFile(parent+credfile.SuffixTop, maxCredFile)
		if errors.Is(err, fs.ErrNotExist) {
			return permanent("the .top has no vault_token and %s%s, whose vault_token it uses, does not exist", parent, credfile.SuffixTop)
		}
		if err != nil {
			return fail(err)
		}
		pt, err := credfile.ParseVaultTop(pb)
		if err != nil || pt.Token == "" {
			return permanent("the .top has no vault_token and %s%s, whose vault_token it uses, has none", parent, credfile.SuffixTop)
		}
		token = pt.Token
	}
	address, path, err := vault.SplitURL(top.URL)
	if err != nil {
		return fail(err)
	}
	if u, err := url.Parse(address); err != nil || !j.cfg.TrustedVaultHost(u.Hostname()) {
		// Checked before any request: the Vault token must not go to a
		// host the site does not trust.
		host := address
		if err == nil {
			host = u.Hostname()
		}
		return permanent("Vault host %s is not in TRUSTED_VAULT_HOSTS", host)
	}
	if err := useNotDir(d, j.name); err != nil {
		return fail(err)
	}
	client, err := j.vaults.client(address)
	if err != nil {
		return fail(err)
	}
	req := vault.TokenRequest{MinLifetime: j.cfg.VaultMinimum, Scopes: top.Scopes, Audiences: top.Audience}
	r.vaultID = vaultTokenID(token)

	if err := j.acquireNet(ctx); err != nil {
		return r.pausedOr(err, fail)
	}
	// A request on the wire finishes even when the daemon is told to stop,
	// as an OAuth2 refresh does: Vault may have refreshed (and rotated)
	// the refresh token it holds for this answer.
	wire := context.WithoutCancel(ctx)
	r.asked = true
	reqCtx, cancel := context.WithTimeout(wire, j.cfg.HTTPTimeout)
	bearer, err := client.Token(reqCtx, token, path, req)
	cancel()
	received := w.now()
	if exp, ok := j.vaults.tokenExpiry(r.vaultID); ok {
		r.vaultExpiry = exp
	} else if err == nil && r.vaultID == j.vaultID && !j.vaultExpiry.IsZero() {
		r.vaultExpiry = j.vaultExpiry // known to the loop from before a reload
	} else if err == nil {
		// Once per Vault token: how long it has left, for the warning
		// before it expires. A failure here costs nothing but the warning.
		// It rotates nothing, so a stop may cut it.
		reqCtx, cancel := context.WithTimeout(ctx, j.cfg.HTTPTimeout)
		info, lerr := client.LookupSelf(reqCtx, token)
		cancel()
		switch {
		case lerr != nil:
			r.vaultLookupErr = lerr
		case info.TTL > 0:
			r.vaultExpiry = info.Received.Add(info.TTL)
		default:
			r.vaultExpiry = neverExpires
		}
		if lerr == nil {
			j.vaults.setTokenExpiry(r.vaultID, r.vaultExpiry)
		}
	}
	<-j.netSem
	r.netErr = err
	if err != nil {
		if tooShort(err) {
			// Vault's "token expired": even a fresh access token has less
			// than minimum_seconds. Only the configuration can fix that.
			err = &tokenclient.PermanentError{Err: fmt.Errorf("%w: the issuer's access tokens live less than CREDMON_OAUTH_TOKEN_MINIMUM (%v); lower it", err, j.cfg.VaultMinimum)}
		}
		return fail(err)
	}

	// A .top replaced or removed while we were on the wire wins, as for
	// OAuth2 tokens: it may ask for other scopes or hold a new Vault token.
	if topReplaced(d, j, r) {
		return r
	}
	// The bare token, as condor_credmon_vault writes it: jobs use the .use
	// as their bearer token file.
	if res := w.publishUse(d, j, r, fail, []byte(bearer.AccessToken), received, bearer.Expiry); res.outcome != outOK {
		return res
	}
	// Vault may hand back a cached token issued long ago: its life for us
	// starts now, so the policy's fraction applies to what is left of it
	// (and a token fetched late in its life is not mistaken for skew).
	if r.expiryKnown && r.expiry.Before(r.issued) {
		r.issued = r.expiry
	}
	return r
}

// tooShort reports Vault's answer to a minimum_seconds that not even a
// freshly refreshed access token meets: 400 "token expired".
func tooShort(err error) bool {
	var ve *vault.Error
	if !errors.As(err, &ve) || ve.Status != http.StatusBadRequest {
		return false
	}
	for _, m := range ve.Messages {
		if strings.Contains(m, "token expired") {
			return true
		}
	}
	return false
}

// neverExpires stands for a Vault token without a TTL (a root or periodic
// token): known, and never worth a warning.
var neverExpires = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

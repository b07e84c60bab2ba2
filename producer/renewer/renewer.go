package renewer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/bearer"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/source"
)

// DefaultRunTimeout bounds RunOnce when its context has no deadline, so a
// hung issuer can never block a oneshot unit forever (osg-token-renewer's
// unit has no timeout at all).
const DefaultRunTimeout = 5 * time.Minute

// defaultWorkers is how many accounts are worked on at once. Each account
// decryption allocates 64 MiB for Argon2id; tokens of one
// account are always renewed one after the other, because each refresh
// may rotate the refresh token the next one needs.
const defaultWorkers = 4

// Log keys, used for every log line of this package.
const (
	logToken     = "token"
	logAccount   = "account"
	logPath      = "path"
	logRemaining = "remaining"
	logClass     = "class"
	logError     = "error"
	logNext      = "next"
	logBackoff   = "backoff"
	logReason    = "reason"
)

// Renewer renews the tokens of a Config. Set the fields before the first
// call; RunOnce may be called concurrently (the lock serialises runs).
type Renewer struct {
	Config *Config
	// HTTPClient talks to the issuers; nil means http.DefaultClient.
	HTTPClient *http.Client
	// clock is the clock (tests); nil means time.Now.
	clock func() time.Time
	// Log receives the progress; nil means no logging.
	Log hclog.Logger
	// AccountDir is the oidc-agent directory holding the account files;
	// empty means oidcagent.FindConfigDir (OIDC_CONFIG_DIR, else
	// ~/.config/oidc-agent, else ~/.oidc-agent: for osg-token-svc that is
	// /var/spool/osg-token-svc/.oidc-agent).
	AccountDir string
	// AllowInsecure permits http:// issuers and token URLs (tests only).
	AllowInsecure bool
	// LockPath is the flock(2) file that keeps two runs apart. Empty means
	// the default, the same however the run is started (defaultLock):
	// $RUNTIME_DIRECTORY/renew.lock when systemd sets RUNTIME_DIRECTORY;
	// else, for root and for the owner of an existing /run/credmon-token
	// (the units' RuntimeDirectory), /run/credmon-token/renew.lock; else
	// $XDG_RUNTIME_DIR/credmon-token/renew.lock; else
	// $TMPDIR/credmon-token-<uid>/renew.lock in a directory of the user's
	// own with mode 0700. Missing directories are made.
	LockPath string
	// lockWait is how long a run waits for the lock (tests); zero means
	// defaultLockWait, negative means do not wait.
	lockWait time.Duration
	// workers bounds how many accounts are renewed at once (tests); zero
	// means defaultWorkers.
	workers int

	// OnReport, when set, is called with the report of every RunOnce and
	// of every Watch round (the tokens that were due), while the run lock
	// is still held: the CLI records outcomes for status there, and two
	// runs never record at once. Tokens not attempted because of a stop
	// are left out of it (they did not fail).
	OnReport func(*Report)

	// OnRefreshSent, when set, is called with the token's name each time
	// its refresh grant has been written to the issuer: from then on a
	// stop lets it finish. It may be called from several goroutines.
	OnRefreshSent func(token string)

	// OnReady, when set, is called by Watch each time it has caught up and
	// is about to wait: after its first round (every token due at start
	// attempted), and after each Reload (the new configuration applied, or
	// refused, and the tokens it made due attempted). The CLI tells systemd
	// READY=1 there (Type=notify).
	OnReady func(ReadyEvent)

	// Watch's schedule (tests); zero means the defaults in policy.go.
	minInterval time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration

	mu       sync.Mutex
	reloadCh chan struct{}
}

// Outcome is what happened to one token.
type Outcome int

const (
	// Skipped: min_lifetime is set and the token file on disk is still
	// good for longer, with the configured audience and scope; nothing
	// was fetched.
	Skipped Outcome = iota + 1
	// Renewed: a new token was fetched and written.
	Renewed
	// Failed: see TokenResult.Class and Err.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Skipped:
		return "skipped-fresh"
	case Renewed:
		return "renewed"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// ErrorClass classifies a failure for the operator and the exit status.
type ErrorClass string

const (
	// ClassConfig: the token's section is unusable (an invalid
	// min_lifetime), or its issuer or token URL is http:// without
	// AllowInsecure (nothing is sent: the configuration must change).
	ClassConfig ErrorClass = "config"
	// ClassSecret: password_file or client_secret_file cannot be read.
	ClassSecret ErrorClass = "secret"
	// ClassAccount: the oidc-agent account file is missing, corrupt, or
	// the password is wrong.
	ClassAccount ErrorClass = "account"
	// ClassReauth: the issuer rejected the refresh token (invalid_grant:
	// expired or revoked). A person must authorise the account again
	// (osg-token-renewer-setup / credmon-token setup); retrying cannot help.
	// Nothing interactive is ever started.
	ClassReauth ErrorClass = "reauth"
	// ClassRejected: another permanent refusal (invalid_client,
	// invalid_scope, invalid_target, unauthorized_client, a bad URL).
	ClassRejected ErrorClass = "rejected"
	// ClassTransient: network errors, timeouts, 5xx, 429, garbage answers.
	ClassTransient ErrorClass = "transient"
	// ClassWrite: the token file, or the account file with a rotated
	// refresh token, could not be written.
	ClassWrite ErrorClass = "write"
)

// TokenResult is the outcome for one [token] section.
type TokenResult struct {
	Token   string
	Account string
	Path    string
	Outcome Outcome
	// Class and Err are set when Outcome is Failed.
	Class ErrorClass
	Err   error
	// Expiry is when the token now in the file expires (zero: unknown,
	// e.g. an opaque token without expires_in). IssuedAt is its iat, or
	// when it was received.
	Expiry   time.Time
	IssuedAt time.Time
	// Rotated: the issuer returned a new refresh token, and it was saved
	// to the account file before the token file was written.
	Rotated  bool
	Duration time.Duration
}

// Report is the result of a run, one TokenResult per token in file order.
type Report struct {
	Started  time.Time
	Finished time.Time
	Tokens   []TokenResult
}

func (r *Renewer) now() time.Time {
	if r.clock != nil {
		return r.clock()
	}
	return time.Now()
}

func (r *Renewer) log() hclog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return hclog.NewNullLogger()
}

func (r *Renewer) httpClient() *http.Client {
	if r.HTTPClient != nil {
		return r.HTTPClient
	}
	return http.DefaultClient
}

func (r *Renewer) config() *Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Config
}

func (r *Renewer) lock(ctx context.Context) (*fileLock, error) {
	path := r.LockPath
	if path == "" {
		p, err := defaultLockPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	wait := r.lockWait
	switch {
	case wait == 0:
		wait = defaultLockWait
	case wait < 0:
		wait = 0
	}
	return acquireLock(ctx, path, wait)
}

// RunOnce renews every token of the configuration once, as one
// osg-token-renewer run does: every token is attempted, one
// failure never stops the others, and the report lists each outcome. The
// error is for the run as a whole: the lock (ErrAlreadyRunning) or the
// context. Without a deadline on ctx the run is bounded by
// DefaultRunTimeout; each token by its timeout.
//
// Cancelling ctx is a stop, as for Watch: no token is started after it
// (those left are Failed with ErrStopping, and left out of OnReport), and
// the requests already sent finish, each within its token's timeout and
// ctx's deadline, and are saved: cutting off a refresh the issuer has
// received can leave it holding a rotated refresh token that was never
// saved, and the account then needs a human. ctx's deadline is not a
// stop: it bounds the requests, which fail when it passes.
func (r *Renewer) RunOnce(ctx context.Context) (*Report, error) {
	cfg := r.config()
	if cfg == nil {
		return nil, errors.New("renewer: no configuration")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRunTimeout)
		defer cancel()
	}
	l, err := r.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer l.release()
	stop := make(chan struct{})
	defer context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.Canceled) {
			close(stop)
		}
	})()
	work, cancel := source.Detach(ctx) // ctx always has a deadline here
	defer cancel()
	rep := &Report{Started: r.now()}
	rep.Tokens = r.renew(work, stop, cfg, cfg.Tokens, false, newAccountCache())
	rep.Finished = r.now()
	r.report(rep)
	return rep, nil
}

// report hands rep to OnReport without the tokens a stop kept from being
// attempted: recording them as failures would mislead.
func (r *Renewer) report(rep *Report) {
	if r.OnReport == nil {
		return
	}
	if !slices.ContainsFunc(rep.Tokens, func(t TokenResult) bool { return errors.Is(t.Err, ErrStopping) }) {
		r.OnReport(rep)
		return
	}
	out := *rep
	out.Tokens = slices.DeleteFunc(slices.Clone(rep.Tokens), func(t TokenResult) bool { return errors.Is(t.Err, ErrStopping) })
	r.OnReport(&out)
}

// defaultCommitInterval bounds how long a rotated refresh token may live
// only in memory while further tokens of the same account are fetched.
// Saving the account file costs an Argon2id derivation (~100 ms, 64 MiB)
// because every write needs a fresh salt; saving after every
// refresh would make an account with many tokens cost 100 ms per token.
// So the rotated refresh token is saved at most this long after the
// rotation (and always at the end of the account's tokens), and the
// access tokens fetched meanwhile are written right after that save:
// never before it (persist the refresh token first).
const defaultCommitInterval = time.Second

// renew works on tokens, grouped by account: accounts in parallel (at most
// workers), the tokens of one account in order. force skips the
// min_lifetime check. Once stop is closed (nil: never) no further refresh
// is sent; the tokens left are failed as not attempted (ErrStopping), and
// requests already on the wire finish under ctx, which a stop must not
// cancel.
func (r *Renewer) renew(ctx context.Context, stop <-chan struct{}, cfg *Config, tokens []*Token, force bool, cache *accountCache) []TokenResult {
	res := make([]TokenResult, len(tokens))
	groups := map[string][]int{}
	var order []string
	for i, t := range tokens {
		if _, ok := groups[t.Account]; !ok {
			order = append(order, t.Account)
		}
		groups[t.Account] = append(groups[t.Account], i)
	}
	workers := r.workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, name := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(idx []int) {
			defer func() { <-sem; wg.Done() }()
			r.renewAccount(ctx, stop, cfg, tokens, idx, force, cache, res)
		}(groups[name])
	}
	wg.Wait()
	return res
}

// pending is a fetched access token waiting for its account's rotated
// refresh token to be saved.
type pending struct {
	i    int
	t    *Token
	data []byte
	tr   TokenResult
}

// renewAccount renews the tokens idx (all of one account) in order and
// stores their results in res. An oidc-agent account's file is locked
// (oidcagent.LockAccount) from the first refresh to the end of its tokens,
// so that no other process (credmon-token get, a renewer elsewhere)
// refreshes with the same refresh token meanwhile.
func (r *Renewer) renewAccount(ctx context.Context, stop <-chan struct{}, cfg *Config, tokens []*Token, idx []int, force bool, cache *accountCache, res []TokenResult) {
	var pend []pending
	var st *acctState
	if a := cfg.Accounts[tokens[idx[0]].Account]; a != nil && a.Mode == ModeOIDC {
		st = cache.entry(a.Name)
		st.mu.Lock()
		defer st.mu.Unlock()
		defer st.unlockFile()
	}
	flush := func(saveErr error) {
		for _, p := range pend {
			if saveErr != nil {
				p.tr.Outcome, p.tr.Err = Failed, saveErr
			} else {
				r.writeToken(p.t, p.data, &p.tr)
			}
			res[p.i] = r.finish(p.t, p.tr)
		}
		pend = pend[:0]
	}
	for k, i := range idx {
		t := tokens[i]
		if stopping(stop) {
			res[i] = notAttempted(t)
			continue
		}
		start := time.Now()
		tr, data := r.fetchToken(ctx, stop, cfg, t, force, cache, st)
		tr.Duration = time.Since(start)
		if errors.Is(tr.Err, ErrStopping) {
			res[i] = notAttempted(t)
			continue
		}
		if data == nil {
			res[i] = r.finish(t, tr)
			continue
		}
		pend = append(pend, pending{i: i, t: t, data: data, tr: tr})
		switch {
		case st == nil || !st.dirty:
			flush(nil)
		case k == len(idx)-1:
			flush(st.save())
		case time.Since(st.dirtySince) >= defaultCommitInterval:
			err := st.save()
			if err == nil {
				// The save replaced the file: lock the new one now, not
				// at the next token, so another process is not let in
				// between. A failure shows at the next token.
				_ = r.holdAccount(ctx, cfg.Accounts[t.Account], st)
			}
			flush(err)
		}
	}
	if len(pend) > 0 {
		// The last tokens failed after an earlier rotation.
		flush(st.save())
	}
}

// ErrStopping is the error of a token not attempted because the run or
// the watch was stopping: no refresh of it was sent.
var ErrStopping = errors.New("not attempted: stopping")

func notAttempted(t *Token) TokenResult {
	return TokenResult{Token: t.Name, Account: t.Account, Path: t.Path, Outcome: Failed,
		Class: ClassTransient, Err: ErrStopping}
}

func stopping(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// untilStop returns ctx, also cancelled (cause ErrStopping) once stop is
// closed: for the waits and the discovery before a refresh, which a stop
// may cut off because nothing has been spent yet.
func untilStop(ctx context.Context, stop <-chan struct{}) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(ctx)
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel(ErrStopping)
			case <-c.Done():
			}
		}()
	}
	return c, func() { cancel(nil) }
}

// finish classifies and logs a result.
func (r *Renewer) finish(t *Token, tr TokenResult) TokenResult {
	log := r.log().With(logToken, t.Name, logAccount, t.Account)
	switch tr.Outcome {
	case Failed:
		tr.Class = classify(tr.Err)
		msg := tokenclient.Describe(tr.Err)
		if tr.Class == ClassReauth {
			msg += "; the account must be authorised again"
		}
		log.Error("token not renewed", logClass, tr.Class, logError, msg)
	case Renewed:
		args := []any{logPath, t.Path, "rotated", tr.Rotated}
		if !tr.Expiry.IsZero() {
			args = append(args, logRemaining, tr.Expiry.Sub(r.now()).Round(time.Second))
		}
		log.Info("token renewed", args...)
	case Skipped:
		log.Debug("token still fresh, not renewing", logRemaining, tr.Expiry.Sub(r.now()).Round(time.Second))
	}
	return tr
}

// writeToken writes a fetched token's file and completes tr.
func (r *Renewer) writeToken(t *Token, data []byte, tr *TokenResult) {
	start := time.Now()
	defer func() { tr.Duration += time.Since(start) }()
	if err := writeTokenFile(t.Path, data, writeSpec{uid: t.UID, gid: t.GID, mode: t.Mode}); err != nil {
		tr.Outcome, tr.Err = Failed, classErr(ClassWrite, fmt.Errorf("writing token %s: %w", t.Path, err))
		return
	}
	tr.Outcome = Renewed
}

// fetchToken decides whether t needs a new token and fetches it. A nil
// data means tr is final (skipped or failed; ErrStopping when stop closed
// before anything was sent); otherwise data is the file content to write
// once the account is saved. st is t's account state (locked) in
// ModeOIDC, else nil.
func (r *Renewer) fetchToken(ctx context.Context, stop <-chan struct{}, cfg *Config, t *Token, force bool, cache *accountCache, st *acctState) (tr TokenResult, data []byte) {
	tr = TokenResult{Token: t.Name, Account: t.Account, Path: t.Path}
	fail := func(err error) (TokenResult, []byte) {
		tr.Outcome, tr.Err = Failed, err
		return tr, nil
	}
	if t.Invalid != nil {
		return fail(classErr(ClassConfig, t.Invalid))
	}
	acct := cfg.Accounts[t.Account]
	if acct == nil {
		return fail(classErr(ClassConfig, fmt.Errorf("token %s: no [account %s] section", t.Name, t.Account)))
	}
	if !force && t.HasMinLifetime {
		info, err := readTokenFile(t.Path)
		switch {
		case err == nil && fresh(info, t, r.now()):
			tr.Outcome, tr.Expiry, tr.IssuedAt = Skipped, info.Expiry, info.IssuedAt
			return tr, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			r.log().Debug("cannot read the old token's expiry, renewing", logToken, t.Name, logError, err)
		case err == nil:
			_, why := satisfies(info, t, r.now())
			r.log().Debug("the old token cannot be kept, renewing", logToken, t.Name, logReason, why)
		}
	}
	if acct.Mode == ModeOIDC && st != nil {
		// Before the token's timeout starts: waiting for another
		// process's hold is not network time. A stop ends the wait.
		hctx, cancel := untilStop(ctx, stop)
		err := r.holdAccount(hctx, acct, st)
		cancel()
		if stopping(stop) {
			return fail(ErrStopping)
		}
		if err != nil {
			return fail(err)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	var (
		access   string
		expiry   time.Time
		received time.Time
		err      error
	)
	switch {
	case acct.Mode == ModeOIDC && st != nil:
		access, expiry, received, tr.Rotated, err = r.refresh(tctx, stop, acct, t, cache, st)
	case acct.Mode == ModeClientCredentials:
		access, expiry, received, err = r.clientCredentials(tctx, acct, t)
	default:
		err = classErr(ClassConfig, fmt.Errorf("account %s has no mode", acct.Name))
	}
	if err != nil {
		return fail(err)
	}
	tr.Expiry, tr.IssuedAt = expiry, received
	if info, err := bearer.Inspect(access); err == nil && info.HasExpiry {
		tr.Expiry = info.Expiry
		if !info.IssuedAt.IsZero() {
			tr.IssuedAt = info.IssuedAt
		}
	}
	data = []byte(access)
	if t.Newline {
		data = append(data, '\n')
	}
	return tr, data
}

// holdAccount makes sure this process holds the lock on st's account file
// before the account is loaded and refreshed. The lock is taken for the
// first token that needs a refresh (fresh tokens need none) and kept until
// renewAccount ends. Our own Save replaces the file by rename, which leaves
// our lock on the old file; then the new file is locked before the old
// lock is let go, so no other process can get in between. loadAccount then
// re-reads the file if it changed since it was cached (statSig).
func (r *Renewer) holdAccount(ctx context.Context, acct *Account, st *acctState) error {
	if st.unlock != nil && statSig(st.path()).ino == st.lockedIno {
		return nil
	}
	if st.unlock == nil {
		dir, err := r.accountDir()
		if err != nil {
			return classErr(ClassAccount, err)
		}
		st.dir = dir
	}
	lctx, cancel := context.WithTimeout(ctx, oidcagent.DefaultLockWait)
	defer cancel()
	unlock, err := oidcagent.LockAccount(lctx, st.dir, acct.Name)
	if errors.Is(err, oidcagent.ErrAccountBusy) {
		return err // transient: the next run or round tries again
	}
	if err != nil {
		return classErr(ClassAccount, err)
	}
	st.unlockFile() // the replaced file's lock, once the new one is held
	st.unlock, st.lockedIno = unlock, statSig(st.path()).ino
	return nil
}

// accountDir is the oidc-agent directory: AccountDir, else oidc-agent's.
func (r *Renewer) accountDir() (string, error) {
	if r.AccountDir != "" {
		return r.AccountDir, nil
	}
	return oidcagent.FindConfigDir()
}

// refresh obtains an access token with the account's refresh token. A
// rotated refresh token replaces the old one in memory (the old one is
// void: reusing it would make the issuer revoke the grant) and marks the
// account dirty; the caller saves it before writing the token file.
// st.mu and the account's file lock are held by the caller. Once stop is
// closed, discovery is cut off and no refresh is sent (ErrStopping); a
// refresh already sent finishes under ctx.
func (r *Renewer) refresh(ctx context.Context, stop <-chan struct{}, acct *Account, t *Token, cache *accountCache, st *acctState) (access string, expiry, received time.Time, rotated bool, err error) {
	if err = r.loadAccount(st, acct, cache.round()); err != nil {
		return
	}
	issuer := st.acct.IssuerURL()
	dctx, cancel := untilStop(ctx, stop)
	tokenURL, err := cache.tokenURL(dctx, r.httpClient(), issuer, r.AllowInsecure)
	cancel()
	if stopping(stop) {
		err = ErrStopping
		return
	}
	if err != nil {
		err = fmt.Errorf("discovering the token endpoint of %s: %w", issuer, err)
		return
	}
	c := &tokenclient.Client{
		TokenURL:      tokenURL,
		ClientID:      st.acct.ClientID(),
		ClientSecret:  st.acct.ClientSecret(),
		AuthStyle:     st.authStyle, // first time: Basic, then post if refused
		AudienceMode:  t.audienceMode(acct),
		SendScopes:    true,
		AllowInsecure: r.AllowInsecure,
		HTTPClient:    r.httpClient(),
	}
	var sent func()
	if r.OnRefreshSent != nil {
		sent = func() { r.OnRefreshSent(t.Name) }
	}
	res, err := c.Refresh(source.OnSent(ctx, sent), st.acct.RefreshToken(), strings.Fields(t.Scope), strings.Fields(t.Audience), r.now)
	if err != nil {
		return
	}
	st.authStyle = c.AuthStyle // the account's next tokens skip a refused method
	if res.RefreshToken != "" && res.RefreshToken != st.acct.RefreshToken() {
		st.acct.SetRefreshToken(res.RefreshToken)
		if !st.dirty {
			st.dirty, st.dirtySince = true, time.Now()
		}
		rotated = true
	}
	return res.AccessToken(), res.Expiry(), res.Received, rotated, nil
}

// save writes a rotated refresh token to the account file (atomically,
// oidcagent.Save). On failure the account stays dirty and the next
// refresh retries.
func (st *acctState) save() error {
	if !st.dirty {
		return nil
	}
	if err := oidcagent.Save(st.dir, st.name, st.acct, st.password); err != nil {
		return classErr(ClassWrite, fmt.Errorf("saving the rotated refresh token of account %s: %w", st.name, err))
	}
	st.dirty = false
	st.sig = statSig(st.path())
	return nil
}

// loadAccount decrypts the account file (in st.dir, set by holdAccount)
// unless st holds a current copy.
func (r *Renewer) loadAccount(st *acctState, acct *Account, round uint64) error {
	if st.acct != nil && (st.dirty || st.sig == statSig(st.path())) {
		return nil
	}
	if st.err != nil && st.errRound == round {
		return st.err
	}
	st.acct = nil
	err := func() error {
		pw, err := oidcagent.PasswordFromFile(acct.PasswordFile)
		if err != nil {
			return classErr(ClassSecret, fmt.Errorf("account %s: password_file: %w", acct.Name, err))
		}
		sig := statSig(st.path())
		a, err := oidcagent.Load(st.dir, acct.Name, pw)
		if err != nil {
			clear(pw)
			return classErr(ClassAccount, err)
		}
		if a.RefreshToken() == "" {
			clear(pw)
			return classErr(ClassReauth, fmt.Errorf("account %s has no refresh token", acct.Name))
		}
		st.acct, st.password, st.sig = a, pw, sig
		return nil
	}()
	st.err, st.errRound = err, round
	return err
}

// clientSecretFileError says what is wrong with the client secret file of
// acct: which file, which key of the account's section names it, and what
// happened to it (never its content).
func clientSecretFileError(acct *Account, err error) error {
	where := fmt.Sprintf("the client secret file %s (%s in [account %s])", acct.ClientSecretFile, keyClientSecretFile, acct.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist: create it (the secret on its first line) or fix %s: %w", where, keyClientSecretFile, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s cannot be read by uid %d: %w", where, os.Geteuid(), err)
	case errors.Is(err, oidcagent.ErrEmptyFile):
		return fmt.Errorf("%s is empty: put the client secret on its first line", where)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// clientCredentials performs osg-token-renewer 1.0.0's client-credentials
// request: HTTP Basic client authentication, scope verbatim, audience as
// configured. A bad or http token_request_url is refused by the client
// before anything is sent (ClassRejected, ClassConfig).
func (r *Renewer) clientCredentials(ctx context.Context, acct *Account, t *Token) (access string, expiry, received time.Time, err error) {
	secret := acct.ClientSecret
	if acct.ClientSecretFile != "" {
		b, ferr := oidcagent.FirstLine(acct.ClientSecretFile)
		if ferr != nil {
			err = classErr(ClassSecret, clientSecretFileError(acct, ferr))
			return
		}
		secret = string(b)
	}
	c := &tokenclient.Client{
		TokenURL:      acct.TokenRequestURL,
		ClientID:      acct.ClientID,
		ClientSecret:  secret,
		AuthStyle:     oauth2.AuthStyleInHeader,
		AudienceMode:  t.audienceMode(acct),
		AllowInsecure: r.AllowInsecure,
		HTTPClient:    r.httpClient(),
		Now:           r.now,
	}
	var scopes []string
	if t.Scope != "" {
		scopes = []string{t.Scope} // verbatim, as osg-token-renewer sends it
	}
	res, err := c.ClientCredentials(ctx, scopes, strings.Fields(t.Audience))
	if err != nil {
		err = fmt.Errorf("account %s: token_request_url: %w", acct.Name, err)
		return
	}
	return res.AccessToken(), res.Expiry(), res.Received, nil
}

// accountCache holds decrypted accounts and discovered token endpoints.
// RunOnce uses a new one per run (each account decrypted at most once per
// run); Watch keeps one, re-reading an account file when it changes.
type accountCache struct {
	mu       sync.Mutex
	accounts map[string]*acctState
	rnd      uint64
	// discovery keeps each issuer's document for the round (no TTL;
	// nextRound resets it).
	discovery tokenclient.Cache
}

func newAccountCache() *accountCache {
	return &accountCache{accounts: map[string]*acctState{}}
}

func (c *accountCache) entry(name string) *acctState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.accounts[name]
	if st == nil {
		st = &acctState{name: name}
		c.accounts[name] = st
	}
	return st
}

func (c *accountCache) round() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rnd
}

// nextRound forgets failures and discovery results, so that the next
// round retries them.
func (c *accountCache) nextRound() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rnd++
	c.discovery.Reset()
}

func (c *accountCache) tokenURL(ctx context.Context, hc *http.Client, issuer string, allowInsecure bool) (string, error) {
	return c.discovery.TokenURL(ctx, &tokenclient.Client{HTTPClient: hc, AllowInsecure: allowInsecure}, issuer)
}

// acctState is one account's decrypted state; mu serialises its tokens.
type acctState struct {
	mu       sync.Mutex
	name     string
	dir      string
	acct     *oidcagent.Account
	password []byte
	sig      fileSig
	dirty    bool // holds a rotated refresh token not yet saved
	// dirtySince is when the unsaved rotation happened.
	dirtySince time.Time
	err        error
	errRound   uint64
	// unlock releases the account file's lock (holdAccount); lockedIno
	// is the inode it locked.
	unlock    func()
	lockedIno uint64
	// authStyle is the client authentication the issuer last accepted
	// (zero: not known yet).
	authStyle oauth2.AuthStyle
}

// unlockFile releases the account file's lock, if held.
func (st *acctState) unlockFile() {
	if st.unlock != nil {
		st.unlock()
		st.unlock = nil
	}
}

func (st *acctState) path() string {
	if st.dir == "" {
		return ""
	}
	return st.dir + string(os.PathSeparator) + st.name
}

// fileSig identifies a version of a file (rename gives a new inode).
type fileSig struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func statSig(path string) fileSig {
	if path == "" {
		return fileSig{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileSig{}
	}
	s := fileSig{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
	}
	return s
}

// classified carries an error's class to the report.
type classified struct {
	class ErrorClass
	err   error
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

func classErr(class ErrorClass, err error) error { return &classified{class, err} }

// classify sorts a failure by the token client's classification: a dead
// grant (invalid_grant, invalid_token) needs the account authorised again,
// other permanent refusals are rejections, the rest (network, timeouts,
// 5xx, 429) are transient. An insecure URL is refused before anything is
// sent: a configuration error.
func classify(err error) ErrorClass {
	var c *classified
	if errors.As(err, &c) {
		return c.class
	}
	if errors.Is(err, tokenclient.ErrInsecureURL) {
		return ClassConfig
	}
	switch tokenclient.Classify(err) {
	case tokenclient.NeedsLogin:
		return ClassReauth
	case tokenclient.Permanent:
		return ClassRejected
	}
	return ClassTransient
}

package credtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/credname"
)

// credd's STORE_CRED and QUERY reply codes (store_cred.h). Replies above 100 are .use mtimes and mean success.
const (
	CredFailure          = 0
	CredSuccess          = 1
	CredNotFound         = 5
	CredSuccessPending   = 6
	CredNotAllowed       = 7
	CredBadArgs          = 8
	CredProtocolMismatch = 9
	CredCredmonTimeout   = 10
	CredConfigError      = 11
	CredJSONParse        = 12
	CredMismatch         = 13
	CredUntrustedHost    = 14
)

// Errors returned by Credd, one per credd reply code a test may want to
// branch on; CodeOf maps them back to the code.
var (
	// ErrPending is credd's SUCCESS_PENDING after a failed kick: the
	// credential is stored but the credmon could not be signalled (no or
	// unreadable pid file, stale pid), so credd does not wait.
	ErrPending = errors.New("credtest: credmon not signalled (SUCCESS_PENDING)")
	// ErrCredmonTimeout is FAILURE_CREDMON_TIMEOUT: the .use did not appear
	// within PollingTimeout of the kick.
	ErrCredmonTimeout = errors.New("credtest: credmon did not write the .use file in time (FAILURE_CREDMON_TIMEOUT)")
	// ErrBadArgs rejects a user or credential name outside
	// [A-Za-z0-9-+=_.] (credd's okay_for_oauth_filename).
	ErrBadArgs = errors.New("credtest: invalid user or credential name (FAILURE_BAD_ARGS)")
	// ErrConfig is FAILURE_CONFIG_ERROR: the user directory cannot be
	// created.
	ErrConfig = errors.New("credtest: cannot create the user directory (FAILURE_CONFIG_ERROR)")
	// ErrJSONParse is FAILURE_JSON_PARSE: scopes or an audience were given
	// for a credential that is not a JSON object.
	ErrJSONParse = errors.New("credtest: credential is not a JSON object (FAILURE_JSON_PARSE)")
)

// CodeOf returns the credd reply code for an error returned by Credd:
// CredSuccess for nil, CredFailure for errors credd has no code for.
func CodeOf(err error) int {
	switch {
	case err == nil:
		return CredSuccess
	case errors.Is(err, ErrPending):
		return CredSuccessPending
	case errors.Is(err, ErrCredmonTimeout):
		return CredCredmonTimeout
	case errors.Is(err, ErrBadArgs):
		return CredBadArgs
	case errors.Is(err, ErrConfig):
		return CredConfigError
	case errors.Is(err, ErrJSONParse):
		return CredJSONParse
	}
	return CredFailure
}

const (
	// DefaultPollingTimeout is CREDD_POLLING_TIMEOUT's default: credd
	// re-checks for the .use 20 times, once a second, after a kick.
	DefaultPollingTimeout = 20 * time.Second
	// DefaultPollInterval is credd's fixed one-second re-check. It is why
	// condor_submit waits about 1.05 s for a new user even when the credmon
	// answers in milliseconds (observed on 25.14).
	DefaultPollInterval = time.Second
	// PidCacheTTL is how long credmon_kick reuses the pid it read: after a credmon restart credd signals the stale pid for up to
	// this long.
	PidCacheTTL = 20 * time.Second
)

// Credd emulates condor_credd's side of the credmon protocol on a
// credential directory: it writes .top/.use files as STORE_CRED and
// CREDD_CHECK_CREDS do, wakes the credmon with SIGHUP through the pid file,
// and waits for .use files the way credd does. Each behaviour follows
// docs/htcondor-contract.md#handshake; HTCondor itself is not available to
// test against.
//
// Set the exported fields before use; the methods are safe for concurrent
// use.
type Credd struct {
	// Dir is the credential directory (SEC_CREDENTIAL_DIRECTORY_OAUTH).
	Dir string
	// PollingTimeout bounds the wait for a .use after a kick (default
	// DefaultPollingTimeout).
	PollingTimeout time.Duration
	// PollInterval is the time between .use checks (default
	// DefaultPollInterval). credd checks first one interval after the
	// kick, never immediately.
	PollInterval time.Duration
	// NoPidCache makes every Kick re-read the pid file instead of reusing
	// the pid for PidCacheTTL as credd does.
	NoPidCache bool
	// LocalDomain, if set, makes StoreLocal write "<user>@<LocalDomain>":
	// HTCondor 25.14 was observed to write that, while the source
	// reads as the bare user name.
	LocalDomain string

	mu       sync.Mutex
	pid      int
	pidUntil time.Time
	kicks    int
}

// Meta is the .meta file the OAuth web app writes next to a .top
// (docs/htcondor-contract.md#meta); the credmon refreshes with these values, not the configuration's.
type Meta struct {
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	TokenURL        string `json:"token_url"`
	UseRefreshToken bool   `json:"use_refresh_token"`
}

// NewCredd returns a Credd for credDir, or for a new temporary directory if
// credDir is empty. Like condor_master at start-up it creates the directory
// if needed and sets its mode to 02770 (setgid, no access for others;
// docs/htcondor-contract.md#cred-dir), so a credmon that checks the mode accepts it.
func NewCredd(t testing.TB, credDir string) *Credd {
	t.Helper()
	if credDir == "" {
		credDir = t.TempDir()
	}
	if err := os.MkdirAll(credDir, 0o770); err != nil {
		t.Fatalf("creating credential directory: %v", err)
	}
	if err := os.Chmod(credDir, 0o770|os.ModeSetgid); err != nil {
		t.Fatalf("setting credential directory mode: %v", err)
	}
	return &Credd{Dir: credDir, PollingTimeout: DefaultPollingTimeout, PollInterval: DefaultPollInterval}
}

// TopPath returns <dir>/<user>/<name>.top.
func (c *Credd) TopPath(user, name string) string { return c.path(user, name, ".top") }

// UsePath returns <dir>/<user>/<name>.use.
func (c *Credd) UsePath(user, name string) string { return c.path(user, name, ".use") }

// MetaPath returns <dir>/<user>/<name>.meta.
func (c *Credd) MetaPath(user, name string) string { return c.path(user, name, ".meta") }

func (c *Credd) path(user, name, suffix string) string {
	return filepath.Join(c.Dir, user, name+suffix)
}

func checkNames(user, name string) error {
	if !credname.OkayForOAuthFilename(user) || !credname.OkayForOAuthFilename(name) {
		return fmt.Errorf("%w: user %q, name %q", ErrBadArgs, user, name)
	}
	return nil
}

// StoreTop stores blob as <user>/<name>.top the way credd's OAUTH_STORE_CRED
// does (docs/htcondor-contract.md#handshake, step 1): validate the names, clear the user's sweep
// mark, mkdir <user> 0700 if missing, then replace_secure_file: write
// <name>.top.tmp with mode 0600, fsync, rename over <name>.top. It does not
// kick the credmon; AddAndWait does.
func (c *Credd) StoreTop(user, name string, blob []byte) error {
	if err := c.prepareUser(user, name); err != nil {
		return err
	}
	return replaceSecureFile(c.TopPath(user, name), blob, 0o600)
}

// StoreTopWithScopes is StoreTop with condor_store_cred's -S/-A
// (docs/htcondor-contract.md#top): when scopes or audience is non-empty, blob must be a JSON object;
// "scopes" and "audience" are added (non-empty ones only) and the result is
// rewritten as indented, multi-line JSON with a trailing newline, as
// sPrintAdAsJson does. Key order is sorted; credd's follows its hash table,
// so nothing may depend on it.
func (c *Credd) StoreTopWithScopes(user, name string, blob []byte, scopes, audience string) error {
	if scopes == "" && audience == "" {
		return c.StoreTop(user, name, blob)
	}
	dec := json.NewDecoder(bytes.NewReader(blob))
	dec.UseNumber() // keep numbers as written, not as float64
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return fmt.Errorf("%w: %v", ErrJSONParse, err)
	}
	if scopes != "" {
		m["scopes"] = scopes
	}
	if audience != "" {
		m["audience"] = audience
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out) // Encode appends the trailing newline
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("encoding credential: %w", err)
	}
	return c.StoreTop(user, name, out.Bytes())
}

// StoreLocal writes the .top that CREDD_CHECK_CREDS writes for a
// local-issuer or client-credentials service (docs/htcondor-contract.md#handshake, step 4): the raw user
// name, not JSON, no newline (or user@LocalDomain, see LocalDomain).
func (c *Credd) StoreLocal(user, name string) error {
	blob := user
	if c.LocalDomain != "" {
		blob += "@" + c.LocalDomain
	}
	return c.StoreTop(user, name, []byte(blob))
}

// StorePlainUse stores blob verbatim as <user>/<name>.use, mode 0600, via
// <name>.use.tmp and rename: a "plain" credential (condor_store_cred -P, or
// an unknown service type), which no credmon touches (docs/htcondor-contract.md#precedence).
func (c *Credd) StorePlainUse(user, name string, blob []byte) error {
	if err := c.prepareUser(user, name); err != nil {
		return err
	}
	return replaceSecureFile(c.UsePath(user, name), blob, 0o600)
}

// StoreMeta writes <user>/<name>.meta, mode 0400, as the OAuth web app does
// after its authorization-code flow (docs/htcondor-contract.md#meta). credd never writes .meta;
// this stands in for the web app so that OAuth refresh can be tested.
func (c *Credd) StoreMeta(user, name string, m Meta) error {
	if err := c.prepareUser(user, name); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return replaceSecureFile(c.MetaPath(user, name), b, 0o400)
}

// prepareUser is OAUTH_STORE_CRED's prologue: names, mark, user directory.
func (c *Credd) prepareUser(user, name string) error {
	if err := checkNames(user, name); err != nil {
		return err
	}
	c.clearMark(user)
	// credd creates it 0700 as the condor user; EEXIST is fine. It
	// inherits the cred dir's setgid bit and group (drwx--S---).
	if err := os.Mkdir(filepath.Join(c.Dir, user), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

// replaceSecureFile is credd's replace_secure_file(path, ".tmp", ...): a
// fresh <path>.tmp with exactly mode perm (umask does not apply), written,
// fsynced, closed and renamed over path.
func replaceSecureFile(path string, data []byte, perm os.FileMode) (err error) {
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Kick is credd's credmon_kick (docs/htcondor-contract.md#handshake, step 2): read <dir>/pid (at most 255
// bytes; a file of 256 bytes or more is ignored, i.e. an error), parse it
// like strtol, require pid > 0, and send SIGHUP. The pid is reused for
// PidCacheTTL unless NoPidCache is set, so a restarted credmon can miss
// kicks for up to 20 s, as with real credd.
func (c *Credd) Kick() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pid, err := c.credmonPidLocked()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signalling credmon pid %d: %w", pid, err)
	}
	c.kicks++
	return nil
}

// Kicks returns how many SIGHUPs Kick has delivered, so tests can check the
// "no kick when the .use exists" rule.
func (c *Credd) Kicks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kicks
}

func (c *Credd) credmonPidLocked() (int, error) {
	now := time.Now()
	if !c.NoPidCache && c.pid > 0 && now.Before(c.pidUntil) {
		return c.pid, nil
	}
	name := filepath.Join(c.Dir, "pid")
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("reading credmon pid file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("reading credmon pid file: %w", err)
	}
	if n >= len(buf) {
		return 0, fmt.Errorf("credmon pid file %s is 256 bytes or more", name)
	}
	pid := strtol(buf[:n])
	if pid <= 0 || pid > math.MaxInt32 {
		return 0, fmt.Errorf("credmon pid file %s holds no valid pid: %q", name, buf[:n])
	}
	c.pid, c.pidUntil = int(pid), now.Add(PidCacheTTL)
	return c.pid, nil
}

// strtol parses like C strtol(s, NULL, 10): leading white space, an
// optional sign, then digits up to the first non-digit; no digits gives 0,
// overflow saturates.
func strtol(s []byte) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := int64(s[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			v = math.MaxInt64
			break
		}
		v = v*10 + d
	}
	if neg {
		return -v
	}
	return v
}

// AddAndWait is STORE_CRED of an OAuth .top with STORE_CRED_WAIT_FOR_CREDMON
// (what Python's Credd.add_user_service_cred does; docs/htcondor-contract.md#handshake, steps 1–3):
//
//  1. StoreTop;
//  2. if <name>.use already exists, return at once without signalling the
//     credmon (HTCONDOR-2653): the new .top is only noticed by the credmon's
//     own periodic pass;
//  3. Kick; if that fails, return ErrPending without waiting;
//  4. check for <name>.use every PollInterval, the first check one interval
//     after the kick, until PollingTimeout: ErrCredmonTimeout.
//
// It returns the time from the call until the reply, which is what
// condor_submit or the Python bindings would wait.
func (c *Credd) AddAndWait(ctx context.Context, user, name string, blob []byte) (time.Duration, error) {
	return c.AddAndWaitInterval(ctx, user, name, blob, c.pollInterval())
}

// AddAndWaitInterval is AddAndWait checking every interval instead of
// PollInterval, to measure the credmon's latency rather than credd's
// one-second granularity.
func (c *Credd) AddAndWaitInterval(ctx context.Context, user, name string, blob []byte, interval time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.StoreTop(user, name, blob); err != nil {
		return time.Since(start), err
	}
	if _, err := os.Stat(c.UsePath(user, name)); err == nil {
		return time.Since(start), nil
	}
	if err := c.Kick(); err != nil {
		return time.Since(start), fmt.Errorf("%w: %w", ErrPending, err)
	}
	err := c.poll(ctx, c.UsePath(user, name), interval, false)
	return time.Since(start), err
}

// AddNoWait is STORE_CRED without STORE_CRED_WAIT_FOR_CREDMON, what
// condor_store_cred add-oauth does (docs/htcondor-contract.md#handshake, step 2): StoreTop, then, unless
// the .use already exists (reply: success, no kick), Kick and reply
// CredSuccessPending whether or not the kick worked (compare Kicks). The
// error is for a failed store only, with the code CodeOf gives.
func (c *Credd) AddNoWait(user, name string, blob []byte) (int, error) {
	if err := c.StoreTop(user, name, blob); err != nil {
		return CodeOf(err), err
	}
	if _, err := os.Stat(c.UsePath(user, name)); err == nil {
		return CredSuccess, nil
	}
	_ = c.Kick() // credd logs a failed kick and replies the same
	return CredSuccessPending, nil
}

// CheckLocalCreds is CREDD_CHECK_CREDS for local-issuer (or
// client-credentials) services (docs/htcondor-contract.md#handshake, step 4): every name whose .top or .use
// is missing gets StoreLocal, then credd kicks the credmon once and checks
// every PollInterval until all the .use files exist. Real credd never gives
// up (its retry counter is never decremented), so only ctx ends the wait;
// condor_submit's socket timeout is about 20 s. A failed kick is returned
// as ErrPending. It returns the time until every .use existed.
func (c *Credd) CheckLocalCreds(ctx context.Context, user string, names ...string) (time.Duration, error) {
	start := time.Now()
	var missing []string
	for _, name := range names {
		if err := checkNames(user, name); err != nil {
			return time.Since(start), err
		}
		_, errTop := os.Stat(c.TopPath(user, name))
		_, errUse := os.Stat(c.UsePath(user, name))
		if errTop != nil || errUse != nil {
			if err := c.StoreLocal(user, name); err != nil {
				return time.Since(start), err
			}
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return time.Since(start), nil
	}
	if err := c.Kick(); err != nil {
		return time.Since(start), fmt.Errorf("%w: %w", ErrPending, err)
	}
	for _, name := range missing {
		if err := c.poll(ctx, c.UsePath(user, name), c.pollInterval(), true); err != nil {
			return time.Since(start), err
		}
	}
	return time.Since(start), nil
}

// WaitUse waits for <user>/<name>.use, checking at once and then every
// interval, for at most PollingTimeout (ErrCredmonTimeout) or until ctx is
// done. It returns the time waited. With a fine interval (say 1 ms) after
// Kick it measures SIGHUP→.use latency; see KickAndWait.
func (c *Credd) WaitUse(ctx context.Context, user, name string, interval time.Duration) (time.Duration, error) {
	start := time.Now()
	if _, err := os.Stat(c.UsePath(user, name)); err == nil {
		return time.Since(start), nil
	}
	err := c.poll(ctx, c.UsePath(user, name), interval, false)
	return time.Since(start), err
}

// KickAndWait sends the credmon SIGHUP and waits for <user>/<name>.use,
// checking every interval; it returns the time from just before the signal
// until the file was seen. It does not store anything: write the .top first.
func (c *Credd) KickAndWait(ctx context.Context, user, name string, interval time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.Kick(); err != nil {
		return time.Since(start), fmt.Errorf("%w: %w", ErrPending, err)
	}
	_, err := c.WaitUse(ctx, user, name, interval)
	return time.Since(start), err
}

// poll checks for path every interval, the first check after one interval,
// for PollingTimeout (unless forever) or until ctx is done.
func (c *Credd) poll(ctx context.Context, path string, interval time.Duration, forever bool) error {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	// credd counts retries, not time: CREDD_POLLING_TIMEOUT checks one
	// second apart. Keep that shape for other intervals.
	tries := max(1, int(c.pollingTimeout()/interval))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; forever || i < tries; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if _, err := os.Stat(path); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: no %s after %d checks %v apart", ErrCredmonTimeout, path, tries, interval)
}

func (c *Credd) pollInterval() time.Duration {
	if c.PollInterval > 0 {
		return c.PollInterval
	}
	return DefaultPollInterval
}

func (c *Credd) pollingTimeout() time.Duration {
	if c.PollingTimeout > 0 {
		return c.PollingTimeout
	}
	return DefaultPollingTimeout
}

// Delete is credd's delete-oauth with a service (docs/htcondor-contract.md#handshake, step 5): unlink
// <name>.top and <name>.use, leaving <name>.meta. Missing files are fine.
func (c *Credd) Delete(user, name string) error {
	if err := checkNames(user, name); err != nil {
		return err
	}
	c.clearMark(user)
	for _, p := range []string{c.TopPath(user, name), c.UsePath(user, name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// DeleteUser is credd's delete without a service: the whole user
// directory goes.
func (c *Credd) DeleteUser(user string) error {
	if !credname.OkayForOAuthFilename(user) {
		return fmt.Errorf("%w: user %q", ErrBadArgs, user)
	}
	c.clearMark(user)
	return os.RemoveAll(filepath.Join(c.Dir, user))
}

// Mark creates <dir>/<user>.mark, mode 0600, as the schedd does for an owner
// without jobs; an existing mark is kept with its mtime.
func (c *Credd) Mark(user string) error {
	if !credname.OkayForOAuthFilename(user) {
		return fmt.Errorf("%w: user %q", ErrBadArgs, user)
	}
	f, err := os.OpenFile(filepath.Join(c.Dir, user+".mark"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Sweep is credd's sweep of a marked user (docs/htcondor-contract.md#handshake, step 6), without the age
// check: unlink <user>.mark and recursively remove <dir>/<user>, possibly
// while the credmon is working in it.
func (c *Credd) Sweep(user string) error {
	if !credname.OkayForOAuthFilename(user) {
		return fmt.Errorf("%w: user %q", ErrBadArgs, user)
	}
	c.clearMark(user)
	return os.RemoveAll(filepath.Join(c.Dir, user))
}

// clearMark is credmon_clear_mark, done by every STORE_CRED, query and
// delete for the user.
func (c *Credd) clearMark(user string) {
	_ = os.Remove(filepath.Join(c.Dir, user+".mark"))
}

// Query is credd's QUERY for one service (docs/htcondor-contract.md#handshake, step 5), without a
// scopes/audience check (see CredMatches): CredSuccess when the .use exists
// (with or without a .top: plain credentials have none, as read),
// CredSuccessPending when only the .top exists (the credmon has not
// answered yet), CredNotFound when neither does, CredBadArgs for bad names.
func (c *Credd) Query(user, name string) int {
	if checkNames(user, name) != nil {
		return CredBadArgs
	}
	c.clearMark(user)
	_, errTop := os.Stat(c.TopPath(user, name))
	_, errUse := os.Stat(c.UsePath(user, name))
	switch {
	case errUse == nil:
		return CredSuccess
	case errTop == nil:
		return CredSuccessPending
	}
	return CredNotFound
}

// CredMatches is credd's cred_matches (docs/htcondor-contract.md#top): read the
// .top with read_secure_file's checks, parse it as JSON and compare its
// "scopes" and "audience" string-equal with the request's (a missing key
// equals ""). An unreadable or non-JSON .top does not match. When it does
// not match credd refuses the submit with FAILURE_CRED_MISMATCH, so a
// credmon that drops or changes these keys breaks later submits.
func (c *Credd) CredMatches(user, name, scopes, audience string) bool {
	if checkNames(user, name) != nil {
		return false
	}
	b, err := ReadSecure(c.TopPath(user, name))
	if err != nil {
		return false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	s, _ := m["scopes"].(string)
	a, _ := m["audience"].(string)
	return s == scopes && a == audience
}

// ReadSecure reads a file the way credd and the shadow read credentials
// (read_secure_file with SECURE_FILE_VERIFY_ALL, docs/htcondor-contract.md#modes): it fails if the
// file is not a regular file, if mode&077 != 0, if it is not owned by the
// current uid, or if its mtime changed while it was read (so a writer that
// rewrites in place instead of renaming is caught).
func ReadSecure(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if perm := before.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %#o gives access to group or others", path, perm)
	}
	if st, ok := before.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return nil, fmt.Errorf("%s: owned by uid %d, not %d", path, st.Uid, os.Getuid())
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !after.ModTime().Equal(before.ModTime()) {
		return nil, fmt.Errorf("%s: modified while being read", path)
	}
	return data, nil
}

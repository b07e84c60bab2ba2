package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/cli"
	"github.com/credmon/credmon/internal/sdnotify"
	"github.com/credmon/credmon/producer/bearer"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/renewer"
)

type renewFlags struct {
	config, accountDir, lock, state string
	timeout                         time.Duration
	insecure, verbose               bool
	// clientTimeout, when set, bounds every HTTP exchange of the renewer
	// as a whole. renew leaves it zero: each token's timeout (config.ini
	// "timeout", default 20 s) bounds its requests through the context,
	// and a fixed client bound would cut longer ones short. Tests set it
	// to show that difference.
	clientTimeout time.Duration
}

func (r *renewFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&r.config, "config", "", "osg-token-renewer's config.ini `FILE` (default $"+renewer.EnvConfigPath+", else "+renewer.DefaultConfigPath+")")
	fl.StringVar(&r.accountDir, "config-dir", "", "oidc-agent account directory `DIR` (default: $OIDC_CONFIG_DIR, ~/.config/oidc-agent, ~/.oidc-agent)")
	fl.StringVar(&r.lock, "lock", "", "lock `FILE` that keeps two runs apart (default, however renew is started: $RUNTIME_DIRECTORY/renew.lock; "+
		"as root or the owner of /run/credmon-token, /run/credmon-token/renew.lock; else $XDG_RUNTIME_DIR/credmon-token/renew.lock; "+
		"else $TMPDIR/credmon-token-<uid>/renew.lock)")
	fl.DurationVar(&r.timeout, "timeout", renewer.DefaultRunTimeout, "bound of `DURATION` on the whole run (not with --watch)")
	fl.StringVar(&r.state, "state", "", "`FILE` where renew records each token's last outcome for status (default, however renew is started: $STATE_DIRECTORY/status.json; "+
		"as root or the owner of "+serviceStateDir+", "+rootStatePath+"; else ${XDG_STATE_HOME:-~/.local/state}/credmon-token/status.json)")
	fl.BoolVar(&r.insecure, "insecure", false, "allow http:// issuers (tests and labs only)")
	fl.BoolVarP(&r.verbose, "verbose", "v", false, "log every token, not only failures")
}

func (r *renewFlags) path() string {
	if r.config != "" {
		return r.config
	}
	return renewer.ConfigPath()
}

func (r *renewFlags) renewer(s *stdio) (*renewer.Renewer, error) {
	cfg, err := renewer.LoadConfig(r.path())
	if err != nil {
		return nil, configError{err}
	}
	level := hclog.Warn
	if r.verbose {
		level = hclog.Info
	}
	statePath := r.statePath()
	var sent func(string)
	if r.verbose {
		sent = func(token string) {
			fmt.Fprintf(s.err, "token %s: refresh request sent; a stop now lets it finish\n", token)
		}
	}
	return &renewer.Renewer{
		Config: cfg, HTTPClient: httpClient(r.clientTimeout), AccountDir: r.accountDir,
		AllowInsecure: insecureAllowed(r.insecure), LockPath: r.lock,
		Log:           hclog.New(&hclog.LoggerOptions{Name: "credmon-token", Output: s.err, Level: level}),
		OnRefreshSent: sent,
		// After every run, and every --watch round, under the run lock.
		OnReport: func(rep *renewer.Report) {
			if err := saveState(statePath, rep); err != nil {
				fmt.Fprintf(s.err, "credmon-token renew: recording the outcome for status: %v\n", err)
			}
		},
	}, nil
}

func newRenewCmd(a *app) *cobra.Command {
	var rf renewFlags
	var watch bool
	cmd := &cobra.Command{
		Use:   "renew [--watch] [flags]",
		Short: "renew every [token] of osg-token-renewer's config.ini (--watch: stay running)",
		Long: `Renews every [token] of osg-token-renewer's config.ini (read unchanged): refresh-token accounts
stored by oidc-gen or credmon-token setup, and client-credentials accounts. Every token is tried;
the exit status is non-zero when any failed (4 when a human must log in again).

Runs exclude each other with --lock, whose default is the same for the systemd unit, the timer
and a manual run; each token's refresh holds its oidc-agent account file locked, so a concurrent
` + "`credmon-token get`" + ` of the same account waits instead of reusing its refresh token. Outcomes are
recorded in --state after every run and every --watch round, for ` + "`credmon-token status`" + `.

SIGTERM, SIGINT or SIGQUIT starts no new refresh; the ones already sent finish (each within its token's
timeout, and --timeout) and are saved. Then renew exits 143 or 130 (--watch: 0).`,
		Args: cli.Positional(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.code = runRenew(cmd.Context(), a.s, &rf, watch)
			return nil
		},
	}
	rf.register(cmd.Flags())
	completeFiles(cmd, "config", "lock", "state")
	completeDirs(cmd, "config-dir")
	cmd.Flags().BoolVar(&watch, "watch", false, "stay running: renew each token from its own expiry (SIGHUP reloads config.ini)")
	return cmd
}

func runRenew(ctx context.Context, s *stdio, rf *renewFlags, watch bool) int {
	r, err := rf.renewer(s)
	if err != nil {
		return fail(s, "renew", err)
	}
	if watch {
		return renewWatch(ctx, r, s)
	}
	// A stop (ctx cancelled) lets the requests already sent finish within
	// this deadline and their tokens' timeouts (RunOnce).
	runCtx, cancel := context.WithTimeout(ctx, rf.timeout)
	defer cancel()
	rep, err := r.RunOnce(runCtx)
	if st, ok := stoppedBy(ctx); ok {
		return renewStopped(s, st, rep, err)
	}
	if err != nil {
		if errors.Is(err, renewer.ErrAlreadyRunning) {
			fmt.Fprintf(s.err, "credmon-token renew: %v\n", err)
			return exitFailure
		}
		return fail(s, "renew", err)
	}
	code := exitOK
	for _, t := range rep.Tokens {
		switch t.Outcome {
		case renewer.Failed:
			c := classExit(t.Class)
			fmt.Fprintf(s.err, "token %s (account %s): %s: %v\n", t.Token, t.Account, t.Class, t.Err)
			if code == exitOK || c == exitNeedsLogin {
				code = c
			}
		case renewer.Renewed, renewer.Skipped:
			if rf.verbose {
				fmt.Fprintf(s.err, "token %s: %s, expires %s\n", t.Token, t.Outcome, t.Expiry.Format(time.RFC3339))
			}
		}
	}
	return code
}

// renewWatch runs renew --watch, as a systemd Type=notify service when
// started by one ($NOTIFY_SOCKET): READY=1 once the first round is done,
// RELOADING=1 on SIGHUP and READY=1 when the new config.ini is applied (or
// refused: the old one is kept, and STATUS says why), STOPPING=1 when a
// stop begins (the refreshes already sent still finish), and WATCHDOG=1 at
// half of WatchdogSec=. Without $NOTIFY_SOCKET nothing is sent.
func renewWatch(ctx context.Context, r *renewer.Renewer, s *stdio) int {
	every, watchdog := sdnotify.WatchdogInterval()
	sd, err := sdnotify.FromEnv()
	if err != nil {
		// A service manager that asked for notifications and cannot get
		// them would kill the unit at its start timeout: say why now.
		return fail(s, "renew", err)
	}
	defer sd.Close()
	warn := func(err error) {
		if err != nil {
			fmt.Fprintf(s.err, "credmon-token renew: telling systemd: %v\n", err)
		}
	}
	r.OnReady = func(ev renewer.ReadyEvent) {
		status := fmt.Sprintf("watching %d tokens", ev.Tokens)
		if ev.Err != nil {
			status += "; config.ini not reloaded, the old one is kept: " + ev.Err.Error()
		}
		warn(sd.Ready(status))
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-hup:
				warn(sd.Reloading())
				r.Reload()
			case <-done:
				return
			}
		}
	}()
	// STOPPING=1 as soon as the stop begins (Watch may take a while to
	// finish the refreshes on the wire), and once only: the Once also
	// makes the deferred Close wait for it.
	var stopping sync.Once
	sendStopping := func() { stopping.Do(func() { warn(sd.Stopping()) }) }
	defer context.AfterFunc(ctx, sendStopping)()
	defer func() {
		if ctx.Err() != nil {
			sendStopping()
		}
	}()
	if watchdog && sd != nil {
		// The watchdog proves the process is scheduled and its runtime not
		// wedged; a long round is not a hang (each refresh is bounded by
		// its token's timeout), so the pings do not wait for rounds.
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					warn(sd.Watchdog())
				case <-done:
					return
				}
			}
		}()
	}
	if err := r.Watch(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fail(s, "renew", err)
	}
	return exitOK
}

// renewStopped reports a one-shot run that a signal stopped: the failures
// of the tokens it attempted, how many it did not start, and the status
// that says it was stopped.
func renewStopped(s *stdio, st stopped, rep *renewer.Report, err error) int {
	if err != nil {
		fmt.Fprintf(s.err, "credmon-token renew: %s before the run started: %v\n", st, err)
		return st.exitCode()
	}
	left := 0
	for _, t := range rep.Tokens {
		switch {
		case errors.Is(t.Err, renewer.ErrStopping):
			left++
		case t.Outcome == renewer.Failed:
			fmt.Fprintf(s.err, "token %s (account %s): %s: %v\n", t.Token, t.Account, t.Class, t.Err)
		}
	}
	fmt.Fprintf(s.err, "credmon-token renew: %s: %d of %d tokens not started; the requests already sent were finished and saved\n",
		st, left, len(rep.Tokens))
	return st.exitCode()
}

// classExit maps the renewer's failure classes to this command's statuses.
func classExit(c renewer.ErrorClass) int {
	switch c {
	case renewer.ClassReauth:
		return exitNeedsLogin
	case renewer.ClassConfig, renewer.ClassSecret, renewer.ClassAccount:
		return exitConfig
	case renewer.ClassRejected:
		return exitRefused
	case renewer.ClassTransient:
		return exitUnreachable
	case renewer.ClassWrite:
		return exitPermission
	}
	return exitFailure
}

// tokenStatus is one line of `status`.
type tokenStatus struct {
	Token        string    `json:"token"`
	Account      string    `json:"account"`
	Path         string    `json:"path"`
	Present      bool      `json:"present"`
	Error        string    `json:"error,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	RemainingSec int64     `json:"remaining_seconds"`
	Audience     []string  `json:"audience,omitempty"`
	Scopes       []string  `json:"scopes,omitempty"`
	Warning      string    `json:"warning,omitempty"`
	// LastRun is what the last `renew` did for this token (from the state
	// file), so a failure is visible without reading the journal.
	LastRun *lastOutcome `json:"last_run,omitempty"`
}

// lastOutcome is one token's entry in the state file.
type lastOutcome struct {
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"`
	Class   string    `json:"class,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// serviceStateDir is the units' StateDirectory=credmon-token.
const serviceStateDir = "/var/lib/credmon-token"

// rootStatePath is root's default state file, in serviceStateDir: status
// run by hand shows what the timer's runs did.
const rootStatePath = serviceStateDir + "/status.json"

// statePath is where renew records outcomes and status reads them.
func (r *renewFlags) statePath() string {
	if r.state != "" {
		return r.state
	}
	home, _ := os.UserHomeDir()
	return defaultStatePath(os.Getenv, os.Geteuid(), home, func(dir string) (int, bool) {
		uid, _, ok := dirOwner(dir)
		return uid, ok
	})
}

// defaultStatePath chooses the state file from its arguments alone, so
// that renew and status agree however each was started (the run lock's
// default follows the same rules):
//
//  1. $STATE_DIRECTORY/status.json when systemd sets it (the first of a
//     colon-separated list);
//  2. for root, and for the user that owns an existing serviceStateDir
//     (the units' service user), rootStatePath;
//  3. $XDG_STATE_HOME (when absolute, as the XDG spec says) or
//     home/.local/state, then credmon-token/status.json.
//
// Empty when there is no place at all (no home): renew then records
// nothing. ownerOf reports the owner of an existing directory.
func defaultStatePath(getenv func(string) string, uid int, home string, ownerOf func(dir string) (int, bool)) string {
	if d := getenv("STATE_DIRECTORY"); d != "" {
		return filepath.Join(strings.SplitN(d, ":", 2)[0], "status.json")
	}
	if uid == 0 {
		return rootStatePath
	}
	if owner, ok := ownerOf(serviceStateDir); ok && owner == uid {
		return rootStatePath
	}
	base := getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) {
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "credmon-token", "status.json")
}

// saveState merges rep into the state file (temp + rename, 0600: errors
// may name paths and accounts, never secrets).
func saveState(path string, rep *renewer.Report) error {
	if path == "" {
		return nil
	}
	state := loadState(path)
	for _, t := range rep.Tokens {
		lo := &lastOutcome{At: rep.Finished, Outcome: t.Outcome.String()}
		if t.Err != nil {
			lo.Class, lo.Error = string(t.Class), t.Err.Error()
		}
		state[t.Token] = lo
	}
	b, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return replaceStateFile(path, b)
}

// replaceStateFile replaces path with b (atomicfile.Replace: exclusive
// temporary file, fsync, rename, directory fsync, mode 0600), so a crash
// leaves the old file or the new one. A symlink at path is replaced, never
// followed: root writes into the service user's StateDirectory, where a
// planted link must redirect nothing, and the state file is ours to put
// there. When root writes there, the file is given to the directory's
// owner so that the service can still merge into it; when that is not
// permitted (root without CAP_CHOWN) the file keeps the process's ids
// rather than not being written.
func replaceStateFile(path string, b []byte) error {
	o := atomicfile.Options{Mode: 0o600, Symlink: atomicfile.ReplaceSymlink}
	if os.Geteuid() == 0 {
		if owner, group, ok := dirOwner(filepath.Dir(path)); ok && owner != 0 {
			o.Owner = &atomicfile.Owner{UID: owner, GID: group}
		}
	}
	err := atomicfile.Replace(path, b, o)
	if o.Owner != nil && errors.Is(err, fs.ErrPermission) {
		o.Owner = nil
		err = atomicfile.Replace(path, b, o)
	}
	return err
}

// loadState reads the state file; never through a symlink, nor from a
// FIFO (root reads the service user's directory).
func loadState(path string) map[string]*lastOutcome {
	state := map[string]*lastOutcome{}
	if b, _, err := atomicfile.ReadRegular(path, 16<<20, atomicfile.OpenOptions{}); err == nil {
		_ = json.Unmarshal(b, &state) // a damaged file is replaced
	}
	return state
}

// dirOwner returns the owner and group of the directory dir (not a
// symlink).
func dirOwner(dir string) (uid, gid int, ok bool) {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

type accountStatus struct {
	Account          string    `json:"account"`
	Mode             string    `json:"mode"`
	File             string    `json:"file,omitempty"`
	Issuer           string    `json:"issuer,omitempty"`
	LastRotation     time.Time `json:"refresh_token_written,omitzero"`
	RefreshExpiry    time.Time `json:"refresh_token_expiry,omitzero"`
	RefreshRemaining int64     `json:"refresh_token_remaining_seconds,omitempty"`
	Error            string    `json:"error,omitempty"`
	Warning          string    `json:"warning,omitempty"`
	// Unused: no [token] names the account (it is listed all the same,
	// so a login about to expire shows before a token needs it).
	Unused bool `json:"unused,omitempty"`
}

// ReloginWarning is how early status warns that a refresh token whose
// expiry is known will soon need a human.
const ReloginWarning = 7 * 24 * time.Hour

func newStatusCmd(a *app) *cobra.Command {
	var rf renewFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json] [flags]",
		Short: "show every configured token and account, and what needs attention",
		Long: "Shows every [token] and account of osg-token-renewer's config.ini: the token file's expiry, renew's\n" +
			"last outcome (--state) and what needs a human. The exit status is 1 when anything needs attention.",
		Args: cli.Positional(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			a.code = runStatus(a.s, &rf, asJSON)
			return nil
		},
	}
	fl := cmd.Flags()
	rf.register(fl)
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	completeFiles(cmd, "config", "state")
	completeDirs(cmd, "config-dir")
	// renew's flags that status does not use: accepted, as they always
	// were, but not offered.
	for _, n := range []string{"lock", "timeout", "insecure", "verbose"} {
		if err := fl.MarkHidden(n); err != nil {
			panic(err)
		}
	}
	return cmd
}

func runStatus(s *stdio, rf *renewFlags, asJSON bool) int {
	cfg, err := renewer.LoadConfig(rf.path())
	if err != nil {
		return fail(s, "status", configError{err})
	}
	now := time.Now()
	var toks []tokenStatus
	code := exitOK
	state := loadState(rf.statePath())
	for _, t := range cfg.Tokens {
		ts := tokenStatusOf(t, state[t.Name], now)
		if ts.Error != "" || ts.Warning != "" {
			code = exitFailure
		}
		toks = append(toks, ts)
	}
	var accts []accountStatus
	dir := rf.accountDir
	if dir == "" {
		dir, _ = oidcagent.FindConfigDir()
	}
	for _, a := range cfg.AllAccounts {
		as := accountStatusOf(a, dir, now)
		if as.Error != "" {
			code = exitFailure
		}
		accts = append(accts, as)
	}
	if asJSON {
		b, _ := json.MarshalIndent(map[string]any{"config": cfg.Path, "tokens": toks, "accounts": accts}, "", "  ")
		fmt.Fprintln(s.out, string(b))
		return code
	}
	fmt.Fprintf(s.out, "config %s\n\n", cfg.Path)
	for _, t := range toks {
		state := "missing"
		switch {
		case t.Error != "" && t.Present:
			state = "unreadable: " + t.Error
		case t.Present && t.Expiry.IsZero():
			state = "present, expiry unknown"
		case t.Present:
			state = fmt.Sprintf("expires %s (%s)", t.Expiry.Format(time.RFC3339), relative(time.Duration(t.RemainingSec)*time.Second))
		}
		fmt.Fprintf(s.out, "token %-20s %s\n    file %s, account %s\n", t.Token, state, t.Path, t.Account)
		if len(t.Audience) > 0 || len(t.Scopes) > 0 {
			fmt.Fprintf(s.out, "    aud %v scope %v\n", t.Audience, t.Scopes)
		}
		if lr := t.LastRun; lr != nil {
			fmt.Fprintf(s.out, "    last renew %s: %s", lr.At.Format(time.RFC3339), lr.Outcome)
			if lr.Error != "" {
				fmt.Fprintf(s.out, " (%s: %s)", lr.Class, lr.Error)
			}
			fmt.Fprintln(s.out)
		}
		if t.Warning != "" {
			fmt.Fprintf(s.out, "    WARNING: %s\n", t.Warning)
		}
	}
	for _, a := range accts {
		fmt.Fprintf(s.out, "\naccount %-18s %s", a.Account, a.Mode)
		if a.Issuer != "" {
			fmt.Fprintf(s.out, " at %s", a.Issuer)
		}
		if a.Unused {
			fmt.Fprint(s.out, " (used by no token)")
		}
		fmt.Fprintln(s.out)
		if !a.LastRotation.IsZero() {
			fmt.Fprintf(s.out, "    refresh token written %s (%s)\n", a.LastRotation.Format(time.RFC3339), relative(a.LastRotation.Sub(now)))
		}
		if !a.RefreshExpiry.IsZero() {
			fmt.Fprintf(s.out, "    refresh token expires %s (%s)\n", a.RefreshExpiry.Format(time.RFC3339), relative(a.RefreshExpiry.Sub(now)))
		}
		if a.Error != "" {
			fmt.Fprintf(s.out, "    ERROR: %s\n", a.Error)
		}
		if a.Warning != "" {
			fmt.Fprintf(s.out, "    WARNING: %s\n", a.Warning)
		}
	}
	return code
}

func relative(d time.Duration) string {
	if d < 0 {
		return (-d).Round(time.Second).String() + " ago"
	}
	return "in " + d.Round(time.Second).String()
}

// tokenStatusOf describes one [token]: its file, and what the last renew
// recorded for it.
func tokenStatusOf(t *renewer.Token, last *lastOutcome, now time.Time) tokenStatus {
	ts := tokenStatus{Token: t.Name, Account: t.Account, Path: t.Path, LastRun: last}
	// renew's reader (a symlink at the path is refused, as renew would
	// replace it): what status shows is the file renew judges.
	info, err := bearer.ReadInfo(t.Path, bearer.ReadOptions{NoFollow: true})
	switch {
	case err == nil:
		ts.Present = true
		ts.Audience, ts.Scopes = info.Audience, info.Scopes
		if info.HasExpiry {
			ts.Expiry, ts.RemainingSec = info.Expiry, int64(info.Expiry.Sub(now).Seconds())
			if !info.Expiry.After(now) {
				ts.Warning = "expired"
			}
		}
	default:
		// Something is there that renew cannot use: "unreadable", not
		// "missing".
		ts.Present = !errors.Is(err, fs.ErrNotExist)
		ts.Error = err.Error()
	}
	if last != nil && last.Class == string(renewer.ClassReauth) {
		ts.Warning = "the last renewal was refused (invalid_grant): a human must run `credmon-token setup " + t.Account + "`"
	}
	return ts
}

// accountStatusOf describes one [account]: for an oidc-agent account, its
// file, issuer and what its refresh token says about its expiry.
func accountStatusOf(a *renewer.Account, dir string, now time.Time) accountStatus {
	as := accountStatus{Account: a.Name, Unused: a.Unused}
	switch {
	case a.Invalid != nil:
		as.Mode, as.Error = "invalid", a.Invalid.Error()
		return as
	case a.Mode == renewer.ModeClientCredentials:
		as.Mode = "client_credentials"
		return as
	}
	as.Mode = "refresh_token"
	as.File = filepath.Join(dir, a.Name)
	if fi, err := os.Stat(as.File); err == nil {
		as.LastRotation = fi.ModTime()
	}
	pw, err := oidcagent.PasswordFromFile(a.PasswordFile)
	var acct *oidcagent.Account
	if err == nil {
		acct, err = oidcagent.Load(dir, a.Name, pw)
		clear(pw)
	}
	if err != nil {
		as.Error = err.Error()
		return as
	}
	as.Issuer = acct.IssuerURL()
	// A refresh token that is a JWT says when it expires; opaque ones do
	// not, and status says nothing it cannot know.
	if info, err := bearer.Inspect(acct.RefreshToken()); err == nil && info.HasExpiry {
		as.RefreshExpiry = info.Expiry
		as.RefreshRemaining = int64(info.Expiry.Sub(now).Seconds())
		if info.Expiry.Sub(now) < ReloginWarning {
			as.Warning = "the refresh token expires soon: a human must run `credmon-token setup " + a.Name + "` before then"
		}
	}
	return as
}

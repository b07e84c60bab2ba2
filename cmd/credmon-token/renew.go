package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/producer/bearer"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/renewer"
)

type renewFlags struct {
	config, accountDir, lock, state string
	timeout                         time.Duration
	insecure, verbose               bool
}

func (r *renewFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&r.config, "config", "", "osg-token-renewer's config.ini (default $"+renewer.EnvConfigPath+", else "+renewer.DefaultConfigPath+")")
	fl.StringVar(&r.accountDir, "config-dir", "", "oidc-agent account directory (default: $OIDC_CONFIG_DIR, ~/.config/oidc-agent, ~/.oidc-agent)")
	fl.StringVar(&r.lock, "lock", "", "lock file that keeps two runs apart (default $RUNTIME_DIRECTORY/renew.lock, else <config>.lock)")
	fl.DurationVar(&r.timeout, "timeout", renewer.DefaultRunTimeout, "bound on the whole run (not with --watch)")
	fl.StringVar(&r.state, "state", "", "where renew records each token's last outcome for status (default $STATE_DIRECTORY/status.json, else $XDG_STATE_HOME or ~/.local/state/credmon-token/status.json)")
	fl.BoolVar(&r.insecure, "insecure", false, "allow http:// issuers (tests and labs only)")
	fl.BoolVar(&r.verbose, "v", false, "log every token, not only failures")
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
	return &renewer.Renewer{
		Config: cfg, HTTPClient: httpClient(renewer.DefaultTokenTimeout), AccountDir: r.accountDir,
		AllowInsecure: insecureAllowed(r.insecure), LockPath: r.lock,
		Log: hclog.New(&hclog.LoggerOptions{Name: "credmon-token", Output: s.err, Level: level}),
	}, nil
}

func runRenew(ctx context.Context, args []string, s *stdio) int {
	fl := flag.NewFlagSet("credmon-token renew", flag.ContinueOnError)
	fl.SetOutput(s.err)
	var rf renewFlags
	rf.register(fl)
	watch := fl.Bool("watch", false, "stay running: renew each token from its own expiry (SIGHUP reloads config.ini)")
	fl.Usage = func() {
		fmt.Fprintln(s.err, "usage: credmon-token renew [--watch] [flags]\n\n"+
			"Renews every [token] of osg-token-renewer's config.ini (read unchanged): refresh-token accounts\n"+
			"stored by oidc-gen or credmon-token setup, and client-credentials accounts. Every token is tried;\n"+
			"the exit status is non-zero when any failed (4 when a human must log in again).")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return exitUsage
	}
	r, err := rf.renewer(s)
	if err != nil {
		return fail(s, "renew", err)
	}
	if *watch {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for range hup {
				r.Reload()
			}
		}()
		if err := r.Watch(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return fail(s, "renew", err)
		}
		return exitOK
	}
	runCtx, cancel := context.WithTimeout(ctx, rf.timeout)
	defer cancel()
	rep, err := r.RunOnce(runCtx)
	if err != nil {
		if errors.Is(err, renewer.ErrAlreadyRunning) {
			fmt.Fprintf(s.err, "credmon-token renew: %v\n", err)
			return exitFailure
		}
		return fail(s, "renew", err)
	}
	if err := saveState(rf.statePath(), rep); err != nil {
		fmt.Fprintf(s.err, "credmon-token renew: recording the outcome for status: %v\n", err)
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

// statePath is where renew records outcomes: systemd's StateDirectory when
// the unit has one, else the XDG state directory.
func (r *renewFlags) statePath() string {
	if r.state != "" {
		return r.state
	}
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return filepath.Join(d, "status.json")
	}
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
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
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func loadState(path string) map[string]*lastOutcome {
	state := map[string]*lastOutcome{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &state) // a damaged file is replaced
	}
	return state
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
}

// ReloginWarning is how early status warns that a refresh token whose
// expiry is known will soon need a human.
const ReloginWarning = 7 * 24 * time.Hour

func runStatus(_ context.Context, args []string, s *stdio) int {
	fl := flag.NewFlagSet("credmon-token status", flag.ContinueOnError)
	fl.SetOutput(s.err)
	var rf renewFlags
	rf.register(fl)
	asJSON := fl.Bool("json", false, "print JSON")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := renewer.LoadConfig(rf.path())
	if err != nil {
		return fail(s, "status", configError{err})
	}
	now := time.Now()
	var toks []tokenStatus
	code := exitOK
	state := loadState(rf.statePath())
	for _, t := range cfg.Tokens {
		ts := tokenStatus{Token: t.Name, Account: t.Account, Path: t.Path, LastRun: state[t.Name]}
		tok, err := bearer.ReadTokenFile(t.Path)
		if err == nil {
			ts.Present = true
			var info *bearer.Info
			if info, err = bearer.Inspect(tok); err == nil {
				ts.Audience, ts.Scopes = info.Audience, info.Scopes
				if info.HasExpiry {
					ts.Expiry, ts.RemainingSec = info.Expiry, int64(info.Expiry.Sub(now).Seconds())
					if !info.Expiry.After(now) {
						ts.Warning = "expired"
					}
				}
			}
		}
		if err != nil {
			ts.Error = err.Error()
		}
		if ts.LastRun != nil && ts.LastRun.Class == string(renewer.ClassReauth) {
			ts.Warning = "the last renewal was refused (invalid_grant): a human must run `credmon-token setup " + t.Account + "`"
		}
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
	for _, name := range sortedAccounts(cfg) {
		a := cfg.Accounts[name]
		as := accountStatus{Account: name, Mode: "client_credentials"}
		if a.Mode == renewer.ModeOIDC {
			as.Mode = "refresh_token"
			as.File = filepath.Join(dir, name)
			if fi, err := os.Stat(as.File); err == nil {
				as.LastRotation = fi.ModTime()
			}
			pw, err := oidcagent.PasswordFromFile(a.PasswordFile)
			var acct *oidcagent.Account
			if err == nil {
				acct, err = oidcagent.Load(dir, name, pw)
			}
			if err != nil {
				as.Error = err.Error()
				code = exitFailure
			} else {
				as.Issuer = acct.IssuerURL()
				// A refresh token that is a JWT says when it expires;
				// opaque ones do not, and status says nothing it cannot know.
				if info, err := bearer.Inspect(acct.RefreshToken()); err == nil && info.HasExpiry {
					as.RefreshExpiry = info.Expiry
					as.RefreshRemaining = int64(info.Expiry.Sub(now).Seconds())
					if info.Expiry.Sub(now) < ReloginWarning {
						as.Warning = "the refresh token expires soon: a human must run `credmon-token setup " + name + "` before then"
					}
				}
			}
		}
		accts = append(accts, as)
	}
	if *asJSON {
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

func sortedAccounts(cfg *renewer.Config) []string {
	seen := map[string]bool{}
	var names []string
	for _, t := range cfg.Tokens {
		if _, ok := cfg.Accounts[t.Account]; ok && !seen[t.Account] {
			seen[t.Account] = true
			names = append(names, t.Account)
		}
	}
	return names
}

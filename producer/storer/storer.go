package storer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Terminal is the user's terminal under condor_submit, which leaves the
// cursor in the middle of a line when it runs the storer: the first write
// is preceded by a newline, once for the whole run.
type Terminal struct {
	mu      sync.Mutex
	w       io.Writer
	started bool
}

// NewTerminal returns a Terminal writing to w.
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if !t.started {
		t.started = true
		if _, err := io.WriteString(t.w, "\n"); err != nil {
			return 0, err
		}
	}
	return t.w.Write(p)
}

// Printf writes a line (a newline is added when format lacks one).
func (t *Terminal) Printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	_, _ = io.WriteString(t, s)
}

// ErrGettokenOpts: a Vault service was requested but the site's Vault
// options are nowhere.
var ErrGettokenOpts = errors.New("neither SEC_CREDENTIAL_GETTOKEN_OPTS condor value nor $HTGETTOKENOPTS environment set")

// ErrPelican: condor_submit asked for Pelican credentials, which this
// storer does not make.
var ErrPelican = errors.New("this storer does not store Pelican credentials; use HTCondor's condor_credential_storer for Pelican services")

// Storer is SEC_CREDENTIAL_STORER: for each Vault service condor_submit
// names, it asks credd what it holds (query-oauth), asks the Source for a
// credential, and stores (add-oauth) only what credd lacks or what the
// source renewed.
type Storer struct {
	// Name is the program name for messages.
	Name string
	// Args is the command line as given, for the "run again with -v" hint.
	Args   []string
	Flags  Flags
	Env    Env
	Config Config
	Source Source
	Store  CredStore
	Term   *Terminal
}

// Run stores the credentials of reqs, stopping at the first failure.
func (s *Storer) Run(ctx context.Context, reqs []Request) error {
	if s.Env.Mode == "pelican" {
		return ErrPelican
	}
	if s.Env.Mode != "" && s.Env.Mode != "vault" {
		s.verbose("CONDOR_CREDENTIAL_STORER_MODE %q is unknown; routing each service by the provider lists", s.Env.Mode)
	}
	for _, r := range reqs {
		for _, part := range r.Ignored {
			s.verbose("Ignoring %q in %q", part, r.Arg)
		}
		switch Route(r, s.Config.Providers) {
		case KindOther:
			s.verbose("Service %s is managed by another credmon; skipping", r.Service)
			continue
		case KindPelican:
			return fmt.Errorf("service %s: %w", r.Service, ErrPelican)
		}
		if len(s.Config.GettokenOpts) == 0 && len(s.Env.HTGettokenOpts) == 0 {
			return ErrGettokenOpts
		}
		if err := s.store(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Storer) store(ctx context.Context, r Request) error {
	q, err := s.query(ctx, r.Service, "", "")
	if err != nil {
		return err
	}
	hname := r.StoreName()
	hq := Missing
	if hname != "" {
		if hq, err = s.query(ctx, hname, r.Scopes, r.Audience); err != nil {
			return err
		}
	}
	if err := Check(q, hq, hname != "", r.Service, hname); err != nil {
		return err
	}
	opts := append(append(append([]string(nil), s.Env.HTGettokenOpts...), s.Config.GettokenOpts...), r.Options...)
	s.verbose("Attempting to get tokens for %s", r.Service)
	cred, err := s.Source.Obtain(ctx, SourceRequest{
		Request:         r,
		GettokenOptions: opts,
		Renew:           MustRenew(q),
		ID:              s.Env.ID,
		Verbose:         s.Flags.Verbose,
		Debug:           s.Flags.Debug,
		Terminal:        s.Term,
	})
	if err != nil {
		return fmt.Errorf("obtaining credentials for %s: %w", r.Service, err)
	}
	plan, err := Decide(q, hq, hname != "", cred.New)
	if err != nil {
		return fmt.Errorf("service %s: %w", r.Service, err)
	}
	if plan.Service {
		if err := s.add(ctx, r.Service, "", "", cred.Service); err != nil {
			return err
		}
	}
	if plan.Handle {
		if err := s.add(ctx, hname, r.Scopes, r.Audience, cred.Handle); err != nil {
			return err
		}
	}
	if !plan.Service && !plan.Handle {
		s.verbose("Credentials for %s are already stored", r.Service)
	}
	return nil
}

func (s *Storer) query(ctx context.Context, name, scopes, audience string) (QueryResult, error) {
	s.verbose("Checking if %s credentials exist", name)
	q, out, err := s.Store.Query(ctx, name, scopes, audience)
	s.debugOutput(out)
	if err != nil {
		return q, fmt.Errorf("querying condor credentials for %s: %w%s", name, err, indent(out))
	}
	s.verbose("Credentials for %s: %s", name, q)
	return q, nil
}

func (s *Storer) add(ctx context.Context, name, scopes, audience string, blob []byte) error {
	if len(blob) == 0 {
		return fmt.Errorf("the source returned an empty credential for %s", name)
	}
	s.verbose("Storing condor credentials for %s", name)
	out, err := s.Store.Add(ctx, name, scopes, audience, blob)
	s.debugOutput(out)
	if err != nil {
		return fmt.Errorf("storing condor credentials for %s: %w%s", name, err, indent(out))
	}
	return nil
}

func (s *Storer) verbose(format string, args ...any) {
	if s.Flags.Verbose {
		s.Term.Printf(format, args...)
	}
}

func (s *Storer) debugOutput(out []byte) {
	if s.Flags.Debug && len(out) > 0 {
		_, _ = s.Term.Write(out)
	}
}

// indent formats a command's output to follow an error message.
func indent(out []byte) string {
	t := strings.TrimSpace(string(out))
	if t == "" {
		return ""
	}
	return "\n  " + strings.ReplaceAll(t, "\n", "\n  ")
}

// Report tells the user why the run failed, on the terminal: for a
// mismatch the exact command that removes the stored credential; for
// anything else, without -v, how to run again with more detail.
func (s *Storer) Report(err error) {
	var mm *MismatchError
	if errors.As(err, &mm) {
		s.Term.Printf("%s: Credentials exist that do not match the request.\n"+
			"They can be removed by\n  %s\nbut make sure no other job is using them.",
			s.Name, s.Store.DeleteCommand(mm.Name))
		return
	}
	s.Term.Printf("%s: %v", s.Name, err)
	if !s.Flags.Verbose {
		words := make([]string, len(s.Args))
		for i, a := range s.Args {
			words[i] = ShellQuote(a)
		}
		s.Term.Printf("  More details might be available by running\n    %s -v %s", s.Name, strings.Join(words, " "))
	}
}

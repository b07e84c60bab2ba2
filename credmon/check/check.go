package check

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/knobs"
)

// Severity of a Problem.
type Severity string

const (
	// Error: the daemon refuses to start, or some tokens get no .use.
	Error Severity = "error"
	// Warning: works, but probably not what the admin meant, or could not
	// be verified (a network check failing now).
	Warning Severity = "warning"
)

// Problem is one finding about one knob. Its JSON form is part of the
// documented `credmon check --json` schema (README, Operations): add
// fields, never rename or remove one.
type Problem struct {
	Severity Severity `json:"severity"`
	// Knob is the configuration knob at fault (e.g. "CREDMON_OAUTH",
	// "CLIENT_CREDMON_robots_CLIENT_SECRET_FILE").
	Knob string `json:"knob"`
	// What is wrong, one sentence without the fix.
	What string `json:"what"`
	// Fix says how to fix it; may be empty when the fix is obvious.
	Fix string `json:"fix,omitempty"`
}

// String is the text form: "KNOB: what is wrong — how to fix it".
func (p Problem) String() string {
	s := p.Knob + ": " + p.What
	if strings.HasPrefix(p.What, "= ") { // "KNOB = value: ..."
		s = p.Knob + " " + p.What
	}
	if p.Fix == "" {
		return s
	}
	return s + " — " + p.Fix
}

// ProviderInfo is one provider name and the type that owns it.
type ProviderInfo struct {
	Name string `json:"name"`
	Type string `json:"type"` // credfile.Kind's name: local, client, oauth2, vault, pelican
}

// Report is the result of Run; its JSON form is `credmon check --json`
// (schema version 1; see README).
type Report struct {
	Version   int            `json:"version"` // schema version, 1
	Name      string         `json:"name"`    // daemon (subsystem) name
	Config    string         `json:"config"`  // where the configuration came from
	CredDir   string         `json:"cred_dir"`
	Offline   bool           `json:"offline"`
	Providers []ProviderInfo `json:"providers"`
	Errors    []Problem      `json:"errors"`
	Warnings  []Problem      `json:"warnings"`
}

// OK reports whether the report has no errors.
func (r *Report) OK() bool { return len(r.Errors) == 0 }

// Options are Run's inputs.
type Options struct {
	// Config and Credmon are what the daemon would load; LoadErr is
	// knobs.LoadCredmon's error (Credmon may still be non-nil then).
	Config  *condorcfg.Config
	Credmon *knobs.Credmon
	LoadErr error
	// Executable is this binary's path (os.Executable), compared with the
	// <NAME> knob the master starts.
	Executable string
	// Offline skips every network check.
	Offline bool
	// Standalone: a supervisor other than condor_master runs the daemon,
	// so DAEMON_LIST need not name it.
	Standalone bool
	// HTTPClient sends the reachability probes; nil means one with
	// Timeout.
	HTTPClient *http.Client
	// Timeout bounds each probe (default 5 s).
	Timeout time.Duration
	// Euid is the effective uid the daemon would run as (default
	// os.Geteuid()); it decides the expected owners.
	Euid *int
}

// DefaultTimeout bounds one reachability probe.
const DefaultTimeout = 5 * time.Second

// checker collects problems.
type checker struct {
	opts Options
	cm   *knobs.Credmon
	cfg  *condorcfg.Config
	rep  *Report
	euid int
	// probed remembers URLs already probed (several providers often share
	// one token endpoint).
	probed map[string]bool
}

func (c *checker) add(sev Severity, knob, what, fix string) {
	p := Problem{Severity: sev, Knob: knob, What: what, Fix: fix}
	if sev == Error {
		c.rep.Errors = append(c.rep.Errors, p)
	} else {
		c.rep.Warnings = append(c.rep.Warnings, p)
	}
}

func (c *checker) errorf(knob, what, fix string) { c.add(Error, knob, what, fix) }
func (c *checker) warnf(knob, what, fix string)  { c.add(Warning, knob, what, fix) }

// Run checks the configuration. It never changes anything: no file is
// created, no key generated, no token requested.
func Run(ctx context.Context, opts Options) *Report {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: opts.Timeout}
	}
	c := &checker{opts: opts, cm: opts.Credmon, cfg: opts.Config, probed: map[string]bool{},
		rep: &Report{Version: 1, Offline: opts.Offline, Errors: []Problem{}, Warnings: []Problem{}, Providers: []ProviderInfo{}}}
	c.euid = os.Geteuid()
	if opts.Euid != nil {
		c.euid = *opts.Euid
	}
	if c.cfg != nil {
		c.rep.Config = c.cfg.Source()
		for _, w := range c.cfg.Warnings() {
			c.warnf("CONDOR_CONFIG", w, "")
		}
	}
	if opts.LoadErr != nil {
		c.errorf(knobOf(opts.LoadErr.Error(), "CONDOR_CONFIG"), opts.LoadErr.Error(), "fix the value; the daemon refuses to start with it")
	}
	if c.cm == nil {
		return c.rep
	}
	c.rep.Name, c.rep.CredDir = c.cm.Name, c.cm.CredDir
	for _, w := range c.cm.Warnings {
		c.warnf(knobOf(w, c.cm.Name), w, "")
	}
	c.checkMaster()
	c.checkCredDir()
	c.checkProviders(ctx)
	c.checkTrustLists(ctx)
	c.checkStateFile()
	return c.rep
}

// knobOf finds the knob an error message of package knobs names ("KNOB =
// value: ...", "KNOB: ..."), def when there is none.
func knobOf(msg, def string) string {
	if m := knobRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return def
}

// knobRE matches a knob name (with an underscore, so no ordinary word)
// followed by " =" or ":".
var knobRE = regexp.MustCompile(`\b([A-Za-z0-9.-]*_[A-Za-z0-9_.-]*)(?: =|:)`)

// checkMaster: the master starts this binary (<NAME> knob) and is
// configured to start it at all (DAEMON_LIST; see the package comment).
func (c *checker) checkMaster() {
	name := c.cm.Name
	if !c.opts.Standalone {
		list := credfileSplit(c.cfg.Get("DAEMON_LIST"))
		if !slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, name) }) {
			c.errorf("DAEMON_LIST", "does not name "+name+", so condor_master never starts the credmon",
				"add `use feature:OAUTH` or `DAEMON_LIST = $(DAEMON_LIST) "+name+"` (or pass --standalone when systemd runs it)")
		}
	}
	path := strings.TrimSpace(c.cfg.Get(name))
	switch {
	case path == "":
		if !c.opts.Standalone {
			c.errorf(name, "is not set: the master does not know which program to start", "set "+name+" = "+orDefault(c.opts.Executable, "/usr/sbin/credmon"))
		}
	case c.opts.Executable != "" && !sameFile(path, c.opts.Executable):
		c.errorf(name, "= "+path+": the master starts that program, not this credmon ("+c.opts.Executable+")",
			"set "+name+" = "+c.opts.Executable)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sameFile reports whether a and b name the same file (after symlinks).
func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

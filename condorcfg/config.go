package condorcfg

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultVersion is the HTCondor version the native parser claims to be when
// evaluating "if version ..." conditions (Options.Version overrides it). It
// is the oldest release series this drop-in targets, so version guards for
// newer features stay off unless the site says otherwise.
const DefaultVersion = "25.0.0"

// DefaultTimeout bounds one condor_config_val run. Reading local
// configuration takes milliseconds; the bound only matters if the tool hangs
// (for example on a config "include command" that blocks).
const DefaultTimeout = 30 * time.Second

// Options controls Load.
type Options struct {
	// Subsystem is the daemon's subsystem name, e.g. "CREDMON_OAUTH". It sets
	// $(SUBSYSTEM) and makes SUBSYS.KNOB take precedence over KNOB.
	Subsystem string
	// Env is the environment in os.Environ() form; nil means os.Environ().
	// CONDOR_CONFIG, _CONDOR_<KNOB> overrides and $ENV() are read from it,
	// and condor_config_val runs with it.
	Env []string
	// ConfigVal is the condor_config_val program. "" means: look for
	// condor_config_val in Env's PATH and use it if found; "-" means never
	// use it and parse the configuration natively.
	ConfigVal string
	// Prefetch lists knob names to fetch in the single batched
	// condor_config_val call Load makes. Ignored by the native backend.
	Prefetch []string
	// Version is the HTCondor version for "if version" in the native parser
	// ("" means DefaultVersion).
	Version string
	// Timeout bounds each condor_config_val run (0 means DefaultTimeout).
	Timeout time.Duration

	sys *sysInfo // tests only: host facts for the native loader
}

// backend is where values come from.
type backend interface {
	lookup(name string) (string, bool, error)
	prefetch(names []string) error
	source() string
	files() []string
}

// Config is an immutable view of HTCondor configuration. It is safe for
// concurrent use.
type Config struct {
	b        backend
	warnings []string

	mu  sync.Mutex
	err error // first lookup failure, see Err
}

// Load reads HTCondor configuration: through condor_config_val when it is
// available (so the answer is exactly HTCondor's), otherwise by parsing the
// configuration files natively.
func Load(opts Options) (*Config, error) {
	path, err := findConfigVal(opts)
	if err != nil {
		return nil, err
	}
	if path != "" {
		b, err := newConfigVal(path, opts)
		if err != nil {
			return nil, err
		}
		return &Config{b: b}, nil
	}
	return loadNative(opts, "", nil)
}

// LoadString parses text as if it were the global configuration file name,
// with the native parser: LOCAL_CONFIG_FILE/DIR, includes, _CONDOR_
// overrides from opts.Env and the built-in defaults all apply, CONDOR_CONFIG
// and condor_config_val are ignored. It is meant for tests and tools.
func LoadString(name, text string, opts Options) (*Config, error) {
	if name == "" {
		name = "<string>"
	}
	return loadNative(opts, name, []byte(text))
}

func loadNative(opts Options, name string, data []byte) (*Config, error) {
	l, err := newLoader(opts)
	if err != nil {
		return nil, err
	}
	if err := l.load(name, data); err != nil {
		return nil, fmt.Errorf("loading HTCondor configuration: %w", err)
	}
	return &Config{b: &nativeBackend{r: l.r, env: l.env, list: l.files}, warnings: l.warnings}, nil
}

// Lookup returns the fully macro-expanded value of a knob. Names are
// case-insensitive; SUBSYS.NAME takes precedence over NAME; _CONDOR_NAME in
// the environment overrides the files. A knob that is undefined or whose
// value is empty reports false, as HTCondor's param() does. If the value
// cannot be determined (an unsupported macro function, a definition loop, a
// failed condor_config_val run) Lookup reports false and the error is kept
// for Err; use LookupErr to get it directly.
func (c *Config) Lookup(name string) (string, bool) {
	v, ok, err := c.LookupErr(name)
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return v, ok
}

// LookupErr is Lookup with the error.
func (c *Config) LookupErr(name string) (string, bool, error) {
	if !validName(name) {
		return "", false, nil // no configuration can define such a name
	}
	v, ok, err := c.b.lookup(name)
	if err != nil || !ok || v == "" {
		return "", false, err
	}
	return v, true, nil
}

// Get is Lookup without the bool: "" for undefined or empty knobs.
func (c *Config) Get(name string) string {
	v, _ := c.Lookup(name)
	return v
}

// Prefetch fetches all names not yet cached in one condor_config_val run,
// so that looking them up afterwards costs nothing. Use it for names known
// only at run time (provider knobs such as BOX_CLIENT_ID). It is a no-op for
// the native backend.
func (c *Config) Prefetch(names ...string) error {
	var valid []string
	for _, n := range names {
		if validName(n) {
			valid = append(valid, n)
		}
	}
	return c.b.prefetch(valid)
}

// Source describes where values come from, for logs:
// "condor_config_val (/usr/bin/condor_config_val)" or
// "native (files: /etc/condor/condor_config, ...)".
func (c *Config) Source() string { return c.b.source() }

// Files lists the configuration files read, in the order read (for the
// condor_config_val backend, as reported by condor_config_val -config).
func (c *Config) Files() []string { return append([]string(nil), c.b.files()...) }

// Warnings returns what HTCondor would have warned about while reading the
// configuration natively ("warning :" statements, ':' used for assignment,
// unreadable LOCAL_CONFIG_DIR directories, ...), each as "file:line: text".
func (c *Config) Warnings() []string { return append([]string(nil), c.warnings...) }

// Err returns the first error a Lookup swallowed, or nil.
func (c *Config) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// nativeBackend serves lookups from the table the native loader built. The
// table is never modified after Load, and each lookup uses its own expander,
// so concurrent lookups need no locking.
type nativeBackend struct {
	r    *resolver
	env  environ
	list []string
}

func (n *nativeBackend) lookup(name string) (string, bool, error) {
	raw, src, ok := n.r.raw(name)
	if !ok {
		return "", false, nil
	}
	x := &expander{r: n.r, env: n.env}
	v, err := x.expand(raw, []string{strings.ToUpper(name)}, 0)
	if err != nil {
		var le *loopError
		if errors.As(err, &le) {
			return "", false, errAt(src, err, "%s: %v", name, err)
		}
		return "", false, errAt(src, err, "expanding %s: %v", name, err)
	}
	return v, true, nil
}

func (n *nativeBackend) prefetch([]string) error { return nil }

func (n *nativeBackend) files() []string { return n.list }

func (n *nativeBackend) source() string {
	if len(n.list) == 0 {
		return "native (no configuration files)"
	}
	return "native (files: " + strings.Join(n.list, ", ") + ")"
}

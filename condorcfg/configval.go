package condorcfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The condor_config_val backend asks HTCondor itself, so every detail of the
// configuration language (and every metaknob, include command, $EVAL ...) is
// handled by the real implementation.
//
// Batching: condor_config_val NAME1 NAME2 prints one value per line on stdout
// and "Not defined: NAME" on stderr for each undefined name (under whatever
// name it actually looked up, e.g. CREDMON_OAUTH.LOG), then exits 1 if any
// was undefined (config_val.cpp, main). Multi-line @= values make the line
// count ambiguous and the stderr names need not match ours, so that output
// cannot be split reliably. Instead we use "-macro", which expands its
// argument "as the configuration language would" and prints the result plus
// one newline (config_val.cpp: printf("%s\n", result)):
//
//	condor_config_val [-subsystem SUBSYS] [-config] -macro "<S>$(A)<S>$(B)<S>"
//
// where <S> is a random separator that cannot occur in a value and cannot
// take part in macro syntax. $(NAME) is looked up exactly as param(NAME)
// would be (SUBSYS.NAME first, then NAME, then the compiled-in default; the
// _CONDOR_ environment is part of the table) and an undefined or empty knob
// expands to "", which is what "unset" means to us anyway. One difference:
// -macro keeps $(DOLLAR) as is where param() turns it into "$", so we do
// that replacement ourselves. "-config" additionally prints the
// configuration files, one per line prefixed with a tab, before the result.
type configVal struct {
	path    string
	subsys  string
	env     []string
	timeout time.Duration

	runMu sync.Mutex // one condor_config_val at a time
	mu    sync.Mutex // guards cache
	cache map[string]string
	list  []string
}

func envPath(env []string) string {
	if env == nil {
		return os.Getenv("PATH")
	}
	v, _ := newEnviron(env).get("PATH")
	return v
}

// findConfigVal resolves Options.ConfigVal to a program path, or "" for the
// native backend.
func findConfigVal(opts Options) (string, error) {
	switch opts.ConfigVal {
	case "-":
		return "", nil
	case "":
		for _, dir := range filepath.SplitList(envPath(opts.Env)) {
			if dir == "" || !filepath.IsAbs(dir) {
				continue // never run a program found relative to the cwd
			}
			if p := filepath.Join(dir, "condor_config_val"); isExecutable(p) {
				return p, nil
			}
		}
		return "", nil
	}
	if !isExecutable(opts.ConfigVal) {
		return "", fmt.Errorf("condorcfg: ConfigVal %s is not an executable file", opts.ConfigVal)
	}
	return opts.ConfigVal, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

func newConfigVal(path string, opts Options) (*configVal, error) {
	c := &configVal{path: path, subsys: opts.Subsystem, env: opts.Env, timeout: opts.Timeout, cache: map[string]string{}}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	var names []string
	for _, n := range opts.Prefetch {
		if validName(n) {
			names = append(names, n)
		}
	}
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if err := c.fetch(names, true); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *configVal) cached(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.cache[strings.ToUpper(name)]
	return v, ok
}

func (c *configVal) lookup(name string) (string, bool, error) {
	if v, ok := c.cached(name); ok {
		return v, v != "", nil
	}
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if v, ok := c.cached(name); ok {
		return v, v != "", nil
	}
	if err := c.fetch([]string{name}, false); err != nil {
		return "", false, err
	}
	v, _ := c.cached(name)
	return v, v != "", nil
}

func (c *configVal) prefetch(names []string) error {
	var todo []string
	seen := map[string]bool{}
	for _, n := range names {
		up := strings.ToUpper(n)
		if _, ok := c.cached(up); !ok && !seen[up] {
			seen[up] = true
			todo = append(todo, up)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	c.runMu.Lock()
	defer c.runMu.Unlock()
	return c.fetch(todo, false)
}

var dollarRef = regexp.MustCompile(`(?i)\$\(DOLLAR\)`)

// fetch runs condor_config_val once for names (deduplicated, all valid).
func (c *configVal) fetch(names []string, withConfig bool) error {
	var uniq []string
	seen := map[string]bool{}
	for _, n := range names {
		if up := strings.ToUpper(n); !seen[up] {
			seen[up] = true
			uniq = append(uniq, up)
		}
	}
	sep := fmt.Sprintf("\x1f%016x\x1f", rand.Uint64())
	var arg strings.Builder
	arg.WriteString(sep)
	for _, n := range uniq {
		arg.WriteString("$(" + n + ")" + sep)
	}
	args := []string{}
	if c.subsys != "" {
		args = append(args, "-subsystem", c.subsys)
	}
	if withConfig {
		args = append(args, "-config")
	}
	args = append(args, "-macro", arg.String())

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Env = c.env
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %v", c.timeout)
		}
		return fmt.Errorf("running %s: %w: %s", c.path, err, strings.TrimSpace(stderr.String()))
	}
	out := stdout.String()
	i := strings.Index(out, sep)
	if i < 0 {
		return fmt.Errorf("reading %s output: no expansion result in %q", c.path, truncate(out, 200))
	}
	parts := strings.Split(strings.TrimSuffix(out[i+len(sep):], "\n"), sep)
	if len(parts) != len(uniq)+1 || parts[len(uniq)] != "" {
		return fmt.Errorf("reading %s output: expected %d values, got %q", c.path, len(uniq), truncate(out, 200))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range uniq {
		c.cache[n] = dollarRef.ReplaceAllLiteralString(parts[k], "$")
	}
	if withConfig {
		for _, line := range strings.Split(out[:i], "\n") {
			if f := strings.TrimSpace(line); f != "" {
				c.list = append(c.list, f)
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (c *configVal) files() []string { return c.list }

func (c *configVal) source() string { return "condor_config_val (" + c.path + ")" }

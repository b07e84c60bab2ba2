package condorcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// loader builds the macro table from configuration files the way
// real_config() in src/condor_utils/condor_config.cpp does.
type loader struct {
	subsys   string
	ver      condorVersion
	env      environ
	sys      *sysInfo
	t        *table
	r        *resolver
	x        *expander
	tilde    string
	fqdn     map[string]string // memoised DNS answers
	files    []string
	warnings []string
}

func newLoader(opts Options) (*loader, error) {
	ver := DefaultVersion
	if opts.Version != "" {
		ver = opts.Version
	}
	v, ok := parseVersion(ver)
	if !ok || v.sub < 0 {
		return nil, fmt.Errorf("condorcfg: Options.Version %q is not of the form X.Y.Z", ver)
	}
	sys := opts.sys
	if sys == nil {
		sys = defaultSysInfo()
	}
	l := &loader{subsys: opts.Subsystem, ver: v, env: newEnviron(opts.Env), sys: sys, t: newTable()}
	l.r = &resolver{t: l.t, defaults: builtinDefaults, subsys: l.subsys}
	l.x = &expander{r: l.r, env: l.env}
	return l, nil
}

func (l *loader) warn(src source, format string, args ...any) {
	l.warnings = append(l.warnings, errAt(src, nil, format, args...).Error())
}

// expandAll fully expands s as a value (condEnv).
func (l *loader) expandAll(s string) (string, error) {
	l.x.work = 0
	return l.x.expand(s, nil, 0)
}

func (l *loader) rawLookup(name string) (string, bool) {
	v, _, ok := l.r.raw(name)
	return v, ok
}

func (l *loader) hasMetaknob(category, item string) bool {
	if _, ok := metaknobs[strings.ToUpper(category)]; !ok {
		return false
	}
	if item == "" {
		return true
	}
	_, ok := lookupMetaknob(category, item)
	return ok
}

func (l *loader) version() condorVersion { return l.ver }

// param is param(): the expanded value, "" when undefined or empty.
func (l *loader) param(name string) (string, error) {
	raw, src, ok := l.r.raw(name)
	if !ok {
		return "", nil
	}
	l.x.work = 0
	v, err := l.x.expand(raw, []string{strings.ToUpper(name)}, 0)
	if err != nil {
		return "", errAt(src, err, "expanding %s: %v", name, err)
	}
	return v, nil
}

func (l *loader) detect(name, value string) {
	l.t.set(name, value, source{file: srcDetected})
}

// insertDetected sets what fill_attributes() sets before any file is read.
// Config files may override these (they are not re-inserted at the end).
func (l *loader) insertDetected() {
	if home, ok := l.sys.homeOf("condor"); ok {
		l.tilde = home
		l.detect("TILDE", home)
	}
	l.detect("ARCH", condorArch())
	l.detect("UNAME_ARCH", unameArch())
	l.detect("OPSYS", condorOpSys())
	if runtime.GOOS == "linux" {
		l.detect("UNAME_OPSYS", "Linux")
	}
	l.detect("CondorIsAdmin", strconv.FormatBool(l.sys.euid == 0))
	if l.subsys != "" {
		l.detect("SUBSYSTEM", l.subsys)
	}
}

// insertSpecials is reinsert_specials(): values config files cannot
// override, re-inserted after everything else was read.
func (l *loader) insertSpecials() error {
	if l.tilde != "" {
		l.detect("TILDE", l.tilde)
	}
	short, full, err := l.hostnames()
	if err != nil {
		return err
	}
	l.detect("HOSTNAME", short)
	l.detect("FULL_HOSTNAME", full)
	if l.subsys != "" {
		l.detect("SUBSYSTEM", l.subsys)
	}
	if name, ok := l.sys.username(); ok {
		l.detect("USERNAME", name)
	}
	l.detect("REAL_UID", strconv.Itoa(l.sys.uid))
	l.detect("REAL_GID", strconv.Itoa(l.sys.gid))
	l.detect("PID", strconv.Itoa(l.sys.pid))
	l.detect("PPID", strconv.Itoa(l.sys.ppid))
	return nil
}

// hostnames computes HOSTNAME and FULL_HOSTNAME: NETWORK_HOSTNAME if set,
// else the kernel host name; without a domain, DNS's canonical name or
// DEFAULT_DOMAIN_NAME supplies one (get_local_hostname/get_local_fqdn).
func (l *loader) hostnames() (string, string, error) {
	full, err := l.param("NETWORK_HOSTNAME")
	if err != nil {
		return "", "", err
	}
	if full == "" {
		if full, err = l.sys.hostname(); err != nil {
			return "", "", fmt.Errorf("reading host name: %w", err)
		}
	}
	if !strings.Contains(full, ".") {
		c, ok := l.fqdn[full]
		if !ok {
			c = l.sys.canonical(full)
			l.fqdn = map[string]string{full: c}
		}
		if strings.Contains(c, ".") {
			full = c
		} else if dom, err := l.param("DEFAULT_DOMAIN_NAME"); err != nil {
			return "", "", err
		} else if dom != "" {
			full += "." + strings.TrimPrefix(dom, ".")
		}
	}
	short, _, _ := strings.Cut(full, ".")
	return short, full, nil
}

// globalSource finds the global configuration file (find_global): the file
// named by CONDOR_CONFIG, else the first readable standard location. It
// returns "" for CONDOR_CONFIG=ONLY_ENV.
func (l *loader) globalSource() (string, error) {
	if cc, ok := l.env.get("CONDOR_CONFIG"); ok {
		if strings.EqualFold(cc, "ONLY_ENV") {
			return "", nil
		}
		st, err := os.Stat(cc)
		switch {
		case err == nil && st.IsDir():
			return "", fmt.Errorf("file specified in CONDOR_CONFIG environment variable %q is a directory; please specify a file", cc)
		case err == nil:
			return cc, nil
		case strings.HasSuffix(strings.TrimSpace(cc), "|"):
			return "", fmt.Errorf("CONDOR_CONFIG=%q: configuration from a command: %w", cc, ErrUnsupported)
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("file specified in CONDOR_CONFIG environment variable %q does not exist: %w", cc, err)
		}
		return "", fmt.Errorf("reading CONDOR_CONFIG file %s: %w", cc, err)
	}
	cands := append([]string(nil), l.sys.searchPath...)
	if l.tilde != "" {
		cands = append(cands, filepath.Join(l.tilde, "condor_config"))
	}
	for _, c := range cands {
		if f, err := os.Open(c); err == nil {
			f.Close()
			return c, nil
		}
	}
	return "", fmt.Errorf("tried CONDOR_CONFIG and %s: %w", strings.Join(cands, ", "), ErrNoConfig)
}

// load reads everything, in HTCondor's order: detected values, the global
// file, LOCAL_CONFIG_DIR, LOCAL_CONFIG_FILE, LOCAL_CONFIG_DIR again if it
// changed, the user config file (non-root only), _CONDOR_ environment
// overrides, then the special values nobody may override.
func (l *loader) load(globalName string, globalData []byte) error {
	l.insertDetected()
	if globalData == nil {
		g, err := l.globalSource()
		if err != nil {
			return err
		}
		if g != "" {
			data, err := l.readFile(g)
			if err != nil {
				return fmt.Errorf("reading %s: %w", g, err)
			}
			globalName, globalData = g, data
		}
	}
	if globalName != "" {
		l.files = append(l.files, globalName)
		if err := l.parseSource(globalName, globalData, 0); err != nil {
			return err
		}
	}
	if err := l.insertSpecials(); err != nil { // HOSTNAME etc. for LOCAL_CONFIG_FILE paths
		return err
	}
	dirs, err := l.param("LOCAL_CONFIG_DIR")
	if err != nil {
		return err
	}
	if dirs != "" {
		if err := l.processDirs(dirs); err != nil {
			return err
		}
	}
	if err := l.processLocals(); err != nil {
		return err
	}
	newDirs, err := l.param("LOCAL_CONFIG_DIR")
	if err != nil {
		return err
	}
	if newDirs != "" && newDirs != dirs {
		if err := l.processDirs(newDirs); err != nil {
			return err
		}
	}
	if err := l.processUserConfig(); err != nil {
		return err
	}
	for _, o := range l.env.overrides() {
		name, value := o.name, o.value
		if name == "START_owner" {
			name, value = "START", fmt.Sprintf("Owner == %q", value)
		}
		// Same definition-time self expansion as a file line, so that
		// _CONDOR_CREDMON_OAUTH.LOG=$(LOG)/x means what it would in a file.
		v, err := l.x.expandSelf(value, name, l.subsys)
		if err != nil {
			return errAt(source{file: srcEnvironment}, err, "_CONDOR_%s: %v", o.name, err)
		}
		l.t.set(name, v, source{file: srcEnvironment})
	}
	return l.insertSpecials()
}

// listItems splits a StringList value (white space and commas).
func listItems(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r < 128 && isCSpace(byte(r)) })
}

func (l *loader) localRequired() (bool, error) {
	v, err := l.param("REQUIRE_LOCAL_CONFIG_FILE")
	if err != nil || v == "" {
		return true, err
	}
	switch v[0] { // param_boolean_crufty
	case 't', 'T':
		return true, nil
	case 'f', 'F':
		return false, nil
	}
	b, err := parseBool(v)
	if err != nil {
		return false, fmt.Errorf("REQUIRE_LOCAL_CONFIG_FILE = %q is not a valid boolean", v)
	}
	return b, nil
}

// processSource reads one local configuration source (process_config_source).
func (l *loader) processSource(path string, required bool) error {
	data, err := l.readFile(path)
	if err != nil {
		if !required {
			return nil
		}
		return fmt.Errorf("reading config source %s: %w", path, err)
	}
	l.files = append(l.files, path)
	return l.parseSource(path, data, 1)
}

// processLocals reads LOCAL_CONFIG_FILE, re-reading the list after each file
// because a file may change it (process_locals).
func (l *loader) processLocals() error {
	value, err := l.param("LOCAL_CONFIG_FILE")
	if err != nil || value == "" {
		return err
	}
	required, err := l.localRequired()
	if err != nil {
		return err
	}
	done := map[string]bool{}
	todo := func(v string) ([]string, error) {
		if strings.Contains(v, "|") {
			return nil, fmt.Errorf("LOCAL_CONFIG_FILE = %q: configuration from a command: %w", v, ErrUnsupported)
		}
		var out []string
		for _, s := range listItems(v) {
			if !done[s] {
				out = append(out, s)
			}
		}
		return out, nil
	}
	list, err := todo(value)
	for err == nil && len(list) > 0 {
		src := list[0]
		list = list[1:]
		if err = l.processSource(src, required); err != nil {
			return err
		}
		done[src] = true
		var nv string
		if nv, err = l.param("LOCAL_CONFIG_FILE"); err == nil && nv != "" && nv != value {
			value = nv
			list, err = todo(nv)
		}
	}
	return err
}

// processDirs reads every file of each LOCAL_CONFIG_DIR directory, in byte
// order, skipping sub-directories and names matching
// LOCAL_CONFIG_DIR_EXCLUDE_REGEXP. A directory that cannot be read is
// skipped, as HTCondor does (it only logs it).
func (l *loader) processDirs(dirlist string) error {
	required, err := l.localRequired()
	if err != nil {
		return err
	}
	for _, dir := range listItems(dirlist) {
		pattern, err := l.param("LOCAL_CONFIG_DIR_EXCLUDE_REGEXP")
		if err != nil {
			return err
		}
		var exclude *regexp.Regexp
		if pattern != "" {
			if exclude, err = regexp.Compile(pattern); err != nil {
				return fmt.Errorf("LOCAL_CONFIG_DIR_EXCLUDE_REGEXP %q is not a valid regular expression: %w", pattern, err)
			}
		}
		list := l.sys.listDir
		if list == nil {
			list = listDir
		}
		names, err := list(dir)
		if err != nil {
			l.warn(source{file: dir}, "cannot read LOCAL_CONFIG_DIR: %v", err)
			continue
		}
		var files []string
		for _, name := range names {
			if exclude == nil || !exclude.MatchString(name) {
				files = append(files, filepath.Join(dir, name))
			}
		}
		sort.Strings(files)
		for _, f := range files {
			if err := l.processSource(f, required); err != nil {
				return err
			}
		}
	}
	return nil
}

// processUserConfig reads ~/.condor/<USER_CONFIG_FILE> for non-root
// processes (find_user_file: root daemons never read it).
func (l *loader) processUserConfig() error {
	if l.sys.euid == 0 {
		return nil
	}
	name, err := l.param("USER_CONFIG_FILE")
	if err != nil || name == "" {
		return err
	}
	if !filepath.IsAbs(name) {
		me, ok := l.sys.username()
		if !ok {
			return nil
		}
		home, ok := l.sys.homeOf(me)
		if !ok {
			return nil
		}
		name = filepath.Join(home, ".condor", name)
	}
	return l.processSource(name, false)
}

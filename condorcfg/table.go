package condorcfg

import "strings"

// Pseudo file names used as sources, matching the names HTCondor's
// condor_config_val -verbose prints for values that do not come from a file.
const (
	srcDetected    = "<Detected>"
	srcDefault     = "<Default>"
	srcEnvironment = "<Environment>"
)

// source is where a value was defined.
type source struct {
	file string
	line int
}

// entry is one knob: its name as first written and its raw value, in which
// only self-references have been expanded (HTCondor expands the rest at
// lookup time, so later definitions of referenced knobs win).
type entry struct {
	name  string
	value string
	src   source
}

// table is HTCondor's macro set: names are case-insensitive.
type table struct {
	m map[string]*entry
}

func newTable() *table { return &table{m: make(map[string]*entry)} }

func (t *table) get(name string) (*entry, bool) {
	e, ok := t.m[strings.ToUpper(name)]
	return e, ok
}

func (t *table) set(name, value string, src source) {
	key := strings.ToUpper(name)
	if e, ok := t.m[key]; ok {
		e.value, e.src = value, src
		return
	}
	t.m[key] = &entry{name: name, value: value, src: src}
}

// resolver looks names up the way HTCondor's lookup_macro does for a daemon:
// SUBSYS.NAME in the config, then NAME in the config, then NAME in the
// compiled-in defaults. A name present with an empty value stops the search
// (that is how a config file "undefines" a default).
type resolver struct {
	t        *table
	defaults map[string]string // upper-case name -> raw default
	subsys   string
}

func (r *resolver) raw(name string) (string, source, bool) {
	if r.subsys != "" {
		if e, ok := r.t.get(r.subsys + "." + name); ok {
			return e.value, e.src, true
		}
	}
	if e, ok := r.t.get(name); ok {
		return e.value, e.src, true
	}
	if d, ok := r.defaults[strings.ToUpper(name)]; ok {
		return d, source{file: srcDefault}, true
	}
	return "", source{}, false
}

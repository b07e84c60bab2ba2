package condorcfg

import (
	"os"
	"strings"
)

// environ is the process environment as Options.Env gives it. Lookups are
// case-sensitive like getenv(3); the first definition of a name wins, also
// like getenv.
type environ struct {
	list []string
	m    map[string]string
}

func newEnviron(list []string) environ {
	if list == nil {
		list = os.Environ()
	}
	e := environ{list: list, m: make(map[string]string, len(list))}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if _, dup := e.m[k]; !dup {
			e.m[k] = v
		}
	}
	return e
}

func (e environ) get(name string) (string, bool) {
	v, ok := e.m[name]
	return v, ok
}

// condorPrefix is HTCondor's "_<distro>_" environment prefix; HTCondor
// compares it case-insensitively (condor_config.cpp, real_config).
const condorPrefix = "_CONDOR_"

// override is one _CONDOR_<NAME>=<value> environment entry.
type override struct{ name, value string }

// overrides returns the _CONDOR_ entries in environment order, trimmed the way
// HTCondor trims them: whitespace after the name and before the value goes.
// _CONDOR_<SUBSYS>.<NAME> needs no special case: it simply defines the knob
// SUBSYS.NAME, which then takes precedence for that subsystem.
func (e environ) overrides() []override {
	var out []override
	for _, kv := range e.list {
		if len(kv) < len(condorPrefix) || !strings.EqualFold(kv[:len(condorPrefix)], condorPrefix) {
			continue
		}
		k, v, ok := strings.Cut(kv[len(condorPrefix):], "=")
		if !ok {
			continue
		}
		k = strings.TrimRight(k, " \t\r\n\v\f")
		if k == "" {
			continue // HTCondor ignores a bare "_CONDOR_"
		}
		out = append(out, override{name: k, value: strings.TrimLeft(v, " \t\r\n\v\f")})
	}
	return out
}

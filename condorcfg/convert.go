package condorcfg

import (
	"fmt"
	"math"
	"strings"
)

// Bool returns a knob as a boolean: true/false, yes/no, t/f and 1/0 in any
// case, or a constant expression (non-zero is true). Unset (undefined or
// empty) returns def. Anything else is an error naming the knob and value.
func (c *Config) Bool(name string, def bool) (bool, error) {
	v, ok, err := c.LookupErr(name)
	if err != nil || !ok {
		return def, err
	}
	b, err := parseBool(v)
	if err != nil {
		return def, fmt.Errorf("knob %s = %q is not a boolean (want true/false, yes/no or 1/0)", name, v)
	}
	return b, nil
}

// Int returns a knob as an integer the way param_integer reads it: a
// base-10 integer, or a constant expression such as 128*1024 (a real result
// is truncated, a boolean is 0/1). Unset returns def.
func (c *Config) Int(name string, def int64) (int64, error) {
	v, ok, err := c.LookupErr(name)
	if err != nil || !ok {
		return def, err
	}
	n, err := parseInteger(v)
	if err != nil {
		return def, fmt.Errorf("knob %s = %q is not an integer", name, v)
	}
	return n, nil
}

// Float returns a knob as a real number (param_double): a literal or a
// constant expression. Unset returns def.
func (c *Config) Float(name string, def float64) (float64, error) {
	v, ok, err := c.LookupErr(name)
	if err != nil || !ok {
		return def, err
	}
	f, err := parseReal(v)
	if err != nil {
		return def, fmt.Errorf("knob %s = %q is not a number", name, v)
	}
	return f, nil
}

// LogSize returns a log size knob such as MAX_DEFAULT_LOG ("10 Mb") in
// bytes, parsed like dprintf_parse_log_size in dprintf_config.cpp: an
// integer optionally followed by B, K[b], M[b], G[b] or T[b] (powers of
// 1024). Time units (s, m/min, h, d, w), which HTCondor accepts for
// rotation by time, are an error here. Unset returns def.
func (c *Config) LogSize(name string, def int64) (int64, error) {
	v, ok, err := c.LookupErr(name)
	if err != nil || !ok {
		return def, err
	}
	n, isTime, ok := parseLogSize(v)
	switch {
	case !ok || n < 0:
		return def, fmt.Errorf("knob %s = %q must be an integer >= 0, optionally followed by a unit (B, Kb, Mb, Gb, Tb)", name, v)
	case isTime:
		return def, fmt.Errorf("knob %s = %q is a time; only sizes are supported", name, v)
	}
	return n, nil
}

func parseLogSize(s string) (n int64, isTime, ok bool) {
	p := strings.TrimLeft(s, cSpaces)
	if p == "" {
		return 0, false, false
	}
	i := 0
	if p[i] == '+' || p[i] == '-' {
		i++
	}
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	n, ok = strtol(p[:i])
	if !ok {
		return 0, false, false
	}
	p = strings.TrimLeft(p[i:], cSpaces)
	if p == "" {
		return n, false, true
	}
	ch := p[0]
	var ch2, ch3 byte
	j := 1
	if j < len(p) {
		ch2 = p[j] &^ 0x20
		j++
	}
	if j < len(p) {
		ch3 = p[j] &^ 0x20
		j++
	}
	for j < len(p) && (p[j]|0x20 >= 'a' && p[j]|0x20 <= 'z') {
		j++
	}
	mult := int64(1)
	switch ch &^ 0x20 {
	case 'S':
		isTime = true
	case 'H':
		isTime, mult = true, 3600
	case 'D':
		isTime, mult = true, 86400
	case 'W':
		isTime, mult = true, 7*86400
	case 'B':
	case 'K':
		mult = 1 << 10
	case 'G':
		mult = 1 << 30
	case 'T':
		mult = 1 << 40
	case 'M':
		switch {
		case ch2 == 'B':
		case ch2 == 'I':
			isTime = ch3 != 'B'
		case ch2 != 0:
			return 0, false, false
		default:
			isTime = ch == 'm'
		}
		mult = 1 << 20
		if isTime {
			mult = 60
		}
	default:
		return 0, false, false
	}
	if strings.TrimLeft(p[j:], cSpaces) != "" {
		return 0, false, false
	}
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, false, false // "9999999999 Tb" would wrap around to a negative size
	}
	return n * mult, isTime, true
}

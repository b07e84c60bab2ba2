package condorcfg

import (
	"errors"
	"fmt"
	"strings"
)

// Limits that keep expansion of hostile or broken configuration bounded. Real
// HTCondor configs stay orders of magnitude below them; HTCondor itself has no
// such limits and simply loops (or runs out of memory) on A=$(B), B=$(A).
const (
	maxExpandDepth = 32       // nested expansions through macro functions
	maxValueLen    = 1 << 20  // longest intermediate or final value
	maxExpandWork  = 16 << 20 // total bytes rewritten while expanding one value
	maxExpandPass  = 8        // rescans for references assembled by expansion
)

var errTooBig = errors.New("macro expansion too large (runaway or recursive definition?)")

// loopError reports a macro that (indirectly) references itself.
type loopError struct{ chain []string }

func (e *loopError) Error() string {
	return "macro expansion loop: " + strings.Join(e.chain, " -> ")
}

// expander expands HTCondor macro references in values.
type expander struct {
	r    *resolver
	env  environ
	work int
}

func (x *expander) charge(n int) error {
	x.work += n
	if x.work > maxExpandWork || n > maxValueLen {
		return errTooBig
	}
	return nil
}

// frame is an active expansion: the text of knob name occupies s[..end).
type frame struct {
	name string // upper-case knob name; "" for function results
	end  int
}

// expand fully expands s. chain holds the names whose values s came from, so
// that a reference back to one of them is reported as a loop instead of
// expanding forever.
//
// HTCondor replaces a reference by the referenced raw value and rescans from
// the start until nothing changes; $(DOLLAR) is turned into "$" at the very
// end. Rescanning from the replaced position finds the same references (it
// cannot have created one earlier in the string except through a reference
// whose name was itself built by expansion, e.g. $($(X))), so each pass
// resumes where it replaced and further passes catch those late arrivals.
func (x *expander) expand(s string, chain []string, depth int) (string, error) {
	if depth > maxExpandDepth {
		return "", fmt.Errorf("macro expansion nested deeper than %d (recursive definition via a macro function?)", maxExpandDepth)
	}
	for pass := 0; pass < maxExpandPass; pass++ {
		changed := false
		var stack []frame
		pos := 0
		for {
			m, ok := findMacro(s, pos, configPrefix, isDollarBody)
			if !ok {
				break
			}
			for len(stack) > 0 && stack[len(stack)-1].end <= m.dollar {
				stack = stack[:len(stack)-1]
			}
			repl, name, err := x.eval(s, m, chain, stack, depth)
			if err != nil {
				return "", err
			}
			if err := x.charge(len(s) + len(repl)); err != nil {
				return "", err
			}
			delta := len(repl) - (m.right - m.dollar)
			for i := range stack {
				if stack[i].end >= m.right {
					stack[i].end += delta
				} else {
					stack[i].end = m.dollar + len(repl)
				}
			}
			s = s[:m.dollar] + repl + s[m.right:]
			if name != "-" {
				stack = append(stack, frame{name: name, end: m.dollar + len(repl)})
			}
			pos = m.dollar
			changed = true
		}
		if !changed {
			break
		}
	}
	return replaceDollar(s), nil
}

// replaceDollar turns each $(DOLLAR) into "$", re-examining the same spot
// afterwards as HTCondor does.
func replaceDollar(s string) string {
	only := func(k macroKind, body string) bool { return !isDollarBody(k, body) }
	pos := 0
	for {
		m, ok := findMacro(s, pos, configPrefix, only)
		if !ok {
			return s
		}
		s = s[:m.dollar] + "$" + s[m.right:]
		pos = m.dollar
	}
}

// eval computes the replacement for reference m in s. name is the knob whose
// raw value the replacement is ("" when the replacement is a function result
// that still needs rescanning, "-" when nothing new was introduced).
func (x *expander) eval(s string, m macroRef, chain []string, stack []frame, depth int) (repl, name string, err error) {
	if m.kind != kindNormal {
		v, err := x.function(s, m, chain, depth)
		return v, "", err
	}
	n := m.name(s)
	up := strings.ToUpper(n)
	for _, c := range chain {
		if c == up {
			return "", "", &loopError{chain: append(ancestors(chain, stack), up)}
		}
	}
	for _, f := range stack {
		if f.name == up {
			return "", "", &loopError{chain: append(ancestors(chain, stack), up)}
		}
	}
	v, _, _ := x.r.raw(n)
	if v == "" {
		if d, ok := m.def(s); ok {
			// The default is text of the referencing value, not of n.
			return d, "-", nil
		}
	}
	return v, up, nil
}

func ancestors(chain []string, stack []frame) []string {
	out := append([]string(nil), chain...)
	for _, f := range stack {
		if f.name != "" {
			out = append(out, f.name)
		}
	}
	return out
}

// lookupExpand returns the fully expanded value of knob name, or ok=false
// when it is not defined anywhere.
func (x *expander) lookupExpand(name string, chain []string, depth int) (string, bool, error) {
	raw, _, ok := x.r.raw(name)
	if !ok {
		return "", false, nil
	}
	up := strings.ToUpper(name)
	for _, c := range chain {
		if c == up {
			return "", false, &loopError{chain: append(append([]string(nil), chain...), up)}
		}
	}
	v, err := x.expand(raw, append(append([]string(nil), chain...), up), depth+1)
	return v, true, err
}

// expandSelf expands only references to self (and, for SUBSYS.NAME, to NAME),
// which is what HTCondor does when a knob is defined: "X = $(X) more" appends
// to the value X had at that point, while other references stay unexpanded
// until lookup. Only plain $(X) and $F..(X) references count as self
// references (SelfOnlyBody in config.cpp).
func (x *expander) expandSelf(value, self string, selfSubsys string) (string, error) {
	x.work = 0 // a new top-level operation
	self2 := ""
	if selfSubsys != "" && len(self) > len(selfSubsys)+1 &&
		strings.EqualFold(self[:len(selfSubsys)], selfSubsys) && self[len(selfSubsys)] == '.' {
		self2 = self[len(selfSubsys)+1:]
	}
	match := func(body, want string) bool {
		if want == "" || len(body) < len(want) || !strings.EqualFold(body[:len(want)], want) {
			return false
		}
		return len(body) == len(want) || body[len(want)] == ':'
	}
	skip := func(k macroKind, body string) bool {
		if k != kindNormal && k != kindFilename {
			return true
		}
		return !match(body, self) && !match(body, self2)
	}
	for {
		m, ok := findMacro(value, 0, configPrefix, skip)
		if !ok {
			return value, nil
		}
		var repl string
		if m.kind == kindNormal {
			v, _, _ := x.r.raw(m.name(value))
			repl = v
			if d, ok := m.def(value); ok && v == "" {
				repl = d
			}
		} else {
			v, err := x.function(value, m, nil, 0)
			if err != nil {
				return "", err
			}
			repl = v
		}
		if err := x.charge(len(value) + len(repl)); err != nil {
			return "", err
		}
		value = value[:m.dollar] + repl + value[m.right:]
	}
}

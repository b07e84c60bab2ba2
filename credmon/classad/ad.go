package classad

import (
	"strings"
)

// Ad is a ClassAd: a set of named expressions. Names are case-insensitive
// (ASCII) and keep the spelling they were first set with. An Ad may be
// evaluated from several goroutines at once but must not be modified
// meanwhile. The zero Ad is not usable; use NewAd or ParseAd.
type Ad struct {
	attrs map[string]*adEntry // key: lower-cased name
	order []*adEntry          // insertion order, for String and Names
}

type adEntry struct {
	name string
	expr Expr
}

// NewAd returns an empty ad.
func NewAd() *Ad { return &Ad{attrs: make(map[string]*adEntry)} }

// Set binds name to e, replacing any expression bound to the same name in
// any letter case.
func (a *Ad) Set(name string, e Expr) { a.set(name, e, nil) }

// set is Set, storing a new binding in fresh when not nil (a parser's
// slab of entries) rather than in an allocation of its own.
func (a *Ad) set(name string, e Expr, fresh *adEntry) {
	key := foldName(name)
	if ent, ok := a.attrs[key]; ok {
		ent.expr = e
		return
	}
	if fresh == nil {
		fresh = new(adEntry)
	}
	*fresh = adEntry{name: name, expr: e}
	a.attrs[key] = fresh
	a.order = append(a.order, fresh)
}

// SetValue binds name to a literal holding v.
func (a *Ad) SetValue(name string, v Value) { a.Set(name, &literal{v: v}) }

// SetString binds name to a string literal.
func (a *Ad) SetString(name, s string) { a.SetValue(name, NewString(s)) }

// SetInt binds name to an integer literal.
func (a *Ad) SetInt(name string, i int64) { a.SetValue(name, NewInt(i)) }

// SetBool binds name to a boolean literal.
func (a *Ad) SetBool(name string, b bool) { a.SetValue(name, NewBool(b)) }

// SetReal binds name to a real literal.
func (a *Ad) SetReal(name string, r float64) { a.SetValue(name, NewReal(r)) }

// Lookup returns the expression bound to name, ignoring letter case.
func (a *Ad) Lookup(name string) (Expr, bool) {
	ent, ok := a.entry(name)
	if !ok {
		return nil, false
	}
	return ent.expr, true
}

// lookupKey is Lookup with the name already folded.
func (a *Ad) lookupKey(key string) (Expr, bool) {
	if a == nil {
		return nil, false
	}
	ent, ok := a.attrs[key]
	if !ok {
		return nil, false
	}
	return ent.expr, true
}

// Names returns the attribute names in the order they were first set.
func (a *Ad) Names() []string {
	names := make([]string, len(a.order))
	for i, ent := range a.order {
		names[i] = ent.name
	}
	return names
}

// Eval evaluates the attribute name in the ad; a missing attribute is
// Undefined.
func (a *Ad) Eval(name string) Value {
	// A literal, the common case of reading back what an ad was given (a
	// key file's strings), needs no evaluator: the reference's evaluation
	// would return its value as is.
	if ent, ok := a.entry(name); ok {
		if l, ok := ent.expr.(*literal); ok {
			return l.v
		}
	}
	return Eval(newAttrRef(scopeLocal, "", name), a)
}

// entry finds name's binding, ignoring letter case, without allocating a
// folded copy of a short name.
func (a *Ad) entry(name string) (*adEntry, bool) {
	if a == nil {
		return nil, false
	}
	if len(name) > 64 {
		ent, ok := a.attrs[foldName(name)]
		return ent, ok
	}
	var buf [64]byte
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	ent, ok := a.attrs[string(b)] // the compiler does not copy b for a map index
	return ent, ok
}

// String unparses the ad in new-ClassAd syntax, "[ a = 1; b = "x" ]",
// which ParseAd reads back.
func (a *Ad) String() string {
	var b strings.Builder
	b.WriteString("[ ")
	for i, ent := range a.order {
		if i > 0 {
			b.WriteString("; ")
		}
		writeName(&b, ent.name)
		b.WriteString(" = ")
		ent.expr.unparse(&b, formatRealShortest)
	}
	b.WriteString(" ]")
	return b.String()
}

// foldName lower-cases ASCII letters only, like strcasecmp in HTCondor's
// attribute maps.
func foldName(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return asciiLower(s)
		}
	}
	return s
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

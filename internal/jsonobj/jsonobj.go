package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Object is a JSON object that keeps its keys in their original order and
// its values as the exact bytes it was given, so a file we rewrite keeps
// every key we do not own unchanged in meaning (HTCONDOR-1270: credd compares
// "scopes"/"audience" in .top string-equal, so losing or reformatting them
// breaks later submits).
type Object struct {
	keys []string
	vals map[string]json.RawMessage
}

// ErrNotObject is returned when JSON input is valid but is not an object.
var ErrNotObject = errors.New("jsonobj: JSON value is not an object")

// ErrDuplicateKey is returned (wrapped, with the key) for an object whose
// top level repeats a key, where keeping one value would lose the other when
// the file is rewritten (see ParseTop).
var ErrDuplicateKey = errors.New("credfile: duplicate key")

// Parse parses b as exactly one JSON object (surrounding white space
// allowed). A repeated key keeps its first position and its last value, as
// Python's json.loads does: right for what is only read (.meta, .use, a
// token response), not for a file that is rewritten from the result.
func Parse(b []byte) (*Object, error) { return parse(b, false) }

// ParseUnique is Parse, except that a repeated top-level key is an
// ErrDuplicateKey error: for a file that is rewritten from the result.
// Nested values are kept as bytes, so their repeated keys survive a rewrite
// and are not looked at.
func ParseUnique(b []byte) (*Object, error) { return parse(b, true) }

func parse(b []byte, unique bool) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("parsing JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, ErrNotObject
	}
	o := &Object{vals: make(map[string]json.RawMessage)}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("parsing JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("parsing JSON: object key is %T", tok)
		}
		if unique && o.Has(key) {
			return nil, fmt.Errorf("%w %q", ErrDuplicateKey, key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("parsing JSON value of %q: %w", key, err)
		}
		o.Set(key, raw)
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, fmt.Errorf("parsing JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("parsing JSON: trailing data after object")
	}
	return o, nil
}

// New returns an empty object.
func New() *Object { return &Object{vals: make(map[string]json.RawMessage)} }

// Clone returns a copy that can be changed without changing o (values are
// shared: they are never modified in place).
func (o *Object) Clone() *Object {
	c := &Object{keys: o.Keys(), vals: make(map[string]json.RawMessage, len(o.vals)+1)}
	for k, v := range o.vals {
		c.vals[k] = v
	}
	return c
}

// Keys returns the keys in order.
func (o *Object) Keys() []string { return append([]string(nil), o.keys...) }

// Has reports whether key is present.
func (o *Object) Has(key string) bool { _, ok := o.vals[key]; return ok }

// Raw returns the raw JSON of key.
func (o *Object) Raw(key string) (json.RawMessage, bool) { v, ok := o.vals[key]; return v, ok }

// Set sets key to raw JSON, keeping the key's position if it exists. raw
// must be valid JSON; it is compacted so the object encodes on one line.
func (o *Object) Set(key string, raw json.RawMessage) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err == nil {
		raw = buf.Bytes()
	}
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = raw
}

// SetValue sets key to the JSON encoding of v.
func (o *Object) SetValue(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o.Set(key, raw)
	return nil
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// String returns key's value when it is a JSON string.
func (o *Object) String(key string) (string, bool) {
	raw, ok := o.vals[key]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// Number returns key's value when it is a JSON number, or a string holding
// one (some token endpoints send "expires_in": "3600").
func (o *Object) Number(key string) (float64, bool) {
	raw, ok := o.vals[key]
	if !ok {
		return 0, false
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		n = json.Number(s)
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return f, true
}

// Bool returns key's value when it is a JSON boolean.
func (o *Object) Bool(key string) (value, ok bool) {
	raw, found := o.vals[key]
	if !found {
		return false, false
	}
	if json.Unmarshal(raw, &value) != nil {
		return false, false
	}
	return value, true
}

// Strings returns key's value as a list: a JSON array of strings, or a
// string split on commas and white space.
func (o *Object) Strings(key string) []string {
	raw, ok := o.vals[key]
	if !ok {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, s := range list {
			out = append(out, SplitList(s)...)
		}
		return out
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return SplitList(s)
	}
	return nil
}

// MarshalCompact encodes the object as one line of compact JSON with keys in
// order and no trailing newline.
func (o *Object) MarshalCompact() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// SplitList splits an HTCondor list value on commas and white space,
// dropping empty items: how "scopes" and "audience" strings are read.
func SplitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n'
	})
}

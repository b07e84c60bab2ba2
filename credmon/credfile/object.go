package credfile

import "github.com/credmon/credmon/internal/jsonobj"

// Object is the order- and byte-preserving JSON object every credential
// file is read into (see package jsonobj): rewriting a .top keeps every key
// we do not own unchanged in meaning (HTCONDOR-1270: credd compares
// "scopes"/"audience" in .top string-equal).
type Object = jsonobj.Object

// ErrNotObject is returned when JSON input is valid but is not an object.
var ErrNotObject = jsonobj.ErrNotObject

// ErrDuplicateKey is returned (wrapped, with the key) for a .top whose top
// level repeats a key, where keeping one value would lose the other when
// the file is rewritten (see ParseTop).
var ErrDuplicateKey = jsonobj.ErrDuplicateKey

// ParseObject parses b as exactly one JSON object; a repeated key keeps its
// first position and its last value, as Python's json.loads does.
func ParseObject(b []byte) (*Object, error) { return jsonobj.Parse(b) }

// NewObject returns an empty object.
func NewObject() *Object { return jsonobj.New() }

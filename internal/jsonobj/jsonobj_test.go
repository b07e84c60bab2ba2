package jsonobj

import (
	"errors"
	"testing"
)

// TestCloneLeavesTheOriginal: a rewrite built on a clone (a .top with a
// rotated refresh token, a .use from a token response) never changes the
// object it came from, and keeps every other value byte for byte.
func TestCloneLeavesTheOriginal(t *testing.T) {
	o, err := Parse([]byte(`{"refresh_token":"a","scopes":"x, y","n":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	c := o.Clone()
	if err := c.SetValue("refresh_token", "b"); err != nil {
		t.Fatal(err)
	}
	c.Delete("n")
	if got := string(o.MarshalCompact()); got != `{"refresh_token":"a","scopes":"x, y","n":1.50}` {
		t.Errorf("original changed: %s", got)
	}
	if got := string(c.MarshalCompact()); got != `{"refresh_token":"b","scopes":"x, y"}` {
		t.Errorf("clone = %s", got)
	}
}

func TestParseUniqueRefusesRepeatedKeys(t *testing.T) {
	b := []byte(`{"refresh_token":"a","refresh_token":"b"}`)
	if _, err := ParseUnique(b); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("ParseUnique = %v; want ErrDuplicateKey", err)
	}
	o, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := o.String("refresh_token"); v != "b" {
		t.Errorf("Parse kept %q; want the last value, as Python's json.loads", v)
	}
}

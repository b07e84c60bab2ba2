package main

import (
	"testing"
	"time"

	"github.com/credmon/credmon/producer/bearer"
)

// A config.ini audience may list several: the file must carry each.
func TestSatisfiesAll(t *testing.T) {
	now := time.Now()
	info := &bearer.Info{Audience: []string{"a", "b"}, Expiry: now.Add(2 * time.Hour), HasExpiry: true}
	for _, tc := range []struct {
		auds []string
		want bool
	}{{nil, true}, {[]string{"a"}, true}, {[]string{"a", "b"}, true}, {[]string{"a", "c"}, false}} {
		if ok, why := satisfiesAll(info, now, time.Hour, tc.auds, nil); ok != tc.want {
			t.Errorf("audiences %v: %v (%s); want %v", tc.auds, ok, why, tc.want)
		}
	}
	if ok, _ := satisfiesAll(info, now, 3*time.Hour, nil, nil); ok {
		t.Error("a token with 2 h left satisfied --minsecs 3 h")
	}
}

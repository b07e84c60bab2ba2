package tokenchars_test

import (
	"testing"

	"github.com/credmon/credmon/internal/tokenchars"
)

func TestTokenCharacters(t *testing.T) {
	for _, tt := range []struct {
		s              string
		access, refres bool
	}{
		{"eyJhbGciOi.eyJzdWIi.c2ln", true, true},
		{"!~", true, true},
		{"", false, false},
		{"two words", false, true},
		{"tok\n", false, false},
		{"tok\r\nX-Injected: 1", false, false},
		{"tok\x00", false, false},
		{"tok\x7f", false, false},
		{"tok\u00e9", false, false},
		{"\ttok", false, false},
	} {
		if got := tokenchars.AccessToken(tt.s); got != tt.access {
			t.Errorf("AccessToken(%q) = %v; want %v", tt.s, got, tt.access)
		}
		if got := tokenchars.RefreshToken(tt.s); got != tt.refres {
			t.Errorf("RefreshToken(%q) = %v; want %v", tt.s, got, tt.refres)
		}
	}
}

package credfile

import "testing"

func TestSplitName(t *testing.T) {
	tests := []struct {
		name             string
		in               string
		special          bool
		provider, handle string
		ok               bool
	}{
		{"plain", "scitokens", false, "scitokens", "", true},
		{"handle", "box_readonly", false, "box", "readonly", true},
		{"handle with underscore", "box_read_only", false, "box", "read_only", true},
		{"trailing underscore skipped", "box_", false, "", "", false},
		{"dash ok", "my-idp", false, "my-idp", "", true},
		{"dot provider invalid", "my.idp", false, "", "", false},
		{"dot provider with special", "my.idp", true, "my.idp", "", true},
		{"special keeps whole name", "box_readonly", true, "box_readonly", "", true},
		{"leading underscore", "_x", false, "", "", false},
		{"slash", "a/b", false, "", "", false},
		{"dotdot", "..", true, "", "", false},
		{"empty", "", false, "", "", false},
		{"hidden", ".box", true, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, h, ok := SplitName(tt.in, tt.special)
			if p != tt.provider || h != tt.handle || ok != tt.ok {
				t.Errorf("SplitName(%q, %v) = %q, %q, %v; want %q, %q, %v", tt.in, tt.special, p, h, ok, tt.provider, tt.handle, tt.ok)
			}
		})
	}
}

func TestValidProviderName(t *testing.T) {
	for _, tt := range []struct {
		in      string
		special bool
		want    bool
	}{
		{"*", false, true}, {"scitokens", false, true}, {"Box-2", false, true},
		{"box_ro", false, false}, {"a.b", false, false}, {"a.b", true, true}, {"a b", true, false},
		{"", false, false}, {"", true, false},
	} {
		if got := ValidProviderName(tt.in, tt.special); got != tt.want {
			t.Errorf("ValidProviderName(%q, %v) = %v; want %v", tt.in, tt.special, got, tt.want)
		}
	}
}

func TestTokenFile(t *testing.T) {
	for _, tt := range []struct {
		in, name, suffix string
		ok               bool
	}{
		{"scitokens.top", "scitokens", ".top", true},
		{"box_ro.use", "box_ro", ".use", true},
		{"x.meta", "x", ".meta", true},
		{"x.mark", "", "", false},
		{"x.top.tmp", "", "", false},
		{".top", "", "", false},
		{".credmon-00.tmp", "", "", false},
		{".hidden.use", "", "", false},
		{"README", "", "", false},
	} {
		n, s, ok := TokenFile(tt.in)
		if n != tt.name || s != tt.suffix || ok != tt.ok {
			t.Errorf("TokenFile(%q) = %q, %q, %v; want %q, %q, %v", tt.in, n, s, ok, tt.name, tt.suffix, tt.ok)
		}
	}
}

func TestIsKeyFile(t *testing.T) {
	hex64 := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{hex64, true},
		{hex64[:63], false},
		{hex64 + "0", false},
		{"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false},
		{"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false},
	} {
		if got := IsKeyFile(tt.in); got != tt.want {
			t.Errorf("IsKeyFile(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// TestSorter encodes credd's CredSorter::Sort (store_cred.cpp) case by case.
func TestSorter(t *testing.T) {
	ids := map[string]bool{"box": true, "scitokens": true, "myvault": false, "gdrive": true}
	hasID := func(n string) bool { return ids[n] }
	tests := []struct {
		name string
		s    Sorter
		in   string
		want Kind
	}{
		{"default local name", Sorter{Local: []string{"scitokens"}, OAuth2All: true, VaultAll: true}, "scitokens", KindLocal},
		{"local beats client id", Sorter{Local: []string{"scitokens"}, OAuth2All: true, VaultAll: true}, "scitokens", KindLocal},
		{"client list", Sorter{Local: []string{"scitokens"}, Client: []string{"cc"}, OAuth2All: true, VaultAll: true}, "cc", KindClient},
		{"client id with oauth2 *", Sorter{Local: []string{"scitokens"}, OAuth2All: true, VaultAll: true}, "box", KindOAuth2},
		{"no client id, vault disabled", Sorter{Local: []string{"scitokens"}, OAuth2All: true, VaultAll: true}, "plain", KindUnknown},
		{"no client id, vault enabled *", Sorter{OAuth2All: true, VaultAll: true, VaultEnabled: true}, "plain", KindVault},
		{"client id, vault enabled *", Sorter{OAuth2All: true, VaultAll: true, VaultEnabled: true}, "box", KindOAuth2},
		{"oauth2 list excludes unlisted client id", Sorter{OAuth2: []string{"gdrive"}, VaultAll: true}, "box", KindUnknown},
		{"oauth2 list includes", Sorter{OAuth2: []string{"gdrive"}, VaultAll: true}, "gdrive", KindOAuth2},
		{"oauth2 list, listed without client id", Sorter{OAuth2: []string{"nocid"}, VaultAll: true}, "nocid", KindOAuth2},
		{"oauth2 list, vault enabled catches rest", Sorter{OAuth2: []string{"gdrive"}, VaultAll: true, VaultEnabled: true}, "myvault", KindVault},
		{"oauth2 list, vault * but client id set", Sorter{OAuth2: []string{"gdrive"}, VaultAll: true, VaultEnabled: true}, "box", KindUnknown},
		{"vault list", Sorter{OAuth2All: true, Vault: []string{"myvault"}, VaultEnabled: true}, "myvault", KindVault},
		{"vault list excludes others", Sorter{OAuth2All: true, Vault: []string{"myvault"}, VaultEnabled: true}, "other", KindUnknown},
		{"oauth2 list beats vault list", Sorter{OAuth2: []string{"x"}, Vault: []string{"x"}, VaultEnabled: true}, "x", KindOAuth2},
		{"pelican list", Sorter{OAuth2All: true, VaultAll: true, Pelican: []string{"pel"}}, "pel", KindPelican},
		{"case sensitive", Sorter{Local: []string{"scitokens"}, OAuth2All: true, VaultAll: true}, "SciTokens", KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.HasClientID = hasID
			if got := s.Sort(tt.in); got != tt.want {
				t.Errorf("Sort(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	got := SplitList(" a, b\tc,,d\n")
	want := []string{"a", "b", "c", "d"}
	if len(got) != len(want) {
		t.Fatalf("SplitList = %q; want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("SplitList = %q; want %q", got, want)
		}
	}
}

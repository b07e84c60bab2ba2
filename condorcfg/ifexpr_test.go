package condorcfg

import (
	"fmt"
	"testing"
)

func TestIfConditions(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{"true", true}, {"TRUE", true}, {"false", false}, {" False ", false},
		{"yes", true}, {"no", false}, {"t", true}, {"F", false},
		{"1", true}, {"0", false}, {"0.0", false}, {"2.5", true}, {"-1", true}, {"1e3", true},
		{"! true", false}, {"!false", true},
		{"defined SET", true}, {"defined UNSET", false}, {"defined EMPTY", false},
		{"defined LOG", true},             // built-in default
		{"defined CREDMON_OAUTH.X", true}, // dotted names
		{"defined yes", true},             // a literal is "defined"
		{"defined 42", true},
		{"defined", false},
		{"! defined UNSET", true},
		{"defined use feature:oauth", true}, {"defined use FEATURE", true},
		{"defined use feature:nope", false}, {"defined use nope", false},
		{"$(SET)", true}, {"$(UNSET)", false}, {"!$(UNSET)", true}, {"$(ZERO)", false},
		{"$(UNSET:true)", true},
		{"version >= 8.1.2", true}, {"version > 25.0.0", false}, {"version >= 25.0", true},
		{"version == 25.0.0", true}, {"version = 25.0.0", true}, {"version != 25.0.0", false},
		{"version < 26.0", true}, {"version <= 24.99.99", false}, {"version >= v9.0.0", true},
		{"! version >= 30.0.0", true},
	}
	conf := "SET = yes\nEMPTY =\nZERO = 0\nCREDMON_OAUTH.X = 1\n"
	for i, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			text := fmt.Sprintf("%sif %s\nR%d = yes\nelse\nR%d = no\nendif\n", conf, tt.cond, i, i)
			cfg := mustLoad(t, text, testOpts(""))
			want := map[bool]string{true: "yes", false: "no"}[tt.want]
			if got := lookup(t, cfg, fmt.Sprintf("R%d", i)); got != want {
				t.Errorf("if %s: took %q branch; want %q", tt.cond, got, want)
			}
		})
	}
}

func TestIfBlocks(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want string
	}{
		{"elif chain picks first true", "if false\nR = 1\nelif true\nR = 2\nelif true\nR = 3\nelse\nR = 4\nendif\n", "2"},
		{"else after all false", "if false\nR = 1\nelif 0\nR = 2\nelse\nR = 3\nendif\n", "3"},
		{"nested inside false is skipped", "R = 0\nif false\nif true\nR = 1\nendif\nelse\nR = 2\nendif\n", "2"},
		{"nested both true", "if true\n  if yes\n    R = 1\n  endif\nendif\n", "1"},
		{"conditions in skipped branches are not evaluated", "R = ok\nif false\nif $(X) > 3\nR = bad\nendif\nelse\nR = ok\nendif\nif true\nelif a b c\nendif\n", "ok"},
		{"keywords are case-insensitive", "IF TRUE\nR = 1\nELSE\nR = 2\nENDIF\n", "1"},
		{"if takes effect for later lines only", "R = before\nif defined R\nR = $(R) after\nendif\n", "before after"},
		{"version with default version", "if version >= 25.0.0\nR = 25\nendif\n", "25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.conf, testOpts(""))
			if got := lookup(t, cfg, "R"); got != tt.want {
				t.Errorf("R = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestIfVersionOption(t *testing.T) {
	opts := testOpts("")
	opts.Version = "23.0.4"
	cfg := mustLoad(t, "if version >= 24.0\nR = new\nelse\nR = old\nendif\n", opts)
	if got := lookup(t, cfg, "R"); got != "old" {
		t.Errorf("with Version 23.0.4, R = %q; want %q", got, "old")
	}
	opts.Version = "banana"
	if _, err := LoadString("x", "", opts); err == nil {
		t.Errorf("LoadString with Version %q: got nil error; want one", opts.Version)
	}
}

func TestClassifyCond(t *testing.T) {
	tests := []struct {
		in   string
		want condClass
	}{
		{"", condEmpty}, {"12", condNumber}, {"-1.5", condNumber}, {"1e5", condNumber},
		{"true", condBool}, {"foo", condIdentifier}, {"a.b_c", condIdentifier},
		{"version >= 8.1", condVersion}, {"version>=8.1", condComplex},
		{"defined X", condDefined}, {"defined use a:b", condDefined},
		{"$(X)", condComplex}, {"a && b", condComplex}, {"1 + 1", condComplex},
	}
	for _, tt := range tests {
		if got := classifyCond(tt.in, true); got != tt.want {
			t.Errorf("classifyCond(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

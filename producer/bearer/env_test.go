package bearer_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/producer/bearer"
)

func TestWritePath(t *testing.T) {
	const uid = 1221
	tests := []struct {
		name string
		env  env
		want bearer.Location
	}{
		{"nothing set", env{}, bearer.Location{Path: "/faketmp/bt_u1221", Source: "/tmp"}},
		{"BEARER_TOKEN_FILE wins", env{"BEARER_TOKEN_FILE": "/x/tok", "XDG_RUNTIME_DIR": "/run/user/1221"},
			bearer.Location{Path: "/x/tok", Source: "BEARER_TOKEN_FILE"}},
		{"BEARER_TOKEN is not a place to write", env{"BEARER_TOKEN": "abc"}, bearer.Location{Path: "/faketmp/bt_u1221", Source: "/tmp"}},
		{"relative BEARER_TOKEN_FILE kept as given", env{"BEARER_TOKEN_FILE": "tok"}, bearer.Location{Path: "tok", Source: "BEARER_TOKEN_FILE"}},
		{"XDG_RUNTIME_DIR", env{"XDG_RUNTIME_DIR": "/run/user/1221"}, bearer.Location{Path: "/run/user/1221/bt_u1221", Source: "XDG_RUNTIME_DIR"}},
		{"empty BEARER_TOKEN_FILE is unset", env{"BEARER_TOKEN_FILE": "", "XDG_RUNTIME_DIR": "/run/user/1221"},
			bearer.Location{Path: "/run/user/1221/bt_u1221", Source: "XDG_RUNTIME_DIR"}},
		{"empty XDG_RUNTIME_DIR is unset", env{"XDG_RUNTIME_DIR": ""}, bearer.Location{Path: "/faketmp/bt_u1221", Source: "/tmp"}},
		{"relative XDG_RUNTIME_DIR is ignored", env{"XDG_RUNTIME_DIR": "run"}, bearer.Location{Path: "/faketmp/bt_u1221", Source: "/tmp"}},
		{"all empty", env{"BEARER_TOKEN_FILE": "", "XDG_RUNTIME_DIR": "", "BEARER_TOKEN": ""}, bearer.Location{Path: "/faketmp/bt_u1221", Source: "/tmp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bearer.WritePathIn(tt.env.lookup, uid, "/faketmp")
			if got != tt.want {
				t.Errorf("WritePath(%v) = %+v; want %+v", tt.env, got, tt.want)
			}
		})
	}
	t.Run("real /tmp", func(t *testing.T) {
		got := bearer.WritePath(env{}.lookup, 7)
		if want := (bearer.Location{Path: "/tmp/bt_u7", Source: "/tmp"}); got != want {
			t.Errorf("WritePath() = %+v; want %+v", got, want)
		}
	})
}

func TestFind(t *testing.T) {
	const uid = 1221
	tokA, tokB, tokC, tokD := "aaa.bbb.ccc", "bbb.ccc.ddd", "ccc.ddd.eee", "ddd.eee.fff"
	// Each case gets fresh dirs: tmp plays /tmp, xdg plays XDG_RUNTIME_DIR.
	type files struct{ btf, xdg, tmp *string }
	s := func(v string) *string { return &v }
	tests := []struct {
		name       string
		env        func(btf, xdg string) env
		files      files
		want       string
		wantSource string
		wantErr    error  // errors.Is target
		errText    string // substring
	}{
		{
			name: "BEARER_TOKEN first, whitespace stripped",
			env: func(btf, xdg string) env {
				return env{"BEARER_TOKEN": " \t" + tokA + "\n\v\f\r", "BEARER_TOKEN_FILE": btf}
			},
			files:      files{btf: s(tokB)},
			want:       tokA,
			wantSource: "BEARER_TOKEN",
		},
		{
			name:       "empty BEARER_TOKEN is unset",
			env:        func(btf, xdg string) env { return env{"BEARER_TOKEN": "", "BEARER_TOKEN_FILE": btf} },
			files:      files{btf: s(tokB + "\n")},
			want:       tokB,
			wantSource: "BEARER_TOKEN_FILE",
		},
		{
			name:       "whitespace-only BEARER_TOKEN moves on (BTD empty token)",
			env:        func(btf, xdg string) env { return env{"BEARER_TOKEN": " \n ", "BEARER_TOKEN_FILE": btf} },
			files:      files{btf: s(tokB)},
			want:       tokB,
			wantSource: "BEARER_TOKEN_FILE",
		},
		{
			name:    "invalid BEARER_TOKEN stops",
			env:     func(btf, xdg string) env { return env{"BEARER_TOKEN": "not a token", "BEARER_TOKEN_FILE": btf} },
			files:   files{btf: s(tokB)},
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:       "BEARER_TOKEN_FILE before XDG",
			env:        func(btf, xdg string) env { return env{"BEARER_TOKEN_FILE": btf, "XDG_RUNTIME_DIR": xdg} },
			files:      files{btf: s(tokB), xdg: s(tokC), tmp: s(tokD)},
			want:       tokB,
			wantSource: "BEARER_TOKEN_FILE",
		},
		{
			name:    "missing BEARER_TOKEN_FILE is an error, not a fall-through",
			env:     func(btf, xdg string) env { return env{"BEARER_TOKEN_FILE": btf, "XDG_RUNTIME_DIR": xdg} },
			files:   files{xdg: s(tokC), tmp: s(tokD)},
			wantErr: fs.ErrNotExist,
			errText: "BEARER_TOKEN_FILE",
		},
		{
			name:       "empty BEARER_TOKEN_FILE content moves on",
			env:        func(btf, xdg string) env { return env{"BEARER_TOKEN_FILE": btf, "XDG_RUNTIME_DIR": xdg} },
			files:      files{btf: s("\n"), xdg: s(tokC)},
			want:       tokC,
			wantSource: "XDG_RUNTIME_DIR",
		},
		{
			name:    "invalid BEARER_TOKEN_FILE content stops",
			env:     func(btf, xdg string) env { return env{"BEARER_TOKEN_FILE": btf, "XDG_RUNTIME_DIR": xdg} },
			files:   files{btf: s("tok en"), xdg: s(tokC)},
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:       "empty BEARER_TOKEN_FILE variable is unset",
			env:        func(btf, xdg string) env { return env{"BEARER_TOKEN_FILE": "", "XDG_RUNTIME_DIR": xdg} },
			files:      files{btf: s(tokB), xdg: s(tokC)},
			want:       tokC,
			wantSource: "XDG_RUNTIME_DIR",
		},
		{
			name:       "XDG before /tmp",
			env:        func(btf, xdg string) env { return env{"XDG_RUNTIME_DIR": xdg} },
			files:      files{xdg: s(tokC), tmp: s(tokD)},
			want:       tokC,
			wantSource: "XDG_RUNTIME_DIR",
		},
		{
			name:       "XDG file missing falls back to /tmp (cron wrote it)",
			env:        func(btf, xdg string) env { return env{"XDG_RUNTIME_DIR": xdg} },
			files:      files{tmp: s(tokD)},
			want:       tokD,
			wantSource: "/tmp",
		},
		{
			name:       "XDG file empty falls back to /tmp",
			env:        func(btf, xdg string) env { return env{"XDG_RUNTIME_DIR": xdg} },
			files:      files{xdg: s(" \n"), tmp: s(tokD)},
			want:       tokD,
			wantSource: "/tmp",
		},
		{
			name:    "XDG file invalid stops",
			env:     func(btf, xdg string) env { return env{"XDG_RUNTIME_DIR": xdg} },
			files:   files{xdg: s("{json}"), tmp: s(tokD)},
			wantErr: bearer.ErrInvalidToken,
		},
		{
			name:       "empty XDG_RUNTIME_DIR is unset",
			env:        func(btf, xdg string) env { return env{"XDG_RUNTIME_DIR": ""} },
			files:      files{tmp: s(tokD)},
			want:       tokD,
			wantSource: "/tmp",
		},
		{
			name:    "nothing anywhere",
			env:     func(btf, xdg string) env { return env{"XDG_RUNTIME_DIR": xdg} },
			wantErr: bearer.ErrNoToken,
			errText: "bt_u1221",
		},
		{
			name:    "only empty files",
			env:     func(btf, xdg string) env { return env{"BEARER_TOKEN_FILE": btf, "XDG_RUNTIME_DIR": xdg} },
			files:   files{btf: s(""), xdg: s("\n"), tmp: s("\t")},
			wantErr: bearer.ErrNoToken,
			errText: "(empty)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			btf := filepath.Join(root, "btf")
			xdg := filepath.Join(root, "xdg")
			tmp := filepath.Join(root, "tmp")
			for _, d := range []string{xdg, tmp} {
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if tt.files.btf != nil {
				writeRaw(t, root, "btf", *tt.files.btf, 0o600)
			}
			if tt.files.xdg != nil {
				writeRaw(t, xdg, "bt_u1221", *tt.files.xdg, 0o600)
			}
			if tt.files.tmp != nil {
				writeRaw(t, tmp, "bt_u1221", *tt.files.tmp, 0o600)
			}
			got, loc, err := bearer.FindIn(tt.env(btf, xdg).lookup, uid, tmp)
			if tt.wantErr != nil || tt.errText != "" {
				if err == nil {
					t.Fatalf("Find() = %q, %v, nil; want error", got, loc)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Find() error = %v; want errors.Is %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("Find() error = %v; want it to mention %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find() error = %v", err)
			}
			if got != tt.want || loc.Source != tt.wantSource {
				t.Errorf("Find() = %q from %v; want %q from %s", got, loc, tt.want, tt.wantSource)
			}
		})
	}
}

func TestFindRefusedFileStops(t *testing.T) {
	root := t.TempDir()
	xdg, tmp := filepath.Join(root, "xdg"), filepath.Join(root, "tmp")
	for _, d := range []string{xdg, tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeRaw(t, xdg, "bt_u1221", "aaa.bbb.ccc", 0o666)
	writeRaw(t, tmp, "bt_u1221", "ddd.eee.fff", 0o600)
	tok, loc, err := bearer.FindIn(env{"XDG_RUNTIME_DIR": xdg}.lookup, 1221, tmp)
	if err == nil || !strings.Contains(err.Error(), "group/other-writable") || loc.Source != "XDG_RUNTIME_DIR" {
		t.Errorf("Find() = %q, %v, %v; want the XDG file refused, not skipped", tok, loc, err)
	}
}

func TestNilEnvIsProcessEnv(t *testing.T) {
	t.Setenv("BEARER_TOKEN_FILE", "/from/process/env")
	if got := bearer.WritePath(nil, 1); got.Path != "/from/process/env" {
		t.Errorf("WritePath(nil) = %v; want the process environment used", got)
	}
}

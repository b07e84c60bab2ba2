package dprintf

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestLineFormat(t *testing.T) {
	tests := []struct {
		name string
		log  func(root hclog.Logger)
		want string
	}{
		{
			name: "named sub-logger like the Python OAUTH prefix",
			log: func(root hclog.Logger) {
				root.Named("oauth").Info("Successfully refreshed mytok tokens for user alice")
			},
			want: "11/23/26 11:05:01 OAUTH: Successfully refreshed mytok tokens for user alice",
		},
		{
			name: "root logger has no prefix",
			log:  func(root hclog.Logger) { root.Info("Successfully renewed SciToken for user: alice") },
			want: "11/23/26 11:05:01 Successfully renewed SciToken for user: alice",
		},
		{
			name: "warning prefix comes before the name, as in HTCondorLogger",
			log:  func(root hclog.Logger) { root.Named("local").Warn("key file missing") },
			want: "11/23/26 11:05:01 WARNING: LOCAL: key file missing",
		},
		{
			name: "error prefix",
			log:  func(root hclog.Logger) { root.Error("cannot read cred dir", "err", errors.New("permission denied")) },
			want: `11/23/26 11:05:01 ERROR: cannot read cred dir err="permission denied"`,
		},
		{
			name: "nested names use the last component",
			log:  func(root hclog.Logger) { root.Named("oauth").Named("refresh").Info("due") },
			want: "11/23/26 11:05:01 REFRESH: due",
		},
		{
			name: "ResetNamed",
			log:  func(root hclog.Logger) { root.Named("oauth").ResetNamed("client").Info("x") },
			want: "11/23/26 11:05:01 CLIENT: x",
		},
		{
			name: "With pairs come first, in order, then call pairs",
			log: func(root hclog.Logger) {
				root.Named("oauth").With("user", "alice", "provider", "mytok").Info("token refreshed", "remaining", 90*time.Minute)
			},
			want: "11/23/26 11:05:01 OAUTH: token refreshed user=alice provider=mytok remaining=1h30m0s",
		},
		{
			name: "With replaces a repeated key in place",
			log: func(root hclog.Logger) {
				root.With("user", "alice", "provider", "a").With("user", "bob").Info("m")
			},
			want: "11/23/26 11:05:01 m user=bob provider=a",
		},
		{
			name: "quoting of empty values, spaces, quotes and equals",
			log: func(root hclog.Logger) {
				root.Info("q", "empty", "", "space", "a b", "quote", `a"b`, "eq", "a=b", "plain", "a/b:c")
			},
			want: `11/23/26 11:05:01 q empty="" space="a b" quote="a\"b" eq="a=b" plain=a/b:c`,
		},
		{
			name: "hclog value helpers",
			log: func(root hclog.Logger) {
				root.Info("h", "hex", hclog.Hex(255), "oct", hclog.Octal(8), "bin", hclog.Binary(5),
					"quote", hclog.Quote("x"), "fmt", hclog.Fmt("%d-%s", 7, "y"), "n", 42, "b", true)
			},
			want: `11/23/26 11:05:01 h hex=0xff oct=010 bin=0b101 quote="x" fmt=7-y n=42 b=true`,
		},
		{
			name: "slices stay on one line",
			log:  func(root hclog.Logger) { root.Info("s", "scopes", []string{"read:/", "a b"}) },
			want: `11/23/26 11:05:01 s scopes=[read:/, "a b"]`,
		},
		{
			name: "odd argument count",
			log:  func(root hclog.Logger) { root.Info("odd", "k", "v", "dangling") },
			want: "11/23/26 11:05:01 odd k=v EXTRA_VALUE_AT_END=dangling",
		},
		{
			name: "newlines in message, key and value cannot split or forge a line",
			log: func(root hclog.Logger) {
				root.Info("user bob\n11/23/26 11:05:01 Successfully renewed SciToken for user: root",
					"bad key\n", "v\r\nx", "nul", "a\x00b")
			},
			want: `11/23/26 11:05:01 user bob\n11/23/26 11:05:01 Successfully renewed SciToken for user: root bad_key_="v\r\nx" nul="a\x00b"`,
		},
		{
			name: "unicode line separators are escaped",
			log:  func(root hclog.Logger) { root.Info("a\u2028b", "v", "c\u2029d") },
			want: `11/23/26 11:05:01 a\u2028b v="c\u2029d"`,
		},
		{
			name: "tabs and non-ASCII text are kept",
			log:  func(root hclog.Logger) { root.Info("naïve\tuser", "v", "ü") },
			want: "11/23/26 11:05:01 naïve\tuser v=ü",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := openBuffer(t, Options{Name: "credmon"})
			tt.log(l.Logger())
			got := splitLines(t, buf.String())
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("log output = %q; want [%q]", got, tt.want)
			}
			if m := ornithologyLine.FindStringSubmatch(got[0]); m == nil || m[2] != "" {
				t.Errorf("ornithology RE_MESSAGE on %q = %q; want a match without tags", got[0], m)
			}
		})
	}
}

func TestDebugGating(t *testing.T) {
	for _, debug := range []bool{false, true} {
		l, buf := openBuffer(t, Options{Name: "credmon", Debug: debug})
		g := l.Logger().Named("oauth")
		g.Trace("t")
		g.Debug("d")
		g.Info("i")
		g.Warn("w")
		g.Error("e")
		want := []string{
			"11/23/26 11:05:01 OAUTH: i",
			"11/23/26 11:05:01 WARNING: OAUTH: w",
			"11/23/26 11:05:01 ERROR: OAUTH: e",
		}
		if debug {
			want = append([]string{"11/23/26 11:05:01 OAUTH: t", "11/23/26 11:05:01 OAUTH: d"}, want...)
		}
		if got := splitLines(t, buf.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("Debug=%v: lines = %q; want %q", debug, got, want)
		}
		if g.IsDebug() != debug || g.IsTrace() != debug || !g.IsInfo() || !g.IsWarn() || !g.IsError() {
			t.Errorf("Debug=%v: IsTrace/IsDebug/IsInfo = %v/%v/%v", debug, g.IsTrace(), g.IsDebug(), g.IsInfo())
		}
	}
}

func TestSetLevelIsShared(t *testing.T) {
	l, buf := openBuffer(t, Options{Name: "credmon"})
	root := l.Logger()
	sub := root.Named("oauth").With("user", "alice")
	sub.SetLevel(hclog.Debug)
	if got := root.GetLevel(); got != hclog.Debug {
		t.Errorf("root.GetLevel() after sub.SetLevel(Debug) = %v; want debug", got)
	}
	root.Debug("d")
	root.SetLevel(hclog.Off)
	sub.Error("dropped")
	if got, want := buf.String(), "11/23/26 11:05:01 d\n"; got != want {
		t.Errorf("output = %q; want %q", got, want)
	}
}

func TestLoggerNamesAndImpliedArgs(t *testing.T) {
	l, _ := openBuffer(t, Options{Name: "credmon"})
	g := l.Logger().Named("oauth").With("user", "alice")
	if got := g.Name(); got != "credmon.oauth" {
		t.Errorf("Name() = %q; want credmon.oauth", got)
	}
	if got := g.ImpliedArgs(); len(got) != 2 || got[0] != "user" || got[1] != "alice" {
		t.Errorf("ImpliedArgs() = %v; want [user alice]", got)
	}
	if got := g.ResetNamed("x").Name(); got != "x" {
		t.Errorf("ResetNamed(x).Name() = %q; want x", got)
	}
	noName, _ := openBuffer(t, Options{})
	if got := noName.Logger().Named("local").Name(); got != "local" {
		t.Errorf("unnamed root Named(local).Name() = %q; want local", got)
	}
}

func TestStandardLogger(t *testing.T) {
	l, buf := openBuffer(t, Options{Name: "credmon"})
	g := l.Logger().Named("http")
	g.StandardLogger(nil).Printf("plain line\n")
	g.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[WARN] slow response")
	g.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true, InferLevelsWithTimestamp: true}).
		Print("2026/11/23 11:05:01 [ERROR] boom")
	g.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Print("[INFO] forced")
	want := []string{
		"11/23/26 11:05:01 HTTP: plain line",
		"11/23/26 11:05:01 WARNING: HTTP: slow response",
		"11/23/26 11:05:01 ERROR: HTTP: boom",
		"11/23/26 11:05:01 ERROR: HTTP: forced",
	}
	if got := splitLines(t, buf.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines = %q; want %q", got, want)
	}
}

func TestSinkAdapter(t *testing.T) {
	l, buf := openBuffer(t, Options{Name: "credmon"})
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "credmon", Output: discard{}, Level: hclog.Trace})
	il.RegisterSink(l)
	il.Named("oauth").Info("via sink", "user", "alice")
	il.Debug("below the Log's level")
	if got, want := buf.String(), "11/23/26 11:05:01 OAUTH: via sink user=alice\n"; got != want {
		t.Errorf("output = %q; want %q", got, want)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestTimeFormat(t *testing.T) {
	tests := []struct {
		format string
		want   string
	}{
		{"", "11/23/26 11:05:01"},
		{"%m/%d/%y %H:%M:%S", "11/23/26 11:05:01"},
		{`"%Y-%m-%d %H:%M:%S"`, "2026-11-23 11:05:01"}, // quotes stripped like dprintf_config
		{"%F %T %z %Z", "2026-11-23 11:05:01 +0100 CET"},
		{"%a %b %e %I:%M:%S %p %j %%", "Mon Nov 23 11:05:01 AM 327 %"},
		{"%s", "1795428301"},
		{"%n%Q", " %Q"},
	}
	for _, tt := range tests {
		l, buf := openBuffer(t, Options{TimeFormat: tt.format})
		l.Logger().Info("m")
		if got, want := buf.String(), tt.want+" m\n"; got != want {
			t.Errorf("TimeFormat %q: output = %q; want %q", tt.format, got, want)
		}
	}
}

func TestStrftimeWeeks(t *testing.T) {
	// Reference values from GNU date.
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "Thu 4 00 00 01 2026 26 12 12"},
		{time.Date(2026, 1, 4, 13, 0, 0, 0, time.UTC), "Sun 7 01 00 01 2026 26  1 01"},
		{time.Date(2027, 1, 1, 23, 0, 0, 0, time.UTC), "Fri 5 00 00 53 2026 26 11 11"},
	}
	for _, tt := range tests {
		got := string(appendStrftime(nil, "%a %u %U %W %V %G %g %l %I", tt.t))
		if got != tt.want {
			t.Errorf("strftime(%v) = %q; want %q", tt.t, got, tt.want)
		}
	}
}

func FuzzLineIsWhole(f *testing.F) {
	f.Add("Successfully renewed SciToken for user: alice", "user", "alice")
	f.Add("a\nb\r\x00", "k\n", "v\u2028")
	f.Fuzz(func(t *testing.T, msg, key, val string) {
		l, buf := openBuffer(t, Options{Name: "credmon"})
		l.Logger().Named("oauth").Warn(msg, key, val)
		out := buf.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.ContainsAny(out[:len(out)-1], "\r\u2028\u2029\u0085") {
			t.Fatalf("Warn(%q, %q, %q) wrote %q; want exactly one line", msg, key, val, out)
		}
		if !ornithologyLine.MatchString(strings.TrimSuffix(out, "\n")) {
			t.Fatalf("output %q does not match ornithology RE_MESSAGE", out)
		}
	})
}

// TestSetTimeFormat: a reconfig's DEBUG_TIME_FORMAT applies to the next
// line (the cached header of the same second is not reused).
func TestSetTimeFormat(t *testing.T) {
	l, buf := openBuffer(t, Options{})
	l.Logger().Info("a")
	l.SetTimeFormat(`"%Y-%m-%dT%H:%M:%S %j %Q"`)
	l.Logger().Info("b")
	l.SetTimeFormat("")
	l.Logger().Info("c")
	want := "11/23/26 11:05:01 a\n2026-11-23T11:05:01 327 %Q b\n11/23/26 11:05:01 c\n"
	if got := buf.String(); got != want {
		t.Errorf("output = %q; want %q", got, want)
	}
}

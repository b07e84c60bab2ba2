package dprintf

import (
	"fmt"
	"io"
	"log"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
)

// logger is the hclog.Logger handed out by Log.Logger. It is immutable;
// derived loggers share the Log (and its level).
type logger struct {
	log     *Log
	name    string
	prefix  string // "OAUTH: " for name "credmon.oauth"
	implied []any
}

var _ hclog.Logger = (*logger)(nil)

func (l *Log) newLogger(name string, implied []any) *logger {
	return &logger{log: l, name: name, prefix: prefixFor(l.rootName, name), implied: implied}
}

// prefixFor returns the message prefix of a logger called name: none for
// the root logger, else the upper-cased last dotted component and ": ",
// like the Python credmon's "OAUTH: ".
func prefixFor(root, name string) string {
	if name == "" || name == root {
		return ""
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return ""
	}
	return escapeText(strings.ToUpper(last)) + ": "
}

func (g *logger) Log(level hclog.Level, msg string, args ...any) {
	if !g.log.enabled(level) {
		return
	}
	g.log.writeBody(render(level, g.prefix, msg, g.implied, args))
}

func (g *logger) Trace(msg string, args ...any) { g.Log(hclog.Trace, msg, args...) }
func (g *logger) Debug(msg string, args ...any) { g.Log(hclog.Debug, msg, args...) }
func (g *logger) Info(msg string, args ...any)  { g.Log(hclog.Info, msg, args...) }
func (g *logger) Warn(msg string, args ...any)  { g.Log(hclog.Warn, msg, args...) }
func (g *logger) Error(msg string, args ...any) { g.Log(hclog.Error, msg, args...) }

func (g *logger) IsTrace() bool { return g.log.enabled(hclog.Trace) }
func (g *logger) IsDebug() bool { return g.log.enabled(hclog.Debug) }
func (g *logger) IsInfo() bool  { return g.log.enabled(hclog.Info) }
func (g *logger) IsWarn() bool  { return g.log.enabled(hclog.Warn) }
func (g *logger) IsError() bool { return g.log.enabled(hclog.Error) }

func (g *logger) ImpliedArgs() []any { return g.implied }

// With returns a logger that appends args to every line. A key given again
// replaces the earlier value in place; an odd trailing value is logged
// under hclog.MissingKey, as hclog does.
func (g *logger) With(args ...any) hclog.Logger {
	implied := make([]any, len(g.implied), len(g.implied)+len(args)+1)
	copy(implied, g.implied)
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			implied = append(implied, hclog.MissingKey, args[i])
			break
		}
		key := keyString(args[i])
		replaced := false
		for j := 0; j < len(implied); j += 2 {
			if keyString(implied[j]) == key {
				implied[j+1], replaced = args[i+1], true
				break
			}
		}
		if !replaced {
			implied = append(implied, key, args[i+1])
		}
	}
	return g.log.newLogger(g.name, implied)
}

func (g *logger) Name() string { return g.name }

func (g *logger) Named(name string) hclog.Logger {
	if g.name != "" {
		name = g.name + "." + name
	}
	return g.log.newLogger(name, g.implied)
}

func (g *logger) ResetNamed(name string) hclog.Logger {
	return g.log.newLogger(name, g.implied)
}

// SetLevel changes the level of every logger derived from the same Log.
func (g *logger) SetLevel(level hclog.Level) { g.log.level.Store(int32(level)) }

func (g *logger) GetLevel() hclog.Level { return hclog.Level(g.log.level.Load()) }

func (g *logger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(g.StandardWriter(opts), "", 0)
}

func (g *logger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	if opts == nil {
		opts = &hclog.StandardLoggerOptions{}
	}
	return &stdWriter{g: g, opts: *opts}
}

// stdWriter feeds *log.Logger output into a logger, honouring
// StandardLoggerOptions like hclog's own adapter.
type stdWriter struct {
	g    *logger
	opts hclog.StandardLoggerOptions
}

var (
	stdTimestamp = regexp.MustCompile(`^[\d\s:/.+\-TZ]*`)
	stdLevels    = []struct {
		tag   string
		level hclog.Level
	}{
		{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info},
		{"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error}, {"[ERR]", hclog.Error},
	}
)

func (w *stdWriter) Write(p []byte) (int, error) {
	s := strings.TrimRight(string(p), " \t\n")
	level := hclog.Info
	if w.opts.ForceLevel != hclog.NoLevel || w.opts.InferLevels {
		if w.opts.InferLevels && w.opts.InferLevelsWithTimestamp {
			s = s[len(stdTimestamp.FindString(s)):]
		}
		for _, t := range stdLevels {
			if rest, ok := strings.CutPrefix(s, t.tag); ok {
				level, s = t.level, strings.TrimSpace(rest)
				break
			}
		}
		if w.opts.ForceLevel != hclog.NoLevel {
			level = w.opts.ForceLevel
		}
	}
	w.g.Log(level, s)
	return len(p), nil
}

// levelPrefix is the text HTCondorLogger puts before warnings; errors get
// the same treatment (see the package doc).
func levelPrefix(level hclog.Level) string {
	switch {
	case level >= hclog.Error:
		return "ERROR: "
	case level == hclog.Warn:
		return "WARNING: "
	default:
		return ""
	}
}

// render builds a line without its time header or newline:
// [LEVEL: ][NAME: ]msg[ key=value]...
func render(level hclog.Level, prefix, msg string, implied, args []any) []byte {
	b := make([]byte, 0, 64+len(msg)+16*(len(implied)+len(args)))
	b = append(b, levelPrefix(level)...)
	b = append(b, prefix...)
	b = appendEscaped(b, msg)
	b = appendPairs(b, implied)
	return appendPairs(b, args)
}

func appendPairs(b []byte, args []any) []byte {
	for i := 0; i < len(args); i += 2 {
		var key string
		var val any
		if i+1 == len(args) {
			key, val = hclog.MissingKey, args[i]
			if _, ok := val.(hclog.CapturedStacktrace); ok {
				key = "stacktrace"
			}
		} else {
			key, val = keyString(args[i]), args[i+1]
		}
		b = append(b, ' ')
		b = appendKey(b, key)
		b = append(b, '=')
		b = appendValue(b, val)
	}
	return b
}

func keyString(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return fmt.Sprint(k)
}

// appendKey writes a key with anything that would break key=value parsing
// (space, '=', quotes, control characters) replaced by '_'.
func appendKey(b []byte, key string) []byte {
	if key == "" {
		return append(b, '_')
	}
	for _, r := range key {
		if r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			r = '_'
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// appendValue formats v like hclog's text format (Hex, Octal, Binary,
// Quote, Fmt, slices) and quotes it if it could be misread or would break
// the line.
func appendValue(b []byte, v any) []byte {
	var s string
	switch st := v.(type) {
	case string:
		s = st
	case error:
		s = st.Error()
	case hclog.Hex:
		s = "0x" + strconv.FormatUint(uint64(st), 16)
	case hclog.Octal:
		s = "0" + strconv.FormatUint(uint64(st), 8)
	case hclog.Binary:
		s = "0b" + strconv.FormatUint(uint64(st), 2)
	case hclog.Quote:
		return strconv.AppendQuote(b, string(st))
	case hclog.Format:
		if f, ok := firstString(st); ok {
			s = fmt.Sprintf(f, st[1:]...)
		} else {
			s = fmt.Sprint(st...)
		}
	default:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
			return appendSlice(b, rv)
		}
		s = fmt.Sprint(v)
	}
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func firstString(f hclog.Format) (string, bool) {
	if len(f) == 0 {
		return "", false
	}
	s, ok := f[0].(string)
	return s, ok
}

// appendSlice renders [a, b] with each element formatted (and quoted if
// needed) like a value, keeping the result on one line.
func appendSlice(b []byte, rv reflect.Value) []byte {
	b = append(b, '[')
	for i := 0; i < rv.Len(); i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendValue(b, rv.Index(i).Interface())
	}
	return append(b, ']')
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r == ' ' || r == '"' || r == '=' || r == '\\' || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// appendEscaped appends a message, escaping characters that would end or
// corrupt the line: C0 controls other than tab, DEL, and U+2028/U+2029.
// Invalid UTF-8 is kept as is, as dprintf would.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, c)
			case c < ' ' || c == 0x7f:
				b = append(b, `\x`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' || r == '\u0085' {
			b = fmt.Appendf(b, `\u%04x`, r)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

// escapeText is appendEscaped for strings.
func escapeText(s string) string { return string(appendEscaped(nil, s)) }

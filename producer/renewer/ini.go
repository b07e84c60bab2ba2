package renewer

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// This file is a reader for the subset of Python's configparser that
// osg-token-renewer uses: configparser.ConfigParser() with every default
// (CPython Lib/configparser.py, RawConfigParser._read and
// BasicInterpolation), so that an existing config.ini means the same here.
// The defaults reproduced:
//
//   - delimiters "=" and ":"; the first one on the line splits it, the key
//     is stripped and lowercased (optionxform = str.lower), the value is
//     stripped;
//   - comment_prefixes "#" and ";" for whole lines only (also indented
//     ones); inline_comment_prefixes=None, so "a = b # c" has the value
//     "b # c";
//   - a line indented deeper than its key line continues the value; the
//     pieces are joined with "\n" (empty_lines_in_values=True: a blank
//     line inside a value is kept, trailing ones are dropped);
//   - section headers "[...]" (the name is everything up to the last "]";
//     the name is case-sensitive); a key before any section is an error;
//   - strict=True: a section or a key within a section given twice is an
//     error;
//   - allow_no_value=False: a line without a delimiter is an error;
//   - the section named DEFAULT supplies keys to every other section;
//   - BasicInterpolation: "%(key)s" is replaced by the key's value from the
//     same section or DEFAULT (recursively, at most 10 deep), "%%" is a
//     literal "%", and any other "%" is an error. osg-token-renewer reads
//     every key through a section view, so every value is interpolated
//     and an error anywhere fails the whole file.
//
// Python's universal newlines are reproduced ("\r\n" and "\r" end lines).

// maxInterpolationDepth is configparser.MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

// defaultSection is configparser's default_section.
const defaultSection = "DEFAULT"

// iniSection is one parsed section with its keys in file order.
type iniSection struct {
	name string
	line int
	keys []string
	vals map[string][]string // raw value lines, joined later
	at   map[string]int      // line of each key
}

// iniFile is a parsed file before interpolation.
type iniFile struct {
	defaults *iniSection
	sections []*iniSection
}

// configError is a problem with the configuration file. File, Section and
// Key say where, as far as they apply; Line is 1-based, 0 when unknown.
type configError struct {
	File    string
	Line    int
	Section string
	Key     string
	Msg     string
}

func (e *configError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Section != "" {
		fmt.Fprintf(&b, ": [%s]", e.Section)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, " %s", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// maxConfigBytes bounds what parseConfig reads; real files are a few KiB.
const maxConfigBytes = 4 << 20

// parseINI reads r with configparser's rules.
func parseINI(r io.Reader, name string) (*iniFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return nil, &configError{File: name, Msg: fmt.Sprintf("reading: %v", err)}
	}
	if len(data) > maxConfigBytes {
		return nil, &configError{File: name, Msg: fmt.Sprintf("larger than %d bytes", maxConfigBytes)}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.TrimPrefix(text, "\ufeff")

	f := &iniFile{defaults: newSection(defaultSection, 0)}
	seen := map[string]*iniSection{}
	var cur *iniSection
	optname := ""
	indent := -1 // indent level of the current key line; -1: none
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), maxConfigBytes+1)
	lineno := 0
	for sc.Scan() {
		lineno++
		line := sc.Text()
		stripped := strings.TrimSpace(line)
		comment := strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";")
		if comment || stripped == "" {
			// A blank line (not a comment) inside a value is kept.
			if !comment && cur != nil && optname != "" {
				cur.vals[optname] = append(cur.vals[optname], "")
			}
			continue
		}
		lvl := strings.IndexFunc(line, func(r rune) bool { return !unicode.IsSpace(r) })
		if cur != nil && optname != "" && lvl > indent {
			cur.vals[optname] = append(cur.vals[optname], stripped)
			continue
		}
		indent = lvl
		if strings.HasPrefix(stripped, "[") {
			if end := strings.LastIndex(stripped, "]"); end > 1 {
				sect := stripped[1:end]
				switch {
				case sect == defaultSection:
					cur = f.defaults
				case seen[sect] != nil:
					return nil, &configError{File: name, Line: lineno, Section: sect,
						Msg: fmt.Sprintf("section already exists (line %d)", seen[sect].line)}
				default:
					cur = newSection(sect, lineno)
					seen[sect] = cur
					f.sections = append(f.sections, cur)
				}
				optname = ""
				continue
			}
		}
		if cur == nil {
			return nil, &configError{File: name, Line: lineno, Msg: "file contains no section headers"}
		}
		i := strings.IndexAny(stripped, "=:")
		key := ""
		if i >= 0 {
			key = strings.ToLower(strings.TrimSpace(stripped[:i]))
		}
		if key == "" {
			return nil, &configError{File: name, Line: lineno, Section: cur.name,
				Msg: fmt.Sprintf("cannot parse line %q: want key = value", stripped)}
		}
		if _, dup := cur.at[key]; dup {
			return nil, &configError{File: name, Line: lineno, Section: cur.name, Key: key,
				Msg: fmt.Sprintf("key already given (line %d)", cur.at[key])}
		}
		cur.keys = append(cur.keys, key)
		cur.at[key] = lineno
		cur.vals[key] = []string{strings.TrimSpace(stripped[i+1:])}
		optname = key
	}
	if err := sc.Err(); err != nil {
		return nil, &configError{File: name, Line: lineno, Msg: err.Error()}
	}
	return f, nil
}

func newSection(name string, line int) *iniSection {
	return &iniSection{name: name, line: line, vals: map[string][]string{}, at: map[string]int{}}
}

// raw returns the joined, uninterpolated value of key in s or DEFAULT.
func (f *iniFile) raw(s *iniSection, key string) (string, bool) {
	if v, ok := s.vals[key]; ok {
		return joinValue(v), true
	}
	if v, ok := f.defaults.vals[key]; ok {
		return joinValue(v), true
	}
	return "", false
}

// joinValue is configparser._join_multiline_values: "\n".join(...).rstrip().
func joinValue(lines []string) string {
	return strings.TrimRightFunc(strings.Join(lines, "\n"), unicode.IsSpace)
}

// keysOf lists the keys visible in s: its own, then DEFAULT's.
func (f *iniFile) keysOf(s *iniSection) []string {
	keys := append([]string(nil), s.keys...)
	for _, k := range f.defaults.keys {
		if _, ok := s.vals[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// interpolate returns the value of key in s after BasicInterpolation.
func (f *iniFile) interpolate(file string, s *iniSection, key string) (string, error) {
	raw, _ := f.raw(s, key)
	var b strings.Builder
	if err := f.interpolateSome(file, s, key, raw, 1, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (f *iniFile) interpolateSome(file string, s *iniSection, key, rest string, depth int, b *strings.Builder) error {
	line := s.at[key]
	if line == 0 {
		line = f.defaults.at[key]
	}
	fail := func(msg string) error {
		return &configError{File: file, Line: line, Section: s.name, Key: key, Msg: msg}
	}
	if depth > maxInterpolationDepth {
		return fail("interpolation nested too deeply (a %(key)s loop?)")
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			end := strings.IndexByte(rest, ')')
			if end <= 2 || !strings.HasPrefix(rest[end:], ")s") {
				return fail(fmt.Sprintf("bad interpolation variable reference %q (write a literal %% as %%%%)", rest))
			}
			ref := strings.ToLower(rest[2:end])
			rest = rest[end+2:]
			v, ok := f.raw(s, ref)
			if !ok {
				return fail(fmt.Sprintf("%%(%s)s refers to a key that is not in the section or in [DEFAULT]", ref))
			}
			if strings.Contains(v, "%") {
				if err := f.interpolateSome(file, s, key, v, depth+1, b); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return fail(fmt.Sprintf("'%%' must be followed by '%%' or '(', found %q (write a literal %% as %%%%)", rest))
		}
	}
	return nil
}

package condorcfg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// maxNestingDepth bounds include and use nesting (HTCondor's
// CONFIG_MAX_NESTING_DEPTH plays the same role).
const maxNestingDepth = 20

// hereDoc is a "NAME @=tag" multi-line value being collected.
type hereDoc struct {
	name, tag string
	src       source
	lines     []string
}

// parseSource parses one configuration file (or string) into l.t, following
// Parse_macros in src/condor_utils/config.cpp.
func (l *loader) parseSource(file string, data []byte, depth int) error {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte{'\n'})
		return errAt(source{file, line}, nil, "NUL byte in configuration file")
	}
	r := lineReader{data: string(data)}
	var ifs ifStack
	var here *hereDoc
	strict := false
	for {
		text, line, ok := r.next()
		if !ok {
			break
		}
		src := source{file, line}
		if text == "" || text[0] == '#' {
			switch strings.ToLower(text) {
			case "#opt:oldcomment":
				r.oldComments = true
			case "#opt:newcomment":
				r.oldComments = false
			case "#opt:strict":
				strict = true
			}
			continue
		}
		if here != nil {
			if text[0] == '@' && text[1:] == here.tag {
				value, err := l.x.expandSelf(strings.Join(here.lines, "\n"), here.name, l.subsys)
				if err != nil {
					return errAt(here.src, err, "%s: %v", here.name, err)
				}
				l.t.set(here.name, value, here.src)
				here = nil
				continue
			}
			here.lines = append(here.lines, text)
			continue
		}
		// A leading ':' hides if-bodies from pre-8.1.5 parsers; it is
		// ignored on if lines and inside if blocks.
		if text[0] == ':' && (ifs.insideIf() || strings.HasPrefix(text, ":if") && (len(text) == 3 || isCSpace(text[3]))) {
			text = text[1:]
			if text == "" {
				continue // a lone ':' is a blank line (fuzzing found it reached statement empty)
			}
		}
		if handled, err := ifs.handle(text, l); handled {
			if err != nil {
				return errAt(src, err, "%v", err)
			}
			continue
		}
		if !ifs.enabled() {
			continue
		}
		h, err := l.statement(text, src, depth, strict)
		if err != nil {
			return err
		}
		if h != nil {
			here = h
		}
	}
	if here != nil {
		return errAt(source{file, r.line}, nil, "end of file while scanning for '@%s' (opened by %s @=%s on line %d)", here.tag, here.name, here.tag, here.src.line)
	}
	if ifs.insideIf() {
		return errAt(source{file, r.line}, nil, "endif(s) not found before end-of-file")
	}
	return nil
}

// statement handles one enabled logical line that is not an if-statement.
func (l *loader) statement(text string, src source, depth int, strict bool) (*hereDoc, error) {
	i := 0
	for i < len(text) && !isCSpace(text[i]) && text[i] != '=' && text[i] != ':' {
		i++
	}
	if i == len(text) {
		if text[0] == '[' {
			return nil, nil // "[section]" lines are ignored (ini-style files for the MSI installer)
		}
		return nil, errAt(src, nil, "syntax error: %q is not of the form NAME = value", text)
	}
	name := text[:i]
	op, rest := text[i], text[i+1:]
	between := "" // words between the name and the operator
	if op != '=' && op != ':' {
		j := i
		for j < len(text) && isCSpace(text[j]) {
			j++
		}
		k := j
		for k < len(text) && text[k] != '=' && text[k] != ':' && text[k] != '@' {
			k++
		}
		between = strings.TrimRight(text[j:k], cSpaces)
		op = 0
		if k < len(text) {
			op, rest = text[k], text[k+1:]
			if op == '@' {
				if strings.HasPrefix(rest, "=") {
					rest = rest[1:]
				} else {
					op = 0
				}
			}
		}
	}
	if op == 0 {
		return nil, errAt(src, nil, "syntax error, missing : or = in %q", text)
	}
	rhs := strings.TrimLeft(rest, cSpaces)
	keyword := strings.TrimPrefix(name, "@") // "@use"/"@include" hide from 8.0 parsers
	if op == ':' {
		switch strings.ToLower(keyword) {
		case "include":
			return nil, l.include(between, rhs, src, depth)
		case "use":
			return nil, l.use(between, rhs, src, depth)
		case "error", "warning":
			msg, err := l.expandAll(rhs)
			if err != nil {
				return nil, errAt(src, err, "%s: %v", keyword, err)
			}
			if strings.EqualFold(keyword, "error") {
				return nil, errAt(src, nil, "error: %s", msg)
			}
			l.warn(src, "warning: %s", msg)
			return nil, nil
		}
		if strict {
			return nil, errAt(src, nil, "obsolete use of ':' for parameter assignment at %s : %s", name, rhs)
		}
		if !strings.EqualFold(name, "RunBenchmarks") {
			l.warn(src, "obsolete use of ':' for parameter assignment at %s : %s", name, rhs)
		}
	}
	if between != "" {
		l.warn(src, "ignoring %q between %s and the operator, as HTCondor does", between, name)
	}
	expName, err := l.expandAll(name)
	if err != nil {
		return nil, errAt(src, err, "expanding name %s: %v", name, err)
	}
	if !validName(expName) {
		return nil, errAt(src, nil, "illegal identifier: <%s>", expName)
	}
	if op == '@' {
		return &hereDoc{name: expName, tag: rhs, src: src}, nil
	}
	value, err := l.x.expandSelf(rhs, expName, l.subsys)
	if err != nil {
		return nil, errAt(src, err, "%s: %v", expName, err)
	}
	l.t.set(expName, value, src)
	return nil, nil
}

// validName is is_valid_param_name: non-empty, letters, digits and "_./".
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIDChar(s[i]) {
			return false
		}
	}
	return true
}

// include handles "include [ifexist[s]] [command|output [into <file>]] : <target>".
func (l *loader) include(opts, target string, src source, depth int) error {
	toks := strings.Fields(opts)
	ifExists, command := false, false
	if len(toks) > 0 && (toks[0] == "ifexist" || toks[0] == "ifexists") {
		ifExists, toks = true, toks[1:]
	}
	if len(toks) > 0 && (toks[0] == "command" || toks[0] == "output") {
		command, toks = true, toks[1:]
		if len(toks) >= 2 && toks[0] == "into" {
			toks = toks[2:]
		}
	}
	if len(toks) > 0 {
		return errAt(src, nil, "unexpected keyword(s) %q after include", strings.Join(toks, " "))
	}
	file, err := l.expandAll(target)
	if err != nil {
		return errAt(src, err, "include %s: %v", target, err)
	}
	if command || strings.Contains(file, "|") {
		return errAt(src, ErrUnsupported, "include %s: running a command to produce configuration is not supported by the native parser (install condor_config_val)", file)
	}
	if depth+1 >= maxNestingDepth {
		return errAt(src, nil, "include %s: includes nested too deep", file)
	}
	data, err := l.readFile(file)
	if err != nil {
		if ifExists {
			return nil
		}
		return errAt(src, err, "include %s: %v", file, err)
	}
	l.files = append(l.files, file)
	return l.parseSource(file, data, depth+1)
}

// use handles "use CATEGORY : Name[(args)] [, Name2 ...]".
func (l *loader) use(category, rhs string, src source, depth int) error {
	if category == "" {
		return errAt(src, nil, "use needs a category before ':' (as in use FEATURE : OAUTH)")
	}
	cat, err := l.expandAll(category)
	if err != nil {
		return errAt(src, err, "use %s: %v", category, err)
	}
	if _, ok := metaknobs[strings.ToUpper(cat)]; !ok {
		return errAt(src, ErrUnsupported, "use %s: metaknob category not known to the native parser (known: FEATURE, POLICY, ROLE, SECURITY)", cat)
	}
	rest := rhs
	for {
		knob, args, r, err := nextMetaItem(rest)
		if err != nil {
			return errAt(src, err, "use %s : %s: %v", cat, rhs, err)
		}
		if knob == "" {
			return nil
		}
		rest = r
		mk, ok := lookupMetaknob(cat, knob)
		if !ok {
			return errAt(src, ErrUnsupported, "use %s:%s: metaknob not known to the native parser (known %s metaknobs: %s)",
				strings.ToUpper(cat), knob, strings.ToUpper(cat), knownMetaknobs(cat))
		}
		body := mk.body
		if args != "" || hasMetaArgs(body) {
			if body, err = expandMetaArgs(body, args); err != nil {
				return errAt(src, err, "use %s:%s: %v", mk.category, mk.name, err)
			}
		}
		if depth+1 >= maxNestingDepth {
			return errAt(src, nil, "use %s:%s: nesting too deep", mk.category, mk.name)
		}
		if err := l.parseMeta(body, src, depth+1, mk.category+":"+mk.name); err != nil {
			return err
		}
	}
}

func hasMetaArgs(s string) bool {
	for i := strings.Index(s, "$("); i >= 0; {
		if i+2 < len(s) && isDigit(s[i+2]) {
			return true
		}
		j := strings.Index(s[i+2:], "$(")
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return false
}

// parseMeta parses a metaknob body (Parse_config_string): one statement per
// line, no continuation, no include, names taken literally. Every value it
// defines is attributed to the use statement.
func (l *loader) parseMeta(body string, src source, depth int, what string) error {
	fail := func(err error) error {
		var se *SyntaxError
		if errors.As(err, &se) {
			return err
		}
		return errAt(src, err, "use %s: %v", what, err)
	}
	var ifs ifStack
	for _, line := range strings.Split(body, "\n") {
		line = strings.Trim(line, cSpaces)
		if line == "" || line[0] == '#' {
			continue
		}
		if handled, err := ifs.handle(line, l); handled {
			if err != nil {
				return fail(err)
			}
			continue
		}
		if !ifs.enabled() {
			continue
		}
		isUse := len(line) > 4 && strings.EqualFold(line[:4], "use ")
		p := line
		if isUse {
			p = strings.TrimLeft(line[4:], cSpaces)
		}
		i := 0
		for i < len(p) && !isCSpace(p[i]) && p[i] != '=' && p[i] != ':' {
			i++
		}
		name := p[:i]
		j := i
		for j < len(p) && isCSpace(p[j]) {
			j++
		}
		if j == len(p) || (p[j] != '=' && p[j] != ':') {
			return fail(fmt.Errorf("%q is not a valid statement", line))
		}
		op, rhs := p[j], strings.TrimLeft(p[j+1:], cSpaces)
		switch {
		case op == ':' && (strings.EqualFold(name, "error") || strings.EqualFold(name, "warning")):
			msg, err := l.expandAll(rhs)
			if err != nil {
				return fail(err)
			}
			if strings.EqualFold(name, "error") {
				return fail(errorString("error: " + msg))
			}
			l.warn(src, "use %s: warning: %s", what, msg)
		case isUse:
			if op != ':' {
				return fail(fmt.Errorf("%q is not a valid use statement", line))
			}
			if err := l.use(name, rhs, src, depth); err != nil {
				return err
			}
		default:
			if !validName(name) {
				return fail(fmt.Errorf("illegal identifier: <%s>", name))
			}
			value, err := l.x.expandSelf(rhs, name, l.subsys)
			if err != nil {
				return fail(err)
			}
			l.t.set(name, value, src)
		}
	}
	if ifs.insideIf() {
		return fail(errorString("endif(s) not found"))
	}
	return nil
}

// readFile reads a configuration file. Directories are refused explicitly:
// HTCondor would fopen() them and read nothing.
func (l *loader) readFile(path string) ([]byte, error) {
	if l.sys.readFile != nil {
		return l.sys.readFile(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}
	}
	return os.ReadFile(path)
}

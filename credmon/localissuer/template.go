package localissuer

import (
	"fmt"
	"sort"
	"strings"
)

// FormatTemplate expands tmpl the way Python's str.format(**args) does for
// named fields, which is how LocalCredmon expands AUTHZ_TEMPLATE
// (format(username=...)) and AUTHZ_GROUP_TEMPLATE (format(groupname=...)):
//
//   - "{{" is a literal "{" and "}}" a literal "}";
//   - "{name}" is replaced by args[name];
//   - a lone "}" and a "{" without its closing "}" are errors, as in Python
//     ("Single '}' encountered in format string", "expected '}' before end
//     of string");
//   - an unknown name is an error, as Python's KeyError;
//   - positional fields ("{}", "{0}") are errors, as Python's IndexError
//     (there are no positional arguments);
//   - attribute and index access ("{username.upper}", "{username[0]}"),
//     conversions ("{username!s}") and format specs ("{username:>8}") are
//     errors. Python accepts some of these; they have no sensible use in a
//     scope template, and refusing them means the credmon logs a clear
//     error instead of minting a scope that differs from Python's.
//
// Scanning is byte-wise: braces are ASCII, so multi-byte UTF-8 text passes
// through unchanged. Errors name the problem and its byte offset.
func FormatTemplate(tmpl string, args map[string]string) (string, error) {
	var b strings.Builder
	b.Grow(len(tmpl) + 32)
	n := len(tmpl)
	for i := 0; i < n; {
		c := tmpl[i]
		switch c {
		case '{':
			if i+1 < n && tmpl[i+1] == '{' {
				b.WriteByte('{')
				i += 2
				continue
			}
			if i+1 == n {
				return "", templateError(tmpl, i, "single '{' encountered in format string")
			}
			// The field runs to the matching '}', counting nested braces
			// the way Python's MarkupIterator does, so "{a{b}c}" is one
			// (invalid) field and not "{a{b}" followed by "c}".
			depth, j := 1, i+1
			for ; j < n && depth > 0; j++ {
				switch tmpl[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			if depth > 0 {
				return "", templateError(tmpl, i, "expected '}' before end of string")
			}
			v, msg := expandField(tmpl[i+1:j-1], args)
			if msg != "" {
				return "", templateError(tmpl, i, msg)
			}
			b.WriteString(v)
			i = j
		case '}':
			if i+1 < n && tmpl[i+1] == '}' {
				b.WriteByte('}')
				i += 2
				continue
			}
			return "", templateError(tmpl, i, "single '}' encountered in format string")
		default:
			// Copy the run of literal text up to the next brace at once.
			j := i + 1
			for j < n && tmpl[j] != '{' && tmpl[j] != '}' {
				j++
			}
			b.WriteString(tmpl[i:j])
			i = j
		}
	}
	return b.String(), nil
}

// expandField resolves the inside of one "{...}". It returns the value, or
// a non-empty message. Checks follow Python's order: field-name syntax,
// then the name lookup (KeyError), then what follows the name.
func expandField(field string, args map[string]string) (string, string) {
	// The field name ends at the first ':' or '!' outside "[...]" (Python's
	// parse_field); a '{' inside the name is a syntax error.
	end := len(field)
scan:
	for k := 0; k < len(field); k++ {
		switch field[k] {
		case '{':
			return "", fmt.Sprintf("unexpected '{' in field name {%s}", field)
		case '[':
			for k < len(field) && field[k] != ']' {
				k++
			}
		case ':', '!':
			end = k
			break scan
		}
	}
	name, tail := field[:end], field[end:]
	// The first part of the name is the argument; ".attr" and "[idx]" follow.
	arg := name
	if k := strings.IndexAny(name, ".["); k >= 0 {
		arg = name[:k]
	}
	switch {
	case arg == "":
		return "", fmt.Sprintf("positional field {%s} is not supported; use a named field such as %s", field, fieldList(args))
	case isDigits(arg):
		return "", fmt.Sprintf("positional field {%s} is not supported; use a named field such as %s", field, fieldList(args))
	}
	v, ok := args[arg]
	if !ok {
		return "", fmt.Sprintf("unknown field {%s} (Python KeyError %q); available: %s", field, arg, fieldList(args))
	}
	if arg != name {
		return "", fmt.Sprintf("attribute or index access in field {%s} is not supported; use {%s}", field, arg)
	}
	if tail != "" {
		return "", fmt.Sprintf("conversion or format spec in field {%s} is not supported; use {%s}", field, arg)
	}
	return v, ""
}

func templateError(tmpl string, off int, msg string) error {
	return fmt.Errorf("localissuer: template %q: %s (at offset %d)", tmpl, msg, off)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func fieldList(args map[string]string) string {
	if len(args) == 0 {
		return "(none)"
	}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, "{"+k+"}")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

package storer

import "errors"

// ErrShellQuote: an unterminated quote or a trailing backslash.
var ErrShellQuote = errors.New("unterminated quote or trailing backslash")

// ShellSplit splits s into words as Python's shlex.split does (POSIX
// mode): white space separates words, single quotes keep everything,
// double quotes keep everything but a backslash before \ " $ or `, and a
// backslash outside quotes escapes the next character. igwn-robot-get
// reads SEC_CREDENTIAL_GETTOKEN_OPTS with it; ShellQuote is its inverse.
func ShellSplit(s string) ([]string, error) {
	var words []string
	var cur []rune
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, string(cur))
				cur, inWord = cur[:0:0], false
			}
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, ErrShellQuote
			}
			i++
			cur, inWord = append(cur, rs[i]), true
		case r == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, ErrShellQuote
			}
			cur, inWord = append(cur, rs[i+1:j]...), true
			i = j
		case r == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && (rs[j+1] == '\\' || rs[j+1] == '"' || rs[j+1] == '$' || rs[j+1] == '`') {
					j++
				}
				cur = append(cur, rs[j])
			}
			if j >= len(rs) {
				return nil, ErrShellQuote
			}
			inWord = true
			i = j
		default:
			cur, inWord = append(cur, r), true
		}
	}
	if inWord {
		words = append(words, string(cur))
	}
	return words, nil
}

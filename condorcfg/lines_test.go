package condorcfg

import (
	"reflect"
	"testing"
)

func TestLineReader(t *testing.T) {
	type line struct {
		text  string
		start int
	}
	tests := []struct {
		name string
		in   string
		old  bool
		want []line
	}{
		{"trim both sides", "  A = 1  \n", false, []line{{"A = 1", 1}}},
		{"crlf", "A = 1\r\nB = 2\r\n", false, []line{{"A = 1", 1}, {"B = 2", 2}}},
		{"no final newline", "A = 1", false, []line{{"A = 1", 1}}},
		{"continuation keeps space before backslash", "A = x \\\n   y\nB = 2\n", false,
			[]line{{"A = x y", 1}, {"B = 2", 3}}},
		{"continuation without space", "A = x\\\ny\n", false, []line{{"A = xy", 1}}},
		{"blank line ends continuation", "A = x \\\n\nB = 1\n", false,
			[]line{{"A = x ", 1}, {"B = 1", 3}}}, // the blank line is the continuation
		{"commented-out list item keeps going", "L = a, \\\n#  b, \\\n   c\n", false, []line{{"L = a, c", 1}}},
		{"comment line never continues", "# note \\\nA = 1\n", false, []line{{"# note ", 1}, {"A = 1", 2}}},
		{"old comments: comment continues", "# note \\\nA = 1\n", true, []line{{"# note A = 1", 1}}},
		{"old comments: comment inside continuation is text", "L = a \\\n# b\n", true, []line{{"L = a # b", 1}}},
		{"quirk: comment inside continuation adds its last char", "L = a \\\n# xyz\n", false, []line{{"L = a z", 1}}},
		{"continuation at eof", "A = 1 \\\n", false, []line{{"A = 1 ", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lineReader{data: tt.in, oldComments: tt.old}
			var got []line
			for {
				text, start, ok := r.next()
				if !ok {
					break
				}
				got = append(got, line{text, start})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines(%q) = %+v; want %+v", tt.in, got, tt.want)
			}
		})
	}
}

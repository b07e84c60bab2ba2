package localissuer_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/credmon/credmon/credmon/localissuer"
)

func TestGroupsFor(t *testing.T) {
	tests := []struct {
		name, mapfile, user string
		want                []string
		found               bool
	}{
		{"basic", "* alice physics,cms\n", "alice", []string{"physics", "cms"}, true},
		{"single group", "* alice physics\n", "alice", []string{"physics"}, true},
		{"not listed", "* bob physics\n", "alice", nil, false},
		{"empty file", "", "alice", nil, false},
		{"first line wins", "* alice a\n* alice b\n", "alice", []string{"a"}, true},
		{"earlier short line is skipped", "* alice\n* alice b\n", "alice", []string{"b"}, true},
		{"first token must be star", "alice alice a\n* alice b\n", "alice", []string{"b"}, true},
		{"star must be alone", "** alice a\n*x alice b\n", "alice", nil, false},
		{"regex-looking user is literal", "* /alice/ a\n", "alice", nil, false},
		{"empty names are kept", "* alice a,,b,\n", "alice", []string{"a", "", "b", ""}, true},
		{"tokens after the third ignored", "* alice a,b c,d\n", "alice", []string{"a", "b"}, true},
		{"comma then space splits tokens", "* alice a, b\n", "alice", []string{"a", ""}, true},
		{"tabs and runs of spaces", "*\t alice \t\tg1,g2  \n", "alice", []string{"g1", "g2"}, true},
		{"leading whitespace", "   * alice g\n", "alice", []string{"g"}, true},
		{"no final newline", "* alice g", "alice", []string{"g"}, true},
		{"crlf", "* bob x\r\n* alice g\r\n", "alice", []string{"g"}, true},
		{"lone cr ends a line", "* bob x\r* alice g\r", "alice", []string{"g"}, true},
		{"comment lines have no star", "# * alice x\n* alice g\n", "alice", []string{"g"}, true},
		{"unicode space separates", "*\u00a0alice\u3000g\n", "alice", []string{"g"}, true},
		{"information separator is python whitespace", "*\x1calice\x1fg\n", "alice", []string{"g"}, true},
		{"BOM is not whitespace", "\ufeff* alice g\n", "alice", nil, false},
		{"user matched exactly", "* alice2 g\n* Alice h\n", "alice", nil, false},
		{"vertical tab and form feed are whitespace", "*\valice\fg\n", "alice", []string{"g"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, found := localissuer.GroupsFor([]byte(tc.mapfile), tc.user)
			eq(t, "groups", got, tc.want)
			eq(t, "found", found, tc.found)
			m, err := localissuer.ParseGroupMapfile([]byte(tc.mapfile))
			if err != nil {
				t.Fatal(err)
			}
			got2, found2 := m.Groups(tc.user)
			eq(t, "GroupMap groups", got2, tc.want)
			eq(t, "GroupMap found", found2, tc.found)
		})
	}
}

func TestParseGroupMapfileRejectsInvalidUTF8(t *testing.T) {
	_, err := localissuer.ParseGroupMapfile([]byte("* alice g\n* bob \xff\n"))
	if !errors.Is(err, localissuer.ErrMapfileEncoding) {
		t.Fatalf("ParseGroupMapfile(invalid UTF-8) error = %v; want ErrMapfileEncoding", err)
	}
	// GroupsFor is lenient: the bad byte is an ordinary character.
	got, found := localissuer.GroupsFor([]byte("* alice g\xff\n"), "alice")
	eq(t, "groups", got, []string{"g\xff"})
	eq(t, "found", found, true)
}

func TestSplitAudience(t *testing.T) {
	eq(t, "SplitAudience", localissuer.SplitAudience("  https://a  https://b\thttps://c\n"), []string{"https://a", "https://b", "https://c"})
	eq(t, "SplitAudience(empty)", localissuer.SplitAudience("  "), []string(nil))
	eq(t, "SplitAudience(\\x1c)", localissuer.SplitAudience("a\x1cb"), []string{"a", "b"})
}

// pythonGroups runs the mapfile rules of LocalCredmon.get_user_groups in
// CPython (text-mode file iteration, str.split(), split(",")) for each case.
func pythonGroups(t *testing.T, cases [][2]string) []struct {
	Groups []string
	Found  bool
} {
	py := python3(t)
	in, _ := json.Marshal(cases)
	const script = `
import io, json, sys
out = []
for text, user in json.load(sys.stdin):
    groups, found = [], False
    # newline=None: universal newlines, as open(mapfile) in text mode.
    for line in io.StringIO(text, newline=None):
        tokens = line.split()
        if len(tokens) < 3 or tokens[0] != "*":
            continue
        if tokens[1] == user:
            groups, found = tokens[2].split(","), True
            break
    out.append({"Groups": groups if found else None, "Found": found})
json.dump(out, sys.stdout)
`
	var res []struct {
		Groups []string
		Found  bool
	}
	if err := json.Unmarshal(run(t, in, py, "-c", script), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestGroupsForMatchesPython(t *testing.T) {
	cases := [][2]string{
		{"* alice a,b\n", "alice"}, {"* alice\n* alice b", "alice"}, {"*\x1calice\x1dg", "alice"},
		{"* bob x\r* alice g\r", "alice"}, {"* bob x\r\n* alice g\r\n", "alice"}, {"\u2028* alice g", "alice"},
		{"* alice\u2028g\n", "alice"}, {"* alice \u0085 g", "alice"}, {"* alice a,,b,", "alice"},
		{"\ufeff* alice g", "alice"}, {"* al ice g", "al"}, {"", "alice"}, {"* alice a b c", "alice"},
	}
	// Note: Python's StringIO(newline=None) and file iteration both split
	// lines on \n, \r and \r\n only; U+2028 and U+0085 are whitespace
	// inside a line, not line ends.
	py := pythonGroups(t, cases)
	for i, c := range cases {
		got, found := localissuer.GroupsFor([]byte(c[0]), c[1])
		if found != py[i].Found || !equalStrings(got, py[i].Groups) {
			t.Errorf("GroupsFor(%q, %q) = %q, %v; Python gives %q, %v", c[0], c[1], got, found, py[i].Groups, py[i].Found)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzGroupsFor(f *testing.F) {
	f.Add([]byte("* alice a,b\n* bob c\n"), "alice")
	f.Add([]byte("*\talice\r* alice x"), "alice")
	f.Add([]byte("* alice a,,b,\r\n"), "alice")
	f.Add([]byte("\xff* alice g"), "alice")
	f.Fuzz(func(t *testing.T, mapfile []byte, user string) {
		groups, found := localissuer.GroupsFor(mapfile, user)
		if !found && groups != nil {
			t.Fatalf("GroupsFor not found but groups = %q", groups)
		}
		if found && len(groups) == 0 {
			t.Fatal("GroupsFor found a line but no groups (split always yields one)")
		}
		for _, g := range groups {
			for _, r := range g {
				if r == ',' || (utf8.ValidString(g) && isSpaceForTest(r)) {
					t.Fatalf("group %q contains a separator", g)
				}
			}
		}
		if !utf8.Valid(mapfile) {
			return
		}
		m, err := localissuer.ParseGroupMapfile(mapfile)
		if err != nil {
			t.Fatal(err)
		}
		g2, f2 := m.Groups(user)
		if f2 != found || !equalStrings(g2, groups) {
			t.Fatalf("ParseGroupMapfile().Groups = %q, %v; GroupsFor = %q, %v", g2, f2, groups, found)
		}
	})
}

func isSpaceForTest(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

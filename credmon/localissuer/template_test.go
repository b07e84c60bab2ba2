package localissuer_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/localissuer"
)

var user = map[string]string{"username": "alice"}

func TestFormatTemplate(t *testing.T) {
	tests := []struct {
		name, tmpl string
		want       string
		wantErr    string // substring of the error; "" means success
	}{
		{"default template", localissuer.DefaultAuthzTemplate, "read:/user/alice write:/user/alice", ""},
		{"empty", "", "", ""},
		{"no fields", "storage.read:/", "storage.read:/", ""},
		{"field only", "{username}", "alice", ""},
		{"repeated field", "{username}{username}", "alicealice", ""},
		{"escaped braces are literal", "{{username}}", "{username}", ""},
		{"escaped then field", "{{{username}}}", "{alice}", ""},
		{"double close alone", "}}", "}", ""},
		{"double open alone", "{{", "{", ""},
		{"utf-8 passes through", "lire:/utilisateur/{username}/données", "lire:/utilisateur/alice/données", ""},
		{"whitespace kept verbatim", "  read:/{username}  ", "  read:/alice  ", ""},
		{"single close", "}", "", "single '}'"},
		{"single close after field", "{username}}", "", "single '}'"},
		{"single open at end", "read:/{", "", "single '{'"},
		{"unclosed field", "read:/{username", "", "expected '}' before end of string"},
		{"unknown name", "read:/{user}", "", `unknown field {user} (Python KeyError "user")`},
		{"name with space", "{ username}", "", "unknown field"},
		{"case matters", "{Username}", "", "unknown field"},
		{"auto numbering", "read:/{}", "", "positional field {}"},
		{"index", "{0}", "", "positional field {0}"},
		{"conversion s", "{username!s}", "", "conversion or format spec"},
		{"conversion r", "{username!r}", "", "conversion or format spec"},
		{"format spec", "{username:>5}", "", "conversion or format spec"},
		{"empty format spec", "{username:}", "", "conversion or format spec"},
		{"attribute", "{username.upper}", "", "attribute or index access"},
		{"index access", "{username[0]}", "", "attribute or index access"},
		{"brace in name", "{user{name}}", "", "unexpected '{' in field name"},
		{"unknown before conversion", "{nope!s}", "", "unknown field"},
		{"group name is not a username", "{groupname}", "", "available: {username}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := localissuer.FormatTemplate(tc.tmpl, user)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("FormatTemplate(%q) error = %v; want %q", tc.tmpl, err, tc.want)
				}
				eq(t, "FormatTemplate("+tc.tmpl+")", got, tc.want)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("FormatTemplate(%q) = %q, %v; want error containing %q", tc.tmpl, got, err, tc.wantErr)
			}
		})
	}
}

// pythonFormat runs str.format(username=...) in CPython on every template
// and reports, per template, the result or the exception class.
func pythonFormat(t *testing.T, tmpls []string) []struct{ Out, Err string } {
	py := python3(t)
	in, _ := json.Marshal(tmpls)
	const script = `
import json, sys
out = []
for s in json.load(sys.stdin):
    try:
        out.append({"Out": s.format(username="alice"), "Err": ""})
    except Exception as e:
        out.append({"Out": "", "Err": type(e).__name__})
json.dump(out, sys.stdout)
`
	var res []struct{ Out, Err string }
	if err := json.Unmarshal(run(t, in, py, "-c", script), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// deliberatelyRejected reports whether tmpl uses a field feature that
// FormatTemplate refuses although Python may accept it.
func deliberatelyRejected(tmpl string) bool {
	return strings.ContainsAny(tmpl, "!:.[")
}

// TestFormatTemplateMatchesPython is the independent check: CPython's own
// str.format decides, for a corpus of tricky templates.
func TestFormatTemplateMatchesPython(t *testing.T) {
	tmpls := []string{
		"", "{", "}", "{{", "}}", "{}", "{{}}", "{}}", "{{}", "}{", "{{{", "}}}", "{{{{", "}}}}",
		"{username}", "{{username}}", "{{{username}}}", "{{{{username}}}}", "{username}}", "{{username}",
		"{username", "username}", "{ username }", "{0}", "{1}", "{-1}", "{username!s}", "{username!r}",
		"{username!a}", "{username!}", "{username!x}", "{username:}", "{username:>10}", "{username:.2}",
		"{username.upper}", "{username[0]}", "{username[}", "{user{name}}", "{username:{username}}",
		"{{}}{username}{{}}", "read:/user/{username} write:/user/{username}", "a}}b{{c", "a}b", "a{b}c",
		"é{username}ü", "\x00{username}\x00", "{username}\n{username}", "{:}", "{!r}", "{[0]}", "{.x}",
	}
	py := pythonFormat(t, tmpls)
	for i, tmpl := range tmpls {
		got, err := localissuer.FormatTemplate(tmpl, user)
		switch {
		case py[i].Err == "" && err == nil:
			if got != py[i].Out {
				t.Errorf("FormatTemplate(%q) = %q; Python gives %q", tmpl, got, py[i].Out)
			}
		case py[i].Err != "" && err == nil:
			t.Errorf("FormatTemplate(%q) = %q; Python raises %s", tmpl, got, py[i].Err)
		case py[i].Err == "" && err != nil && !deliberatelyRejected(tmpl):
			t.Errorf("FormatTemplate(%q) error %v; Python gives %q", tmpl, err, py[i].Out)
		}
	}
}

// escapeBraces is the inverse of formatting a template without fields.
func escapeBraces(s string) string {
	return strings.NewReplacer("{", "{{", "}", "}}").Replace(s)
}

func FuzzFormatTemplate(f *testing.F) {
	for _, s := range []string{"", "{username}", "{{", "}}", "{", "}", "{0}", "{username!s}", "{a{b}c}", "read:/user/{username} write:/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		got, err := localissuer.FormatTemplate(tmpl, user)
		if err != nil {
			if got != "" {
				t.Fatalf("FormatTemplate(%q) = %q with error %v; want empty result", tmpl, got, err)
			}
			return
		}
		// Without fields, formatting the escaped text gives the text back.
		lit, err := localissuer.FormatTemplate(escapeBraces(tmpl), user)
		if err != nil || lit != tmpl {
			t.Fatalf("FormatTemplate(escape(%q)) = %q, %v; want the input", tmpl, lit, err)
		}
		// A successful expansion can only contain the braces that were
		// escaped: replacing {username} by a brace-free value never adds one.
		if strings.Count(got, "{") > strings.Count(tmpl, "{")/2 {
			t.Fatalf("FormatTemplate(%q) = %q has unescaped '{'", tmpl, got)
		}
	})
}

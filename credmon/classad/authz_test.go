package classad_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// userAd builds the ad the local credmon evaluates
// LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR in: "a ClassAd containing the
// submitter's system username in the Username attribute"
// (docs/admin-manual/configuration-macros.rst; docs/htcondor-contract.md#local-issuer).
func userAd(user string) *classad.Ad {
	ad := classad.NewAd()
	ad.SetString("Username", user)
	return ad
}

// TestAuthzTemplateExpr evaluates expressions of the kind admins write for
// LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR.
func TestAuthzTemplateExpr(t *testing.T) {
	tests := []struct {
		name, expr, user, want string
	}{
		{"default template as expr", `strcat("read:/user/", Username, " write:/user/", Username)`,
			"alice", "read:/user/alice write:/user/alice"},
		{"admin gets everything", `ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username))`,
			"admin", "read:/ write:/"},
		{"admin test is case-insensitive", `ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username))`,
			"ADMIN", "read:/ write:/"},
		{"non-admin", `ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username))`,
			"bob", "read:/user/bob"},
		{"exact match with =?=", `Username =?= "Admin" ? "read:/" : strcat("read:/user/", Username)`,
			"admin", "read:/user/admin"},
		{"member of a list", `strcat("read:/user/", Username, ifThenElse(stringListMember(Username, "alice, carol"), " write:/shared", ""))`,
			"carol", "read:/user/carol write:/shared"},
		{"not a member", `strcat("read:/user/", Username, ifThenElse(stringListMember(Username, "alice, carol"), " write:/shared", ""))`,
			"dave", "read:/user/dave"},
		{"list member()", `member(Username, {"alice", "carol"}) ? "write:/shared" : "read:/shared"`,
			"alice", "write:/shared"},
		{"regex group", `strcat("read:/project/", regexps("^([a-z]+)[0-9]*$", Username, "\\1"))`,
			"cms042", "read:/project/cms"},
		{"replace in name", `strcat("read:/user/", replaceAll("\\.", Username, "_"))`,
			"first.last", "read:/user/first_last"},
		{"lower-case path", `strcat("read:/user/", toLower(Username))`,
			"Alice", "read:/user/alice"},
		{"user part of user@domain", `strcat("read:/user/", splitUserName(Username)[0])`,
			"alice@example.org", "read:/user/alice"},
		{"join scopes", `join(" ", strcat("read:/user/", Username), strcat("write:/user/", Username), "read:/public")`,
			"alice", "read:/user/alice write:/user/alice read:/public"},
		{"join a list", `join(" ", { strcat("read:/user/", Username), "read:/public" })`,
			"alice", "read:/user/alice read:/public"},
		{"first letter directory", `strcat("read:/home/", substr(Username, 0, 1), "/", Username)`,
			"alice", "read:/home/a/alice"},
		{"MY prefix", `strcat("read:/user/", MY.Username)`, "alice", "read:/user/alice"},
		{"default when missing", `strcat("read:/user/", Username ?: "nobody")`, "alice", "read:/user/alice"},
		{"plain string", `"read:/public"`, "alice", "read:/public"},
		{"comments and newlines", "strcat(\"read:/user/\", Username) // per-user\n", "alice", "read:/user/alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := classad.EvalString(tt.expr, userAd(tt.user))
			if err != nil {
				t.Fatalf("EvalString(%s) for %q = %v", tt.expr, tt.user, err)
			}
			if got != tt.want {
				t.Errorf("EvalString(%s) for %q = %q; want %q", tt.expr, tt.user, got, tt.want)
			}
		})
	}
}

// TestAuthzTemplateExprErrors checks that misconfigured expressions fail
// with a message that says why.
func TestAuthzTemplateExprErrors(t *testing.T) {
	tests := []struct {
		name, expr  string
		notString   bool   // errors.Is(err, ErrNotString)
		unsupported bool   // errors.Is(err, ErrUnsupported)
		msg         string // substring of the error
	}{
		{"typo in attribute", `strcat("read:/user/", Usrname)`, true, false,
			`evaluated to undefined (attribute "Usrname" is not in the ad)`},
		{"integer result", `1 + 1`, true, false, "evaluated to integer 2"},
		{"boolean result", `Username == "alice"`, true, false, "evaluated to boolean true"},
		{"list result", `{Username}`, true, false, `evaluated to list { Username }`},
		{"real result", `2.5`, true, false, "evaluated to real 2.5"},
		{"error result", `Username + 1`, true, false, "evaluated to error (operator + is not defined on string)"},
		{"error literal", `error`, true, false, "evaluated to error"},
		{"TARGET is undefined", `strcat("read:/", TARGET.Owner)`, true, false, "there is no target ad"},
		{"userMap", `strcat("read:/group/", userMap("groups", Username))`, false, true, `unsupported function "userMap"`},
		{"syntax error", `strcat("read:/user/" Username)`, false, false, "offset 21: expected ',' or ')'"},
		{"python template syntax", `read:/user/{username}`, false, false, "offset 4: expected end of expression, found ':'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := classad.EvalString(tt.expr, userAd("alice"))
			if err == nil {
				t.Fatalf("EvalString(%s) = %q; want error", tt.expr, got)
			}
			if errors.Is(err, classad.ErrNotString) != tt.notString {
				t.Errorf("EvalString(%s) = %v; errors.Is(ErrNotString) want %v", tt.expr, err, tt.notString)
			}
			if errors.Is(err, classad.ErrUnsupported) != tt.unsupported {
				t.Errorf("EvalString(%s) = %v; errors.Is(ErrUnsupported) want %v", tt.expr, err, tt.unsupported)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("EvalString(%s) = %q; want it to contain %q", tt.expr, err, tt.msg)
			}
		})
	}
}

// TestParseOnceEvalPerUser is the intended use: parse the knob once, then
// evaluate it for each user, concurrently.
func TestParseOnceEvalPerUser(t *testing.T) {
	e, err := classad.Parse(`strcat("read:/user/", Username, " write:/user/", Username)`)
	if err != nil {
		t.Fatal(err)
	}
	users := []string{"alice", "bob", "carol", "dave"}
	done := make(chan error, len(users))
	for _, u := range users {
		go func() {
			for i := 0; i < 100; i++ {
				v := classad.Eval(e, userAd(u))
				if s, _ := v.StringValue(); s != "read:/user/"+u+" write:/user/"+u {
					done <- errors.New("wrong result for " + u + ": " + s)
					return
				}
			}
			done <- nil
		}()
	}
	for range users {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestExprAsAttribute covers binding the knob's expression to an
// attribute of the user ad and evaluating that attribute, the other way
// to evaluate it; a self-reference is then circular, hence ERROR.
func TestExprAsAttribute(t *testing.T) {
	ad := userAd("alice")
	ad.Set("Scopes", classad.MustParse(`strcat("read:/user/", Username)`))
	if v := ad.Eval("Scopes"); render(v) != `"read:/user/alice"` {
		t.Errorf(`Eval("Scopes") = %s; want "read:/user/alice"`, render(v))
	}
	ad.Set("Scopes", classad.MustParse(`strcat(Scopes, " read:/public")`))
	if v := ad.Eval("Scopes"); !v.IsError() || !strings.Contains(v.Reason(), "circular") {
		t.Errorf(`self-referencing Scopes = %s (%s); want circular-reference error`, render(v), v.Reason())
	}
}

package storer_test

import (
	"strings"
	"testing"

	"github.com/credmon/credmon/internal/credname"
	"github.com/credmon/credmon/producer/storer"
)

// FuzzParseRequest: whatever the argument, a request that parses names
// only what credd accepts, splits back into its service, and has reduced
// scopes or audience only with a handle.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"igwn", "igwn_robot&handle=ro&scopes=read:/,write:/x&audience=a",
		"a_b_c", "&", "x&handle", "x&options=-a b", "x&scope=s&handle=h", "_", "x&&", "x&=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		r, err := storer.ParseRequest(arg)
		if err != nil {
			return
		}
		if !credname.OkayForOAuthFilename(r.Service) {
			t.Fatalf("%q: service %q passed with a bad name", arg, r.Service)
		}
		if r.Issuer == "" || (r.Role == "" && r.Issuer != r.Service) || (r.Role != "" && r.Issuer+"_"+r.Role != r.Service) {
			t.Fatalf("%q: issuer %q, role %q do not make service %q", arg, r.Issuer, r.Role, r.Service)
		}
		if r.Handle != "" && !credname.OkayForOAuthFilename(r.StoreName()) {
			t.Fatalf("%q: handle name %q passed with a bad name", arg, r.StoreName())
		}
		if r.Handle == "" && (r.Scopes != "" || r.Audience != "") {
			t.Fatalf("%q: reduced scopes without a handle", arg)
		}
		if strings.ContainsAny(r.Scopes+r.Audience, " \t\n\x00") {
			t.Fatalf("%q: white space in scopes %q or audience %q", arg, r.Scopes, r.Audience)
		}
		if !strings.HasPrefix(arg, r.Service) {
			t.Fatalf("%q: service %q is not the argument's first part", arg, r.Service)
		}
	})
}

// FuzzParseArgs: the command line never panics, and a success has a
// request per argument after the options.
func FuzzParseArgs(f *testing.F) {
	f.Add("-v\x00igwn\x00osg&handle=h")
	f.Add("--\x00-v")
	f.Add("-vd\x00\x00x")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		_, reqs, err := storer.ParseArgs(nil, args)
		if err != nil {
			return
		}
		if len(reqs) == 0 || len(reqs) > len(args) {
			t.Fatalf("%q: %d requests", args, len(reqs))
		}
		if last := args[len(args)-1]; reqs[len(reqs)-1].Arg != last {
			t.Fatalf("%q: last request %q; want %q", args, reqs[len(reqs)-1].Arg, last)
		}
	})
}

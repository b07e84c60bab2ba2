package storer_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/credmon/credmon/producer/storer"
)

func TestParseRequestAcceptsWhatCondorSubmitSends(t *testing.T) {
	for _, tc := range []struct {
		name string
		arg  string
		want storer.Request
	}{
		{"bare service", "igwn", storer.Request{Service: "igwn", Issuer: "igwn"}},
		{"issuer and role", "igwn_robot", storer.Request{Service: "igwn_robot", Issuer: "igwn", Role: "robot"}},
		{"handle with scopes and audience", "igwn&handle=ro&scopes=read:/a,read:/b&audience=https://x.example",
			storer.Request{Service: "igwn", Issuer: "igwn", Handle: "ro", Scopes: "read:/a,read:/b", Audience: "https://x.example"}},
		{"scope spelling of the storer's usage text", "igwn&handle=h&scope=read:/",
			storer.Request{Service: "igwn", Issuer: "igwn", Handle: "h", Scopes: "read:/"}},
		{"handle alone", "igwn&handle=h", storer.Request{Service: "igwn", Issuer: "igwn", Handle: "h"}},
		{"options split at white space", "igwn&options=--credkey=me  -a vault.example",
			storer.Request{Service: "igwn", Issuer: "igwn", Options: []string{"--credkey=me", "-a", "vault.example"}}},
		{"empty value is no value", "igwn&handle=&options=", storer.Request{Service: "igwn", Issuer: "igwn"}},
		{"unknown key kept aside", "igwn&future=1", storer.Request{Service: "igwn", Issuer: "igwn", Ignored: []string{"future=1"}}},
		{"credd's other characters", "a.b-c+d=e", storer.Request{Service: "a.b-c+d=e", Issuer: "a.b-c+d=e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storer.ParseRequest(tc.arg)
			if err != nil {
				t.Fatalf("ParseRequest(%q) = %v", tc.arg, err)
			}
			tc.want.Arg = tc.arg
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseRequest(%q) = %+v; want %+v", tc.arg, got, tc.want)
			}
		})
	}
}

func TestParseRequestRefusesBeforeStoring(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want error
	}{
		{"", storer.ErrNoService},
		{"&handle=h", storer.ErrNoService},
		{"ig wn", storer.ErrBadName},
		{"igwn/x", storer.ErrBadName},
		{"igwn:x", storer.ErrBadName},
		{"igwn&handle=a/b", storer.ErrBadName},
		{"-igwn", storer.ErrLeadingDash},
		{"igwn&handle=a b", storer.ErrBadName},
		{"a_b_c", storer.ErrUnderscores},
		{"a__b", storer.ErrUnderscores},
		{"igwn_", storer.ErrEmptyIssuer},
		{"_robot", storer.ErrEmptyIssuer},
		{"igwn&scopes=read:/", storer.ErrNeedsHandle},
		{"igwn&audience=x", storer.ErrNeedsHandle},
		{"igwn&handle", storer.ErrBadPart},
		{"igwn&handle=a&handle=b", storer.ErrRepeatedPart},
		{"igwn&handle=a&scope=x&scopes=y", storer.ErrRepeatedPart},
		{"igwn&handle=a&scopes=read:/ write:/", storer.ErrBadScopes},
		{"igwn&handle=a&audience=x\ty", storer.ErrBadScopes},
	} {
		_, err := storer.ParseRequest(tc.arg)
		if tc.want == nil {
			if err != nil {
				t.Errorf("ParseRequest(%q) = %v; want success", tc.arg, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseRequest(%q) = %v; want %v", tc.arg, err, tc.want)
		}
	}
}

func TestSplitServiceIsTheScriptsSplit(t *testing.T) {
	for _, tc := range []struct{ in, issuer, role string }{
		{"igwn", "igwn", ""},
		{"igwn_robot", "igwn", "robot"},
		{"dune_production", "dune", "production"},
	} {
		issuer, role, err := storer.SplitService(tc.in)
		if err != nil || issuer != tc.issuer || role != tc.role {
			t.Errorf("SplitService(%q) = %q, %q, %v; want %q, %q", tc.in, issuer, role, err, tc.issuer, tc.role)
		}
	}
}

func TestParseArgsGetopts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		condorOpts []string
		args       []string
		flags      storer.Flags
		services   []string
		err        error
	}{
		{"no options", nil, []string{"igwn"}, storer.Flags{}, []string{"igwn"}, nil},
		{"-v", nil, []string{"-v", "igwn", "osg"}, storer.Flags{Verbose: true}, []string{"igwn", "osg"}, nil},
		{"-d implies -v", nil, []string{"-d", "igwn"}, storer.Flags{Verbose: true, Debug: true}, []string{"igwn"}, nil},
		{"combined", nil, []string{"-vd", "igwn"}, storer.Flags{Verbose: true, Debug: true}, []string{"igwn"}, nil},
		{"--verbose", nil, []string{"--verbose", "igwn"}, storer.Flags{Verbose: true}, []string{"igwn"}, nil},
		{"--debug implies -v", []string{"--debug"}, []string{"igwn"}, storer.Flags{Verbose: true, Debug: true}, []string{"igwn"}, nil},
		{"unknown long option", nil, []string{"--verbosity", "igwn"}, storer.Flags{}, nil, storer.ErrUsage},
		{"from SEC_CREDENTIAL_VAULT_STORER_OPTS", []string{"-v"}, []string{"igwn"}, storer.Flags{Verbose: true}, []string{"igwn"}, nil},
		{"-- ends options", nil, []string{"--", "-v"}, storer.Flags{}, nil, storer.ErrLeadingDash},
		{"options stop at the first service", nil, []string{"igwn", "-v"}, storer.Flags{}, nil, storer.ErrLeadingDash},
		{"unknown option", nil, []string{"-x", "igwn"}, storer.Flags{}, nil, storer.ErrUsage},
		{"no service", nil, []string{"-v"}, storer.Flags{}, nil, storer.ErrUsage},
		{"nothing", nil, nil, storer.Flags{}, nil, storer.ErrUsage},
		{"a service in the knob", []string{"igwn"}, []string{"osg"}, storer.Flags{}, nil, storer.ErrUsage},
		{"one bad argument stops all", nil, []string{"igwn", "a_b_c"}, storer.Flags{}, nil, storer.ErrUnderscores},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags, reqs, err := storer.ParseArgs(tc.condorOpts, tc.args)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseArgs = %v; want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if flags != tc.flags {
				t.Errorf("flags = %+v; want %+v", flags, tc.flags)
			}
			var got []string
			for _, r := range reqs {
				got = append(got, r.Service)
			}
			if !reflect.DeepEqual(got, tc.services) {
				t.Errorf("services = %q; want %q", got, tc.services)
			}
		})
	}
}

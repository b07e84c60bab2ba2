package storer_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/credmon/credmon/producer/storer"
)

type knobs map[string]string

func (k knobs) Lookup(name string) (string, bool) { v, ok := k[name]; return v, ok && v != "" }

func TestEnvFromTheStorersVariables(t *testing.T) {
	env := map[string]string{
		"CONDOR_CREDENTIAL_STORER_MODE": "vault",
		"HTGETTOKENOPTS":                "-a vault.example  --credkey=me",
		"CONDOR_VAULT_STORER_USER":      "alice@example.org",
		"SEC_CREDENTIAL_STORECRED_OPTS": "-n credd.example",
	}
	got := storer.EnvFrom(func(k string) string { return env[k] }, 1234)
	want := storer.Env{
		Mode: "vault", HTGettokenOpts: []string{"-a", "vault.example", "--credkey=me"}, User: "alice@example.org",
		ID: "u1234", StoreCredOpts: []string{"-n", "credd.example"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EnvFrom = %+v; want %+v", got, want)
	}
	env["CONDOR_VAULT_STORER_ID"] = "robot7"
	if got := storer.EnvFrom(func(k string) string { return env[k] }, 1234).ID; got != "robot7" {
		t.Errorf("ID = %q; want CONDOR_VAULT_STORER_ID's", got)
	}
}

func TestConfigFromLocalProviderFallbacks(t *testing.T) {
	for _, tc := range []struct {
		k    knobs
		want []string
	}{
		{knobs{}, []string{"scitokens"}},
		{knobs{"LOCAL_CREDMON_PROVIDER_NAME": "mylocal"}, []string{"mylocal"}},
		{knobs{"LOCAL_CREDMON_PROVIDER_NAMES": "a, b c", "LOCAL_CREDMON_PROVIDER_NAME": "x"}, []string{"a", "b", "c"}},
	} {
		if got := storer.ConfigFrom(tc.k).Providers.Local; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ConfigFrom(%v).Local = %q; want %q", tc.k, got, tc.want)
		}
	}
	if got := storer.ConfigFrom(nil).Providers.Local; !reflect.DeepEqual(got, []string{"scitokens"}) {
		t.Errorf("ConfigFrom(nil).Local = %q", got)
	}
}

func TestRouteLikeTheCredentialStorer(t *testing.T) {
	p := storer.ConfigFrom(knobs{
		"LOCAL_CREDMON_PROVIDER_NAMES":   "scitokens",
		"OAUTH2_CREDMON_PROVIDER_NAMES":  "box",
		"CLIENT_CREDMON_PROVIDER_NAMES":  "client1",
		"PELICAN_CREDMON_PROVIDER_NAMES": "osdf",
	}).Providers
	for arg, want := range map[string]storer.Kind{
		"igwn":           storer.KindVault,
		"igwn_robot":     storer.KindVault,
		"scitokens":      storer.KindOther,
		"scitokens_role": storer.KindOther, // the issuer is a local provider
		"box":            storer.KindOther,
		"box_x":          storer.KindVault, // OAuth2 and client lists match the whole name only
		"client1":        storer.KindOther,
		"osdf":           storer.KindPelican,
		"osdf_ro":        storer.KindPelican,
	} {
		r, err := storer.ParseRequest(arg)
		if err != nil {
			t.Fatal(err)
		}
		if got := storer.Route(r, p); got != want {
			t.Errorf("Route(%q) = %v; want %v", arg, got, want)
		}
	}
}

func TestStoreCredArgsKeepTheCredentialOffTheCommandLine(t *testing.T) {
	s := &storer.StoreCred{User: "alice@example.org", Opts: []string{"-n", "credd.example"}}
	for _, tc := range []struct {
		verb, name, scopes, aud string
		want                    []string
	}{
		{"query-oauth", "igwn", "", "", []string{"query-oauth", "-u", "alice@example.org", "-s", "igwn", "-n", "credd.example"}},
		{"query-oauth", "igwn_ro", "read:/", "aud", []string{"query-oauth", "-u", "alice@example.org", "-s", "igwn_ro", "-n", "credd.example", "-S", "read:/", "-A", "aud"}},
		{"add-oauth", "igwn", "", "", []string{"add-oauth", "-u", "alice@example.org", "-s", "igwn", "-n", "credd.example", "-i", "-"}},
	} {
		if got := s.Args(tc.verb, tc.name, tc.scopes, tc.aud); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Args(%s, %s) = %q; want %q", tc.verb, tc.name, got, tc.want)
		}
	}
	if got, want := s.PlainArgs("robot"), []string{"add-oauth", "-u", "alice@example.org", "-s", "robot", "-n", "credd.example", "-P", "-i", "-"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PlainArgs = %q; want %q", got, want)
	}
	if got, want := s.DeleteCommand("igwn_ro"), "condor_store_cred delete-oauth -u alice@example.org -s igwn_ro -n credd.example"; got != want {
		t.Errorf("DeleteCommand = %q; want %q", got, want)
	}
	if got, want := (&storer.StoreCred{User: "o'brien x"}).DeleteCommand("s"), `condor_store_cred delete-oauth -u 'o'\''brien x' -s s`; got != want {
		t.Errorf("DeleteCommand = %q; want %q", got, want)
	}
}

func TestTerminalStartsWithOneNewline(t *testing.T) {
	var b bytes.Buffer
	term := storer.NewTerminal(&b)
	term.Printf("one")
	term.Printf("two\n")
	if got, want := b.String(), "\none\ntwo\n"; got != want {
		t.Errorf("terminal = %q; want %q", got, want)
	}
}

func TestLocalCredentialIsTheFirstLocalProvider(t *testing.T) {
	for _, tc := range []struct {
		k       knobs
		want    string
		wantErr bool
	}{
		{knobs{}, "LOCAL:scitokens", false},
		{knobs{"LOCAL_CREDMON_PROVIDER_NAMES": "igwnlocal, other"}, "LOCAL:igwnlocal", false},
		{knobs{"LOCAL_CREDMON_PROVIDER_NAMES": "bad/name"}, "", true},
	} {
		got, err := storer.LocalCredential(tc.k)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("LocalCredential(%v) = %q, %v; want %q (error %v)", tc.k, got, err, tc.want, tc.wantErr)
		}
	}
}

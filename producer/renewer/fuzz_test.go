package renewer

import (
	"strings"
	"testing"
)

func FuzzParseConfig(f *testing.F) {
	f.Add(osgDocExample)
	f.Add(otrShippedExample)
	f.Add("[DEFAULT]\nx=%(y)s\ny=%%\n[account a]\npassword_file=%(x)s\n[token t]\naccount=a\ntoken_path=/p\n  cont\n")
	f.Add("[account a]\r\ntoken_request_url: u\r\nclient_id: i\r\nclient_secret: s\r\n[token t]\r\naccount: a\r\ntoken_path: p\r\nmin_lifetime: x\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := parseConfig(strings.NewReader(in), "fuzz.ini")
		if err != nil {
			if _, ok := err.(*configError); !ok {
				t.Fatalf("error %T is not a *configError: %v", err, err)
			}
			return
		}
		for _, tok := range cfg.Tokens {
			a := cfg.Accounts[tok.Account]
			if a == nil {
				t.Fatalf("token %q names account %q, which is not in Accounts", tok.Name, tok.Account)
			}
			if tok.Path == "" || tok.Name == "" {
				t.Fatalf("token %+v has an empty name or path", tok)
			}
			if a.Mode != ModeOIDC && a.Mode != ModeClientCredentials {
				t.Fatalf("account %q has no mode", a.Name)
			}
		}
	})
}

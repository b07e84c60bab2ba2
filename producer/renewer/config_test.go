package renewer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/tokenclient"
)

// osgDocExample is the example of OSGDOC (docs/other/osg-token-renewer.md,
// the seed document), blank lines included.
const osgDocExample = `[account myclient1234]

password_file = /etc/osg/tokens/myclient1234.pw



[token mytoken567]

account = myclient1234
token_path = /etc/osg/tokens/myclient1234.mytoken567.token
`

// otrShippedExample follows the config.ini shipped by osg-token-renewer:
// commented examples, an HTCondor-CE audience, and the client-credentials
// section printed by osg-token-renewer-setup --client-credentials.
const otrShippedExample = `# osg-token-renewer configuration
;
# [account NAME] sections are made with osg-token-renewer-setup

[account myaccount123]
password_file = /etc/osg/tokens/myaccount123.pw

[account robot]
token_request_url = https://cilogon.org/oauth2/token
client_id = cilogon:/client_id/1234
client_secret = s3cr%%t

[token ce]
account = myaccount123
token_path = /etc/osg/tokens/myaccount123.ce.token
# For tokens used against an HTCondor-CE, set the audience to <CE FQDN>:<CE PORT>
audience = ce.example.org:9619
scope = compute.create compute.read compute.modify compute.cancel
min_lifetime = 600

[token robot]
account = robot
token_path = /etc/osg/tokens/robot.token
scope = storage.read:/
`

func TestParseConfigExamples(t *testing.T) {
	cfg, err := parseConfig(strings.NewReader(osgDocExample), "config.ini")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tokens) != 1 || len(cfg.Accounts) != 1 {
		t.Fatalf("got %d tokens, %d accounts; want 1, 1", len(cfg.Tokens), len(cfg.Accounts))
	}
	tok := cfg.Tokens[0]
	a := cfg.Accounts["myclient1234"]
	if tok.Name != "mytoken567" || tok.Account != "myclient1234" || tok.Path != "/etc/osg/tokens/myclient1234.mytoken567.token" {
		t.Errorf("token = %+v", tok)
	}
	if a.Mode != ModeOIDC || a.PasswordFile != "/etc/osg/tokens/myclient1234.pw" {
		t.Errorf("account = %+v", a)
	}
	// Defaults are osg-token-renewer's.
	if !tok.Newline || tok.Mode != nil || tok.UID != -1 || tok.GID != -1 || tok.HasMinLifetime || tok.timeout() != defaultTokenTimeout || tok.audienceMode(a) != tokenclient.AudienceParam {
		t.Errorf("defaults = %+v", tok)
	}

	cfg, err = parseConfig(strings.NewReader(otrShippedExample), "config.ini")
	if err != nil {
		t.Fatal(err)
	}
	ce, robot := cfg.Tokens[0], cfg.Tokens[1]
	if ce.Audience != "ce.example.org:9619" || ce.Scope != "compute.create compute.read compute.modify compute.cancel" || ce.MinLifetime != 600*time.Second || !ce.HasMinLifetime {
		t.Errorf("ce = %+v", ce)
	}
	ra := cfg.Accounts[robot.Account]
	if ra.Mode != ModeClientCredentials || ra.TokenRequestURL != "https://cilogon.org/oauth2/token" || ra.ClientID != "cilogon:/client_id/1234" || ra.ClientSecret != "s3cr%t" {
		t.Errorf("robot account = %+v", ra)
	}
}

func TestParseConfigSyntax(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want map[string]string // token "t" field values: path, audience, scope
	}{
		{"colon delimiter", "[account a]\npassword_file: /pw\n[token t]\naccount: a\ntoken_path: /p\n", map[string]string{"path": "/p"}},
		{"case-insensitive keys", "[account a]\nPassword_File=/pw\n[token t]\nACCOUNT=a\nToken_Path = /p\n", map[string]string{"path": "/p"}},
		{"first delimiter splits", "[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p:x=y\n", map[string]string{"path": "/p:x=y"}},
		{"no inline comments", "[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p # not a comment\n", map[string]string{"path": "/p # not a comment"}},
		{"indented comment line", "[account a]\npassword_file=/pw\n[token t]\naccount=a\n   # comment\n ; comment\ntoken_path=/p\n", map[string]string{"path": "/p"}},
		{"continuation", "[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p\nscope = a\n  b\n\n  c\n\n", map[string]string{"scope": "a\nb\n\nc"}},
		{"comment inside continuation", "[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p\nscope = a\n# x\n  b\n", map[string]string{"scope": "a\nb"}},
		{"CRLF", "[account a]\r\npassword_file=/pw\r\n[token t]\r\naccount=a\r\ntoken_path=/p\r\n", map[string]string{"path": "/p"}},
		{"empty value", "[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p\naudience =\n", map[string]string{"audience": ""}},
		{"DEFAULT supplies keys", "[DEFAULT]\ndir=/etc/osg/tokens\npassword_file=%(dir)s/x.pw\n[account a]\n[token t]\naccount=a\ntoken_path=%(dir)s/%(account)s.token\n", map[string]string{"path": "/etc/osg/tokens/a.token"}},
		{"section overrides DEFAULT", "[DEFAULT]\nscope=x\n[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p\nscope=y\n", map[string]string{"scope": "y"}},
		{"interpolation %%", "[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p%%20\n", map[string]string{"path": "/p%20"}},
		{"nested interpolation", "[account a]\npassword_file=/pw\n[token t]\naccount=a\nx=%(y)s\ny=%(z)s%%\nz=1\ntoken_path=/%(x)s\n", map[string]string{"path": "/1%"}},
		{"interpolation key case", "[account a]\npassword_file=/pw\n[token t]\naccount=a\nBase=/b\ntoken_path=%(BASE)s/t\n", map[string]string{"path": "/b/t"}},
		{"section name spacing", "[account   a]\npassword_file=/pw\n[ token t ]\naccount=a\ntoken_path=/p\n", map[string]string{"path": "/p"}},
		{"unknown keys ignored", "[account a]\npassword_file=/pw\ncolour=blue\n[token t]\naccount=a\ntoken_path=/p\nfoo=bar\n", map[string]string{"path": "/p"}},
		{"header trailing text", "[account a] trailing\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p\n", map[string]string{"path": "/p"}},
		{"BOM", "\ufeff[account a]\npassword_file=/pw\n[token t]\naccount=a\ntoken_path=/p\n", map[string]string{"path": "/p"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(strings.NewReader(tt.in), "c.ini")
			if err != nil {
				t.Fatalf("parseConfig = %v; want success", err)
			}
			if len(cfg.Tokens) != 1 {
				t.Fatalf("got %d tokens; want 1", len(cfg.Tokens))
			}
			tok := cfg.Tokens[0]
			got := map[string]string{"path": tok.Path, "audience": tok.Audience, "scope": tok.Scope}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q; want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	const acct = "[account a]\npassword_file=/pw\n"
	for _, tt := range []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"no section header", "password_file=/pw\n", []string{"c.ini:1", "no section headers"}},
		{"no delimiter", acct + "[token t]\naccount=a\ntoken_path\n", []string{"c.ini:5", "[token t]", "cannot parse"}},
		{"empty key", acct + "[token t]\n=x\n", []string{"c.ini:4", "cannot parse"}},
		{"unrecognized section", "[tokens]\nx=1\n", []string{"[tokens]", "Unrecognized config section"}},
		{"three words", "[token a b]\nx=1\n", []string{"Unrecognized config section 'token a b'"}},
		{"wrong type", "[Token a]\nx=1\n", []string{"Unrecognized"}},
		{"duplicate section", acct + "[account a]\n", []string{"c.ini:3", "already exists (line 1)"}},
		{"duplicate account name", acct + "[account  a]\npassword_file=/x\n", []string{"defined twice"}},
		{"duplicate key", acct + "[token t]\naccount=a\nAccount=a\n", []string{"c.ini:5", "[token t] account", "already given (line 4)"}},
		{"duplicate DEFAULT key", "[DEFAULT]\nx=1\n[DEFAULT]\nx=2\n", []string{"[DEFAULT] x", "already given"}},
		{"missing account key", acct + "[token t]\ntoken_path=/p\n", []string{"[token t]", "missing 'account' attribute"}},
		{"missing account section", acct + "[token t]\naccount=b\ntoken_path=/p\n", []string{"[token t] account", "missing [account b] section"}},
		{"missing token_path", acct + "[token t]\naccount=a\n", []string{"[token t] token_path", "missing 'token_path'"}},
		{"account without mode", "[account a]\nclient_id=x\n[token t]\naccount=a\ntoken_path=/p\n", []string{"[account a]", "missing both 'password_file' and 'token_request_url'"}},
		{"cc without client_id", "[account a]\ntoken_request_url=https://x/token\nclient_secret=s\n[token t]\naccount=a\ntoken_path=/p\n", []string{"[account a] client_id", "missing 'client_id'"}},
		{"cc without secret", "[account a]\ntoken_request_url=https://x/token\nclient_id=c\n[token t]\naccount=a\ntoken_path=/p\n", []string{"[account a] client_secret", "missing 'client_secret'"}},
		{"cc secret twice", "[account a]\ntoken_request_url=https://x/token\nclient_id=c\nclient_secret=s\nclient_secret_file=/s\n[token t]\naccount=a\ntoken_path=/p\n", []string{"client_secret_file", "not both"}},
		{"bad percent", acct + "[token t]\naccount=a\ntoken_path=/p%20\n", []string{"c.ini:5", "[token t] token_path", "'%' must be followed"}},
		{"bad percent in unused key", acct + "[token t]\naccount=a\ntoken_path=/p\nnote=100%\n", []string{"[token t] note"}},
		{"bad reference", acct + "[token t]\naccount=a\ntoken_path=%(x)\n", []string{"bad interpolation variable reference"}},
		{"missing reference", acct + "[token t]\naccount=a\ntoken_path=%(nope)s\n", []string{"%(nope)s refers to a key"}},
		{"interpolation loop", acct + "[token t]\naccount=a\ntoken_path=%(x)s\nx=%(token_path)s\n", []string{"nested too deeply"}},
		{"bad mode", acct + "[token t]\naccount=a\ntoken_path=/p\nmode=0999\n", []string{"[token t] mode", "octal"}},
		{"mode too wide", acct + "[token t]\naccount=a\ntoken_path=/p\nmode=4755\n", []string{"[token t] mode"}},
		{"group-writable mode", acct + "[token t]\naccount=a\ntoken_path=/p\nmode=0660\n", []string{"[token t] mode", "group or others write"}},
		{"other-writable mode", acct + "[token t]\naccount=a\ntoken_path=/p\nmode=0602\n", []string{"[token t] mode", "group or others write"}},
		{"mode the owner cannot read", acct + "[token t]\naccount=a\ntoken_path=/p\nmode=0\n", []string{"[token t] mode", "owner read"}},
		{"bad newline", acct + "[token t]\naccount=a\ntoken_path=/p\nnewline=maybe\n", []string{"[token t] newline", "not a boolean"}},
		{"bad audience_mode", acct + "[token t]\naccount=a\ntoken_path=/p\naudience_mode=aud\n", []string{"[token t] audience_mode"}},
		{"bad account audience_mode", "[account a]\npassword_file=/pw\naudience_mode=x\n[token t]\naccount=a\ntoken_path=/p\n", []string{"[account a] audience_mode"}},
		{"bad timeout", acct + "[token t]\naccount=a\ntoken_path=/p\ntimeout=0\n", []string{"[token t] timeout", "positive"}},
		{"unknown owner", acct + "[token t]\naccount=a\ntoken_path=/p\nowner=no-such-user-xyz\n", []string{"[token t] owner", "unknown user"}},
		{"unknown group", acct + "[token t]\naccount=a\ntoken_path=/p\ngroup=no-such-group-xyz\n", []string{"[token t] group", "unknown group"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(strings.NewReader(tt.in), "c.ini")
			if err == nil {
				t.Fatal("parseConfig = nil; want an error")
			}
			var ce *configError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *configError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseConfigPerTokenAndExtensions(t *testing.T) {
	in := `[DEFAULT]
min_lifetime = 300
[account a]
password_file = /pw
audience_mode = resource
[account unused]
colour = blue
[account cc]
token_request_url = https://issuer/token
client_id = id
client_secret_file = /etc/osg/tokens/cc.secret
[token bad]
account = a
token_path = /p1
min_lifetime = 10m
[token ext]
account = a
token_path = /p2
owner = 0
group = 0
mode = 0640
newline = no
audience_mode = both
timeout = 90s
[token cc]
account = cc
token_path = /p3
timeout = 5
`
	cfg, err := parseConfig(strings.NewReader(in), "c.ini")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Accounts["unused"]; ok {
		t.Error("an account no token uses was validated (osg-token-renewer ignores it)")
	}
	// Every section is listed for status, the unused one with its problem.
	var names []string
	for _, a := range cfg.AllAccounts {
		names = append(names, a.Name)
	}
	if fmt.Sprint(names) != "[a unused cc]" {
		t.Errorf("AllAccounts = %v; want [a unused cc] (file order)", names)
	}
	if u := cfg.AllAccounts[1]; !u.Unused || u.Invalid == nil || cfg.AllAccounts[0].Unused || cfg.AllAccounts[0] != cfg.Accounts["a"] {
		t.Errorf("AllAccounts = %+v %+v; want a used, unused flagged and invalid", cfg.AllAccounts[0], u)
	}
	bad, ext, cc := cfg.Tokens[0], cfg.Tokens[1], cfg.Tokens[2]
	if bad.Invalid == nil || !strings.Contains(bad.Invalid.Error(), "min_lifetime for token 'bad' is not a non-negative integer") {
		t.Errorf("bad.Invalid = %v", bad.Invalid)
	}
	if ext.Invalid != nil || ext.MinLifetime != 300*time.Second {
		t.Errorf("ext min_lifetime from DEFAULT = %v, %v", ext.MinLifetime, ext.Invalid)
	}
	if ext.UID != 0 || ext.GID != 0 || ext.Mode == nil || *ext.Mode != 0o640 || ext.Newline || ext.timeout() != 90*time.Second {
		t.Errorf("ext = %+v", ext)
	}
	if m := ext.audienceMode(cfg.Accounts["a"]); m != tokenclient.AudienceBoth {
		t.Errorf("token audience_mode = %v; want both", m)
	}
	if m := (&Token{}).audienceMode(cfg.Accounts["a"]); m != tokenclient.AudienceResource {
		t.Errorf("account audience_mode = %v; want resource", m)
	}
	if cc.timeout() != 5*time.Second || cfg.Accounts["cc"].ClientSecretFile != "/etc/osg/tokens/cc.secret" {
		t.Errorf("cc = %+v %+v", cc, cfg.Accounts["cc"])
	}
}

func TestLoadConfigAndPath(t *testing.T) {
	t.Setenv(EnvConfigPath, "")
	if got := ConfigPath(); got != DefaultConfigPath {
		t.Errorf("ConfigPath() = %q; want %q", got, DefaultConfigPath)
	}
	p := filepath.Join(t.TempDir(), "config.ini")
	t.Setenv(EnvConfigPath, p)
	if got := ConfigPath(); got != p {
		t.Errorf("ConfigPath() = %q; want %q", got, p)
	}
	_, err := LoadConfig(p)
	if !errors.Is(err, fs.ErrNotExist) || exitCodeOf(err) != exitConfig {
		t.Errorf("LoadConfig(missing) = %v; want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(p, []byte(osgDocExample), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil || cfg.Path != p {
		t.Fatalf("LoadConfig = %v, %v", cfg, err)
	}
}

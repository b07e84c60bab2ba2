package renewer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/tokenclient"
)

// EnvConfigPath overrides DefaultConfigPath, as in osg-token-renewer's
// Python program and its wrapper.
const EnvConfigPath = "OSG_TOKEN_RENEWER_CONFIG_PATH"

// DefaultConfigPath is osg-token-renewer's configuration file.
const DefaultConfigPath = "/etc/osg/token-renewer/config.ini"

// DefaultTokenTimeout bounds the network work for one token (discovery
// plus one grant) when the token has no timeout key. osg-token-renewer's
// client-credentials request uses 10 s and oidc-agent 10 s per
// HTTP request; discovery and the grant are two requests, hence 20 s.
const defaultTokenTimeout = 20 * time.Second

// defaultAudienceMode is how a token's audience is sent when no
// audience_mode key says otherwise: the "audience" parameter, as
// osg-token-renewer's client-credentials mode and oidc-agent 4.x (and 5.x
// with legacy_aud_mode, shipped for the WLCG IAMs) send it.
const defaultAudienceMode = tokenclient.AudienceParam

// ConfigPath returns $OSG_TOKEN_RENEWER_CONFIG_PATH, else DefaultConfigPath.
func ConfigPath() string {
	if p := os.Getenv(EnvConfigPath); p != "" {
		return p
	}
	return DefaultConfigPath
}

// AccountMode says how an account obtains tokens.
type AccountMode int

const (
	// ModeOIDC refreshes with the refresh token of an oidc-agent account
	// file (password_file present).
	ModeOIDC AccountMode = iota + 1
	// ModeClientCredentials uses the client-credentials grant at
	// token_request_url (osg-token-renewer 1.0.0).
	ModeClientCredentials
)

func (m AccountMode) String() string {
	switch m {
	case ModeOIDC:
		return "oidc-agent"
	case ModeClientCredentials:
		return "client-credentials"
	}
	return "unknown"
}

// Account is an [account NAME] section.
type Account struct {
	// Name is NAME: in ModeOIDC the oidc-agent account short name, i.e. the
	// file name in the oidc-agent directory.
	Name string
	Mode AccountMode
	// PasswordFile (ModeOIDC) holds the account file's encryption password
	// on its first line.
	PasswordFile string
	// TokenRequestURL, ClientID and ClientSecret are the client-credentials
	// settings. ClientSecretFile (extension client_secret_file) may replace
	// ClientSecret: its first line is the secret.
	TokenRequestURL  string
	ClientID         string
	ClientSecret     string
	ClientSecretFile string
	// AudienceMode (extension audience_mode) is the default for the
	// account's tokens; nil means DefaultAudienceMode.
	AudienceMode *tokenclient.AudienceMode
	// Line is where the section starts.
	Line int
	// Unused: no token names this account. osg-token-renewer does not
	// validate such a section, so a problem in it does not fail the file:
	// it is Invalid instead (and Mode is then zero).
	Unused  bool
	Invalid error
}

// Token is a [token NAME] section.
type Token struct {
	Name    string
	Account string
	// Path is token_path, the output file.
	Path string
	// Audience and Scope are sent verbatim (space-separated lists); empty
	// means not configured.
	Audience string
	Scope    string
	// MinLifetime is min_lifetime; HasMinLifetime is false when the key is
	// absent, which means: renew on every run (osg-token-renewer).
	MinLifetime    time.Duration
	HasMinLifetime bool
	// Invalid is a problem osg-token-renewer reports per token rather than
	// for the file (a min_lifetime that is not a non-negative
	// integer): the token fails, the others run.
	Invalid error

	// Extensions; the zero values mean osg-token-renewer's behaviour.

	// UID and GID (owner, group) are the token file's owner; -1 keeps the
	// default: the process's uid, and the group of an existing file when
	// it can be kept (else the process's group).
	UID, GID int
	// Mode (mode, octal) is the token file's permission bits; nil keeps the
	// existing file's bits, 0600 for a new file.
	Mode *fs.FileMode
	// Newline (newline, boolean) ends the file with "\n"; true by default,
	// as osg-token-renewer writes access_token+"\n" in both modes.
	Newline bool
	// AudienceMode (audience_mode: audience, resource or both); nil means
	// the account's, else DefaultAudienceMode.
	AudienceMode *tokenclient.AudienceMode
	// Timeout (timeout, seconds or a Go duration) bounds this token's
	// network work; zero means DefaultTokenTimeout.
	Timeout time.Duration
	// Line is where the section starts.
	Line int
}

// Config is a parsed config.ini.
type Config struct {
	// Path is the file's name as given to ParseConfig (for messages).
	Path string
	// Accounts are the accounts referenced by some token (osg-token-
	// renewer validates only those), by name.
	Accounts map[string]*Account
	// AllAccounts is every [account] section in file order: those of
	// Accounts, and the Unused ones (for status).
	AllAccounts []*Account
	// Tokens in file order.
	Tokens []*Token
}

// LoadConfig reads and parses the file at path. A missing file is an
// error wrapping fs.ErrNotExist; osg-token-renewer treats it as an empty
// configuration and exits 0, which callers may reproduce with
// errors.Is.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading renewer configuration: %w", err)
	}
	defer f.Close()
	return parseConfig(f, path)
}

// Section types, the first word of a section name.
const (
	sectAccount = "account"
	sectToken   = "token"
)

// Keys of config.ini. Those marked extension are not osg-token-renewer's.
const (
	keyPasswordFile     = "password_file"
	keyTokenRequestURL  = "token_request_url"
	keyClientID         = "client_id"
	keyClientSecret     = "client_secret"
	keyClientSecretFile = "client_secret_file" // extension
	keyAccount          = "account"
	keyTokenPath        = "token_path"
	keyAudience         = "audience"
	keyScope            = "scope"
	keyMinLifetime      = "min_lifetime"
	keyOwner            = "owner"         // extension
	keyGroup            = "group"         // extension
	keyMode             = "mode"          // extension
	keyNewline          = "newline"       // extension
	keyAudienceMode     = "audience_mode" // extension
	keyTimeout          = "timeout"       // extension
)

// parseConfig parses osg-token-renewer's config.ini from r; name is used
// in error messages. The rules (configparser's, and
// osg-token-renewer's validation, which stops at the first problem) are in
// the package documentation. Errors are *configError.
func parseConfig(r io.Reader, name string) (*Config, error) {
	ini, err := parseINI(r, name)
	if err != nil {
		return nil, err
	}
	type sect struct {
		s    *iniSection
		vals map[string]string
	}
	accounts := map[string]sect{}
	var accountOrder []string
	var tokens []sect
	tokenNames := map[string]bool{}
	for _, s := range ini.sections {
		vals := map[string]string{}
		for _, k := range ini.keysOf(s) {
			v, err := ini.interpolate(name, s, k)
			if err != nil {
				return nil, err
			}
			vals[k] = v
		}
		words := strings.Fields(s.name)
		if len(words) != 2 || (words[0] != sectAccount && words[0] != sectToken) {
			return nil, &configError{File: name, Line: s.line, Section: s.name,
				Msg: fmt.Sprintf("Unrecognized config section '%s' (want [account NAME] or [token NAME])", s.name)}
		}
		switch words[0] {
		case sectAccount:
			if _, dup := accounts[words[1]]; dup {
				return nil, &configError{File: name, Line: s.line, Section: s.name, Msg: fmt.Sprintf("account %q is defined twice", words[1])}
			}
			accounts[words[1]] = sect{s, vals}
			accountOrder = append(accountOrder, words[1])
		case sectToken:
			if tokenNames[words[1]] {
				return nil, &configError{File: name, Line: s.line, Section: s.name, Msg: fmt.Sprintf("token %q is defined twice", words[1])}
			}
			tokenNames[words[1]] = true
			tokens = append(tokens, sect{s, vals})
		}
	}

	cfg := &Config{Path: name, Accounts: map[string]*Account{}}
	for _, ts := range tokens {
		tname := strings.Fields(ts.s.name)[1]
		errAt := func(key, format string, a ...any) error {
			line := ts.s.at[key]
			if line == 0 {
				line = ini.defaults.at[key]
			}
			if line == 0 {
				line = ts.s.line
			}
			return &configError{File: name, Line: line, Section: ts.s.name, Key: key, Msg: fmt.Sprintf(format, a...)}
		}
		aname, ok := ts.vals[keyAccount]
		if !ok {
			return nil, errAt("", "missing 'account' attribute")
		}
		as, ok := accounts[aname]
		if !ok {
			return nil, errAt(keyAccount, "missing [account %s] section", aname)
		}
		if _, done := cfg.Accounts[aname]; !done {
			a, err := parseAccount(name, ini, aname, as.s, as.vals)
			if err != nil {
				return nil, err
			}
			cfg.Accounts[aname] = a
		}
		t := &Token{Name: tname, Account: aname, UID: -1, GID: -1, Newline: true, Line: ts.s.line}
		if t.Path, ok = ts.vals[keyTokenPath]; !ok || t.Path == "" {
			return nil, errAt(keyTokenPath, "missing 'token_path' attribute")
		}
		t.Audience = ts.vals[keyAudience]
		t.Scope = ts.vals[keyScope]
		if v, ok := ts.vals[keyMinLifetime]; ok {
			n, err := parseDigits(v)
			if err != nil {
				t.Invalid = errAt(keyMinLifetime, "min_lifetime for token '%s' is not a non-negative integer: %q", tname, v)
			} else {
				t.MinLifetime, t.HasMinLifetime = time.Duration(n)*time.Second, true
			}
		}
		if v, ok := ts.vals[keyOwner]; ok {
			if t.UID, err = lookupID(v, true); err != nil {
				return nil, errAt(keyOwner, "%v", err)
			}
		}
		if v, ok := ts.vals[keyGroup]; ok {
			if t.GID, err = lookupID(v, false); err != nil {
				return nil, errAt(keyGroup, "%v", err)
			}
		}
		if v, ok := ts.vals[keyMode]; ok {
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil || n > 0o777 {
				return nil, errAt(keyMode, "%q is not an octal permission mode such as 0640", v)
			}
			// The token reader every command shares (bearer.ReadInfo) refuses
			// a group- or other-writable file, since anyone in the group could
			// swap the token; a mode that allows it would make every run
			// re-mint a token it then cannot trust. A file its owner cannot
			// read is no token at all.
			if n&0o022 != 0 {
				return nil, errAt(keyMode, "%q lets group or others write the token (use 0600, or 0640 to share it read-only)", v)
			}
			if n&0o400 == 0 {
				return nil, errAt(keyMode, "%q does not let the owner read the token (use 0600)", v)
			}
			m := fs.FileMode(n)
			t.Mode = &m
		}
		if v, ok := ts.vals[keyNewline]; ok {
			if t.Newline, err = parseBool(v); err != nil {
				return nil, errAt(keyNewline, "%v", err)
			}
		}
		if v, ok := ts.vals[keyAudienceMode]; ok {
			m, err := parseAudienceMode(v)
			if err != nil {
				return nil, errAt(keyAudienceMode, "%v", err)
			}
			t.AudienceMode = &m
		}
		if v, ok := ts.vals[keyTimeout]; ok {
			if t.Timeout, err = parseTimeout(v); err != nil {
				return nil, errAt(keyTimeout, "%v", err)
			}
		}
		cfg.Tokens = append(cfg.Tokens, t)
	}
	for _, aname := range accountOrder {
		a := cfg.Accounts[aname]
		if a == nil {
			as := accounts[aname]
			var err error
			if a, err = parseAccount(name, ini, aname, as.s, as.vals); err != nil {
				a = &Account{Name: aname, Line: as.s.line, Invalid: err}
			}
			a.Unused = true
		}
		cfg.AllAccounts = append(cfg.AllAccounts, a)
	}
	return cfg, nil
}

func parseAccount(file string, ini *iniFile, aname string, s *iniSection, vals map[string]string) (*Account, error) {
	errAt := func(key, format string, a ...any) error {
		line := s.at[key]
		if line == 0 {
			line = ini.defaults.at[key]
		}
		if line == 0 {
			line = s.line
		}
		return &configError{File: file, Line: line, Section: s.name, Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	a := &Account{Name: aname, Line: s.line}
	if v, ok := vals[keyAudienceMode]; ok {
		m, err := parseAudienceMode(v)
		if err != nil {
			return nil, errAt(keyAudienceMode, "%v", err)
		}
		a.AudienceMode = &m
	}
	if pw, ok := vals[keyPasswordFile]; ok {
		// password_file wins over token_request_url.
		if pw == "" {
			return nil, errAt(keyPasswordFile, "empty 'password_file'")
		}
		a.Mode, a.PasswordFile = ModeOIDC, pw
		return a, nil
	}
	u, ok := vals[keyTokenRequestURL]
	if !ok {
		return nil, errAt("", "missing both 'password_file' and 'token_request_url' attributes")
	}
	a.Mode, a.TokenRequestURL = ModeClientCredentials, u
	if a.ClientID, ok = vals[keyClientID]; !ok {
		return nil, errAt(keyClientID, "missing 'client_id'")
	}
	sec, hasSecret := vals[keyClientSecret]
	secFile, hasFile := vals[keyClientSecretFile]
	switch {
	case hasSecret && hasFile:
		return nil, errAt(keyClientSecretFile, "give either 'client_secret' or 'client_secret_file', not both")
	case hasSecret:
		a.ClientSecret = sec
	case hasFile && secFile != "":
		a.ClientSecretFile = secFile
	default:
		return nil, errAt(keyClientSecret, "missing 'client_secret'")
	}
	return a, nil
}

// parseDigits accepts what osg-token-renewer's min_lifetime check accepts
// (str.isdigit, restricted to ASCII digits).
func parseDigits(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a non-negative integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > int64((1<<63-1)/time.Second) {
		return 0, errors.New("out of range")
	}
	return n, nil
}

// parseBool accepts configparser's getboolean spellings.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (yes/no, true/false, on/off, 1/0)", s)
}

func parseAudienceMode(s string) (tokenclient.AudienceMode, error) {
	switch strings.ToLower(s) {
	case "audience":
		return tokenclient.AudienceParam, nil
	case "resource":
		return tokenclient.AudienceResource, nil
	case "both":
		return tokenclient.AudienceBoth, nil
	}
	return 0, fmt.Errorf("%q is not an audience mode (audience, resource or both)", s)
}

// parseTimeout accepts whole seconds or a Go duration ("90s", "2m").
func parseTimeout(s string) (time.Duration, error) {
	var d time.Duration
	if n, err := parseDigits(s); err == nil {
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is not a number of seconds or a duration such as 30s", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: the timeout must be positive", s)
	}
	return d, nil
}

// lookupID resolves a user (or group) name or number.
func lookupID(s string, isUser bool) (int, error) {
	if n, err := strconv.ParseUint(s, 10, 31); err == nil {
		return int(n), nil
	}
	kind := "group"
	var id string
	if isUser {
		kind = "user"
		u, err := user.Lookup(s)
		if err != nil {
			return -1, fmt.Errorf("unknown %s %q: %v", kind, s, err)
		}
		id = u.Uid
	} else {
		g, err := user.LookupGroup(s)
		if err != nil {
			return -1, fmt.Errorf("unknown %s %q: %v", kind, s, err)
		}
		id = g.Gid
	}
	n, err := strconv.ParseUint(id, 10, 31)
	if err != nil {
		return -1, fmt.Errorf("%s %q has a non-numeric id %q", kind, s, id)
	}
	return int(n), nil
}

// timeout returns t's timeout or the default.
func (t *Token) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return defaultTokenTimeout
}

// audienceMode resolves the token's audience mode.
func (t *Token) audienceMode(a *Account) tokenclient.AudienceMode {
	switch {
	case t.AudienceMode != nil:
		return *t.AudienceMode
	case a != nil && a.AudienceMode != nil:
		return *a.AudienceMode
	}
	return defaultAudienceMode
}

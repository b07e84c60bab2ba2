package knobs

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/tokenclient"
)

func credmonFrom(t *testing.T, text string, ov Overrides) (*Credmon, error) {
	t.Helper()
	cfg, err := condorcfg.LoadString("test_config", text, condorcfg.Options{Subsystem: "CREDMON_OAUTH", ConfigVal: "-", Env: []string{}})
	if err != nil {
		t.Fatalf("LoadString: %v", err)
	}
	return LoadCredmon(cfg, "CREDMON_OAUTH", ov)
}

func TestLoadCredmonDefaults(t *testing.T) {
	m, err := credmonFrom(t, "LOG = /var/log/condor\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"CredDir":              "",
		"LogPath":              "/var/log/condor/CredmonOauthLog",
		"MaxLog":               int64(10 << 20),
		"MaxNumLog":            1,
		"Debug":                false,
		"AllowSpecialNames":    false,
		"LocalNames":           []string{"scitokens"},
		"OAuth2All":            true,
		"VaultAll":             true,
		"VaultEnabled":         false,
		"ScanInterval":         60 * time.Second,
		"RefreshFraction":      0.5,
		"RefreshJitter":        0.1,
		"RefreshMargin":        60 * time.Second,
		"SecCredentialRefresh": 300 * time.Second,
		"MinRefreshInterval":   30 * time.Second,
		"Workers":              8,
		"HTTPTimeout":          30 * time.Second,
		"ConnectTimeout":       10 * time.Second,
		"MinBackoff":           10 * time.Second,
		"MaxBackoff":           5 * time.Minute,
		"AllowInsecure":        false,
		"AudienceMode":         tokenclient.AudienceBoth,
		"SendScopes":           true,
	}
	v := reflect.ValueOf(*m)
	for field, w := range want {
		if got := v.FieldByName(field).Interface(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v; want %#v", field, got, w)
		}
	}
}

func TestLoadCredmonKnobs(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		ov    Overrides
		check func(t *testing.T, m *Credmon)
	}{
		{"cred dir precedence: _OAUTH over plain", "SEC_CREDENTIAL_DIRECTORY = /a\nSEC_CREDENTIAL_DIRECTORY_OAUTH = /b\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.CredDir, "/b") }},
		{"cred dir fallback", "SEC_CREDENTIAL_DIRECTORY = /a\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.CredDir, "/a") }},
		{"--cred-dir wins", "SEC_CREDENTIAL_DIRECTORY_OAUTH = /b\n", Overrides{CredDir: "/c"},
			func(t *testing.T, m *Credmon) { eq(t, m.CredDir, "/c") }},
		{"empty value is unset", "SEC_CREDENTIAL_DIRECTORY_OAUTH =\nSEC_CREDENTIAL_DIRECTORY = /a\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.CredDir, "/a") }},
		{"feature:OAUTH", "LOG = /l\nuse feature:OAUTH\n", Overrides{},
			func(t *testing.T, m *Credmon) {
				eq(t, m.CredDir, "/var/lib/condor/oauth_credentials")
				eq(t, m.LogPath, "/l/CredMonOAuthLog")
			}},
		{"log knob and --log-file", "CREDMON_OAUTH_LOG = /x/log\n", Overrides{LogFile: "/y/log"},
			func(t *testing.T, m *Credmon) { eq(t, m.LogPath, "/y/log") }},
		{"log size units", "MAX_CREDMON_OAUTH_LOG = 2 Mb\nMAX_DEFAULT_LOG = 1\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.MaxLog, int64(2<<20)) }},
		{"default log size knob", "MAX_DEFAULT_LOG = 500\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.MaxLog, int64(500)) }},
		{"debug from knob", "CREDMON_OAUTH_DEBUG = D_FULLDEBUG D_SECURITY\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.Debug, true) }},
		{"debug from -d", "", Overrides{Debug: true},
			func(t *testing.T, m *Credmon) { eq(t, m.Debug, true) }},
		{"provider lists", "LOCAL_CREDMON_PROVIDER_NAMES = a, b\nOAUTH2_CREDMON_PROVIDER_NAMES = box gdrive\nVAULT_CREDMON_PROVIDER_NAMES = *\n", Overrides{},
			func(t *testing.T, m *Credmon) {
				eq(t, m.LocalNames, []string{"a", "b"})
				eq(t, m.OAuth2Names, []string{"box", "gdrive"})
				eq(t, m.OAuth2All, false)
				eq(t, m.VaultAll, true)
				eq(t, m.VaultEnabled, true)
			}},
		{"local name fallback", "LOCAL_CREDMON_PROVIDER_NAME = mytok\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.LocalNames, []string{"mytok"}) }},
		{"storer enables vault", "SEC_CREDENTIAL_STORER = /usr/bin/condor_credential_storer\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.VaultEnabled, true) }},
		{"subsystem override", "CREDMON_OAUTH_WORKERS = 4\nCREDMON_OAUTH.CREDMON_OAUTH_WORKERS = 16\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.Workers, 16) }},
		{"fractional seconds", "CREDMON_OAUTH_HTTP_TIMEOUT = 2.5\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.HTTPTimeout, 2500*time.Millisecond) }},
		{"audience mode", "CREDMON_OAUTH_REFRESH_AUDIENCE_MODE = Resource\n", Overrides{},
			func(t *testing.T, m *Credmon) { eq(t, m.AudienceMode, tokenclient.AudienceResource) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := credmonFrom(t, tt.text, tt.ov)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func eq(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v; want %#v", got, want)
	}
}

func TestLoadCredmonErrorsNameTheKnob(t *testing.T) {
	for _, tt := range []struct{ text, knob string }{
		{"CREDMON_OAUTH_WORKERS = many\n", "CREDMON_OAUTH_WORKERS"},
		{"CREDMON_OAUTH_WORKERS = 0\n", "CREDMON_OAUTH_WORKERS"},
		{"CREDMON_OAUTH_REFRESH_FRACTION = 1.5\n", "CREDMON_OAUTH_REFRESH_FRACTION"},
		{"CREDMON_OAUTH_REFRESH_JITTER = -1\n", "CREDMON_OAUTH_REFRESH_JITTER"},
		{"CREDMON_OAUTH_SCAN_INTERVAL = 0\n", "CREDMON_OAUTH_SCAN_INTERVAL"},
		{"CREDMON_OAUTH_HTTP_TIMEOUT = -3\n", "CREDMON_OAUTH_HTTP_TIMEOUT"},
		{"CREDMON_OAUTH_MIN_BACKOFF = 60\nCREDMON_OAUTH_MAX_BACKOFF = 10\n", "CREDMON_OAUTH_MIN_BACKOFF"},
		{"MAX_CREDMON_OAUTH_LOG = 1 day\n", "MAX_CREDMON_OAUTH_LOG"},
		{"CREDMON_ALLOW_SPECIAL_CHAR_NAMES = perhaps\n", "CREDMON_ALLOW_SPECIAL_CHAR_NAMES"},
		{"CREDMON_OAUTH_REFRESH_AUDIENCE_MODE = sideways\n", "CREDMON_OAUTH_REFRESH_AUDIENCE_MODE"},
	} {
		_, err := credmonFrom(t, tt.text, Overrides{})
		if err == nil || !strings.Contains(err.Error(), tt.knob) {
			t.Errorf("config %q: error %v; want one naming %s", tt.text, err, tt.knob)
		}
	}
}

func TestProviderKnobs(t *testing.T) {
	m, err := credmonFrom(t, `
BOX_CLIENT_ID = boxid
BOX_CLIENT_SECRET_FILE = /etc/condor/.secrets/box
BOX_TOKEN_URL = https://api.box.com/oauth2/token
BOX_RETURN_URL_SUFFIX = /return/box
IAM_CLIENT_ID = iamid
IAM_ISSUER = https://iam.example/
IAM_TOKEN_AUTH_METHOD = client_secret_basic
IAM_REFRESH_AUDIENCE_MODE = audience
IAM_REFRESH_SEND_SCOPES = false
BAD_TOKEN_AUTH_METHOD = private_key_jwt
`, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	box, err := m.Provider("box") // knob names are case-insensitive
	if err != nil {
		t.Fatal(err)
	}
	eq(t, *box, Provider{Name: "box", ClientID: "boxid", ClientSecretFile: "/etc/condor/.secrets/box",
		TokenURL: "https://api.box.com/oauth2/token", AuthStyle: oauth2.AuthStyleInParams,
		// BOX_AUTHORIZATION_URL is in HTCondor's default parameter table.
		AuthorizationURL: "https://account.box.com/api/oauth2/authorize", ReturnURLSuffix: "/return/box",
		AudienceMode: tokenclient.AudienceBoth, SendScopes: true})
	iam, err := m.Provider("IAM")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, iam.Issuer, "https://iam.example/")
	eq(t, iam.AuthStyle, oauth2.AuthStyleInHeader)
	eq(t, iam.AudienceMode, tokenclient.AudienceParam)
	eq(t, iam.SendScopes, false)
	if _, err := m.Provider("bad"); err == nil || !strings.Contains(err.Error(), "TOKEN_AUTH_METHOD") {
		t.Errorf("bad auth method: %v", err)
	}
	s := m.Sorter()
	eq(t, s.Sort("box"), credfile.KindOAuth2)
	eq(t, s.Sort("scitokens"), credfile.KindLocal)
	eq(t, s.Sort("other"), credfile.KindUnknown)
}

func TestInvalidProviderNames(t *testing.T) {
	m, err := credmonFrom(t, "LOCAL_CREDMON_PROVIDER_NAMES = good, bad_name, also.bad\nCLIENT_CREDMON_PROVIDER_NAMES = ok-2\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.InvalidProviderNames(), []string{"bad_name", "also.bad"})
	m2, _ := credmonFrom(t, "CREDMON_ALLOW_SPECIAL_CHAR_NAMES = true\nLOCAL_CREDMON_PROVIDER_NAMES = bad_name, also.bad\n", Overrides{})
	eq(t, len(m2.InvalidProviderNames()), 0)
}

func TestSame(t *testing.T) {
	a, _ := credmonFrom(t, "BOX_CLIENT_ID = x\nCREDMON_OAUTH_WORKERS = 4\n", Overrides{})
	b, _ := credmonFrom(t, "CREDMON_OAUTH_WORKERS = 4\nBOX_CLIENT_ID = x\n", Overrides{})
	c, _ := credmonFrom(t, "BOX_CLIENT_ID = y\nCREDMON_OAUTH_WORKERS = 4\n", Overrides{})
	d, _ := credmonFrom(t, "CREDMON_OAUTH_WORKERS = 4\n", Overrides{})
	e, _ := credmonFrom(t, "BOX_CLIENT_ID = x\nCREDMON_OAUTH_WORKERS = 5\n", Overrides{})
	eq(t, a.Same(b, []string{"box"}), true)
	eq(t, a.Same(c, []string{"box"}), false)
	eq(t, a.Same(d, []string{"box"}), false)
	eq(t, a.Same(e, nil), false)
}

func TestCamelLogName(t *testing.T) {
	eq(t, camelLogName("CREDMON_OAUTH"), "CredmonOauthLog")
	eq(t, camelLogName("MY__CRED"), "MyCredLog")
}

func TestReadClientSecret(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ content, want string }{
		{"secret\n", "secret"}, {"sec ret\r\nsecond line", "sec ret"}, {"tab\there", "tab"},
	} {
		p := writeFile(t, dir, "s", tt.content)
		got, err := ReadClientSecret(p)
		if err != nil || got != tt.want {
			t.Errorf("ReadClientSecret(%q) = %q, %v; want %q", tt.content, got, err, tt.want)
		}
	}
	if _, err := ReadClientSecret(writeFile(t, dir, "s", "\n")); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := ReadClientSecret(dir + "/missing"); err == nil {
		t.Error("missing secret file accepted")
	}
}

// TestDebugTimeFormat: DEBUG_TIME_FORMAT (HTCondor's log time-stamp
// format) reaches the typed view as written; subsystem overrides apply.
func TestDebugTimeFormat(t *testing.T) {
	m, err := credmonFrom(t, "", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.TimeFormat, "%m/%d/%y %H:%M:%S") // HTCondor's param default
	m, err = credmonFrom(t, "DEBUG_TIME_FORMAT = \"%Y-%m-%d %H:%M:%S\"\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.TimeFormat, `"%Y-%m-%d %H:%M:%S"`) // dprintf strips the quotes, as dprintf_config does
	m, err = credmonFrom(t, "DEBUG_TIME_FORMAT = %c\nCREDMON_OAUTH.DEBUG_TIME_FORMAT = %s\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.TimeFormat, "%s")
	if !contains(KnobsFor("CREDMON_OAUTH"), "DEBUG_TIME_FORMAT") {
		t.Error("DEBUG_TIME_FORMAT is not prefetched")
	}
}

// TestUnimplemented: the credmon types credd may hand tokens to that this
// daemon does not implement: none any more.
func TestUnimplemented(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		want         []string
	}{
		{"none", "", nil},
		// Vault credentials are this daemon's own now: no warning.
		{"Vault list", "VAULT_CREDMON_PROVIDER_NAMES = vaulty, other", nil},
		{"Vault everything", "VAULT_CREDMON_PROVIDER_NAMES = *", nil},
		{"storer", "SEC_CREDENTIAL_STORER = /usr/bin/condor_credential_storer", nil},
		// So are client credentials and Pelican (issue 13).
		{"client and pelican", "CLIENT_CREDMON_PROVIDER_NAMES = robots\nPELICAN_CREDMON_PROVIDER_NAMES = osdf", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := credmonFrom(t, tt.config, Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			got := m.Unimplemented()
			if len(got) != len(tt.want) {
				t.Fatalf("Unimplemented() = %q; want %d messages", got, len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("message %d = %q; want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestVaultKnobs: condor_credmon_vault's knobs under their own names
// (not <NAME>_), with its defaults, and credd's TRUSTED_VAULT_HOSTS rule.
func TestVaultKnobs(t *testing.T) {
	m, err := credmonFrom(t, "", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if m.VaultMinimum != DefaultVaultMinimum || !m.TrustedVaultHost("any.example.org") {
		t.Errorf("defaults: minimum %v, any host trusted %v; want %v, true", m.VaultMinimum, m.TrustedVaultHost("any.example.org"), DefaultVaultMinimum)
	}
	m, err = credmonFrom(t, "CREDMON_OAUTH_TOKEN_MINIMUM = 600\nTRUSTED_VAULT_HOSTS = Vault.Example.org, other.example.org:8200 third\nAUTH_SSL_CLIENT_CAFILE = /ca.pem\nAUTH_SSL_CLIENT_CADIR = /certs\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if m.VaultMinimum.Seconds() != 600 || m.VaultCAFile != "/ca.pem" || m.VaultCADir != "/certs" {
		t.Errorf("minimum %v, CA %q %q", m.VaultMinimum, m.VaultCAFile, m.VaultCADir)
	}
	for host, want := range map[string]bool{"vault.example.org": true, "VAULT.example.org.": true, "other.example.org": true, "third": true, "evil.example.org": false, "": false} {
		if got := m.TrustedVaultHost(host); got != want {
			t.Errorf("TrustedVaultHost(%q) = %v; want %v", host, got, want)
		}
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings for a sane minimum: %q", m.Warnings)
	}
	m, err = credmonFrom(t, "CREDMON_OAUTH_TOKEN_MINIMUM = 120\n", Overrides{})
	if err != nil || len(m.Warnings) != 1 || !strings.HasPrefix(m.Warnings[0], "CREDMON_OAUTH_TOKEN_MINIMUM = 2m0s is less than SEC_CREDENTIAL_REFRESH + CREDMON_OAUTH_REFRESH_MARGIN (6m0s)") {
		t.Errorf("a minimum below the job's margin: warnings %q, %v; want one naming both", m.Warnings, err)
	}
	if _, err := credmonFrom(t, "CREDMON_OAUTH_TOKEN_MINIMUM = -5\n", Overrides{}); err == nil {
		t.Error("a negative CREDMON_OAUTH_TOKEN_MINIMUM was accepted")
	}
}

// TestTrustedIssuers: <NAME>_TRUSTED_ISSUERS, compared after one trailing
// "/" with scheme and host case-insensitive; an entry that is not an https
// URL is an error naming the knob (http only with the insecure switch).
func TestTrustedIssuers(t *testing.T) {
	m, err := credmonFrom(t, "", Overrides{})
	if err != nil || len(m.TrustedIssuers) != 0 || m.TrustedIssuer("https://issuer.example") {
		t.Fatalf("default: %v, %q; want none trusted", err, m.TrustedIssuers)
	}
	m, err = credmonFrom(t, "CREDMON_OAUTH_TRUSTED_ISSUERS = https://Issuer.Example/, https://iam.example.org/realms/x\n  https://issuer.example\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.TrustedIssuers, []string{"https://issuer.example", "https://iam.example.org/realms/x"}) {
		t.Errorf("TrustedIssuers = %q", m.TrustedIssuers)
	}
	for iss, want := range map[string]bool{
		"https://issuer.example": true, "https://issuer.example/": true, "HTTPS://ISSUER.EXAMPLE": true,
		"https://iam.example.org/realms/x/": true, "https://iam.example.org/realms/X": false, "https://iam.example.org": false,
		"http://issuer.example": false, "https://issuer.example:8443": false, "https://evil.example": false,
		"https://issuer.example.evil.example": false, "https://issuer.example?x=1": false, "": false, "not a url": false,
	} {
		if got := m.TrustedIssuer(iss); got != want {
			t.Errorf("TrustedIssuer(%q) = %v; want %v", iss, got, want)
		}
	}
	for _, bad := range []string{"http://issuer.example", "issuer.example", "https://", "https://issuer.example/?q", "https://u@issuer.example", "ftp://issuer.example"} {
		_, err := credmonFrom(t, "CREDMON_OAUTH_TRUSTED_ISSUERS = https://ok.example "+bad+"\n", Overrides{})
		if err == nil || !strings.Contains(err.Error(), "CREDMON_OAUTH_TRUSTED_ISSUERS") || !strings.Contains(err.Error(), bad) {
			t.Errorf("entry %q: error %v; want one naming the knob and the entry", bad, err)
		}
	}
	m, err = credmonFrom(t, "CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = True\nCREDMON_OAUTH_TRUSTED_ISSUERS = http://127.0.0.1:9080\n", Overrides{})
	if err != nil || !m.TrustedIssuer("http://127.0.0.1:9080/") {
		t.Errorf("http with the insecure switch: %v, %q", err, m.TrustedIssuers)
	}
	// A reload that changes the list is a change (Same).
	a, _ := credmonFrom(t, "CREDMON_OAUTH_TRUSTED_ISSUERS = https://a.example\n", Overrides{})
	b, _ := credmonFrom(t, "CREDMON_OAUTH_TRUSTED_ISSUERS = https://b.example\n", Overrides{})
	if a.Same(b, nil) || !a.Same(a, nil) {
		t.Error("Same does not see a changed TRUSTED_ISSUERS")
	}
}

func TestStateFile(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"LOCK = /var/lock/condor", "/var/lock/condor/credmon_oauth-state.json"},
		{"LOCK = /l\nCREDMON_OAUTH_STATE_FILE = /run/x.json", "/run/x.json"},
		{"LOCK = /l\nCREDMON_OAUTH_STATE_FILE =", "/l/credmon_oauth-state.json"},
		{"LOCK = /l\nCREDMON_OAUTH_STATE_FILE = none", ""},
		{"LOCK =", ""},
	} {
		cm, err := credmonFrom(t, tc.text, Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.StateFile != tc.want {
			t.Errorf("%q: StateFile %q, want %q", tc.text, cm.StateFile, tc.want)
		}
	}
	if got := DefaultStateFile("/lock", "CREDMON_OAUTH2"); got != "/lock/credmon_oauth2-state.json" {
		t.Errorf("DefaultStateFile: %q", got)
	}
}

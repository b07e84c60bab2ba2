package knobs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/condorcfg"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/tokenclient"
)

// Defaults of the daemon's own knobs (prefixed with its subsystem name,
// CREDMON_OAUTH_ by default). Each is justified where it is used.
const (
	// defaultScanInterval is the Python credmon's fixed 60 s pass.
	defaultScanInterval = 60 * time.Second
	// defaultRefreshFraction: refresh at half of the lifetime, as the Python
	// credmon (lifetime_fraction 0.5) and SPIRE do.
	defaultRefreshFraction = 0.5
	// defaultRefreshJitter spreads refreshes by up to 10% of the refresh
	// point (SPIRE PR #4534) so 10,000 tokens minted together do not all
	// hit the issuer in the same second again.
	defaultRefreshJitter = 0.10
	// defaultRefreshMargin is added to SEC_CREDENTIAL_REFRESH: a .use must
	// always outlive the job's copy (re-fetched every SEC_CREDENTIAL_REFRESH)
	// by this much, to absorb clock skew and a slow issuer. A larger relative
	// of x/oauth2's 10 s expiryDelta.
	defaultRefreshMargin = 60 * time.Second
	// defaultMinRefreshInterval is the shortest time between two refreshes
	// of one token even when its lifetime is shorter than the safety margin
	// (then no schedule satisfies the margin, and hammering the issuer would
	// not help).
	defaultMinRefreshInterval = 30 * time.Second
	// defaultWorkers bounds concurrent refreshes: enough to hide issuer
	// latency, few enough not to look like an attack to an IdP.
	defaultWorkers = 8
	// defaultHTTPTimeout bounds one token request end to end; the Python
	// credmon has none, so one hung issuer stalled every token.
	defaultHTTPTimeout = 30 * time.Second
	// defaultConnectTimeout bounds TCP connect + TLS handshake.
	defaultConnectTimeout = 10 * time.Second
	// defaultMinBackoff and defaultMaxBackoff bound retries of transient
	// failures (Vault agent's lifetime watcher uses a 5 min cap).
	defaultMinBackoff = 10 * time.Second
	defaultMaxBackoff = 5 * time.Minute
	// defaultSecCredentialRefresh is HTCondor's SEC_CREDENTIAL_REFRESH.
	defaultSecCredentialRefresh = 300 * time.Second
	// KeyFileLifetime: credd key files older than this are deleted (OCM
	// cleanup_key_files, 12 h).
	KeyFileLifetime = 12 * time.Hour
	// DefaultVaultMinimum is condor_credmon_vault's CREDMON_OAUTH_TOKEN_MINIMUM
	// (40 min): Vault hands back its cached access token only while it has
	// this much left, and refreshes it otherwise.
	DefaultVaultMinimum = 2400 * time.Second
	// defaultMaxLog is HTCondor's MAX_DEFAULT_LOG ("10 Mb", 10 MiB as
	// dprintf_parse_log_size reads it).
	defaultMaxLog = 10 << 20
)

// Credmon is the typed view of every knob the daemon reads. It is a value
// snapshot: a reload builds a new one.
type Credmon struct {
	cfg *condorcfg.Config

	Name    string // subsystem name (-n), CREDMON_OAUTH by default
	CredDir string // --cred-dir > SEC_CREDENTIAL_DIRECTORY_OAUTH > SEC_CREDENTIAL_DIRECTORY

	LogPath   string // --log-file > <NAME>_LOG > $(LOG)/<Camelized NAME>Log
	MaxLog    int64  // MAX_<NAME>_LOG > MAX_DEFAULT_LOG
	MaxNumLog int    // MAX_NUM_<NAME>_LOG > MAX_NUM_DEFAULT_LOG > 1
	Debug     bool   // D_FULLDEBUG in <NAME>_DEBUG, or -d
	// StateFile is <NAME>_STATE_FILE, default DefaultStateFile: where the
	// daemon writes its state snapshot for `credmon status`
	// (docs/htcondor-contract.md#state-file); "" (NONE, or no LOCK)
	// writes none.
	StateFile string
	// TimeFormat is DEBUG_TIME_FORMAT, the strftime(3) format of the log's
	// time stamps; "" means dprintf's default "%m/%d/%y %H:%M:%S".
	TimeFormat string

	AllowSpecialNames bool // CREDMON_ALLOW_SPECIAL_CHAR_NAMES

	// Provider lists, as credd's CredSorter reads them.
	LocalNames, ClientNames, OAuth2Names, VaultNames, PelicanNames []string
	OAuth2All, VaultAll, VaultEnabled                              bool

	ScanInterval         time.Duration // <NAME>_SCAN_INTERVAL
	RefreshFraction      float64       // <NAME>_REFRESH_FRACTION
	RefreshJitter        float64       // <NAME>_REFRESH_JITTER
	RefreshMargin        time.Duration // <NAME>_REFRESH_MARGIN
	SecCredentialRefresh time.Duration // SEC_CREDENTIAL_REFRESH
	MinRefreshInterval   time.Duration // <NAME>_MIN_REFRESH_INTERVAL
	Workers              int           // <NAME>_WORKERS
	HTTPTimeout          time.Duration // <NAME>_HTTP_TIMEOUT
	ConnectTimeout       time.Duration // <NAME>_CONNECT_TIMEOUT
	MinBackoff           time.Duration // <NAME>_MIN_BACKOFF
	MaxBackoff           time.Duration // <NAME>_MAX_BACKOFF
	// AllowInsecure permits http:// token URLs: <NAME>_ALLOW_INSECURE_TOKEN_URL
	// or the environment variable OAUTHLIB_INSECURE_TRANSPORT (parity).
	AllowInsecure bool
	// AudienceMode and SendScopes are the defaults for every provider
	// (<NAME>_REFRESH_AUDIENCE_MODE, <NAME>_REFRESH_SEND_SCOPES).
	AudienceMode tokenclient.AudienceMode
	SendScopes   bool

	// Vault credentials (docs/htcondor-contract.md#vault).
	//
	// VaultMinimum is CREDMON_OAUTH_TOKEN_MINIMUM, sent as minimum_seconds
	// with every Vault request, as condor_credmon_vault does; the knob's
	// name is fixed, whatever the subsystem name.
	VaultMinimum time.Duration
	// TrustedVaultHosts is TRUSTED_VAULT_HOSTS, credd's list of the Vault
	// host names it accepts credentials for; empty accepts any.
	TrustedVaultHosts []string
	// VaultCAFile and VaultCADir are AUTH_SSL_CLIENT_CAFILE and
	// AUTH_SSL_CLIENT_CADIR, the CAs condor_credmon_vault trusts for
	// Vault; both empty means the system roots.
	VaultCAFile, VaultCADir string

	// TrustedIssuers is <NAME>_TRUSTED_ISSUERS: the issuers whose
	// self-describing .top files (a robot's iss, token_url and client, see
	// credfile.ParseRobotTop) the daemon services, normalized by
	// NormalizeIssuer. Empty (the default): none. The daemon runs as root
	// and must not send a refresh token or client secret to a URL a user
	// wrote into a file; only an admin's list makes an issuer one it talks to.
	TrustedIssuers []string

	// Warnings are knob values that LoadCredmon accepted but adjusted or
	// that combine badly (a MIN_REFRESH_INTERVAL raised to its floor, a
	// local token lifetime too short for SEC_CREDENTIAL_REFRESH), one
	// sentence each naming the knobs. The daemon logs them at start and
	// at each reload.
	Warnings []string
}

// DefaultStateFile is the state file of daemon name when <NAME>_STATE_FILE
// is unset: $(LOCK)/<name>-state.json in lower case ("" without LOCK).
// $(LOCK) because it holds a running daemon's state, exists on every
// HTCondor host (the master creates it), is local to the machine, and is
// none of the places whose contents others manage: the credential
// directory is credd's (it sweeps user directories, and every file there
// is a credential or a protocol file), the log directory is rotated, and
// $(SPOOL) is the schedd's and may be shared. One file per daemon name,
// so two credmons (-n) never write the same file.
func DefaultStateFile(lock, name string) string {
	if strings.TrimSpace(lock) == "" {
		return ""
	}
	return filepath.Join(strings.TrimSpace(lock), strings.ToLower(name)+"-state.json")
}

// Overrides are command-line values that beat configuration.
type Overrides struct {
	CredDir string
	LogFile string
	Debug   bool
}

// KnobsFor lists the knobs LoadCredmon reads, for one batched prefetch.
func KnobsFor(name string) []string {
	n := strings.ToUpper(name)
	k := []string{
		"SEC_CREDENTIAL_DIRECTORY_OAUTH", "SEC_CREDENTIAL_DIRECTORY", "LOG", "LOCK", n + "_STATE_FILE",
		n + "_LOG", "MAX_" + n + "_LOG", "MAX_DEFAULT_LOG", "MAX_NUM_" + n + "_LOG", "MAX_NUM_DEFAULT_LOG",
		n + "_DEBUG", "DEBUG_TIME_FORMAT", "CREDMON_ALLOW_SPECIAL_CHAR_NAMES",
		"LOCAL_CREDMON_PROVIDER_NAMES", "LOCAL_CREDMON_PROVIDER_NAME", "CLIENT_CREDMON_PROVIDER_NAMES",
		"OAUTH2_CREDMON_PROVIDER_NAMES", "VAULT_CREDMON_PROVIDER_NAMES", "PELICAN_CREDMON_PROVIDER_NAMES",
		"SEC_CREDENTIAL_STORER", "SEC_CREDENTIAL_REFRESH", "LOCAL_CREDMON_TOKEN_LIFETIME",
		"CREDMON_OAUTH_TOKEN_MINIMUM", "TRUSTED_VAULT_HOSTS", "AUTH_SSL_CLIENT_CAFILE", "AUTH_SSL_CLIENT_CADIR",
	}
	for _, s := range []string{"SCAN_INTERVAL", "REFRESH_FRACTION", "REFRESH_JITTER", "REFRESH_MARGIN", "MIN_REFRESH_INTERVAL", "WORKERS",
		"HTTP_TIMEOUT", "CONNECT_TIMEOUT", "MIN_BACKOFF", "MAX_BACKOFF", "ALLOW_INSECURE_TOKEN_URL",
		"REFRESH_AUDIENCE_MODE", "REFRESH_SEND_SCOPES", "TRUSTED_ISSUERS"} {
		k = append(k, n+"_"+s)
	}
	return k
}

// providerKnobs lists the per-provider knobs, for a batched prefetch once
// the providers in the cred dir are known.
func providerKnobs(provider string) []string {
	var k []string
	for _, s := range []string{"CLIENT_ID", "CLIENT_SECRET_FILE", "TOKEN_URL", "ISSUER", "TOKEN_AUTH_METHOD",
		"REFRESH_AUDIENCE_MODE", "REFRESH_SEND_SCOPES", "AUTHORIZATION_URL", "RETURN_URL_SUFFIX"} {
		k = append(k, provider+"_"+s)
	}
	return k
}

// LoadCredmon builds the typed view. Errors name the knob and its value.
func LoadCredmon(c *condorcfg.Config, name string, ov Overrides) (*Credmon, error) {
	n := strings.ToUpper(name)
	m := &Credmon{cfg: c, Name: name}
	r := &knobReader{c: c}
	fail := r.fail
	warn := func(format string, args ...any) { m.Warnings = append(m.Warnings, fmt.Sprintf(format, args...)) }

	m.CredDir = ov.CredDir
	if m.CredDir == "" {
		m.CredDir = c.Get("SEC_CREDENTIAL_DIRECTORY_OAUTH")
	}
	if m.CredDir == "" {
		m.CredDir = c.Get("SEC_CREDENTIAL_DIRECTORY")
	}

	m.LogPath = ov.LogFile
	if m.LogPath == "" {
		m.LogPath = c.Get(n + "_LOG")
	}
	if m.LogPath == "" {
		if dir := c.Get("LOG"); dir != "" {
			m.LogPath = filepath.Join(dir, camelLogName(n))
		}
	}
	m.StateFile = DefaultStateFile(c.Get("LOCK"), n)
	if v, ok := c.Lookup(n + "_STATE_FILE"); ok && strings.TrimSpace(v) != "" {
		// Empty is unset, as for every HTCondor knob; NONE writes none.
		m.StateFile = strings.TrimSpace(v)
		if strings.EqualFold(m.StateFile, "none") {
			m.StateFile = ""
		}
	}
	m.MaxLog = defaultMaxLog
	for _, knob := range []string{"MAX_" + n + "_LOG", "MAX_DEFAULT_LOG"} {
		if _, ok := c.Lookup(knob); ok {
			size, err := c.LogSize(knob, defaultMaxLog)
			fail(err)
			m.MaxLog = size
			break
		}
	}
	m.MaxNumLog = 1
	for _, knob := range []string{"MAX_NUM_" + n + "_LOG", "MAX_NUM_DEFAULT_LOG"} {
		if _, ok := c.Lookup(knob); ok {
			m.MaxNumLog = int(r.int(knob, 1, span[int64]{lo: 0, hi: maxNumLog}))
			break
		}
	}
	m.Debug = ov.Debug || strings.Contains(strings.ToUpper(c.Get(n+"_DEBUG")), "D_FULLDEBUG") ||
		strings.Contains(strings.ToUpper(c.Get(n+"_DEBUG")), "D_ALL")

	m.TimeFormat = c.Get("DEBUG_TIME_FORMAT")

	var err error
	m.AllowSpecialNames, err = c.Bool("CREDMON_ALLOW_SPECIAL_CHAR_NAMES", false)
	fail(err)

	if v, ok := c.Lookup("LOCAL_CREDMON_PROVIDER_NAMES"); ok {
		m.LocalNames = credfile.SplitList(v)
	} else if v, ok := c.Lookup("LOCAL_CREDMON_PROVIDER_NAME"); ok {
		m.LocalNames = credfile.SplitList(v)
	} else {
		m.LocalNames = []string{"scitokens"}
	}
	m.ClientNames = credfile.SplitList(c.Get("CLIENT_CREDMON_PROVIDER_NAMES"))
	m.PelicanNames = credfile.SplitList(c.Get("PELICAN_CREDMON_PROVIDER_NAMES"))
	if v, ok := c.Lookup("OAUTH2_CREDMON_PROVIDER_NAMES"); ok && strings.TrimSpace(v) != "*" {
		m.OAuth2Names = credfile.SplitList(v)
	} else {
		m.OAuth2All = true
	}
	if v, ok := c.Lookup("VAULT_CREDMON_PROVIDER_NAMES"); ok {
		m.VaultEnabled = true
		if strings.TrimSpace(v) == "*" {
			m.VaultAll = true
		} else {
			m.VaultNames = credfile.SplitList(v)
		}
	} else {
		m.VaultAll = true
	}
	if _, ok := c.Lookup("SEC_CREDENTIAL_STORER"); ok {
		m.VaultEnabled = true
	}

	// Bounds and floors: see bounds.go.
	m.ScanInterval = r.duration(n+"_SCAN_INTERVAL", defaultScanInterval, seconds(time.Second, maxScanInterval, false))
	m.RefreshFraction = r.float(n+"_REFRESH_FRACTION", defaultRefreshFraction, span[float64]{lo: 0, hi: 1, openLo: true, openHi: true})
	m.RefreshJitter = r.float(n+"_REFRESH_JITTER", defaultRefreshJitter, span[float64]{lo: 0, hi: 0.5})
	m.RefreshMargin = r.duration(n+"_REFRESH_MARGIN", defaultRefreshMargin, seconds(0, maxScheduleSpan, false))
	m.SecCredentialRefresh = r.duration("SEC_CREDENTIAL_REFRESH", defaultSecCredentialRefresh, seconds(0, maxScheduleSpan, false))
	m.MinRefreshInterval = r.duration(n+"_MIN_REFRESH_INTERVAL", defaultMinRefreshInterval, seconds(0, maxScheduleSpan, false))
	if m.MinRefreshInterval < MinRefreshIntervalFloor {
		warn("%s_MIN_REFRESH_INTERVAL = %v is below the %v floor; using %v (a token that lives less than SEC_CREDENTIAL_REFRESH + %s_REFRESH_MARGIN would be refreshed in a tight loop)",
			n, m.MinRefreshInterval, MinRefreshIntervalFloor, MinRefreshIntervalFloor, n)
		m.MinRefreshInterval = MinRefreshIntervalFloor
	}
	m.Workers = int(r.int(n+"_WORKERS", defaultWorkers, span[int64]{lo: 1, hi: maxWorkers}))
	m.HTTPTimeout = r.duration(n+"_HTTP_TIMEOUT", defaultHTTPTimeout, seconds(0, maxRequestTimeout, true))
	m.ConnectTimeout = r.duration(n+"_CONNECT_TIMEOUT", defaultConnectTimeout, seconds(0, maxRequestTimeout, true))
	m.MinBackoff = r.duration(n+"_MIN_BACKOFF", defaultMinBackoff, seconds(0, maxScheduleSpan, true))
	m.MaxBackoff = r.duration(n+"_MAX_BACKOFF", defaultMaxBackoff, seconds(0, maxScheduleSpan, true))
	if m.MaxBackoff < m.MinBackoff {
		fail(fmt.Errorf("%s_MIN_BACKOFF = %v is more than %s_MAX_BACKOFF = %v", n, m.MinBackoff.Seconds(), n, m.MaxBackoff.Seconds()))
		m.MinBackoff, m.MaxBackoff = defaultMinBackoff, defaultMaxBackoff
	}
	if m.MinBackoff < minBackoffFloor {
		warn("%s_MIN_BACKOFF = %v is below the %v floor; using %v (retries of a failing issuer, and re-sends of a rotated refresh token not yet saved, would come in a tight loop)",
			n, m.MinBackoff, minBackoffFloor, minBackoffFloor)
		m.MinBackoff = minBackoffFloor
		m.MaxBackoff = max(m.MaxBackoff, m.MinBackoff)
	}
	m.warnShortLocalLifetimes(n, warn)
	// Not <NAME>_: condor_credmon_vault reads this very name.
	m.VaultMinimum = r.duration("CREDMON_OAUTH_TOKEN_MINIMUM", DefaultVaultMinimum, seconds(0, maxScheduleSpan, false))
	if _, set := c.Lookup("CREDMON_OAUTH_TOKEN_MINIMUM"); set && m.VaultMinimum < m.SecCredentialRefresh+m.RefreshMargin {
		warn("CREDMON_OAUTH_TOKEN_MINIMUM = %v is less than SEC_CREDENTIAL_REFRESH + %s_REFRESH_MARGIN (%v): Vault may hand back a cached access token that a job's copy outlives",
			m.VaultMinimum, n, m.SecCredentialRefresh+m.RefreshMargin)
	}
	for _, h := range credfile.SplitList(c.Get("TRUSTED_VAULT_HOSTS")) {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host // a host:port entry names the host
		}
		m.TrustedVaultHosts = append(m.TrustedVaultHosts, strings.ToLower(h))
	}
	m.VaultCAFile, m.VaultCADir = c.Get("AUTH_SSL_CLIENT_CAFILE"), c.Get("AUTH_SSL_CLIENT_CADIR")
	m.AllowInsecure, err = c.Bool(n+"_ALLOW_INSECURE_TOKEN_URL", false)
	fail(err)
	if os.Getenv("OAUTHLIB_INSECURE_TRANSPORT") != "" {
		m.AllowInsecure = true
	}
	m.AudienceMode, err = tokenclient.ParseAudienceMode(c.Get(n + "_REFRESH_AUDIENCE_MODE"))
	if err != nil {
		fail(fmt.Errorf("%s_REFRESH_AUDIENCE_MODE: %w", n, err))
	}
	m.SendScopes, err = c.Bool(n+"_REFRESH_SEND_SCOPES", true)
	fail(err)
	m.TrustedIssuers, err = parseTrustedIssuers(n+"_TRUSTED_ISSUERS", c.Get(n+"_TRUSTED_ISSUERS"), m.AllowInsecure)
	fail(err)

	// Lookup cannot return errors (an unsupported macro, a definition loop,
	// a failing condor_config_val); they are kept for Err.
	fail(c.Err())
	if len(r.errs) > 0 {
		return m, fmt.Errorf("configuration: %s", strings.Join(r.errs, "; "))
	}
	return m, nil
}

// camelLogName turns CREDMON_OAUTH into CredmonOauthLog, the Python
// credmon's default log file name under $(LOG).
func camelLogName(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.ToLower(name), "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	b.WriteString("Log")
	return b.String()
}

// Same reports whether o has the same settings as m, including the
// per-provider knobs of the given providers. A SIGHUP from credd reloads
// configuration; when nothing changed the daemon keeps all its state.
func (m *Credmon) Same(o *Credmon, providers []string) bool {
	a, b := *m, *o
	a.cfg, b.cfg = nil, nil
	if !reflect.DeepEqual(a, b) || !m.SameLocal(o) || !m.SameTypes(o) {
		return false
	}
	for _, p := range providers {
		pa, errA := m.Provider(p)
		pb, errB := o.Provider(p)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(pa, pb) {
			return false
		}
		if _, okA := m.cfg.Lookup(p + "_CLIENT_ID"); okA != func() bool { _, ok := o.cfg.Lookup(p + "_CLIENT_ID"); return ok }() {
			return false
		}
	}
	return true
}

// InvalidProviderNames returns configured provider names that break the
// naming rule (HTCONDOR-2860); the daemon exits 99 when there are any.
func (m *Credmon) InvalidProviderNames() []string {
	var bad []string
	for _, list := range [][]string{m.LocalNames, m.ClientNames, m.OAuth2Names, m.VaultNames, m.PelicanNames} {
		for _, p := range list {
			if !credfile.ValidProviderName(p, m.AllowSpecialNames) {
				bad = append(bad, p)
			}
		}
	}
	return bad
}

// Unimplemented returns one message per configured credential type that
// credd hands to a credmon this daemon does not implement. Every type of
// credd's CredSorter is implemented now (client credentials and Pelican
// since issue 13), so it returns none; it stays the one place to say so
// should credd gain a type.
func (m *Credmon) Unimplemented() []string { return nil }

// TrustedVaultHost reports whether TRUSTED_VAULT_HOSTS lets the daemon
// send a Vault token to host (a host name, no port): credd refuses to
// store credentials for other hosts, and a .top that names one anyway was
// not stored by credd's rules.
func (m *Credmon) TrustedVaultHost(host string) bool {
	if len(m.TrustedVaultHosts) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range m.TrustedVaultHosts {
		if h == host {
			return true
		}
	}
	return false
}

// parseTrustedIssuers reads the <NAME>_TRUSTED_ISSUERS list (commas and
// white space). Every entry must be an absolute https URL without query or
// fragment (http only with the insecure switch, for tests and loopback
// issuers), since a client secret goes to what it names.
func parseTrustedIssuers(knob, v string, allowInsecure bool) ([]string, error) {
	var out []string
	for _, e := range credfile.SplitList(v) {
		norm, err := NormalizeIssuer(e)
		if err == nil && strings.HasPrefix(norm, "http://") && !allowInsecure {
			err = errors.New("not https (http only with ALLOW_INSECURE_TOKEN_URL)")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: entry %q: %w", knob, e, err)
		}
		if !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, nil
}

// NormalizeIssuer is the form in which issuers are compared: scheme and
// host lower case, one trailing "/" removed, the path as it is (OIDC
// issuers compare exactly, RFC 8414 §3.3, but host names do not). Errors
// for anything that is not an absolute http(s) URL with a host and without
// query, fragment or user information.
func NormalizeIssuer(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http": // url.Parse lower-cases it
		return "", errors.New("not an https URL")
	case u.Host == "" || u.Opaque != "":
		return "", errors.New("no host")
	case u.User != nil, u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return "", errors.New("an issuer has no user information, query or fragment")
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return strings.TrimSuffix(u.String(), "/"), nil
}

// TrustedIssuer reports whether <NAME>_TRUSTED_ISSUERS lists iss
// (compared as NormalizeIssuer says).
func (m *Credmon) TrustedIssuer(iss string) bool {
	norm, err := NormalizeIssuer(iss)
	return err == nil && slices.Contains(m.TrustedIssuers, norm)
}

// Sorter returns credd's ownership rules for this configuration.
func (m *Credmon) Sorter() *credfile.Sorter {
	return &credfile.Sorter{
		Local: m.LocalNames, Client: m.ClientNames, OAuth2: m.OAuth2Names, Vault: m.VaultNames, Pelican: m.PelicanNames,
		OAuth2All: m.OAuth2All, VaultAll: m.VaultAll, VaultEnabled: m.VaultEnabled,
		HasClientID: func(p string) bool { _, ok := m.cfg.Lookup(p + "_CLIENT_ID"); return ok },
	}
}

// Prefetch asks the configuration for the knobs of these providers in one
// batch (one condor_config_val call on an HTCondor host).
func (m *Credmon) Prefetch(providers []string) error {
	var k []string
	for _, p := range providers {
		k = append(k, providerKnobs(p)...)
	}
	// Local providers are few and known from the configuration alone.
	for _, p := range m.LocalNames {
		k = append(k, localKnobs(p)...)
	}
	k = append(k, m.typeKnobs()...) // client credentials, Pelican
	return m.cfg.Prefetch(k...)
}

// Provider is the configuration of one OAuth2 provider, used for .top files
// that have no .meta (user- or robot-stored refresh tokens), and for the
// refresh request options of every token of the provider.
type Provider struct {
	Name             string
	ClientID         string // <P>_CLIENT_ID
	ClientSecretFile string // <P>_CLIENT_SECRET_FILE
	TokenURL         string // <P>_TOKEN_URL
	Issuer           string // <P>_ISSUER: OIDC discovery when TOKEN_URL is unset
	// AuthorizationURL and ReturnURLSuffix are read by the login web app
	// only (credd copies them into key files; the app falls back on them).
	AuthorizationURL string // <P>_AUTHORIZATION_URL
	ReturnURLSuffix  string // <P>_RETURN_URL_SUFFIX
	AuthStyle        oauth2.AuthStyle
	AudienceMode     tokenclient.AudienceMode
	SendScopes       bool
}

// Provider reads the knobs of provider p.
func (m *Credmon) Provider(p string) (*Provider, error) {
	c := m.cfg
	pc := &Provider{
		Name:             p,
		ClientID:         c.Get(p + "_CLIENT_ID"),
		ClientSecretFile: c.Get(p + "_CLIENT_SECRET_FILE"),
		TokenURL:         c.Get(p + "_TOKEN_URL"),
		Issuer:           c.Get(p + "_ISSUER"),
		AuthorizationURL: c.Get(p + "_AUTHORIZATION_URL"),
		ReturnURLSuffix:  c.Get(p + "_RETURN_URL_SUFFIX"),
		AudienceMode:     m.AudienceMode,
		SendScopes:       m.SendScopes,
		AuthStyle:        oauth2.AuthStyleInParams,
	}
	switch strings.ToLower(c.Get(p + "_TOKEN_AUTH_METHOD")) {
	case "", "client_secret_post", "post":
	case "client_secret_basic", "basic":
		pc.AuthStyle = oauth2.AuthStyleInHeader
	default:
		return nil, fmt.Errorf("%s_TOKEN_AUTH_METHOD = %q: want client_secret_post or client_secret_basic", p, c.Get(p+"_TOKEN_AUTH_METHOD"))
	}
	if v, ok := c.Lookup(p + "_REFRESH_AUDIENCE_MODE"); ok {
		mode, err := tokenclient.ParseAudienceMode(v)
		if err != nil {
			return nil, fmt.Errorf("%s_REFRESH_AUDIENCE_MODE: %w", p, err)
		}
		pc.AudienceMode = mode
	}
	send, err := c.Bool(p+"_REFRESH_SEND_SCOPES", m.SendScopes)
	if err != nil {
		return nil, err
	}
	pc.SendScopes = send
	return pc, nil
}

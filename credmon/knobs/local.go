package knobs

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/credmon/credmon/condorcfg"
)

// Defaults of the local issuer's knobs, as LocalCredmon.py and the HTCondor
// manual give them (docs/htcondor-contract.md#local-issuer).
const (
	defaultLocalPrivateKey    = "/etc/condor/scitokens-private.pem"
	defaultLocalPublicKey     = "/etc/condor/scitokens.pem"
	defaultLocalKeyID         = "local"
	defaultLocalAlgorithm     = "ES256"
	defaultLocalAuthzTemplate = "read:/user/{username} write:/user/{username}"
	defaultLocalLifetime      = 1200 * time.Second
	// defaultLocalVersion is "scitoken:2.0" (singular) since HTCONDOR-2285;
	// the plural spelling is what the C++ SciTokens library used up to 0.6.0
	// and can still be configured.
	defaultLocalVersion = "scitoken:2.0"
)

// localKnobSuffixes are the X of every LOCAL_CREDMON_[<P>_]<X> knob.
var localKnobSuffixes = []string{
	"PRIVATE_KEY", "PUBLIC_KEY", "KEY_ID", "PRIVATE_KEY_ALGORITHM", "ISSUER",
	"AUTHZ_TEMPLATE", "AUTHZ_TEMPLATE_EXPR", "AUTHZ_GROUP_TEMPLATE", "AUTHZ_GROUP_MAPFILE",
	"AUTHZ_GROUP_REQUIREMENT", "TOKEN_LIFETIME", "TOKEN_USE_JSON", "TOKEN_AUDIENCE", "TOKEN_VERSION",
}

// Local is the configuration of one local-issuer provider (a name in
// LOCAL_CREDMON_PROVIDER_NAMES): every knob X is looked up as
// LOCAL_CREDMON_<PROVIDER>_<X>, then LOCAL_CREDMON_<X>, then the default,
// exactly as LocalCredmon.get_credmon_config does.
type Local struct {
	Name string

	PrivateKey string // PRIVATE_KEY: PEM (SEC1, PKCS#1 or PKCS#8)
	PublicKey  string // PUBLIC_KEY: written next to a generated private key
	KeyID      string // KEY_ID: the JWT header "kid"
	Algorithm  string // PRIVATE_KEY_ALGORITHM: ES256 or RS256
	Issuer     string // ISSUER: "iss", https://$(FULL_HOSTNAME) by default

	AuthzTemplate         string // AUTHZ_TEMPLATE: str.format(username=...)
	AuthzTemplateExpr     string // AUTHZ_TEMPLATE_EXPR: a ClassAd expression, "" = none
	AuthzGroupTemplate    string // AUTHZ_GROUP_TEMPLATE: str.format(groupname=...) per group
	AuthzGroupMapfile     string // AUTHZ_GROUP_MAPFILE: "* <user> <g1,g2>" lines
	AuthzGroupRequirement string // AUTHZ_GROUP_REQUIREMENT: a group name

	Lifetime time.Duration // TOKEN_LIFETIME (whole seconds)
	// UseJSON is TOKEN_USE_JSON. Unlike the Python credmon (where a
	// per-provider "false" is a non-empty string and therefore true),
	// every level is read as an HTCondor boolean: an admin who writes false
	// means false.
	UseJSON  bool
	Audience []string // TOKEN_AUDIENCE, split on white space; "aud" is always an array
	Version  string   // TOKEN_VERSION; empty counts as unset (as in Python)
}

// localKnobs lists the knobs Local reads for provider p, for one batched
// prefetch.
func localKnobs(p string) []string {
	return append([]string{"FULL_HOSTNAME"}, knobsIn(localPrefix, p, localKnobSuffixes)...)
}

// knobsIn lists <prefix><P>_<X> and <prefix><X> for each suffix X.
func knobsIn(prefix, p string, suffixes []string) []string {
	var k []string
	for _, x := range suffixes {
		k = append(k, prefix+p+"_"+x, prefix+x)
	}
	return k
}

// localPrefix is the local issuer's knob prefix; the client-credentials
// type reads the same knobs under clientPrefix (knobs/client.go).
const localPrefix = "LOCAL_CREDMON_"

// lookupIn is get_credmon_config's order for the credmon whose knobs
// start with prefix: <prefix><P>_<X>, then <prefix><X>.
func (m *Credmon) lookupIn(prefix, p, x string) (knob, value string, ok bool) {
	for _, k := range []string{prefix + p + "_" + x, prefix + x} {
		if v, found := m.cfg.Lookup(k); found {
			return strings.ToUpper(k), v, true
		}
	}
	return "", "", false
}

// Local reads the knobs of local-issuer provider p. Errors name the knob
// that was used and its value.
func (m *Credmon) Local(p string) (*Local, error) {
	l, errs := m.readLocal(localPrefix, p, true)
	if len(errs) > 0 {
		return l, fmt.Errorf("local issuer %s: %s", p, strings.Join(errs, "; "))
	}
	return l, nil
}

// readLocal reads the local issuer's knobs under prefix (LOCAL_CREDMON_,
// or CLIENT_CREDMON_ for the client-credentials type, which takes its
// scopes and audience from the same knobs). needIssuer: ISSUER (default
// https://$(FULL_HOSTNAME)) is the token's "iss"; the client type reads
// its ISSUER itself.
func (m *Credmon) readLocal(prefix, p string, needIssuer bool) (*Local, []string) {
	l := &Local{Name: p}
	var errs []string
	str := func(x, def string) string {
		if _, v, ok := m.lookupIn(prefix, p, x); ok {
			return v
		}
		return def
	}
	l.PrivateKey = strings.TrimSpace(str("PRIVATE_KEY", defaultLocalPrivateKey))
	l.PublicKey = strings.TrimSpace(str("PUBLIC_KEY", defaultLocalPublicKey))
	l.KeyID = strings.TrimSpace(str("KEY_ID", defaultLocalKeyID))
	l.Algorithm = strings.ToUpper(strings.TrimSpace(str("PRIVATE_KEY_ALGORITHM", defaultLocalAlgorithm)))
	if needIssuer && l.Algorithm != "ES256" && l.Algorithm != "RS256" {
		knob, _, _ := m.lookupIn(prefix, p, "PRIVATE_KEY_ALGORITHM")
		errs = append(errs, fmt.Sprintf("%s = %q: want ES256 or RS256", knob, l.Algorithm))
	}
	l.Issuer = strings.TrimSpace(str("ISSUER", ""))
	if l.Issuer == "" && needIssuer {
		host := m.cfg.Get("FULL_HOSTNAME")
		if host == "" {
			errs = append(errs, "LOCAL_CREDMON_ISSUER is not set and FULL_HOSTNAME is unknown")
		}
		l.Issuer = "https://" + host
	}
	l.AuthzTemplate = str("AUTHZ_TEMPLATE", defaultLocalAuthzTemplate)
	l.AuthzTemplateExpr = strings.TrimSpace(str("AUTHZ_TEMPLATE_EXPR", ""))
	l.AuthzGroupTemplate = str("AUTHZ_GROUP_TEMPLATE", "")
	l.AuthzGroupMapfile = strings.TrimSpace(str("AUTHZ_GROUP_MAPFILE", ""))
	l.AuthzGroupRequirement = strings.TrimSpace(str("AUTHZ_GROUP_REQUIREMENT", ""))

	var err error
	if _, l.Lifetime, err = m.lifetimeIn(prefix, p); err != nil {
		errs = append(errs, err.Error())
	}
	l.UseJSON = true
	if knob, v, ok := m.lookupIn(prefix, p, "TOKEN_USE_JSON"); ok {
		b, err := condorcfg.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s = %q: %v", knob, v, err))
		} else {
			l.UseJSON = b
		}
	}
	if aud := strings.Fields(str("TOKEN_AUDIENCE", "")); len(aud) > 0 {
		l.Audience = aud
	}
	l.Version = strings.TrimSpace(str("TOKEN_VERSION", defaultLocalVersion))
	if l.Version == "" {
		l.Version = defaultLocalVersion
	}
	return l, errs
}

// localLifetime reads provider p's TOKEN_LIFETIME: the knob that set it
// ("" for the default) and the lifetime. A bad value is an error and reads
// as the default.
func (m *Credmon) localLifetime(p string) (knob string, lifetime time.Duration, err error) {
	return m.lifetimeIn(localPrefix, p)
}

// lifetimeIn is localLifetime for the knobs under prefix.
func (m *Credmon) lifetimeIn(prefix, p string) (knob string, lifetime time.Duration, err error) {
	knob, v, ok := m.lookupIn(prefix, p, "TOKEN_LIFETIME")
	if !ok {
		return "", defaultLocalLifetime, nil
	}
	// param_integer rules: "1200" or a constant expression ("20*60").
	n, err := condorcfg.ParseInteger(v)
	if err != nil {
		return knob, defaultLocalLifetime, fmt.Errorf("%s = %q: not a whole number of seconds", knob, v)
	}
	if err := (span[int64]{lo: 0, openLo: true, hi: int64(maxLocalLifetime / time.Second), unit: " seconds"}).check(knob, n); err != nil {
		return knob, defaultLocalLifetime, err
	}
	return knob, time.Duration(n) * time.Second, nil
}

// warnShortLocalLifetimes warns about every local provider whose tokens
// live no longer than SEC_CREDENTIAL_REFRESH + <NAME>_REFRESH_MARGIN: the
// daemon must refresh a token that long before it expires, so each one is
// re-minted as soon as MIN_REFRESH_INTERVAL allows, and a job's copy can
// still expire. A bad lifetime is left to Local, which the daemon reports
// per provider.
func (m *Credmon) warnShortLocalLifetimes(n string, warn func(string, ...any)) {
	// One batched condor_config_val run instead of one per provider; a
	// failure here fails the lookups below too, which keep the error.
	var k []string
	for _, p := range m.LocalNames {
		k = append(k, "LOCAL_CREDMON_"+p+"_TOKEN_LIFETIME")
	}
	_ = m.cfg.Prefetch(k...)
	safety := m.SecCredentialRefresh + m.RefreshMargin
	for _, p := range m.LocalNames {
		knob, life, err := m.localLifetime(p)
		if err != nil || life > safety {
			continue
		}
		if knob == "" {
			knob = "LOCAL_CREDMON_TOKEN_LIFETIME (default)"
		}
		warn("local provider %s: %s = %v is not longer than SEC_CREDENTIAL_REFRESH + %s_REFRESH_MARGIN = %v: every token is re-minted at each %s_MIN_REFRESH_INTERVAL (%v) and a job's copy can expire; raise the lifetime or lower SEC_CREDENTIAL_REFRESH",
			p, knob, life, n, safety, n, m.MinRefreshInterval)
	}
}

// SameLocal reports whether o configures the local providers exactly as m.
func (m *Credmon) SameLocal(o *Credmon) bool {
	if !reflect.DeepEqual(m.LocalNames, o.LocalNames) {
		return false
	}
	for _, p := range m.LocalNames {
		a, errA := m.Local(p)
		b, errB := o.Local(p)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

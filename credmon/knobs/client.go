package knobs

import (
	"fmt"
	"reflect"
	"strings"
)

// Knob scheme of the client-credentials type (docs/htcondor-contract.md#client).
//
// The Python ClientCredmon is a LocalCredmon whose credmon_name is
// "CLIENT", so every knob X it reads is looked up as
// CLIENT_CREDMON_<PROVIDER>_X, then CLIENT_CREDMON_X, then the default
// (get_credmon_config): its own CLIENT_ID, CLIENT_SECRET_FILE, TOKEN_URL
// and ISSUER, and the local issuer's claim knobs, which decide what it asks
// for. This daemon reads exactly those names, through the local issuer's
// own reader (readLocal with clientPrefix), so scopes and audience are
// templated per user as for a local token. Choices where the Python code
// is unclear or broken:
//
//   - ISSUER has no default: the Python default (https://$(FULL_HOSTNAME),
//     the local issuer's "iss") is never a client-credentials server, so
//     TOKEN_URL or ISSUER must be set; ISSUER is found by OIDC discovery
//     (the daemon's one discovery cache, an hour per issuer).
//     TOKEN_ENDPOINT_LIFETIME is not read: the cache's hour is used.
//   - The scope is AUTHZ_TEMPLATE (+ AUTHZ_TEMPLATE_EXPR, + one
//     AUTHZ_GROUP_TEMPLATE per group of AUTHZ_GROUP_MAPFILE) expanded for
//     the user, plus "wlcg" when TOKEN_VERSION is wlcg or wlcg:1.0, sent
//     as "scope" (Python sends "scopes", and crashes before sending on a
//     list/str mix-up); the condor.user:<user> scope its dead code would
//     add is not sent.
//   - TOKEN_AUDIENCE (space-separated) is sent as "audience", as Python
//     does. AUTHZ_GROUP_REQUIREMENT: a user outside the group gets no
//     token (a permanent failure naming the group), not an empty one.
//   - TOKEN_LIFETIME is only the expires_in written when the server sends
//     none (Python's fallback too).
//   - The client authenticates with client_secret_post, as Python does.
//   - CLIENT_SECRET_FILE is read at each request (ReadSecretFile), so a
//     rotated secret applies without a reload.
const clientPrefix = "CLIENT_CREDMON_"

// clientKnobSuffixes are the client type's own knobs; the claim knobs are
// localKnobSuffixes.
var clientKnobSuffixes = []string{"CLIENT_ID", "CLIENT_SECRET_FILE", "TOKEN_URL"}

// Client is the configuration of one client-credentials provider (a name
// in CLIENT_CREDMON_PROVIDER_NAMES).
type Client struct {
	Name             string
	ClientID         string // CLIENT_ID
	ClientSecretFile string // CLIENT_SECRET_FILE
	SecretKnob       string // the knob that named ClientSecretFile, for errors
	TokenURL         string // TOKEN_URL
	Issuer           string // ISSUER: OIDC discovery when TOKEN_URL is unset
	// Claims holds the scope and audience knobs (AUTHZ_*, TOKEN_AUDIENCE,
	// TOKEN_VERSION, TOKEN_LIFETIME) read as the local issuer reads them.
	Claims *Local
}

// clientKnobs lists the knobs Client reads for provider p.
func clientKnobs(p string) []string {
	return append(knobsIn(clientPrefix, p, clientKnobSuffixes), knobsIn(clientPrefix, p, localKnobSuffixes)...)
}

// Client reads the knobs of client-credentials provider p. Errors name
// the knobs.
func (m *Credmon) Client(p string) (*Client, error) {
	l, errs := m.readLocal(clientPrefix, p, false)
	c := &Client{Name: p, Claims: l, Issuer: l.Issuer}
	str := func(x string) (string, string) {
		knob, v, _ := m.lookupIn(clientPrefix, p, x)
		return strings.TrimSpace(v), knob
	}
	c.ClientID, _ = str("CLIENT_ID")
	c.ClientSecretFile, c.SecretKnob = str("CLIENT_SECRET_FILE")
	c.TokenURL, _ = str("TOKEN_URL")
	if c.ClientID == "" {
		errs = append(errs, fmt.Sprintf("%s%s_CLIENT_ID (or %sCLIENT_ID) is not set", clientPrefix, p, clientPrefix))
	}
	if c.ClientSecretFile == "" {
		errs = append(errs, fmt.Sprintf("%s%s_CLIENT_SECRET_FILE (or %sCLIENT_SECRET_FILE) is not set", clientPrefix, p, clientPrefix))
	}
	if c.TokenURL == "" && c.Issuer == "" {
		errs = append(errs, fmt.Sprintf("neither %s%s_TOKEN_URL nor %s%s_ISSUER is set (nor their %s forms)", clientPrefix, p, clientPrefix, p, clientPrefix))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("client-credentials provider %s: %s", p, strings.Join(errs, "; "))
	}
	return c, nil
}

// TypeWarnings returns what the configuration of the client-credentials
// and Pelican types says that an admin must see at start: a provider whose
// knobs are unusable (its tokens wait until they are fixed) and a Pelican
// TLS check switched off. The daemon logs them with Warnings.
func (m *Credmon) TypeWarnings() []string {
	var msgs []string
	for _, p := range m.ClientNames {
		if _, err := m.Client(p); err != nil {
			msgs = append(msgs, fmt.Sprintf("%v; its tokens get no .use until the configuration is fixed", err))
		}
	}
	for _, p := range m.PelicanNames {
		if _, err := m.Pelican(p); err != nil {
			msgs = append(msgs, fmt.Sprintf("%v; its tokens get no .use until the configuration is fixed", err))
		}
	}
	if len(m.PelicanNames) > 0 {
		if pc, err := m.Pelican(m.PelicanNames[0]); err == nil && pc.SkipVerify {
			msgs = append(msgs, "PELICAN_CREDMON_TLS_SKIP_VERIFY is true: the Pelican issuers' TLS certificates are NOT verified, so anyone on the network path can impersonate them and receive the users' subject and refresh tokens and the client secret; use PELICAN_CREDMON_CA_FILE instead")
		}
	}
	return msgs
}

// typeKnobs lists the knobs of the configured client-credentials and
// Pelican providers, for Prefetch.
func (m *Credmon) typeKnobs() []string {
	var k []string
	for _, p := range m.ClientNames {
		k = append(k, clientKnobs(p)...)
	}
	for _, p := range m.PelicanNames {
		k = append(k, pelicanKnobs(p)...)
	}
	return k
}

// SameTypes reports whether o configures the client-credentials and
// Pelican providers exactly as m (Same's share for these types).
func (m *Credmon) SameTypes(o *Credmon) bool {
	if !reflect.DeepEqual(m.ClientNames, o.ClientNames) || !reflect.DeepEqual(m.PelicanNames, o.PelicanNames) {
		return false
	}
	for _, p := range m.ClientNames {
		a, errA := m.Client(p)
		b, errB := o.Client(p)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	for _, p := range m.PelicanNames {
		a, errA := m.Pelican(p)
		b, errB := o.Pelican(p)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

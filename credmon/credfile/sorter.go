package credfile

import "github.com/credmon/credmon/internal/jsonobj"

// Kind is the credential monitor type that owns a token.
type Kind int

// The kinds of HTCondor's CredSorter, in its order of precedence.
const (
	KindUnknown Kind = iota // "plain": stored as .use, never touched by a credmon
	KindLocal               // local SciTokens issuer (LOCAL_CREDMON_*)
	KindClient              // client-credentials (CLIENT_CREDMON_*)
	KindOAuth2              // refresh-token grant (<P>_CLIENT_ID)
	KindVault               // Vault (VAULT_CREDMON_*)
	KindPelican             // Pelican token exchange (PELICAN_CREDMON_*)
	// KindRobot is no CredSorter kind (Sort never returns it): the daemon
	// gives it to a self-describing .top (ParseRobotTop) without .meta
	// under a name CredSorter gives to OAuth2, Vault or no type.
	KindRobot
)

var kindNames = [...]string{"unknown", "local", "client", "oauth2", "vault", "pelican", "robot"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Sorter decides which credmon type owns a token name, with the same
// precedence as credd's CredSorter (src/condor_utils/store_cred.cpp), so that
// credd and the daemon agree on every name:
//
//  1. listed in LOCAL_CREDMON_PROVIDER_NAMES (fallback LOCAL_CREDMON_PROVIDER_NAME,
//     default "scitokens") → local
//  2. listed in CLIENT_CREDMON_PROVIDER_NAMES → client
//  3. listed in OAUTH2_CREDMON_PROVIDER_NAMES (unless "*" or unset) → oauth2
//  4. listed in VAULT_CREDMON_PROVIDER_NAMES (unless "*") → vault
//  5. listed in PELICAN_CREDMON_PROVIDER_NAMES → pelican
//  6. the OAuth2 list is "*"/unset and <name>_CLIENT_ID is set → oauth2
//  7. Vault is enabled (its list or SEC_CREDENTIAL_STORER set) with a "*"/unset
//     list and no <name>_CLIENT_ID → vault
//  8. otherwise unknown.
//
// Names are compared case-sensitively, as credd does.
type Sorter struct {
	Local, Client, OAuth2, Vault, Pelican []string
	// OAuth2All and VaultAll are true when the list is "*" or unset: the type
	// then claims every name not claimed by another (subject to rules 6, 7).
	OAuth2All, VaultAll bool
	VaultEnabled        bool
	// HasClientID reports whether <name>_CLIENT_ID is set (non-empty).
	HasClientID func(name string) bool
}

// SplitList splits an HTCondor list knob the way StringTokenIterator does
// (commas and whitespace).
func SplitList(v string) []string { return jsonobj.SplitList(v) }

// Sort returns the kind that owns name.
func (s *Sorter) Sort(name string) Kind {
	switch {
	case contains(s.Local, name):
		return KindLocal
	case contains(s.Client, name):
		return KindClient
	case !s.OAuth2All && contains(s.OAuth2, name):
		return KindOAuth2
	case !s.VaultAll && contains(s.Vault, name):
		return KindVault
	case contains(s.Pelican, name):
		return KindPelican
	}
	hasID := s.HasClientID != nil && s.HasClientID(name)
	if s.OAuth2All && hasID {
		return KindOAuth2
	}
	if s.VaultEnabled && s.VaultAll && !hasID {
		return KindVault
	}
	return KindUnknown
}

func contains(list []string, name string) bool {
	for _, v := range list {
		if v == name {
			return true
		}
	}
	return false
}

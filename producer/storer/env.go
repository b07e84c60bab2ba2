package storer

import (
	"strconv"
	"strings"
)

// Env is what the storer takes from its environment. condor_submit passes
// the user's environment through, plus CONDOR_CREDENTIAL_STORER_MODE.
type Env struct {
	// Mode is CONDOR_CREDENTIAL_STORER_MODE: the kind of credential
	// condor_submit is asking for ("vault" or "pelican"; unset before
	// HTCondor 25).
	Mode string
	// HTGettokenOpts are the words of HTGETTOKENOPTS, the options
	// htgettoken reads from its environment before its command line.
	HTGettokenOpts []string
	// User is CONDOR_VAULT_STORER_USER: condor_store_cred -u USER, for a
	// service storing on behalf of users it holds tokens for.
	User string
	// ID is CONDOR_VAULT_STORER_ID, or u<uid>: the suffix of the source's
	// files (/tmp/vt_<ID>, bt_<ID>).
	ID string
	// StoreCredOpts are the words of SEC_CREDENTIAL_STORECRED_OPTS (an
	// environment variable, not a knob), added to every condor_store_cred
	// command, e.g. "-n credd.example.org".
	StoreCredOpts []string
}

// EnvFrom reads Env through getenv; uid makes the default ID.
func EnvFrom(getenv func(string) string, uid int) Env {
	e := Env{
		Mode:           getenv("CONDOR_CREDENTIAL_STORER_MODE"),
		HTGettokenOpts: strings.Fields(getenv("HTGETTOKENOPTS")),
		User:           getenv("CONDOR_VAULT_STORER_USER"),
		ID:             getenv("CONDOR_VAULT_STORER_ID"),
		StoreCredOpts:  strings.Fields(getenv("SEC_CREDENTIAL_STORECRED_OPTS")),
	}
	if e.ID == "" {
		e.ID = "u" + strconv.Itoa(uid)
	}
	return e
}

// Knobs is HTCondor configuration (condorcfg.Config satisfies it).
type Knobs interface {
	Lookup(name string) (string, bool)
}

// Config is the storer's HTCondor configuration.
type Config struct {
	// StorerOpts are the words of SEC_CREDENTIAL_VAULT_STORER_OPTS
	// (-v/-d), parsed before the command line.
	StorerOpts []string
	// GettokenOpts are the words of SEC_CREDENTIAL_GETTOKEN_OPTS: the
	// htgettoken options of the site's Vault (--vaultserver, --credkey,
	// --role...), after HTGETTOKENOPTS and before &options=.
	GettokenOpts []string
	// Providers says which services another credmon owns.
	Providers Providers
}

// Providers are the credmon provider-name lists, as
// condor_credential_storer reads them to route each service.
type Providers struct {
	Local, OAuth2, Client, Pelican []string
}

// ConfigFrom reads Config from k. LOCAL_CREDMON_PROVIDER_NAMES falls back
// to LOCAL_CREDMON_PROVIDER_NAME and then to "scitokens", as credd's
// CredSorter does.
func ConfigFrom(k Knobs) Config {
	get := func(name string) string { return Knob(k, name) }
	local := get("LOCAL_CREDMON_PROVIDER_NAMES")
	if local == "" {
		local = get("LOCAL_CREDMON_PROVIDER_NAME")
	}
	if local == "" {
		local = "scitokens"
	}
	return Config{
		StorerOpts:   strings.Fields(get("SEC_CREDENTIAL_VAULT_STORER_OPTS")),
		GettokenOpts: strings.Fields(get("SEC_CREDENTIAL_GETTOKEN_OPTS")),
		Providers: Providers{
			Local:   splitList(local),
			OAuth2:  splitList(get("OAUTH2_CREDMON_PROVIDER_NAMES")),
			Client:  splitList(get("CLIENT_CREDMON_PROVIDER_NAMES")),
			Pelican: splitList(get("PELICAN_CREDMON_PROVIDER_NAMES")),
		},
	}
}

// splitList splits an HTCondor name list at commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// Kind is which credmon owns a service.
type Kind int

const (
	// KindVault: the storer obtains and stores it.
	KindVault Kind = iota
	// KindPelican: the Pelican credmon's; this storer cannot store it.
	KindPelican
	// KindOther: the local, OAuth2 or client-credentials credmon's;
	// condor_submit's CREDD_CHECK_CREDS handles it, the storer skips it.
	KindOther
)

// Route decides who owns a service the way condor_credential_storer does:
// Pelican if the service or its issuer is a Pelican provider; another
// credmon's if the service or its issuer is a local provider, or the
// service is an OAuth2 or client-credentials provider; else Vault. A "*"
// list entry claims nothing here (credd's wildcard means "whatever no
// other list claims").
func Route(r Request, p Providers) Kind {
	in := func(list []string, names ...string) bool {
		for _, item := range list {
			for _, n := range names {
				if item == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case in(p.Pelican, r.Service, r.Issuer):
		return KindPelican
	case in(p.Local, r.Service, r.Issuer), in(p.OAuth2, r.Service), in(p.Client, r.Service):
		return KindOther
	}
	return KindVault
}

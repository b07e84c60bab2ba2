package knobs

import (
	"fmt"
	"strings"

	"github.com/credmon/credmon/condorcfg"
)

// Knob scheme of the Pelican type (PelicanCredmon.py; docs/htcondor-contract.md#pelican):
// per service S (a name in PELICAN_CREDMON_PROVIDER_NAMES; a handle
// S_<handle> uses S's knobs) <S>_PELICAN_CLIENT_ID,
// <S>_PELICAN_CLIENT_SECRET_FILE and, optionally, <S>_PELICAN_TOKEN_URL;
// for every service PELICAN_CREDMON_CA_FILE and
// PELICAN_CREDMON_TLS_SKIP_VERIFY. Choices:
//
//   - <S>_PELICAN_CLIENT_SECRET_FILE is required (Python sends an empty
//     secret without one) and must be private (ReadSecretFile).
//   - PELICAN_CREDMON_TLS_SKIP_VERIFY is an HTCondor boolean (Python
//     accepts 1/true/yes/on); an unparseable value is an error, not false.
//   - PELICAN_CREDMON_CA_FILE replaces the system roots for these
//     requests only, as requests' verify=<file> does.

// pelicanKnobSuffixes are the <S>_PELICAN_<X> knobs.
var pelicanKnobSuffixes = []string{"CLIENT_ID", "CLIENT_SECRET_FILE", "TOKEN_URL"}

func pelicanKnobs(p string) []string {
	k := []string{"PELICAN_CREDMON_CA_FILE", "PELICAN_CREDMON_TLS_SKIP_VERIFY"}
	for _, x := range pelicanKnobSuffixes {
		k = append(k, p+"_PELICAN_"+x)
	}
	return k
}

// Pelican is the configuration of one Pelican service.
type Pelican struct {
	Name             string
	ClientID         string // <S>_PELICAN_CLIENT_ID
	ClientSecretFile string // <S>_PELICAN_CLIENT_SECRET_FILE
	TokenURL         string // <S>_PELICAN_TOKEN_URL; "": discovery from the token's issuer
	CAFile           string // PELICAN_CREDMON_CA_FILE
	SkipVerify       bool   // PELICAN_CREDMON_TLS_SKIP_VERIFY
}

// SecretKnob is the knob that names the client secret file.
func (p *Pelican) SecretKnob() string { return p.Name + "_PELICAN_CLIENT_SECRET_FILE" }

// Pelican reads the knobs of Pelican service p. Errors name the knobs.
func (m *Credmon) Pelican(p string) (*Pelican, error) {
	c := m.cfg
	pc := &Pelican{
		Name:             p,
		ClientID:         strings.TrimSpace(c.Get(p + "_PELICAN_CLIENT_ID")),
		ClientSecretFile: strings.TrimSpace(c.Get(p + "_PELICAN_CLIENT_SECRET_FILE")),
		TokenURL:         strings.TrimSpace(c.Get(p + "_PELICAN_TOKEN_URL")),
		CAFile:           strings.TrimSpace(c.Get("PELICAN_CREDMON_CA_FILE")),
	}
	var errs []string
	if v, ok := c.Lookup("PELICAN_CREDMON_TLS_SKIP_VERIFY"); ok && strings.TrimSpace(v) != "" {
		b, err := condorcfg.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("PELICAN_CREDMON_TLS_SKIP_VERIFY = %q: %v", v, err))
		}
		pc.SkipVerify = b
	}
	if pc.ClientID == "" {
		errs = append(errs, p+"_PELICAN_CLIENT_ID is not set")
	}
	if pc.ClientSecretFile == "" {
		errs = append(errs, p+"_PELICAN_CLIENT_SECRET_FILE is not set")
	}
	if len(errs) > 0 {
		return pc, fmt.Errorf("the Pelican service %s: %s", p, strings.Join(errs, "; "))
	}
	return pc, nil
}

package storer

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/credmon/credmon/condorcfg"
)

// KnobNames are the knobs ConfigFrom reads, plus USER_CONFIG_FILE (where
// a user sets SEC_CREDENTIAL_GETTOKEN_OPTS), fetched in one
// condor_config_val run.
var KnobNames = []string{
	"SEC_CREDENTIAL_VAULT_STORER_OPTS", "SEC_CREDENTIAL_GETTOKEN_OPTS", "USER_CONFIG_FILE",
	"LOCAL_CREDMON_PROVIDER_NAMES", "LOCAL_CREDMON_PROVIDER_NAME",
	"OAUTH2_CREDMON_PROVIDER_NAMES", "CLIENT_CREDMON_PROVIDER_NAMES", "PELICAN_CREDMON_PROVIDER_NAMES",
}

// LoadKnobs reads the HTCondor configuration the way condor_config_val
// does for a tool. With no HTCondor configuration at all every knob is
// unset (nil Knobs), as condor_vault_storer's `condor_config_val X
// 2>/dev/null` gives.
func LoadKnobs() (Knobs, error) {
	cfg, err := condorcfg.Load(condorcfg.Options{Subsystem: "TOOL", Prefetch: KnobNames})
	if errors.Is(err, condorcfg.ErrNoConfig) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the HTCondor configuration: %w", err)
	}
	return cfg, nil
}

// Knob is k's value of name, "" when unset or when there is no
// configuration (nil k).
func Knob(k Knobs, name string) string {
	if k == nil {
		return ""
	}
	v, _ := k.Lookup(name)
	return v
}

// storeCredFallback is where condor_vault_storer finds condor_store_cred
// (it puts /usr/sbin first in PATH); here the caller's PATH comes first.
const storeCredFallback = "/usr/sbin/condor_store_cred"

// NewStoreCred is condor_store_cred as the storer runs it: found on PATH
// (else /usr/sbin), with env's CONDOR_VAULT_STORER_USER and
// SEC_CREDENTIAL_STORECRED_OPTS.
func NewStoreCred(env Env) *StoreCred {
	path, err := exec.LookPath("condor_store_cred")
	if err != nil {
		path = storeCredFallback
	}
	return &StoreCred{Path: path, User: env.User, Opts: env.StoreCredOpts}
}

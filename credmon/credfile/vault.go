package credfile

import (
	"errors"
	"strings"

	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/tokenchars"
)

// VaultTop is a parsed Vault .top: what condor_vault_storer pipes to
// condor_store_cred add-oauth, {"vault_token": ..., "vault_url": ...},
// with "scopes" and "audience" merged in by credd for -S/-A. A handle's
// .top (<service>_<handle>) normally has no vault_token and uses its
// parent's (VaultParent).
type VaultTop struct {
	// Token is the Vault token; "" when the .top inherits its parent's.
	// It is a credential: never log it.
	Token string
	// URL is the Vault API URL of the credential (a creds or sts path).
	URL string
	// Scopes and Audience are what the job asked for.
	Scopes, Audience []string
}

// ErrNoVaultURL is returned for a .top without a usable vault_url.
var ErrNoVaultURL = errors.New("credfile: .top has no vault_url")

// ParseVaultTop parses a Vault .top.
func ParseVaultTop(b []byte) (*VaultTop, error) {
	obj, err := jsonobj.ParseUnique(b)
	if err != nil {
		return nil, err
	}
	u, ok := obj.String("vault_url")
	if !ok || strings.TrimSpace(u) == "" {
		return nil, ErrNoVaultURL
	}
	t := &VaultTop{URL: strings.TrimSpace(u), Scopes: obj.Strings("scopes"), Audience: obj.Strings("audience")}
	if v, ok := obj.String("vault_token"); ok {
		if v != "" && !tokenchars.AccessToken(v) {
			// It goes into a header: a token with a line break could add one.
			return nil, errors.New("credfile: .top has a vault_token with characters outside visible ASCII")
		}
		t.Token = v
	}
	return t, nil
}

// VaultParent returns the token name whose .top a handle's .top inherits
// its vault_token from: the name up to its last "_", as
// condor_credmon_vault takes it. ok is false for a name without "_".
func VaultParent(name string) (parent string, ok bool) {
	i := strings.LastIndexByte(name, '_')
	if i <= 0 {
		return "", false
	}
	return name[:i], true
}

package storer

import (
	"errors"
	"fmt"

	"github.com/credmon/credmon/internal/credname"
)

// ErrNoLocalProvider: the site's local-issuer provider name cannot be a
// credd name.
var ErrNoLocalProvider = errors.New("no valid local-issuer provider name")

// LocalCredential is what SEC_CREDENTIAL_PRODUCER prints for the site's
// local issuer: "LOCAL:<provider>", no newline. credd (since 8.9.7) reads
// output starting with "LOCAL:" as the name of a local-issuer service,
// writes <user>/<provider>.top itself, wakes the OAuth credmon and waits
// for the .use. Any other output would be stored as a Kerberos credential,
// which is why the producer prints nothing else. The provider is the first
// of LOCAL_CREDMON_PROVIDER_NAMES (else LOCAL_CREDMON_PROVIDER_NAME, else
// "scitokens"), credd's own choice of local-issuer names.
func LocalCredential(k Knobs) (string, error) {
	names := ConfigFrom(k).Providers.Local
	if len(names) == 0 {
		return "", ErrNoLocalProvider
	}
	if !credname.OkayForOAuthFilename(names[0]) {
		return "", fmt.Errorf("%w: %q", ErrNoLocalProvider, names[0])
	}
	return "LOCAL:" + names[0], nil
}

package storer

import (
	"context"
	"io"
)

// Source obtains the credential credd stores for a service: for Vault,
// the JSON {"vault_token": <28-day token>, "vault_url": <creds URL>} after
// a Kerberos or OIDC login, and {"vault_url": <sts URL>} for a handle with
// reduced scopes or audience. It is the storer's only seam to the network.
type Source interface {
	// Obtain returns the credential for req. With req.Renew it must
	// return a new long-lived credential (New set) even if a cached
	// session is still valid; without it, New says whether it made one
	// anyway (the cached session had expired). Messages for the user
	// (a login URL) go to req.Terminal.
	Obtain(ctx context.Context, req SourceRequest) (*Credential, error)
}

// SourceRequest is one service's request to a Source.
type SourceRequest struct {
	Request
	// GettokenOptions are htgettoken-style options in the order htgettoken
	// would see them: HTGETTOKENOPTS, SEC_CREDENTIAL_GETTOKEN_OPTS, then
	// the request's &options=.
	GettokenOptions []string
	// Renew: credd holds nothing for the service, a new long-lived
	// credential is required.
	Renew bool
	// ID names the source's files (CONDOR_VAULT_STORER_ID or u<uid>).
	ID string
	// Verbose and Debug are the storer's -v and -d.
	Verbose, Debug bool
	// Terminal is the user's terminal (condor_submit's stderr).
	Terminal io.Writer
}

// Credential is what a Source returns.
type Credential struct {
	// New reports that Service holds a newly made long-lived credential.
	New bool
	// Service is the blob for <service>.top; required when New.
	Service []byte
	// Handle is the blob for <service>_<handle>.top; required when the
	// request has a handle.
	Handle []byte
}

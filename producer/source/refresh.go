package source

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/producer/oauth2refresh"
)

// RefreshAccount is the refresh grant of an oidc-agent account's client,
// shared by Account (credmon-token get) and the renewer (credmon-token
// renew) so that the two cannot drift apart on how the client
// authenticates.
//
// c.AuthStyle is the method tried first; AuthStyleAutoDetect means HTTP
// Basic for a client with a secret, as oidc-agent does, and
// client_id in the body for a public one. When the issuer refuses a client
// with a secret as invalid_client (or a bare 401), the other method
// (client_secret_post or Basic) is tried once: some clients are
// registered for client_secret_post (by hand, or by oidc-gen or
// credmon-token setup builds that registered that way; setup now registers
// for Basic), and an issuer that enforces the registered method refuses
// the other one. The retry is safe because
// the issuer rejects the client's authentication before it looks at the
// grant, so the refresh token is still unused. On return c.AuthStyle is
// the method last tried, so that a caller keeping it for the account's
// next refresh does not pay for the refused method again.
func RefreshAccount(ctx context.Context, c *oauth2refresh.Client, refreshToken string, scopes, audiences []string, now func() time.Time) (*oauth2refresh.Result, error) {
	if c.AuthStyle == oauth2.AuthStyleAutoDetect {
		c.AuthStyle = oauth2.AuthStyleInHeader
		if c.ClientSecret == "" {
			c.AuthStyle = oauth2.AuthStyleInParams
		}
	}
	res, err := c.Refresh(ctx, refreshToken, scopes, audiences, now)
	if err == nil || c.ClientSecret == "" || !clientAuthRefused(err) {
		return res, err
	}
	if c.AuthStyle == oauth2.AuthStyleInHeader {
		c.AuthStyle = oauth2.AuthStyleInParams
	} else {
		c.AuthStyle = oauth2.AuthStyleInHeader
	}
	return c.Refresh(ctx, refreshToken, scopes, audiences, now)
}

// clientAuthRefused reports a refusal of the client's authentication:
// invalid_client, or a 401 without an OAuth error code. Any other error
// may have been given after the grant was looked at (a 401 invalid_grant,
// say), and retrying could replay a refresh token the issuer has consumed.
func clientAuthRefused(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	return re.ErrorCode == "invalid_client" ||
		(re.ErrorCode == "" && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized)
}

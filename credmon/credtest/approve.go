package credtest

import (
	"context"
	"fmt"
	"net/url"
)

// ApproveDevice approves, as login, an RFC 8628 device authorization that
// some other client started — a CLI under test, or oidc-agent's oidc-gen —
// so that its polling gets tokens. verificationURI and userCode are what the
// client showed its user (verification_uri and user_code); a
// verification_uri_complete can be passed with an empty userCode. The
// approval drives the provider's own HTML pages like NewRefreshToken does.
// An empty login means DefaultLogin.
func (p *Provider) ApproveDevice(ctx context.Context, verificationURI, userCode, login string) error {
	u, err := url.Parse(verificationURI)
	if err != nil {
		return fmt.Errorf("parsing verification URI: %w", err)
	}
	if userCode != "" {
		q := u.Query()
		q.Set("user_code", userCode)
		u.RawQuery = q.Encode()
	}
	if login == "" {
		login = DefaultLogin
	}
	if err := p.approveDevice(ctx, u.String(), login); err != nil {
		return fmt.Errorf("approving user code %q: %w", userCode, err)
	}
	return nil
}

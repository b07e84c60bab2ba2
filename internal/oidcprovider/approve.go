package oidcprovider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// ApproveDevice approves, as login, an RFC 8628 device authorization that
// some other client started — a CLI under test, or oidc-agent's oidc-gen —
// so that its polling gets tokens. verificationURI and userCode are what the
// client showed its user (verification_uri and user_code); a
// verification_uri_complete can be passed with an empty userCode. The
// approval drives the provider's own HTML pages like NewRefreshToken does.
// An empty login means DefaultLogin.
func (p *Provider) ApproveDevice(ctx context.Context, verificationURI, userCode, login string) error {
	u, err := deviceURL(verificationURI, userCode)
	if err != nil {
		return err
	}
	if login == "" {
		login = DefaultLogin
	}
	if err := p.approveDevice(ctx, u, login); err != nil {
		return fmt.Errorf("approving user code %q: %w", userCode, err)
	}
	return nil
}

// DenyDevice does what a user who clicks "[ Abort ]" on the provider's
// "Confirm Device" page does (the default deviceFlow userCodeConfirmSource):
// the code is then refused with access_denied at the token endpoint
// (oidc-provider lib/actions/code_verification.js). verificationURI is
// verification_uri_complete, or verification_uri with userCode.
func (p *Provider) DenyDevice(ctx context.Context, verificationURI, userCode string) error {
	u, err := deviceURL(verificationURI, userCode)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	c := &http.Client{Transport: p.transport, Jar: jar}
	page, err := browse(ctx, c, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	for step := 0; step < 2; step++ {
		f, ok := parseForm(page)
		if !ok {
			return fmt.Errorf("step %d: no form on page:\n%s", step, excerpt(page))
		}
		if f.fields.Get("confirm") != "" {
			f.fields.Del("confirm")
			f.fields.Set("abort", "yes")
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.action, strings.NewReader(f.fields.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			// The provider answers an abort with an error page; what
			// matters is the token endpoint's answer afterwards.
			resp.Body.Close()
			return nil
		}
		if page, err = browse(ctx, c, http.MethodPost, f.action, f.fields); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return fmt.Errorf("no confirm form reached; last page:\n%s", excerpt(page))
}

// deviceURL is the page a user opens: verification_uri_complete as is, or
// verification_uri with the user_code added.
func deviceURL(verificationURI, userCode string) (string, error) {
	u, err := url.Parse(verificationURI)
	if err != nil {
		return "", fmt.Errorf("parsing verification URI: %w", err)
	}
	if userCode != "" {
		q := u.Query()
		q.Set("user_code", userCode)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/credmon/credmon/internal/redact"
)

// Well-known paths: OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.
const (
	wellKnownOIDC  = "/.well-known/openid-configuration"
	wellKnownOAuth = "/.well-known/oauth-authorization-server"
)

// Metadata is the part of an authorization server's discovery document
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2) that credmon uses. List
// fields are nil when the document leaves them out; the RFC 8414 defaults
// apply through SupportsGrantType and SupportsAuthMethod.
type Metadata struct {
	// Issuer is the document's issuer, verbatim. It equals the requested
	// issuer up to one trailing slash, and it is the string the server
	// puts in iss, so token checks should use this one.
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`

	// Source is the URL the document was read from; OAuthOnly is true when
	// that was the RFC 8414 fallback (the server may not know "openid",
	// which is how oidc-agent marks such accounts).
	Source    string `json:"-"`
	OAuthOnly bool   `json:"-"`
	// Raw is the whole document.
	Raw json.RawMessage `json:"-"`
}

// SupportsGrantType reports whether grant_types_supported lists gt, using
// the RFC 8414 §2 default ["authorization_code", "implicit"] when the
// document has none. Many servers omit the device_code grant from the list
// while offering it; DeviceAuthorizationEndpoint is the better signal.
func (m *Metadata) SupportsGrantType(gt string) bool {
	if m.GrantTypesSupported == nil {
		return gt == "authorization_code" || gt == "implicit"
	}
	return slices.Contains(m.GrantTypesSupported, gt)
}

// SupportsAuthMethod reports whether token_endpoint_auth_methods_supported
// lists method, defaulting to client_secret_basic (RFC 8414 §2).
func (m *Metadata) SupportsAuthMethod(method string) bool {
	if m.TokenEndpointAuthMethodsSupported == nil {
		return method == "client_secret_basic"
	}
	return slices.Contains(m.TokenEndpointAuthMethodsSupported, method)
}

// Discover fetches the issuer's metadata.
//
// It reads <issuer>/.well-known/openid-configuration, appending the path
// after any issuer path as OpenID Connect Discovery 1.0 §4 says (an issuer
// https://h/realms/x gives https://h/realms/x/.well-known/...). When that
// answers 4xx it falls back to RFC 8414: first the well-known path
// inserted before the issuer path (§3.1: https://h/.well-known/
// oauth-authorization-server/realms/x), then, for issuers with a path, the
// appended form oidc-agent uses. Network errors and 5xx do not
// fall back: the server is there but broken, and another URL would only
// hide that.
//
// The document's issuer must equal the requested one (Discovery §4.3, RFC
// 8414 §3.3), so a misdirected or forged document cannot send tokens and
// secrets elsewhere. The comparison is exact except that one trailing "/"
// on either side is ignored, as oidc-agent's compIssuerUrls does: users
// type issuers with and without it, and some servers publish theirs with
// it. The returned Metadata.Issuer is the document's spelling.
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	u, err := c.parseURL(issuer, "issuer")
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer %q has a query or fragment (RFC 8414 §2)", issuer)
	}
	base := strings.TrimSuffix(issuer, "/")
	candidates := []string{base + wellKnownOIDC}
	inserted := *u
	inserted.Path = wellKnownOAuth + strings.TrimSuffix(u.Path, "/")
	inserted.RawPath = ""
	candidates = append(candidates, inserted.String())
	if p := strings.TrimSuffix(u.Path, "/"); p != "" {
		candidates = append(candidates, base+wellKnownOAuth)
	}

	var firstErr error
	for i, src := range candidates {
		md, status, err := c.fetchMetadata(ctx, src)
		if err == nil {
			if !sameIssuer(md.Issuer, issuer) {
				return nil, fmt.Errorf("%w: %s names %q, not %q", ErrIssuerMismatch, src, redact.Text(md.Issuer, redact.DescriptionLen), issuer)
			}
			if md.TokenEndpoint == "" {
				return nil, fmt.Errorf("discovery document %s has no token_endpoint", src)
			}
			md.Source, md.OAuthOnly = src, i > 0
			return md, nil
		}
		if firstErr == nil {
			firstErr = err
		} else {
			firstErr = fmt.Errorf("%w; fallback: %v", firstErr, err)
		}
		if status/100 != 4 {
			break
		}
	}
	return nil, firstErr
}

// sameIssuer compares issuers exactly, ignoring one trailing slash on
// each.
func sameIssuer(got, want string) bool {
	return got != "" && strings.TrimSuffix(got, "/") == strings.TrimSuffix(want, "/")
}

// fetchMetadata GETs one candidate document. status is the HTTP status, 0
// for transport errors.
func (c *Client) fetchMetadata(ctx context.Context, src string) (*Metadata, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.do(c.getClient(), req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, 0, fmt.Errorf("fetching %s: %w", ue.URL, ue.Err)
		}
		return nil, 0, fmt.Errorf("fetching %s: %w", src, err)
	}
	if resp.status != http.StatusOK {
		return nil, resp.status, fmt.Errorf("fetching %s: HTTP %d", src, resp.status)
	}
	var md Metadata
	if err := json.Unmarshal(resp.body, &md); err != nil {
		return nil, resp.status, fmt.Errorf("parsing %s (%s): %w", src, orUnknown(resp.contentType), redact.Error(err, redact.DescriptionLen))
	}
	md.Raw = json.RawMessage(resp.body)
	return &md, resp.status, nil
}

// orUnknown names a response's content type (the server's text, so
// scrubbed) for a message.
func orUnknown(ct string) string {
	if ct == "" {
		return "no content type"
	}
	return redact.Text(ct, maxCodeLen)
}

package tokenclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// RegistrationRequest is the client metadata sent to the registration
// endpoint (RFC 7591 §2; ApplicationType is from OpenID Connect Dynamic
// Client Registration 1.0 §2). Empty fields are left out, so the server's
// defaults apply.
type RegistrationRequest struct {
	ClientName              string
	Scope                   string
	GrantTypes              []string
	RedirectURIs            []string
	TokenEndpointAuthMethod string
	ApplicationType         string
	// ResponseTypes, when nil, is derived from GrantTypes: "code" with
	// authorization_code, "token" with implicit, else an explicit empty
	// list. RFC 7591 §2.1 defaults a missing response_types to ["code"],
	// which a consistent server (oidc-provider) then refuses for a client
	// without the authorization_code grant, i.e. a device-flow-only one.
	ResponseTypes []string
	// InitialAccessToken, if set, is sent as a Bearer token (RFC 7591
	// §3; oidc-gen --at).
	InitialAccessToken string
}

// Registration is the client information response (RFC 7591 §3.2.1) plus
// the RFC 7592 management credentials.
type Registration struct {
	ClientID, ClientSecret                         string
	RegistrationAccessToken, RegistrationClientURI string
	// ClientSecretExpiresAt is a Unix time; 0 means the secret does not
	// expire (RFC 7591 §3.2.1).
	ClientSecretExpiresAt int64
	// Raw is the whole response: the server may change or add metadata
	// (scope, grant_types, token_endpoint_auth_method) and the caller
	// should store what was actually registered.
	Raw json.RawMessage
}

// Register creates a client at endpoint, the issuer's
// registration_endpoint (RFC 7591 §3.1): a JSON POST without client
// authentication (the Client's identity is not used). An error answer
// (RFC 7591 §3.2.2, e.g. invalid_client_metadata, invalid_redirect_uri) is
// an *Error with the server's error and error_description.
func (c *Client) Register(ctx context.Context, endpoint string, req RegistrationRequest) (*Registration, error) {
	if endpoint == "" {
		return nil, &PermanentError{Err: errors.New("the issuer has no registration_endpoint")}
	}
	if err := checkURL("registration endpoint", endpoint, c.AllowInsecure); err != nil {
		return nil, err
	}
	body, err := json.Marshal(registrationBody(req))
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &PermanentError{Err: err}
	}
	hreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	hreq.Header.Set("Content-Type", "application/json")
	if req.InitialAccessToken != "" {
		hreq.Header.Set("Authorization", "Bearer "+req.InitialAccessToken)
	}
	resp, err := c.do(c.postClient(), hreq, []string{req.InitialAccessToken})
	if err != nil {
		return nil, fmt.Errorf("client registration: %w", err)
	}
	obj := parseBody(resp.contentType, resp.body)
	if resp.status/100 != 2 {
		return nil, fmt.Errorf("client registration at %s: %w", redactURLString(endpoint), answerError(resp, obj, ""))
	}
	if obj == nil {
		return nil, fmt.Errorf("client registration response (HTTP %d, %s) is not a JSON object", resp.status, orUnknown(resp.contentType))
	}
	reg := &Registration{Raw: json.RawMessage(resp.body)}
	reg.ClientID, _ = obj.String("client_id")
	reg.ClientSecret, _ = obj.String("client_secret")
	reg.RegistrationAccessToken, _ = obj.String("registration_access_token")
	reg.RegistrationClientURI, _ = obj.String("registration_client_uri")
	if n, ok := obj.Number("client_secret_expires_at"); ok && n > 0 && n < 1<<62 {
		reg.ClientSecretExpiresAt = int64(n)
	}
	if reg.ClientID == "" {
		return nil, fmt.Errorf("client registration response (HTTP %d) has no client_id", resp.status)
	}
	return reg, nil
}

// registrationBody is the JSON client metadata for req.
func registrationBody(req RegistrationRequest) map[string]any {
	m := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("client_name", req.ClientName)
	set("scope", req.Scope)
	set("token_endpoint_auth_method", req.TokenEndpointAuthMethod)
	set("application_type", req.ApplicationType)
	if len(req.GrantTypes) > 0 {
		m["grant_types"] = req.GrantTypes
	}
	if len(req.RedirectURIs) > 0 {
		m["redirect_uris"] = req.RedirectURIs
	}
	rt := req.ResponseTypes
	if rt == nil && len(req.GrantTypes) > 0 {
		rt = []string{}
		if slices.Contains(req.GrantTypes, "authorization_code") {
			rt = append(rt, "code")
		}
		if slices.Contains(req.GrantTypes, "implicit") {
			rt = append(rt, "token")
		}
	}
	if rt != nil {
		m["response_types"] = rt
	}
	return m
}

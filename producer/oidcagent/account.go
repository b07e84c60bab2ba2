package oidcagent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// JSON keys of the decrypted account configuration. oidc-agent 4.x writes
// the first block in this order (account.c _accountToJSON; observed with
// 4.2.6); 5.x renames scope to auth_scope/refresh_scope and adds the rest
// (5.x account.c _accountToJSON), and reads issuer as well as issuer_url
// (getAccountFromJSON). A dynamically registered client additionally has
// its whole registration response merged in (redirect_uris,
// registration_access_token, registration_client_uri, grant_types, ...).
const (
	KeyName                        = "name"
	KeyClientName                  = "client_name"
	KeyIssuerURL                   = "issuer_url"
	KeyDeviceAuthorizationEndpoint = "device_authorization_endpoint"
	KeyDAESetByUser                = "daeSetByUser"
	KeyClientID                    = "client_id"
	KeyClientSecret                = "client_secret"
	KeyRefreshToken                = "refresh_token"
	KeyCertPath                    = "cert_path"
	KeyScope                       = "scope"
	KeyAudience                    = "audience"
	KeyRedirectURIs                = "redirect_uris"
	KeyUsername                    = "username"
	KeyPassword                    = "password"

	// KeyIssuer is read by 5.x when issuer_url is absent.
	KeyIssuer = "issuer"
	// KeyAuthScope (5.x) is the scope of the initial flow; 5.x reads scope
	// as the auth scope when auth_scope is absent.
	KeyAuthScope = "auth_scope"
	// KeyRefreshScope (5.x) is the scope the provider granted in the first
	// token response.
	KeyRefreshScope   = "refresh_scope"
	KeyMytokenURL     = "mytoken_url"
	KeyConfigEndpoint = "config_endpoint"
	KeyOAuth          = "oauth"
	KeyUsesPubClient  = "uses_pub_client"
	KeyMytokenProfile = "mytoken_profile"
)

// Account is a decrypted oidc-agent account configuration: a JSON object
// kept as an ordered list of members with their values' original bytes, so
// that encoding it again keeps every key — known or not — in its place and
// every value it did not change byte for byte. Duplicate keys are kept too;
// like cJSON (cJSON_GetObjectItem), the accessors see the first.
//
// The zero value is an empty account. An Account is not safe for
// concurrent use.
type Account struct {
	members []member
}

type member struct {
	key   string
	value json.RawMessage
}

// ParseAccount decodes an account's JSON (what Decrypt returns). It needs a
// JSON object and nothing after it; the values may be anything.
func ParseAccount(plaintext []byte) (*Account, error) {
	a := &Account{}
	if err := a.UnmarshalJSON(plaintext); err != nil {
		return nil, err
	}
	return a, nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseAccount's rules.
func (a *Account) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: account JSON: %v", ErrCorrupt, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%w: account JSON is not an object", ErrCorrupt)
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: account JSON: %v", ErrCorrupt, err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%w: account JSON: unexpected %v where a key belongs", ErrCorrupt, tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%w: account JSON: value of %q: %v", ErrCorrupt, key, err)
		}
		ms = append(ms, member{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("%w: account JSON: %v", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: account JSON: data after the object", ErrCorrupt)
	}
	a.members = ms
	return nil
}

// MarshalJSON encodes the account in cJSON_Print's layout, the one
// oidc-agent writes: one member per line, indented with a tab, a tab after
// the colon. Values are written as they were read, or as set.
func (a *Account) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	for i, m := range a.members {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n\t")
		b.Write(encodeString(m.key))
		b.WriteString(":\t")
		b.Write(m.value)
	}
	b.WriteString("\n}")
	return b.Bytes(), nil
}

// NewAccount returns an account with the members oidc-agent 4.x writes, in
// its order, all empty except name (and daeSetByUser 0, redirect_uris []).
// Both oidc-agent 4.x and 5.x load such a file once the issuer, client and
// refresh token are set.
func NewAccount(name string) *Account {
	a := &Account{}
	for _, k := range []string{KeyName, KeyClientName, KeyIssuerURL, KeyDeviceAuthorizationEndpoint} {
		a.SetString(k, "")
	}
	a.members = append(a.members, member{key: KeyDAESetByUser, value: json.RawMessage("0")})
	for _, k := range []string{KeyClientID, KeyClientSecret, KeyRefreshToken, KeyCertPath, KeyScope, KeyAudience} {
		a.SetString(k, "")
	}
	a.members = append(a.members, member{key: KeyRedirectURIs, value: json.RawMessage("[]")})
	a.SetString(KeyUsername, "")
	a.SetString(KeyPassword, "")
	a.SetString(KeyName, name)
	return a
}

// Clone returns a deep copy.
func (a *Account) Clone() *Account {
	c := &Account{members: make([]member, len(a.members))}
	for i, m := range a.members {
		c.members[i] = member{key: m.key, value: append(json.RawMessage(nil), m.value...)}
	}
	return c
}

// Keys returns the member names in order (duplicates included).
func (a *Account) Keys() []string {
	ks := make([]string, len(a.members))
	for i, m := range a.members {
		ks[i] = m.key
	}
	return ks
}

func (a *Account) find(key string) int {
	for i, m := range a.members {
		if m.key == key {
			return i
		}
	}
	return -1
}

// Has reports whether key is present (with any value, null included).
func (a *Account) Has(key string) bool { return a.find(key) >= 0 }

// Raw returns a copy of the value of key as JSON.
func (a *Account) Raw(key string) (json.RawMessage, bool) {
	i := a.find(key)
	if i < 0 {
		return nil, false
	}
	return append(json.RawMessage(nil), a.members[i].value...), true
}

// GetString returns the value of key if it is a JSON string.
func (a *Account) GetString(key string) (string, bool) {
	i := a.find(key)
	if i < 0 {
		return "", false
	}
	var s string
	if err := json.Unmarshal(a.members[i].value, &s); err != nil {
		return "", false
	}
	return s, true
}

// str is GetString without the flag: "" when absent or not a string.
func (a *Account) str(key string) string {
	s, _ := a.GetString(key)
	return s
}

// SetRaw sets key to the JSON value v, in place if key exists (its first
// occurrence), else appended at the end.
func (a *Account) SetRaw(key string, v json.RawMessage) error {
	if !json.Valid(v) {
		return fmt.Errorf("oidcagent: value for %q is not valid JSON", key)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return fmt.Errorf("oidcagent: value for %q: %w", key, err)
	}
	a.set(key, buf.Bytes())
	return nil
}

// SetString sets key to the JSON string s, in place if key exists, else
// appended at the end.
func (a *Account) SetString(key, s string) { a.set(key, encodeString(s)) }

func (a *Account) set(key string, v []byte) {
	if i := a.find(key); i >= 0 {
		a.members[i].value = v
		return
	}
	a.members = append(a.members, member{key: key, value: v})
}

// Delete removes every occurrence of key.
func (a *Account) Delete(key string) {
	ms := a.members[:0]
	for _, m := range a.members {
		if m.key != key {
			ms = append(ms, m)
		}
	}
	clear(a.members[len(ms):])
	a.members = ms
}

// encodeString encodes s as a JSON string the way cJSON would: without
// Go's HTML escaping of <, > and &.
func encodeString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Name is the account's short name, which is also its file name.
func (a *Account) Name() string { return a.str(KeyName) }

// SetName sets the short name.
func (a *Account) SetName(s string) { a.SetString(KeyName, s) }

// ClientName is the client_name registered for the client (DCR), or
// oidc-agent's "oidc-agent:<short>-<host>".
func (a *Account) ClientName() string { return a.str(KeyClientName) }

// IssuerURL is the issuer: issuer_url, or 5.x's alternative issuer when
// issuer_url is absent or empty. oidc-gen stores it with a trailing slash;
// oidc-agent ignores one trailing slash when it compares issuers.
func (a *Account) IssuerURL() string {
	if s := a.str(KeyIssuerURL); s != "" {
		return s
	}
	return a.str(KeyIssuer)
}

// SetIssuerURL sets issuer_url.
func (a *Account) SetIssuerURL(s string) { a.SetString(KeyIssuerURL, s) }

// DeviceAuthorizationEndpoint is the RFC 8628 endpoint oidc-agent found by
// discovery or was given with --dae; empty means discover it.
func (a *Account) DeviceAuthorizationEndpoint() string {
	return a.str(KeyDeviceAuthorizationEndpoint)
}

// ConfigEndpoint (5.x) replaces the discovery URL; empty means
// <issuer>/.well-known/openid-configuration.
func (a *Account) ConfigEndpoint() string { return a.str(KeyConfigEndpoint) }

// ClientID is the OAuth client id.
func (a *Account) ClientID() string { return a.str(KeyClientID) }

// SetClientID sets the client id.
func (a *Account) SetClientID(s string) { a.SetString(KeyClientID, s) }

// ClientSecret is the client secret; empty for a public client.
func (a *Account) ClientSecret() string { return a.str(KeyClientSecret) }

// SetClientSecret sets the client secret.
func (a *Account) SetClientSecret(s string) { a.SetString(KeyClientSecret, s) }

// RefreshToken is the refresh token.
func (a *Account) RefreshToken() string { return a.str(KeyRefreshToken) }

// SetRefreshToken sets the refresh token, e.g. after the provider rotated it.
func (a *Account) SetRefreshToken(s string) { a.SetString(KeyRefreshToken, s) }

// Scope is the space-separated scope of the account's initial flow:
// 5.x's auth_scope if present, else 4.x's scope (5.x getAccountFromJSON
// falls back the same way).
func (a *Account) Scope() string {
	if a.Has(KeyAuthScope) {
		return a.str(KeyAuthScope)
	}
	return a.str(KeyScope)
}

// SetScope sets the initial-flow scope in whichever member Scope reads:
// auth_scope if present, else scope.
func (a *Account) SetScope(s string) {
	if a.Has(KeyAuthScope) {
		a.SetString(KeyAuthScope, s)
		return
	}
	a.SetString(KeyScope, s)
}

// RefreshScope (5.x) is the scope granted in the first token response, the
// default scope of 5.x refresh requests; empty in 4.x files.
func (a *Account) RefreshScope() string { return a.str(KeyRefreshScope) }

// Audience is the default audience set with oidc-gen --aud, a
// space-separated list; empty for none.
func (a *Account) Audience() string { return a.str(KeyAudience) }

// SetAudience sets the default audience.
func (a *Account) SetAudience(s string) { a.SetString(KeyAudience, s) }

// CertPath is the CA bundle oidc-agent uses for TLS to the issuer.
func (a *Account) CertPath() string { return a.str(KeyCertPath) }

// RedirectURIs returns the redirect URIs, or nil if the member is absent or
// not an array of strings.
func (a *Account) RedirectURIs() []string {
	raw, ok := a.Raw(KeyRedirectURIs)
	if !ok {
		return nil
	}
	var uris []string
	if err := json.Unmarshal(raw, &uris); err != nil {
		return nil
	}
	return uris
}

// SetRedirectURIs sets the redirect URIs.
func (a *Account) SetRedirectURIs(uris []string) {
	if uris == nil {
		uris = []string{}
	}
	parts := make([]string, len(uris))
	for i, u := range uris {
		parts[i] = string(encodeString(u))
	}
	a.set(KeyRedirectURIs, []byte("["+strings.Join(parts, ", ")+"]"))
}

// OPUsername and OPPassword are the resource owner's credentials for the
// password flow (oidc-gen --op-username/--op-password), normally empty.
// They are not the encryption password.
func (a *Account) OPUsername() string { return a.str(KeyUsername) }

// OPPassword: see OPUsername.
func (a *Account) OPPassword() string { return a.str(KeyPassword) }

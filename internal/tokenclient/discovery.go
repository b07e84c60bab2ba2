package tokenclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

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
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
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
	// AuthorizationResponseIssParameterSupported is RFC 9207 §3: the
	// server puts iss in every authorization response, so a client must
	// refuse a response without it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`

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

// Discover fetches the issuer's metadata. It is the one discovery of the
// module; its rules:
//
//   - It reads <issuer>/.well-known/openid-configuration, appending the
//     path after any issuer path as OpenID Connect Discovery 1.0 §4 says
//     (an issuer https://h/realms/x gives https://h/realms/x/.well-known/
//     ...). When that answers 4xx it falls back to RFC 8414: first the
//     well-known path inserted before the issuer path (§3.1:
//     https://h/.well-known/oauth-authorization-server/realms/x), then, for
//     issuers with a path, the appended form oidc-agent uses. Network
//     errors and 5xx do not fall back: the server is there but broken, and
//     another URL would only hide that.
//   - Redirects are followed (at most 5), never from https to http unless
//     AllowInsecure.
//   - The document's issuer must equal the requested one (Discovery §4.3,
//     RFC 8414 §3.3), so a misdirected or forged document cannot send
//     tokens and secrets elsewhere. The comparison is exact except that one
//     trailing "/" on either side is ignored, as oidc-agent's
//     compIssuerUrls does. The returned Metadata.Issuer is the document's
//     spelling.
//   - The issuer and the token_endpoint the document names must be https
//     unless AllowInsecure: a document fetched over plain http could name
//     any token endpoint, and the refresh token would follow it.
//
// A refused URL, an issuer mismatch (ErrIssuerMismatch) and a document
// without token_endpoint are permanent (a *PermanentError); a document not
// served (a status other than 200) is a transient *Error whose Retry-After
// RetryAfter reads; network errors and unparsable documents are transient.
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	if err := checkURL("issuer", issuer, c.AllowInsecure); err != nil {
		return nil, err
	}
	u, _ := url.Parse(issuer) // checkURL parsed it
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &PermanentError{Err: fmt.Errorf("issuer %q has a query or fragment (RFC 8414 §2)", redactURL(u))}
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
				return nil, &PermanentError{Err: fmt.Errorf("%w: %s names %q, not %q", ErrIssuerMismatch, src, redact.Text(md.Issuer, redact.DescriptionLen), issuer)}
			}
			if md.TokenEndpoint == "" {
				return nil, &PermanentError{Err: fmt.Errorf("discovery document at %s has no token_endpoint", src)}
			}
			if err := checkURL("discovered token endpoint", md.TokenEndpoint, c.AllowInsecure); err != nil {
				return nil, err
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
		return nil, 0, &PermanentError{Err: err}
	}
	resp, err := c.do(c.getClient(), req, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching discovery document: %w", err)
	}
	if resp.status != http.StatusOK {
		e := answerError(resp, nil, "fetching "+src)
		e.Class = Transient // a document not served, whatever the status
		return nil, resp.status, e
	}
	var md Metadata
	if err := json.Unmarshal(resp.body, &md); err != nil {
		return nil, resp.status, fmt.Errorf("parsing %s (%s): %w", src, orUnknown(resp.contentType), redact.Error(err, redact.DescriptionLen))
	}
	md.Raw = json.RawMessage(resp.body)
	return &md, resp.status, nil
}

// DiscoverTokenURL is Discover's token_endpoint, fetched with hc (nil: a
// client with DefaultTimeout) and the https rule allowInsecure says.
func DiscoverTokenURL(ctx context.Context, hc *http.Client, issuer string, allowInsecure bool) (string, error) {
	md, err := (&Client{HTTPClient: hc, AllowInsecure: allowInsecure}).Discover(ctx, issuer)
	if err != nil {
		return "", err
	}
	return md.TokenEndpoint, nil
}

// Cache remembers discovery results per issuer (and insecure switch), and
// lets concurrent lookups of one issuer share one request. Failures are not
// remembered. The zero value is ready; it keeps results until Reset when
// TTL is zero.
type Cache struct {
	// TTL is how long a document is reused; zero: until Reset.
	TTL time.Duration
	// Now is the clock for TTL; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	flight  map[cacheKey]*cacheCall
}

type cacheKey struct {
	issuer   string
	insecure bool
}

type cacheEntry struct {
	md *Metadata
	at time.Time
}

type cacheCall struct {
	done chan struct{}
	md   *Metadata
	err  error
}

func (dc *Cache) now() time.Time {
	if dc.Now != nil {
		return dc.Now()
	}
	return time.Now()
}

// Reset forgets every result, so that the next lookups discover again.
func (dc *Cache) Reset() {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.entries = nil
}

// Discover returns c.Discover(ctx, issuer), from the cache when it holds a
// result young enough; the Metadata is shared and must not be changed. A caller that joins a lookup in flight waits for it
// or for its own ctx.
func (dc *Cache) Discover(ctx context.Context, c *Client, issuer string) (*Metadata, error) {
	key := cacheKey{issuer, c.AllowInsecure}
	dc.mu.Lock()
	if e, ok := dc.entries[key]; ok && (dc.TTL == 0 || dc.now().Sub(e.at) < dc.TTL) {
		dc.mu.Unlock()
		return e.md, nil
	}
	if call, ok := dc.flight[key]; ok {
		dc.mu.Unlock()
		select {
		case <-call.done:
			return call.md, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	call := &cacheCall{done: make(chan struct{})}
	if dc.flight == nil {
		dc.flight = map[cacheKey]*cacheCall{}
	}
	dc.flight[key] = call
	dc.mu.Unlock()

	call.md, call.err = c.Discover(ctx, issuer)

	dc.mu.Lock()
	delete(dc.flight, key)
	if call.err == nil {
		if dc.entries == nil {
			dc.entries = map[cacheKey]cacheEntry{}
		}
		dc.entries[key] = cacheEntry{md: call.md, at: dc.now()}
	}
	dc.mu.Unlock()
	close(call.done)
	return call.md, call.err
}

// TokenURL is Discover's token_endpoint.
func (dc *Cache) TokenURL(ctx context.Context, c *Client, issuer string) (string, error) {
	md, err := dc.Discover(ctx, c, issuer)
	if err != nil {
		return "", err
	}
	return md.TokenEndpoint, nil
}

// Probe sends one HEAD request to endpoint (a token endpoint, say) with the
// client's transport, the https rule of AllowInsecure and no redirects, and
// returns the HTTP status. Any answer, even 405 or 400, proves the endpoint
// reachable: token endpoints accept only POST, and a probe must send no
// credential. It is what `credmon check` uses; nothing is sent but the
// request line and the common headers.
func (c *Client) Probe(ctx context.Context, endpoint string) (int, error) {
	if err := checkURL("endpoint", endpoint, c.AllowInsecure); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, endpoint, nil)
	if err != nil {
		return 0, &PermanentError{Err: err}
	}
	resp, err := c.do(c.postClient(), req, nil)
	if err != nil {
		return 0, err
	}
	return resp.status, nil
}

package oauth2refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/credmon/credmon/internal/redact"
)

// DiscoverTokenURL fetches <issuer>/.well-known/openid-configuration
// (OpenID Connect Discovery 1.0 §4) and returns its token_endpoint. The
// document's issuer must equal the one asked for (§4.3), so a misconfigured
// proxy cannot send refresh tokens to another server.
//
// Both the issuer and the token endpoint it names must be https unless
// allowInsecure is set (the rule Client.Refresh applies to token URLs):
// a discovery document fetched over plain http could name any token
// endpoint, and the refresh token would follow it. A refused URL is a
// PermanentError wrapping ErrInsecureURL, and nothing is sent.
//
// A status other than 200 is a transient error; RetryAfter reads the
// answer's Retry-After from it. Text the server supplied (its issuer, a
// malformed response quoted by the transport) is scrubbed.
func DiscoverTokenURL(ctx context.Context, hc *http.Client, issuer string, allowInsecure bool) (string, error) {
	if err := checkURL("issuer", issuer, allowInsecure); err != nil {
		return "", err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return "", &PermanentError{Err: fmt.Errorf("issuer %q: %w", issuer, err)}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if u, perr := url.Parse(wellKnown); perr == nil {
			err = transportError(err, u, nil)
		}
		return "", fmt.Errorf("fetching discovery document: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", wellKnown, redact.Error(err, redact.DescriptionLen))
	}
	if resp.StatusCode != http.StatusOK {
		return "", &discoveryStatusError{url: wellKnown, status: resp.StatusCode, retryAfter: bareResponse(resp).Header.Get("Retry-After")}
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("parsing %s: %w", wellKnown, redact.Error(err, redact.DescriptionLen))
	}
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return "", &PermanentError{Err: fmt.Errorf("discovery document at %s names issuer %q", wellKnown, redact.Text(doc.Issuer, redact.DescriptionLen))}
	}
	if doc.TokenEndpoint == "" {
		return "", &PermanentError{Err: fmt.Errorf("discovery document at %s has no token_endpoint", wellKnown)}
	}
	if err := checkURL("discovered token endpoint", doc.TokenEndpoint, allowInsecure); err != nil {
		return "", err
	}
	return doc.TokenEndpoint, nil
}

// discoveryStatusError is a discovery document not served (a status other
// than 200). It is transient, like a network failure, and carries the
// answer's Retry-After for RetryAfter.
type discoveryStatusError struct {
	url        string
	status     int
	retryAfter string
}

func (e *discoveryStatusError) Error() string {
	return fmt.Sprintf("fetching %s: HTTP %d", e.url, e.status)
}

// checkURL refuses a URL that is not absolute http(s) with a host, and an
// http one unless allowInsecure; what names the URL in the message, which
// is scrubbed: a discovered URL is the issuer's text.
func checkURL(what, raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &PermanentError{Err: fmt.Errorf("invalid %s URL %q", what, redact.Text(raw, redact.DescriptionLen))}
	}
	if u.Scheme != "https" && !allowInsecure {
		return &PermanentError{Err: fmt.Errorf("%s %s: %w", what, redact.Text(redactURL(u), redact.DescriptionLen), ErrInsecureURL)}
	}
	return nil
}

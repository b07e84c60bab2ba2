package oauth2refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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
		return "", fmt.Errorf("fetching %s: %w", wellKnown, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", wellKnown, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching %s: HTTP %d", wellKnown, resp.StatusCode)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("parsing %s: %w", wellKnown, err)
	}
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return "", &PermanentError{Err: fmt.Errorf("discovery document at %s names issuer %q", wellKnown, doc.Issuer)}
	}
	if doc.TokenEndpoint == "" {
		return "", &PermanentError{Err: fmt.Errorf("discovery document at %s has no token_endpoint", wellKnown)}
	}
	if err := checkURL("discovered token endpoint", doc.TokenEndpoint, allowInsecure); err != nil {
		return "", err
	}
	return doc.TokenEndpoint, nil
}

// checkURL refuses a URL that is not absolute http(s) with a host, and an
// http one unless allowInsecure; what names the URL in the message.
func checkURL(what, raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &PermanentError{Err: fmt.Errorf("invalid %s URL %q", what, raw)}
	}
	if u.Scheme != "https" && !allowInsecure {
		return &PermanentError{Err: fmt.Errorf("%s %s: %w", what, redactURL(u), ErrInsecureURL)}
	}
	return nil
}

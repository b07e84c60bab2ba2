package oauth2refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Discover fetches <issuer>/.well-known/openid-configuration (OpenID
// Connect Discovery 1.0 §4) and returns its token_endpoint. The document's
// issuer must equal the one asked for (§4.3), so a misconfigured proxy
// cannot send refresh tokens to another server.
func Discover(ctx context.Context, hc *http.Client, issuer string) (string, error) {
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
	return doc.TokenEndpoint, nil
}

package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GrantTypeDeviceCode is the RFC 8628 §3.4 grant type.
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Device flow timing defaults.
const (
	// DefaultInterval is the polling interval when the server sends none
	// (RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the
	// default").
	DefaultInterval = 5 * time.Second
	// SlowDownStep is what slow_down adds to the interval, "for this and
	// all subsequent requests" (RFC 8628 §3.5). oidc-agent adds 1 s;
	// that is a deviation we do not copy.
	SlowDownStep = 5 * time.Second
	// DefaultDeviceExpiry stands in for a missing expires_in, which RFC
	// 8628 §3.2 makes required; 300 s is what oidc-agent uses for its own
	// re-authentication. Without a bound, a forgotten prompt
	// would poll forever, as oidc-gen does.
	DefaultDeviceExpiry = 300 * time.Second
	// MaxBackoffInterval caps the doubling of the interval after network
	// failures (RFC 8628 §3.5 recommends doubling on connection
	// timeouts). A person has just approved in a browser and is waiting;
	// a minute is the most we make them wait for the next poll. slow_down
	// may still push the interval beyond it.
	MaxBackoffInterval = 60 * time.Second
)

// DeviceAuth is a device authorization response (RFC 8628 §3.2).
type DeviceAuth struct {
	DeviceCode, UserCode, VerificationURI, VerificationURIComplete string
	// ExpiresIn and Interval are in seconds. StartDevice fills in
	// DefaultDeviceExpiry and DefaultInterval when the server sends none
	// (or zero), so they can be shown as they are.
	ExpiresIn, Interval int
	// Received is when the response arrived (Client.Now); the code
	// expires at Received + ExpiresIn.
	Received time.Time
	// Audience and AudienceParam are what StartDevice asked for. PollDevice
	// repeats them at the token endpoint: RFC 8707 §2.2 lets a client
	// narrow the token to one granted resource there, and without it a
	// server picks its default audience (oidc-provider does; INDIGO IAM
	// requires the same resource as on the device request).
	Audience, AudienceParam string
}

// deviceResponse is the wire form, with the aliases oidc-agent accepts:
// Google's verification_url(_complete).
type deviceResponse struct {
	DeviceCode              string  `json:"device_code"`
	UserCode                string  `json:"user_code"`
	VerificationURI         string  `json:"verification_uri"`
	VerificationURL         string  `json:"verification_url"`
	VerificationURIComplete string  `json:"verification_uri_complete"`
	VerificationURLComplete string  `json:"verification_url_complete"`
	ExpiresIn               flexInt `json:"expires_in"`
	Interval                flexInt `json:"interval"`
	Error                   any     `json:"error"`
}

// StartDevice sends the device authorization request (RFC 8628 §3.1) to
// md.DeviceAuthorizationEndpoint. scopes are joined with spaces (none: the
// client's registered scopes). A non-empty audience is sent as
// c.AudienceParam chooses and remembered in the result for PollDevice.
//
// A confidential client authenticates here exactly as at the token
// endpoint (Basic or form, per auth.Style); a public client sends only
// client_id.
func (c *Client) StartDevice(ctx context.Context, md *Metadata, auth ClientAuth, scopes []string, audience string) (*DeviceAuth, error) {
	if err := auth.validate(); err != nil {
		return nil, err
	}
	if md == nil || md.DeviceAuthorizationEndpoint == "" {
		return nil, errors.New("the issuer has no device_authorization_endpoint")
	}
	form := url.Values{}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if err := audienceParams(form, audience, c.AudienceParam); err != nil {
		return nil, err
	}
	resp, err := c.postForm(ctx, md.DeviceAuthorizationEndpoint, &auth, form)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	var dr deviceResponse
	parseErr := json.Unmarshal(resp.body, &dr)
	if resp.status/100 != 2 || (parseErr == nil && dr.Error != nil && dr.Error != "") {
		return nil, fmt.Errorf("device authorization at %s: %w", md.DeviceAuthorizationEndpoint, oauthError(resp))
	}
	if parseErr != nil {
		return nil, fmt.Errorf("parsing device authorization response (%s): %w", orUnknown(resp.contentType), scrubJSONError(parseErr))
	}
	da := &DeviceAuth{
		DeviceCode:              dr.DeviceCode,
		UserCode:                dr.UserCode,
		VerificationURI:         firstNonEmpty(dr.VerificationURI, dr.VerificationURL),
		VerificationURIComplete: firstNonEmpty(dr.VerificationURIComplete, dr.VerificationURLComplete),
		ExpiresIn:               int(dr.ExpiresIn),
		Interval:                int(dr.Interval),
		Received:                c.now(),
		Audience:                audience,
		AudienceParam:           c.AudienceParam,
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, errors.New("device authorization response lacks device_code, user_code or verification_uri")
	}
	if da.Interval <= 0 {
		da.Interval = int(DefaultInterval / time.Second)
	}
	if da.ExpiresIn <= 0 {
		da.ExpiresIn = int(DefaultDeviceExpiry / time.Second)
	}
	return da, nil
}

// PollDevice polls md.TokenEndpoint for the device code (RFC 8628 §3.4)
// until the user approves, denies, or the code expires:
//
//   - it waits the interval before every request, including the first
//     (nobody approves within a second, and it keeps a client that is
//     restarted in a loop from hammering the server);
//   - authorization_pending: poll again;
//   - slow_down: add SlowDownStep to the interval, for good (§3.5);
//   - access_denied and expired_token end the flow with errors for which
//     errors.Is(err, ErrAccessDenied) / errors.Is(err, ErrExpiredToken)
//     hold;
//   - when Received + ExpiresIn has passed, no further request is sent
//     and the error is ErrExpiredToken;
//   - a network failure, or HTTP 408/429/502/503/504 without an OAuth
//     error, doubles the interval (up to MaxBackoffInterval) and polls
//     again: §3.5 asks clients to back off on connection timeouts, and
//     one failed request out of sixty should not throw away an approval;
//   - any other error is returned as it is (a *TokenError for OAuth
//     errors).
//
// progress, if not nil, is called before each wait with the time left
// until the code expires and the current interval.
func (c *Client) PollDevice(ctx context.Context, md *Metadata, auth ClientAuth, da *DeviceAuth, progress func(left, interval time.Duration)) (*Token, error) {
	if err := auth.validate(); err != nil {
		return nil, err
	}
	if md == nil || da == nil || da.DeviceCode == "" {
		return nil, errors.New("polling needs metadata and a device code")
	}
	if _, err := c.parseURL(md.TokenEndpoint, "token endpoint"); err != nil {
		return nil, err
	}
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = DefaultInterval
	}
	life := time.Duration(da.ExpiresIn) * time.Second
	if life <= 0 {
		life = DefaultDeviceExpiry
	}
	start := da.Received
	if start.IsZero() {
		start = c.now()
	}
	deadline := start.Add(life)

	form := url.Values{"grant_type": {GrantTypeDeviceCode}, "device_code": {da.DeviceCode}}
	if err := audienceParams(form, da.Audience, da.AudienceParam); err != nil {
		return nil, err
	}
	var lastFailure error // the last transient failure, reported if the code then expires
	expired := func() error {
		if lastFailure != nil {
			return fmt.Errorf("%w after %v; the last poll failed: %v", ErrExpiredToken, life, lastFailure)
		}
		return fmt.Errorf("%w: not approved within %v", ErrExpiredToken, life)
	}
	for {
		left := deadline.Sub(c.now())
		if left <= 0 {
			return nil, expired()
		}
		if progress != nil {
			progress(left, interval)
		}
		if err := c.sleep(ctx, min(interval, left)); err != nil {
			return nil, fmt.Errorf("waiting for device approval: %w", err)
		}
		if !c.now().Before(deadline) {
			return nil, expired()
		}

		resp, err := c.postForm(ctx, md.TokenEndpoint, &auth, form)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("polling token endpoint: %w", ctx.Err())
			}
			lastFailure = err
			interval = backoff(interval)
			continue
		}
		tok, err := c.tokenFrom(resp)
		if err == nil {
			return tok, nil
		}
		var te *TokenError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("polling token endpoint %s: %w", md.TokenEndpoint, err)
		}
		switch {
		case te.Code == "authorization_pending":
			lastFailure = nil
		case te.Code == "slow_down":
			lastFailure = nil
			interval += SlowDownStep
		case te.Code == "" && transientStatus(te.Status):
			lastFailure = te
			interval = backoff(interval)
		default: // access_denied, expired_token (see TokenError.Is), anything else
			return nil, fmt.Errorf("polling token endpoint %s: %w", md.TokenEndpoint, te)
		}
	}
}

// backoff doubles the interval up to MaxBackoffInterval, never shrinking
// one that slow_down already made longer.
func backoff(d time.Duration) time.Duration {
	return max(d, min(2*d, MaxBackoffInterval))
}

// transientStatus are the statuses oidc-agent retries.
func transientStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

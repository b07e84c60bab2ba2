package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/redact"
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
	// re-authentication. Without a bound, a forgotten prompt would poll
	// forever, as oidc-gen does.
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
	// Audiences are what StartDevice asked for. PollDevice repeats them at
	// the token endpoint (as the Client's AudienceMode says): RFC 8707
	// §2.2 lets a client narrow the token to one granted resource there,
	// and without it a server picks its default audience (oidc-provider
	// does; INDIGO IAM requires the same resource as on the device
	// request).
	Audiences []string
}

// StartDevice sends the device authorization request (RFC 8628 §3.1) to
// DeviceAuthURL. scopes are joined with spaces (none: the client's
// registered scopes); audiences are sent as AudienceMode says and kept in
// the result for PollDevice.
//
// Unlike x/oauth2's DeviceAuth, a confidential client authenticates here
// exactly as at the token endpoint (AuthStyle): RFC 8628 §3.1 says so, and
// a server that enforces it answers invalid_client otherwise.
func (c *Client) StartDevice(ctx context.Context, scopes, audiences []string) (*DeviceAuth, error) {
	if c.DeviceAuthURL == "" {
		return nil, &PermanentError{Err: errors.New("the issuer has no device_authorization_endpoint")}
	}
	form := url.Values{}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	setAudiences(form, c.AudienceMode, audiences)
	resp, err := c.postForm(ctx, c.DeviceAuthURL, "device authorization endpoint", form)
	if err != nil {
		return nil, err
	}
	obj := parseBody(resp.contentType, resp.body)
	if resp.status/100 != 2 || errorCode(obj) != "" {
		return nil, fmt.Errorf("device authorization at %s: %w", redactURLString(c.DeviceAuthURL), answerError(resp, obj, ""))
	}
	if obj == nil {
		return nil, fmt.Errorf("device authorization response (HTTP %d, %s) is not a JSON object", resp.status, orUnknown(resp.contentType))
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, _ := obj.String(k); v != "" {
				return v
			}
		}
		return ""
	}
	num := func(k string) int {
		n, _ := obj.Number(k)
		if n < 0 || n > 1<<31 {
			return 0
		}
		return int(n)
	}
	da := &DeviceAuth{
		DeviceCode: str("device_code"),
		UserCode:   str("user_code"),
		// Google's names are verification_url(_complete), which
		// oidc-agent accepts too.
		VerificationURI:         str("verification_uri", "verification_url"),
		VerificationURIComplete: str("verification_uri_complete", "verification_url_complete"),
		ExpiresIn:               num("expires_in"),
		Interval:                num("interval"),
		Received:                c.now(),
		Audiences:               append([]string(nil), audiences...),
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

// PollDevice polls TokenURL for the device code (RFC 8628 §3.4) until the
// user approves, denies, or the code expires:
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
//   - any other error is returned as it is (an *Error for OAuth errors).
//
// progress, if not nil, is called before each wait with the time left
// until the code expires and the current interval.
func (c *Client) PollDevice(ctx context.Context, da *DeviceAuth, progress func(left, interval time.Duration)) (*Result, error) {
	if da == nil || da.DeviceCode == "" {
		return nil, &PermanentError{Err: errors.New("polling needs a device code")}
	}
	if err := checkURL("token endpoint", c.TokenURL, c.AllowInsecure); err != nil {
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
	setAudiences(form, c.AudienceMode, da.Audiences)
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

		res, err := c.grant(ctx, form, nil)
		if err == nil {
			return res, nil
		}
		var e *Error
		if !errors.As(err, &e) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("polling token endpoint: %w", ctx.Err())
			}
			if IsPermanent(err) {
				return nil, err
			}
			lastFailure = err
			interval = backoff(interval)
			continue
		}
		switch {
		case e.Code == "authorization_pending":
			lastFailure = nil
		case e.Code == "slow_down":
			lastFailure = nil
			interval += SlowDownStep
		case e.Code == "" && transientStatus(e.Status):
			lastFailure = e
			interval = backoff(interval)
		default: // access_denied, expired_token (see Error.Is), anything else
			return nil, fmt.Errorf("polling token endpoint %s: %w", redactURLString(c.TokenURL), e)
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

// redactURLString is raw without query and user info, for messages.
func redactURLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redact.Text(raw, redact.DescriptionLen)
	}
	return redactURL(u)
}

// orUnknown names a response's content type (the server's text, so
// scrubbed) for a message.
func orUnknown(ct string) string {
	if ct == "" {
		return "no content type"
	}
	return redact.Text(ct, maxCodeLen)
}

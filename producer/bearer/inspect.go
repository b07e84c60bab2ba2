package bearer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Info is what a JWT access token says about itself. It is read without
// verifying the signature: this package only decides whether a token on
// disk is worth keeping; the service the token is sent to verifies it.
type Info struct {
	// Claims holds every claim as decoded from JSON (numbers are float64).
	Claims   map[string]any
	Issuer   string
	Subject  string
	Audience []string // "aud" as a string or an array
	// Scopes is "scope" split on spaces (RFC 8693 §4.2, WLCG and SciTokens
	// profiles), followed by any "scp" entries not already present (an
	// array, or a space-separated string, as some issuers emit).
	Scopes []string
	// IssuedAt and NotBefore are zero when the claim is absent.
	IssuedAt, NotBefore time.Time
	// Expiry is the "exp" claim; HasExpiry is false when it is absent.
	Expiry    time.Time
	HasExpiry bool
}

// Inspect decodes the claims of a JWT without verifying it. Surrounding
// BTD whitespace is ignored. It fails if the token is not a JWT with a
// JSON header and claims, or if a registered claim has the wrong type
// (iss/sub not strings, aud not a string or array of strings, exp/iat/nbf
// not numbers, scope/scp not a string or array of strings).
func Inspect(token string) (*Info, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.Trim(token, btdSpace), claims); err != nil {
		return nil, fmt.Errorf("decoding token: %w", err)
	}
	info := &Info{Claims: claims}
	var err error
	if info.Issuer, err = claims.GetIssuer(); err != nil {
		return nil, fmt.Errorf("decoding token: %w", err)
	}
	if info.Subject, err = claims.GetSubject(); err != nil {
		return nil, fmt.Errorf("decoding token: %w", err)
	}
	if info.Audience, err = audienceList(claims["aud"]); err != nil {
		return nil, fmt.Errorf("decoding token: aud claim: %w", err)
	}
	for _, d := range []struct {
		get func() (*jwt.NumericDate, error)
		t   *time.Time
		has *bool
	}{
		{claims.GetIssuedAt, &info.IssuedAt, nil},
		{claims.GetNotBefore, &info.NotBefore, nil},
		{claims.GetExpirationTime, &info.Expiry, &info.HasExpiry},
	} {
		nd, err := d.get()
		if err != nil {
			return nil, fmt.Errorf("decoding token: %w", err)
		}
		if nd != nil {
			*d.t = nd.Time
			if d.has != nil {
				*d.has = true
			}
		}
	}
	for _, name := range []string{"scope", "scp"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		list, err := scopeList(v)
		if err != nil {
			return nil, fmt.Errorf("decoding token: %s claim: %w", name, err)
		}
		for _, s := range list {
			if !slices.Contains(info.Scopes, s) {
				info.Scopes = append(info.Scopes, s)
			}
		}
	}
	return info, nil
}

// audienceList accepts a string or an array of strings (RFC 7519
// §4.1.3); unlike jwt.MapClaims.GetAudience it refuses other types rather
// than ignoring them.
func audienceList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("array element %v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("is a %T, want a string or an array of strings", v)
	}
}

// scopeList accepts a space-separated string or an array of strings (each
// of which may itself hold several space-separated scopes).
func scopeList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return strings.Fields(v), nil
	case []any:
		var out []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("array element %v is not a string", e)
			}
			out = append(out, strings.Fields(s)...)
		}
		return out, nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("is a %T, want a string or an array of strings", v)
	}
}

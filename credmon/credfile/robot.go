package credfile

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/tokenchars"
)

// A robot's self-describing .top (docs/htcondor-contract.md#robot-top):
// what `credmon-token get --condor` stores with condor_store_cred add-oauth
// when no .meta and no provider configuration tell the daemon the client:
// a single-line JSON object that carries its own issuer and client.
//
//	{"iss": "https://issuer.example", "token_url": "https://issuer.example/token",
//	 "client_id": "robot-client", "client_secret": "…", "grant_type": "refresh_token",
//	 "refresh_token": "…", "scope": "a b", "resource": "https://aud.example"}
//
// "scope"/"resource" are the robot's request; credd's own "scopes" and
// "audience" (added for a handle stored with -S/-A) win over them. The
// token_url is informational: the daemon POSTs only to the endpoint that
// discovery at a trusted iss names.

// Grant types a robot .top may name.
const (
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// ErrNotRobotTop is ParseRobotTop's answer for a .top that is not a
// self-describing one (no "iss"; neither a "refresh_token" nor the client
// credentials grant; or a Vault .top, with a "vault_url"): the caller treats
// it as its name's type says.
var ErrNotRobotTop = errors.New("credfile: not a self-describing .top")

// RobotTop is a parsed self-describing .top. ClientSecret and the refresh
// token are credentials: never log them.
type RobotTop struct {
	obj *Object
	// Issuer is "iss", an absolute http(s) URL; TokenURL is "token_url"
	// ("" when absent), never used for a request.
	Issuer, TokenURL string
	ClientID         string
	ClientSecret     string // "" for a public client
	Grant            string // GrantRefreshToken or GrantClientCredentials
	// Scopes and Audience are what a refresh requests: credd's "scopes"
	// and "audience" when present, else the robot's "scope" and
	// "resource" (space separated).
	Scopes, Audience []string
}

// maxGrantTypeEcho bounds how much of an unknown grant_type an error
// repeats.
const maxGrantTypeEcho = 64

// ParseRobotTop parses a self-describing .top. It returns ErrNotRobotTop
// for any other .top (including one that is not a JSON object), and a
// descriptive error (never quoting a secret) for a self-describing one it
// cannot use: a missing or malformed field, an unknown grant type, a
// refresh token with the client credentials grant or none with the
// refresh_token grant. Top-level keys given twice are an error, as in
// ParseTop: the file is rewritten when the refresh token rotates.
func ParseRobotTop(b []byte) (*RobotTop, error) {
	obj, err := jsonobj.ParseUnique(b)
	if err != nil {
		if errors.Is(err, jsonobj.ErrDuplicateKey) && looksRobot(b) {
			return nil, err
		}
		return nil, ErrNotRobotTop
	}
	gt, gtIsString := obj.String("grant_type")
	if !obj.Has("iss") || obj.Has("vault_url") || !(obj.Has("refresh_token") || gtIsString && gt == GrantClientCredentials) {
		return nil, ErrNotRobotTop
	}
	t := &RobotTop{obj: obj}
	str := func(key string, required bool) (string, error) {
		if !obj.Has(key) {
			if required {
				return "", fmt.Errorf("credfile: self-describing .top has no %s", key)
			}
			return "", nil
		}
		v, ok := obj.String(key)
		if !ok {
			return "", fmt.Errorf("credfile: self-describing .top has a %s that is not a string", key)
		}
		if required && v == "" {
			return "", fmt.Errorf("credfile: self-describing .top has an empty %s", key)
		}
		if v != "" && !tokenchars.RefreshToken(v) {
			return "", fmt.Errorf("credfile: self-describing .top has a %s with characters outside 0x20-0x7E", key)
		}
		return v, nil
	}
	if t.Issuer, err = str("iss", true); err != nil {
		return nil, err
	}
	if err := absoluteHTTP(t.Issuer); err != nil {
		return nil, fmt.Errorf("credfile: self-describing .top: iss %w", err)
	}
	if t.TokenURL, err = str("token_url", false); err != nil {
		return nil, err
	}
	if t.TokenURL != "" {
		if err := absoluteHTTP(t.TokenURL); err != nil {
			return nil, fmt.Errorf("credfile: self-describing .top: token_url %w", err)
		}
	}
	if t.ClientID, err = str("client_id", true); err != nil {
		return nil, err
	}
	if t.ClientSecret, err = str("client_secret", false); err != nil {
		return nil, err
	}
	t.Grant = GrantRefreshToken
	if obj.Has("grant_type") {
		g, err := str("grant_type", true)
		if err != nil {
			return nil, err
		}
		switch g {
		case GrantRefreshToken, GrantClientCredentials:
			t.Grant = g
		default:
			if len(g) > maxGrantTypeEcho {
				g = g[:maxGrantTypeEcho] + "…"
			}
			return nil, fmt.Errorf("credfile: self-describing .top has unknown grant_type %q (want %s or %s)", g, GrantRefreshToken, GrantClientCredentials)
		}
	}
	rt, err := str("refresh_token", false)
	if err != nil {
		return nil, err
	}
	switch {
	case t.Grant == GrantRefreshToken && rt == "":
		return nil, errors.New("credfile: self-describing .top has no refresh_token (grant_type refresh_token)")
	case t.Grant == GrantClientCredentials && obj.Has("refresh_token"):
		return nil, errors.New("credfile: self-describing .top has a refresh_token with grant_type client_credentials")
	case t.Grant == GrantClientCredentials && t.ClientSecret == "":
		return nil, errors.New("credfile: self-describing .top has grant_type client_credentials but no client_secret")
	}
	scope, err := str("scope", false)
	if err != nil {
		return nil, err
	}
	resource, err := str("resource", false)
	if err != nil {
		return nil, err
	}
	t.Scopes, t.Audience = obj.Strings("scopes"), obj.Strings("audience")
	if !obj.Has("scopes") {
		t.Scopes = strings.Fields(scope)
	}
	if !obj.Has("audience") {
		t.Audience = strings.Fields(resource)
	}
	return t, nil
}

// looksRobot reports whether a .top that failed to parse strictly would be
// a self-describing one read leniently, so its error is the robot's.
func looksRobot(b []byte) bool {
	obj, err := jsonobj.Parse(b)
	return err == nil && obj.Has("iss") && !obj.Has("vault_url")
}

// absoluteHTTP checks that raw is an absolute http or https URL with a
// host; whether http is acceptable is the daemon's business (its trusted
// issuers).
func absoluteHTTP(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("is not an https URL")
	case u.Host == "":
		return errors.New("has no host")
	}
	return nil
}

// RefreshToken returns the refresh token ("" for client credentials).
func (t *RobotTop) RefreshToken() string { s, _ := t.obj.String("refresh_token"); return s }

// Object returns the underlying object (read-only use).
func (t *RobotTop) Object() *Object { return t.obj }

// WithRefreshToken returns the encoding of a new .top equal to t with only
// refresh_token replaced, as Top.WithRefreshToken does.
func (t *RobotTop) WithRefreshToken(rt string) []byte {
	return (&Top{obj: t.obj}).WithRefreshToken(rt)
}

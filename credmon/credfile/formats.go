package credfile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/credmon/credmon/internal/jsonobj"
)

// Top is a parsed OAuth2 .top file: a JSON object holding at least
// "refresh_token", and possibly "scopes" and "audience" (what the job asked
// for), plus keys owned by others that must survive a rewrite.
type Top struct {
	obj *Object
}

// ErrNoRefreshToken is returned for a JSON .top without a usable refresh token.
var ErrNoRefreshToken = errors.New("credfile: .top has no refresh_token")

// ParseTop parses a .top file for the OAuth2 refresh path. It accepts the
// single-line JSON the web app and credmons write and the multi-line JSON
// credd writes when -S/-A were given.
//
// A top-level key given twice is an error (ErrDuplicateKey) rather than
// Python's last-one-wins: the daemon rewrites the .top with each rotated
// refresh token, and keeping one value would silently drop the other from
// the file. Refused, the .top is left as it is until someone fixes it.
func ParseTop(b []byte) (*Top, error) {
	obj, err := jsonobj.ParseUnique(b)
	if err != nil {
		return nil, err
	}
	rt, ok := obj.String("refresh_token")
	if !ok || rt == "" {
		return nil, ErrNoRefreshToken
	}
	return &Top{obj: obj}, nil
}

// RefreshToken returns the refresh token.
func (t *Top) RefreshToken() string { s, _ := t.obj.String("refresh_token"); return s }

// Scopes returns the requested scopes ("scopes", comma separated as credd
// and the web app store them, or a JSON list).
func (t *Top) Scopes() []string { return t.obj.Strings("scopes") }

// Audience returns the requested audiences ("audience").
func (t *Top) Audience() []string { return t.obj.Strings("audience") }

// Object returns the underlying object (read-only use).
func (t *Top) Object() *Object { return t.obj }

// WithRefreshToken returns the encoding of a new .top equal to t with only
// refresh_token replaced: one line of compact JSON, every other key kept.
func (t *Top) WithRefreshToken(rt string) []byte {
	o := t.obj.Clone()
	_ = o.SetValue("refresh_token", rt)
	return o.MarshalCompact()
}

// Meta is a parsed .meta file written by HTCondor's OAuth web app.
type Meta struct {
	ClientID        string
	ClientSecret    string
	TokenURL        string
	UseRefreshToken bool // false only when the file says so explicitly
}

// ParseMeta parses a .meta file. client_id and token_url are required.
func ParseMeta(b []byte) (*Meta, error) {
	obj, err := ParseObject(b)
	if err != nil {
		return nil, err
	}
	m := &Meta{UseRefreshToken: true}
	m.ClientID, _ = obj.String("client_id")
	m.ClientSecret, _ = obj.String("client_secret")
	m.TokenURL, _ = obj.String("token_url")
	if v, ok := obj.Bool("use_refresh_token"); ok {
		m.UseRefreshToken = v
	}
	if m.ClientID == "" {
		return nil, errors.New("credfile: .meta has no client_id")
	}
	if m.TokenURL == "" {
		return nil, errors.New("credfile: .meta has no token_url")
	}
	return m, nil
}

// Use is a parsed .use file.
type Use struct {
	AccessToken string
	JSON        bool    // the file is a JSON object (else a bare token)
	ExpiresIn   float64 // seconds, 0 if absent or 0
	// HasExpiresIn: the file has a usable expires_in, possibly 0 (a token
	// that expired when issued: refreshed at once, not read as "unknown").
	HasExpiresIn bool
	ExpiresAt    float64 // epoch seconds, 0 if absent
}

// ParseUse parses a .use file the way HTCondor's consumers do
// (multifile_curl_plugin GetToken): blank and '#' lines are skipped; a line
// starting with '{' is one JSON object whose access_token is taken; any
// other line is a bare token.
func ParseUse(b []byte) (*Use, error) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			return nil, errors.New("credfile: .use holds a JSON array")
		}
		if line[0] != '{' {
			return &Use{AccessToken: string(line)}, nil
		}
		obj, err := ParseObject(line)
		if err != nil {
			return nil, err
		}
		u := &Use{JSON: true}
		var ok bool
		if u.AccessToken, ok = obj.String("access_token"); !ok {
			return nil, errors.New("credfile: .use has no access_token string")
		}
		if v, ok := obj.Number("expires_in"); ok && (v == 0 || validSeconds(v)) {
			u.ExpiresIn, u.HasExpiresIn = v, true
		}
		if v, ok := obj.Number("expires_at"); ok && validSeconds(v) {
			u.ExpiresAt = v
		}
		return u, nil
	}
	return nil, errors.New("credfile: .use is empty")
}

func validSeconds(v float64) bool {
	return v > 0 && v < 1e11 && !math.IsNaN(v)
}

// Lifetime reports when the token in u was issued and when it expires.
// written is when the .use file was written (its mtime). The expiry is the
// earliest of expires_at and the JWT "exp" claim; without either it is
// written + expires_in. The issue time is the JWT "iat" when present and
// plausible, else written. ok is false when nothing tells the expiry.
func (u *Use) Lifetime(written time.Time) (issued, expiry time.Time, ok bool) {
	issued = written
	claims := jwtTimes(u.AccessToken)
	if claims.exp > 0 {
		expiry = unix(claims.exp)
	}
	if u.ExpiresAt > 0 {
		if at := unix(u.ExpiresAt); expiry.IsZero() || at.Before(expiry) {
			expiry = at
		}
	}
	if expiry.IsZero() && u.HasExpiresIn {
		expiry = written.Add(time.Duration(u.ExpiresIn * float64(time.Second)))
	}
	if claims.iat > 0 {
		if iat := unix(claims.iat); !expiry.IsZero() && iat.Before(expiry) {
			issued = iat
		}
	}
	if expiry.IsZero() {
		return written, time.Time{}, false
	}
	if issued.After(expiry) {
		issued = expiry
	}
	return issued, expiry, true
}

func unix(sec float64) time.Time {
	s, frac := math.Modf(sec)
	return time.Unix(int64(s), int64(frac*1e9))
}

type jwtClaimTimes struct{ exp, iat float64 }

// jwtTimes extracts exp and iat from a JWT without verifying it: the daemon
// only schedules by them, it never trusts them for authorization.
func jwtTimes(tok string) jwtClaimTimes {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return jwtClaimTimes{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return jwtClaimTimes{}
	}
	var c struct {
		Exp json.Number `json:"exp"`
		Iat json.Number `json:"iat"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return jwtClaimTimes{}
	}
	var out jwtClaimTimes
	if f, err := c.Exp.Float64(); err == nil && validSeconds(f) {
		out.exp = f
	}
	if f, err := c.Iat.Float64(); err == nil && validSeconds(f) {
		out.iat = f
	}
	return out
}

// EncodeUse builds an OAuth2 .use from a token-endpoint response, as the
// Python credmon (through oauthlib) does: the response object minus
// refresh_token, every other key kept, expires_in as an integer, a numeric
// expires_at = round(now) + expires_in, and scope as a JSON list when the
// server returned a space-separated string. The result is one line of
// compact JSON.
func EncodeUse(resp *Object, now time.Time) ([]byte, error) {
	if tok, ok := resp.String("access_token"); !ok || tok == "" {
		return nil, errors.New("credfile: token response has no access_token")
	}
	o := resp.Clone()
	o.Delete("refresh_token")
	// expires_in 0 is a token that expired when issued (an issuer or a
	// clock that lies): written as such, so the schedule's floor, not a
	// failed write after the refresh token rotated, deals with it.
	if v, ok := o.Number("expires_in"); ok && (v == 0 || validSeconds(v)) {
		in := int64(math.Round(v))
		_ = o.SetValue("expires_in", in)
		_ = o.SetValue("expires_at", now.Round(time.Second).Unix()+in)
	} else if o.Has("expires_in") {
		raw, _ := o.Raw("expires_in")
		return nil, fmt.Errorf("credfile: token response has unusable expires_in %s", raw)
	}
	if s, ok := o.String("scope"); ok {
		_ = o.SetValue("scope", strings.Fields(s))
	}
	return o.MarshalCompact(), nil
}

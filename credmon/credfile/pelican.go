package credfile

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/credmon/credmon/internal/jsonobj"
	"github.com/credmon/credmon/internal/tokenchars"
)

// PelicanTop is a parsed Pelican .top (PelicanCredmon.py): before the
// first exchange the storer's subject token ({"access_token"} or
// {"subject_token"}), after it the daemon's own grant
// {"refresh_token", "token_url", "iss", "scope", "audience"}. Both may
// carry "scope" and "audience", which are kept as stored.
type PelicanTop struct {
	// RefreshToken is the grant's refresh token; "" before the exchange.
	RefreshToken string
	// SubjectToken is the storer's token to exchange (access_token, else
	// subject_token); used only while there is no RefreshToken.
	SubjectToken string
	// TokenURL and Issuer are what the daemon recorded after the exchange
	// ("" before it); Issuer falls back to the subject token's "iss".
	TokenURL, Issuer string
	// Scope and Audience are the stored values, verbatim (raw JSON),
	// carried into the exchange request and the rewritten .top.
	Scope, Audience json.RawMessage
}

// ParsePelicanTop parses a Pelican .top. It refuses a .top with neither
// a refresh token nor a subject token, and tokens that could not travel
// in a form field.
func ParsePelicanTop(b []byte) (*PelicanTop, error) {
	obj, err := jsonobj.ParseUnique(b)
	if err != nil {
		return nil, err
	}
	t := &PelicanTop{}
	t.RefreshToken, _ = obj.String("refresh_token")
	t.SubjectToken, _ = obj.String("access_token")
	if t.SubjectToken == "" {
		t.SubjectToken, _ = obj.String("subject_token")
	}
	t.TokenURL, _ = obj.String("token_url")
	t.Issuer, _ = obj.String("iss")
	t.Scope, _ = obj.Raw("scope")
	t.Audience, _ = obj.Raw("audience")
	switch {
	case t.RefreshToken == "" && t.SubjectToken == "":
		return nil, errors.New("credfile: Pelican .top has neither a refresh_token nor a subject token (access_token or subject_token)")
	case t.RefreshToken != "" && !tokenchars.RefreshToken(t.RefreshToken):
		return nil, errors.New("credfile: Pelican .top has a refresh_token with characters outside 0x20-0x7E")
	case t.RefreshToken == "" && !tokenchars.AccessToken(t.SubjectToken):
		return nil, errors.New("credfile: Pelican .top has a subject token with characters outside visible ASCII")
	}
	if t.Issuer == "" && t.RefreshToken == "" {
		t.Issuer = jwtIssuer(t.SubjectToken)
	}
	return t, nil
}

// Scopes is the stored scope as a list (a string split on white space and
// commas, or an array).
func (t *PelicanTop) Scopes() []string { return rawStrings(t.Scope) }

// Audiences is the stored audience as a list.
func (t *PelicanTop) Audiences() []string { return rawStrings(t.Audience) }

func rawStrings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	o := jsonobj.New()
	o.Set("v", raw)
	return o.Strings("v")
}

// Exchanged returns the .top that replaces t once the grant's refresh
// token is rt: {"refresh_token", "token_url", "iss", "scope", "audience"}
// in PelicanCredmon's order, iss, scope and audience only when known,
// one line.
func (t *PelicanTop) Exchanged(rt, tokenURL string) []byte {
	o := jsonobj.New()
	_ = o.SetValue("refresh_token", rt)
	_ = o.SetValue("token_url", tokenURL)
	if t.Issuer != "" {
		_ = o.SetValue("iss", t.Issuer)
	}
	for _, kv := range []struct {
		k string
		v json.RawMessage
	}{{"scope", t.Scope}, {"audience", t.Audience}} {
		if len(kv.v) > 0 && string(kv.v) != `""` && string(kv.v) != "null" {
			o.Set(kv.k, kv.v)
		}
	}
	return o.MarshalCompact()
}

// EncodePelicanUse is the Pelican .use: {"access_token", "token_type",
// "expires_in"} as PelicanCredmon's json.dump writes it (one line, ", "
// and ": " separators), token_type "Bearer" when the server sent none.
func EncodePelicanUse(accessToken, tokenType string, expiresIn int64) []byte {
	if tokenType == "" {
		tokenType = "Bearer"
	}
	at, _ := json.Marshal(accessToken)
	tt, _ := json.Marshal(tokenType)
	var b strings.Builder
	b.WriteString(`{"access_token": `)
	b.Write(at)
	b.WriteString(`, "token_type": `)
	b.Write(tt)
	b.WriteString(`, "expires_in": `)
	b.WriteString(strconv.FormatInt(expiresIn, 10))
	b.WriteByte('}')
	return []byte(b.String())
}

// jwtIssuer is the unverified "iss" of a JWT ("" when tok is not one),
// where PelicanCredmon discovers the token endpoint before the exchange.
func jwtIssuer(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Iss
}

package localissuer

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultAuthzTemplate is LocalCredmon's AUTHZ_TEMPLATE default; an empty
// Config.AuthzTemplate means this (HTCondor treats an empty knob as unset).
const DefaultAuthzTemplate = "read:/user/{username} write:/user/{username}"

// Token versions with special meaning (TOKEN_VERSION), compared
// case-insensitively.
const (
	// VersionSciToken2 needs an audience: LocalCredmon refuses to mint a
	// scitoken:2.0 token without "aud" (the SciTokens 2.0 profile requires
	// it).
	VersionSciToken2 = "scitoken:2.0"
	// VersionWLCG and VersionWLCG1 select the WLCG profile: the claim is
	// "wlcg.ver": "1.0" and there is no "ver" (HTCONDOR-2954, 24.7.3).
	VersionWLCG  = "wlcg"
	VersionWLCG1 = "wlcg:1.0"
)

// ErrNoAudience is returned when the version is scitoken:2.0 and no
// audience is configured; LocalCredmon logs 'No "aud" claim,
// LOCAL_CREDMON_TOKEN_AUDIENCE must be set' and writes no token.
var ErrNoAudience = errors.New("localissuer: no audience: LOCAL_CREDMON_TOKEN_AUDIENCE must be set for scitoken:2.0 tokens")

// Config is one local-issuer provider's minting configuration, already
// looked up and converted by the caller (knobs.Local).
type Config struct {
	Issuer   string        // "iss"; must not be empty (python-scitokens raises without one)
	Lifetime time.Duration // exp - iat and the .use expires_in; whole seconds, at least 1s
	// Audience is TOKEN_AUDIENCE split on whitespace. Empty elements are
	// dropped (Python filters them too). Non-empty means "aud" is a JSON
	// array, even with one element.
	Audience []string
	// Version is TOKEN_VERSION verbatim: "scitoken:2.0", "wlcg", "wlcg:1.0",
	// anything else (put in "ver" as written), or "" (no version claim).
	Version string
	// AuthzTemplate is expanded with {username}; "" means
	// DefaultAuthzTemplate.
	AuthzTemplate string
	// AuthzGroupTemplate is expanded with {groupname} once per group; ""
	// means no group scopes (Request.Groups is then ignored).
	AuthzGroupTemplate string
}

// Validate reports configuration errors that would make every mint fail.
// It does not expand the templates (that needs a username).
func (c Config) Validate() error {
	var errs []string
	if c.Issuer == "" {
		errs = append(errs, "empty issuer")
	}
	if c.Lifetime < time.Second {
		errs = append(errs, fmt.Sprintf("lifetime %v is less than one second", c.Lifetime))
	}
	if len(errs) > 0 {
		return fmt.Errorf("localissuer: invalid config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// lifetimeSeconds is Python's int(token_lifetime): whole seconds.
func (c Config) lifetimeSeconds() int64 { return int64(c.Lifetime / time.Second) }

// Request is what the daemon knows about one token to mint.
type Request struct {
	// Username is the local user (the credential directory's subdirectory
	// name), the "sub" claim and the {username} of the templates.
	Username string
	// ExprScope is the string result of AUTHZ_TEMPLATE_EXPR, evaluated by
	// the caller in an ad with Username; it is appended verbatim as one
	// scope element when HasExprScope is set (an expression that failed or
	// was not a string adds nothing, as in Python).
	ExprScope    string
	HasExprScope bool
	// Groups are the user's groups from AUTHZ_GROUP_MAPFILE (GroupsFor), or
	// nil when no mapfile is configured or the user is not listed.
	Groups []string
}

// BuildClaims returns the payload LocalCredmon and python-scitokens would
// sign for req at now, with the given jti (NewJTI in production; fixed in
// tests). Each claim, in the order Python adds them:
//
//	sub       req.Username
//	scope     " ".join([template(username), expr result?, group template(g) for g in groups])
//	wlcg.ver  "1.0" when Version is wlcg or wlcg:1.0 (any case), and then no "ver"
//	ver       Version verbatim otherwise, unless it is empty
//	aud       Audience as a JSON array when non-empty; when empty and Version
//	          is scitoken:2.0 (any case), ErrNoAudience and no token
//	iss       Issuer (serialize overrides any earlier "iss")
//	exp       iat + int(lifetime)
//	iat, nbf  int(now): whole seconds, truncated
//	jti       jti
//
// The scope is not normalised: templates are expanded and joined with one
// space exactly as Python does, so extra spaces in a template survive.
// Numbers are int64, so they encode as JSON integers, like Python ints.
func BuildClaims(cfg Config, req Request, now time.Time, jti string) (jwt.MapClaims, error) {
	cs, err := buildClaimSet(cfg, req, now, jti)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{"sub": cs.Sub, "scope": cs.Scope, "iss": cs.Iss, "iat": cs.Iat, "nbf": cs.Nbf, "exp": cs.Exp, "jti": cs.Jti}
	if cs.WLCGVer != "" {
		claims["wlcg.ver"] = cs.WLCGVer
	}
	if cs.Ver != "" {
		claims["ver"] = cs.Ver
	}
	if len(cs.Aud) > 0 {
		claims["aud"] = cs.Aud
	}
	return claims, nil
}

// claimSet is the payload BuildClaims describes, as a struct: encoding it
// is several times cheaper than a map (no reflection over map keys, no
// sorting), which matters when a thousand users submit at once. Mint signs
// its JSON; tests check that it decodes to exactly BuildClaims.
type claimSet struct {
	Sub     string   `json:"sub"`
	Scope   string   `json:"scope"`
	WLCGVer string   `json:"wlcg.ver,omitempty"`
	Ver     string   `json:"ver,omitempty"`
	Aud     []string `json:"aud,omitempty"`
	Iss     string   `json:"iss"`
	Iat     int64    `json:"iat"`
	Nbf     int64    `json:"nbf"`
	Exp     int64    `json:"exp"`
	Jti     string   `json:"jti"`
}

func buildClaimSet(cfg Config, req Request, now time.Time, jti string) (*claimSet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if req.Username == "" {
		return nil, errors.New("localissuer: empty username")
	}
	if jti == "" {
		return nil, errors.New("localissuer: empty jti")
	}
	scope, err := Scope(cfg, req)
	if err != nil {
		return nil, err
	}

	claims := &claimSet{Sub: req.Username, Scope: scope}
	version := strings.ToLower(cfg.Version)
	switch {
	case version == VersionWLCG || version == VersionWLCG1:
		claims.WLCGVer = "1.0"
	case cfg.Version != "":
		claims.Ver = cfg.Version
	}
	aud := make([]string, 0, len(cfg.Audience))
	for _, a := range cfg.Audience {
		if a != "" {
			aud = append(aud, a)
		}
	}
	switch {
	case len(aud) > 0:
		claims.Aud = aud
	case version == VersionSciToken2:
		return nil, ErrNoAudience
	}
	iat := now.Unix()
	claims.Iss = cfg.Issuer
	claims.Iat, claims.Nbf, claims.Exp = iat, iat, iat+cfg.lifetimeSeconds()
	claims.Jti = jti
	return claims, nil
}

// Scope is the "scope" claim BuildClaims puts in req's token: the authz
// template expanded for the user, the expression's scope, and one group
// template per group, joined with one space. The client-credentials type
// asks its server for exactly these scopes (knobs.Client).
func Scope(cfg Config, req Request) (string, error) {
	tmpl := cfg.AuthzTemplate
	if tmpl == "" {
		tmpl = DefaultAuthzTemplate
	}
	first, err := FormatTemplate(tmpl, map[string]string{"username": req.Username})
	if err != nil {
		return "", fmt.Errorf("expanding authz template: %w", err)
	}
	scopes := make([]string, 0, 2+len(req.Groups))
	scopes = append(scopes, first)
	if req.HasExprScope {
		scopes = append(scopes, req.ExprScope)
	}
	if cfg.AuthzGroupTemplate != "" {
		for _, g := range req.Groups {
			// Deliberate difference from Python: an empty group name
			// (from "g1,,g2" or a trailing comma in the mapfile) would
			// expand "write:/groups/{groupname}" to "write:/groups/", a
			// grant over all groups. It is skipped instead.
			if g == "" {
				continue
			}
			s, err := FormatTemplate(cfg.AuthzGroupTemplate, map[string]string{"groupname": g})
			if err != nil {
				return "", fmt.Errorf("expanding authz group template: %w", err)
			}
			scopes = append(scopes, s)
		}
	}

	return strings.Join(scopes, " "), nil
}

// NewJTI returns a random (version 4) UUID in its canonical lowercase form,
// as Python's str(uuid.uuid4()), from crypto/rand.
func NewJTI() string {
	var u [16]byte
	_, _ = rand.Read(u[:])  // crypto/rand.Read never fails (Go ≥ 1.24 aborts instead)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return string(s[:])
}

package ready

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The environment variables condor_master sets for every child
// (daemon_core.cpp DaemonCore::Create_Process).
const (
	EnvInherit        = "CONDOR_INHERIT"
	EnvPrivateInherit = "CONDOR_PRIVATE_INHERIT"
)

// ErrNoInherit: CONDOR_INHERIT is unset, so no condor_master started this
// process (started by hand, or by a test). Nothing to tell anyone.
var ErrNoInherit = errors.New("no CONDOR_INHERIT: not started by condor_master")

// ErrNoSession: a master started us but left no family session we can use
// (no FamilySessionKey in CONDOR_PRIVATE_INHERIT, no AES in its methods, or
// it expired). The master does that when <NAME>_USERID is set or
// SEC_USE_FAMILY_SESSION is false. Errors wrapping it say which.
var ErrNoSession = errors.New("no usable inherited family security session")

// Session is the inherited family security session (§1.2-1.4 of the spec).
type Session struct {
	ID string
	// Key is the session key as stored: the ASCII hex string, which is the
	// HKDF input as is (never hex-decoded). It is the secret: never log it.
	Key string
	// Methods is the master's crypto method list, upper case.
	Methods []string
	// Expires is zero when the session never expires (the family case).
	Expires time.Time
}

// String never shows the key.
func (s Session) String() string { return "session " + s.ID }

// parseInherit takes the master's pid and command sinful from
// CONDOR_INHERIT ("<ppid> <sinful> 0 0"); the rest is ignored, as the
// Python binding does (inherit.split(' ')[0:2]).
func parseInherit(v string) (ppid int, sinful Sinful, err error) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return 0, Sinful{}, fmt.Errorf("%s: want \"<ppid> <sinful> ...\", got %d field(s)", EnvInherit, len(f))
	}
	ppid, err = strconv.Atoi(f[0])
	if err != nil || ppid <= 0 {
		return 0, Sinful{}, fmt.Errorf("%s: parent pid %q is not a positive number", EnvInherit, clip(f[0]))
	}
	sinful, err = ParseSinful(f[1])
	if err != nil {
		return 0, Sinful{}, fmt.Errorf("%s: master address: %w", EnvInherit, err)
	}
	return ppid, sinful, nil
}

// parsePrivateInherit finds the FamilySessionKey claim id among the
// space-separated tokens of CONDOR_PRIVATE_INHERIT and imports it. The
// value holds secrets, so no error quotes it.
func parsePrivateInherit(v string, now time.Time) (Session, error) {
	const prefix = "FamilySessionKey:"
	for _, tok := range strings.Fields(v) {
		if claim, ok := strings.CutPrefix(tok, prefix); ok {
			return parseClaimID(claim, now)
		}
	}
	return Session{}, fmt.Errorf("%w: %s has no FamilySessionKey (is %s_USERID set, or SEC_USE_FAMILY_SESSION false?)",
		ErrNoSession, EnvPrivateInherit, "<NAME>")
}

// parseClaimID splits "id#[info]key" the way ClaimIdParserLite does: the id
// is everything before the last '#'; the info, present iff the next byte is
// '[', ends at the last ']'; the key is the rest.
func parseClaimID(claim string, now time.Time) (Session, error) {
	i := strings.LastIndexByte(claim, '#')
	if i < 0 {
		return Session{}, fmt.Errorf("%w: FamilySessionKey is not a claim id (no '#')", ErrNoSession)
	}
	s := Session{ID: claim[:i]}
	rest := claim[i+1:]
	info := ""
	if strings.HasPrefix(rest, "[") {
		j := strings.LastIndexByte(rest, ']')
		if j < 0 {
			return Session{}, fmt.Errorf("%w: FamilySessionKey: session info has no closing ']'", ErrNoSession)
		}
		info, rest = rest[1:j], rest[j+1:]
	}
	s.Key = rest
	if !safeLiteral(s.ID) || s.ID == "" {
		return Session{}, fmt.Errorf("%w: FamilySessionKey: session id is empty or has characters outside [A-Za-z0-9_.:$ -]", ErrNoSession)
	}
	if s.Key == "" {
		return Session{}, fmt.Errorf("%w: FamilySessionKey: empty session key", ErrNoSession)
	}
	if err := s.importInfo(info, now); err != nil {
		return Session{}, err
	}
	return s, nil
}

// importInfo reads the exported session attributes
// (SecMan::ExportSecSessionInfo: Name=literal; ...). Only the crypto
// methods and the expiry matter here.
func (s *Session) importInfo(info string, now time.Time) error {
	attrs := map[string]string{}
	for _, kv := range strings.Split(info, ";") {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue // empty trailing field, or junk the importer ignores too
		}
		attrs[strings.ToLower(strings.TrimSpace(name))] = strings.Trim(strings.TrimSpace(val), `"`)
	}
	switch {
	case attrs["cryptomethodslist"] != "":
		s.Methods = splitUpper(attrs["cryptomethodslist"], ".")
	case attrs["cryptomethods"] != "":
		s.Methods = splitUpper(attrs["cryptomethods"], ",")
	default:
		// Not exported means the master's configured default applies on
		// both sides, which starts with AES since 8.9.
		s.Methods = []string{"AES", "BLOWFISH", "3DES"}
	}
	hasAES := false
	for _, m := range s.Methods {
		hasAES = hasAES || m == "AES"
	}
	if !hasAES {
		return fmt.Errorf("%w: the family session offers %s, not AES (SEC_DEFAULT_CRYPTO_METHODS)", ErrNoSession,
			clip(strings.Join(s.Methods, ",")))
	}
	if v := attrs["sessionexpires"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: SessionExpires %q is not a number", ErrNoSession, clip(v))
		}
		if n > 0 {
			s.Expires = time.Unix(n, 0)
			if !now.Before(s.Expires) {
				return fmt.Errorf("%w: the family session expired at %s", ErrNoSession, s.Expires.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

func splitUpper(s, sep string) []string {
	var out []string
	for _, m := range strings.Split(s, sep) {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// safeLiteral: characters that need no escaping in an old-ClassAd string
// literal and cannot end it (§3.4).
func safeLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:$ -", c) >= 0) {
			return false
		}
	}
	return true
}

// clip keeps a quoted piece of input short and printable in an error.
func clip(s string) string {
	b := []byte(s)
	if len(b) > 40 {
		b = append(b[:40:40], "..."...)
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

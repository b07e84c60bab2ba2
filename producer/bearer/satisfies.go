package bearer

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// MinLeftFloor is the least lifetime a reused token must have, whatever
// minsecs says. It is the 10 s floor OpenBao's oauthapp plugin puts under
// minimum_seconds (OAPP-OB pkg/backend/token.go tokenExpired),
// which is also golang.org/x/oauth2's defaultExpiryDelta: a token with
// seconds left would expire on the way to the server.
const MinLeftFloor = 10 * time.Second

// pathScopes are the scope names whose value is a path, for which a token
// scope covers a request for the same name on the same or a deeper path:
// the WLCG Common JWT Profile storage.* scopes (§2.2.1 of profile.md,
// "storage.read:/path") and the SciTokens read/write scopes (Claims.md).
// Both define the path as hierarchical: access to /a grants /a/b.
var pathScopes = map[string]bool{
	"storage.read":   true,
	"storage.create": true,
	"storage.modify": true,
	"storage.stage":  true,
	"storage.poll":   true,
	"read":           true,
	"write":          true,
}

// Satisfies reports whether an existing token can be reused instead of
// fetching a new one; why says what failed, for logs ("" when ok).
//
// Lifetime: "left" is exp − now, from the token's own exp claim and the
// local clock (not the file's mtime, not iat). The token is reusable when
// left ≥ max(minsecs, MinLeftFloor) — "at least", as OpenBao decides
// minimum_seconds for htgettoken --minsecs, with the
// same 10 s floor. With a cron cadence C and minsecs ≥ C the file thus
// always has ≥ minsecs − C left between runs, as igwn-robot-get documents.
// A token without exp is never reused (OpenBao would treat it as never
// expiring): WLCG and SciTokens require exp, so its absence means
// something is off, and fetching a new token is always safe.
//
// Audience: the token's aud must contain exactly each of audiences (a
// config.ini audience may list several; none asks for nothing). The "any" audiences (SciTokens "ANY", WLCG
// "https://wlcg.cern.ch/jwt/v1/any") do not satisfy a request for a
// specific audience: the caller asked for a token that only that service
// accepts, and an any-audience token would be broader than asked.
//
// Scopes: every requested scope must be covered by a token scope. A token
// scope covers a requested one if the strings are equal, or if both are
// "name:path" with the same name among storage.read, storage.create,
// storage.modify, storage.stage, storage.poll, read and write, both paths
// absolute, and the token's path is the requested path or an ancestor of
// it, compared by path component after cleaning ("/a" covers "/a" and
// "/a/b", not "/ab"; "/" covers everything; "/a/../b" is "/b"). One scope
// never implies another (storage.modify does not cover storage.create):
// such implications are the server's business. Extra token scopes are
// allowed.
//
// This is the one coverage rule of credmon-token: get's --minsecs and
// renew's min_lifetime both decide with it, so a file one keeps the other
// keeps too.
func Satisfies(info *Info, now time.Time, minsecs time.Duration, audiences, scopes []string) (ok bool, why string) {
	if info == nil {
		return false, "no token"
	}
	if !info.HasExpiry {
		return false, "token has no exp claim, so its lifetime is unknown"
	}
	need := max(minsecs, MinLeftFloor)
	left := info.Expiry.Sub(now)
	if left < need {
		if left <= 0 {
			return false, fmt.Sprintf("token expired %v ago (exp %s)", (-left).Round(time.Second), info.Expiry.UTC().Format(time.RFC3339))
		}
		return false, fmt.Sprintf("token has %v left, less than the %v wanted (exp %s)", left.Round(time.Second), need, info.Expiry.UTC().Format(time.RFC3339))
	}
	for _, a := range audiences {
		if !slices.Contains(info.Audience, a) {
			return false, fmt.Sprintf("token audience %q does not include %q", info.Audience, a)
		}
	}
	var missing []string
	for _, want := range scopes {
		if !slices.ContainsFunc(info.Scopes, func(have string) bool { return scopeCovers(have, want) }) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("token scopes %q do not cover %q", info.Scopes, missing)
	}
	return true, ""
}

// scopeCovers reports whether the token scope have grants the requested
// scope want (see Satisfies).
func scopeCovers(have, want string) bool {
	if have == want {
		return true
	}
	hn, hp, ok1 := strings.Cut(have, ":")
	wn, wp, ok2 := strings.Cut(want, ":")
	if !ok1 || !ok2 || hn != wn || !pathScopes[hn] {
		return false
	}
	if !strings.HasPrefix(hp, "/") || !strings.HasPrefix(wp, "/") {
		return false
	}
	hp, wp = path.Clean(hp), path.Clean(wp)
	return hp == "/" || wp == hp || strings.HasPrefix(wp, hp+"/")
}

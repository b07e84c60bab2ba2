package bearer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// describeOrder puts the claims people look for first; the rest follow in
// name order.
var describeOrder = []string{"iss", "sub", "aud", "scope", "scp", "wlcg.groups", "iat", "nbf", "exp"}

// Describe renders the token's claims one per line, "name: value", like
// htdecodetoken -H: well-known claims first, then the rest sorted; exp,
// iat and nbf as dates in now's location with the time relative to now;
// other non-string values as JSON. Strings with control or other
// non-printable characters are quoted, so a hostile token cannot send
// escape sequences to the terminal. A final line summarises validity.
func Describe(info *Info, now time.Time) string {
	if info == nil {
		return ""
	}
	keys := make([]string, 0, len(info.Claims))
	for k := range info.Claims {
		if !slices.Contains(describeOrder, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var ordered []string
	for _, k := range describeOrder {
		if _, ok := info.Claims[k]; ok {
			ordered = append(ordered, k)
		}
	}
	keys = append(ordered, keys...)
	width := 0
	for _, k := range keys {
		width = max(width, len(safeString(k)))
	}
	var b strings.Builder
	for _, k := range keys {
		name := safeString(k) + ":"
		fmt.Fprintf(&b, "%-*s %s\n", width+1, name, describeValue(k, info, now))
	}
	b.WriteString(describeStatus(info, now))
	b.WriteString("\n")
	return b.String()
}

func describeValue(k string, info *Info, now time.Time) string {
	switch k {
	case "exp":
		return describeTime(info.Expiry, now)
	case "iat":
		return describeTime(info.IssuedAt, now)
	case "nbf":
		return describeTime(info.NotBefore, now)
	}
	switch v := info.Claims[k].(type) {
	case string:
		return safeString(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return safeString(fmt.Sprint(v))
		}
		return safeString(string(j))
	}
}

// describeTime renders t as "2006-01-02 15:04:05 MST (in 1h0m0s)".
func describeTime(t, now time.Time) string {
	if t.IsZero() {
		return "(not a date)"
	}
	return t.In(now.Location()).Format("2006-01-02 15:04:05 MST") + " (" + relative(t, now) + ")"
}

// relative renders t − now as "in 5m0s", "5m0s ago" or "now".
func relative(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return "in " + d.String()
	case d < 0:
		return (-d).String() + " ago"
	default:
		return "now"
	}
}

// describeStatus is the summary line.
func describeStatus(info *Info, now time.Time) string {
	var parts []string
	switch {
	case !info.HasExpiry:
		parts = append(parts, "status: no exp claim; lifetime unknown")
	case !info.Expiry.After(now):
		parts = append(parts, "status: EXPIRED "+(now.Sub(info.Expiry).Round(time.Second)).String()+" ago")
	default:
		parts = append(parts, "status: valid for "+info.Expiry.Sub(now).Round(time.Second).String())
	}
	if !info.NotBefore.IsZero() && info.NotBefore.After(now) {
		parts = append(parts, "not valid for another "+info.NotBefore.Sub(now).Round(time.Second).String()+" (nbf; clock skew?)")
	}
	if !info.IssuedAt.IsZero() && info.IssuedAt.After(now) {
		parts = append(parts, "issued "+info.IssuedAt.Sub(now).Round(time.Second).String()+" in the future (iat; clock skew?)")
	}
	return strings.Join(parts, "; ")
}

// safeString returns s, or s quoted if it holds anything not printable.
func safeString(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestGetAndRenewAgreeOnTheTokenFile runs get --minsecs and renew's
// min_lifetime on the same file and [token] section: both keep it or both
// want a new token (here: both fail, as there is no account to refresh
// with, and neither touches the file). They share one reader
// (bearer.ReadInfo) and one rule (bearer.Satisfies); before, renew
// compared scopes word by word and renewed a token whose
// storage.read:/data covers the section's storage.read:/data/run1 on every
// run, while get kept it.
func TestGetAndRenewAgreeOnTheTokenFile(t *testing.T) {
	for _, tc := range []struct {
		name          string
		left          time.Duration
		aud, scope    string // the token's
		wantAud, want string // the section's audience and scope
		keep          bool
	}{
		{name: "path scope covers a subpath (renew used to renew)", left: time.Hour, aud: "https://se.example", scope: "storage.read:/data",
			wantAud: "https://se.example", want: "storage.read:/data/run1", keep: true},
		{name: "same scope", left: time.Hour, aud: "https://se.example", scope: "storage.read:/data",
			wantAud: "https://se.example", want: "storage.read:/data", keep: true},
		{name: "sibling path not covered", left: time.Hour, scope: "storage.read:/data", want: "storage.read:/database"},
		{name: "another audience", left: time.Hour, aud: "https://se.example", wantAud: "https://other.example"},
		{name: "less than min_lifetime left", left: 50 * time.Second, scope: "storage.read:/data", want: "storage.read:/data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := robotWith(t, nil)
			tokPath := filepath.Join(r.base, "t.token")
			claims := jwt.MapClaims{"exp": time.Now().Add(tc.left).Unix(), "iat": time.Now().Unix(), "scope": tc.scope}
			if tc.aud != "" {
				claims["aud"] = tc.aud
			}
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("not verified"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tokPath, []byte(tok+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n\n[token t]\naccount = robot\ntoken_path = %s\n"+
				"audience = %s\nscope = %s\nmin_lifetime = 60\n", r.pwFile, tokPath, tc.wantAud, tc.want))

			gcode, _, gerr := r.run("get", "--token", "t", "--config", ini, "--config-dir", r.acctDir, "--insecure",
				"-o", tokPath, "--minsecs", "60", "-v")
			rcode, _, rerr := r.run(r.renewArgs(ini, "-v")...)
			getKept := gcode == 0 && strings.Contains(gerr, "is fresh")
			renewKept := rcode == 0 && strings.Contains(rerr, "token t: skipped")
			if getKept != tc.keep || renewKept != tc.keep {
				t.Errorf("kept by get: %v, by renew: %v; want both %v\nget (exit %d): %s\nrenew (exit %d): %s",
					getKept, renewKept, tc.keep, gcode, gerr, rcode, rerr)
			}
			if !tc.keep && (!strings.Contains(gerr, "needs a new token") || !strings.Contains(rerr, "token t (account robot)")) {
				t.Errorf("want both to try a new token\nget (exit %d): %s\nrenew (exit %d): %s", gcode, gerr, rcode, rerr)
			}
			if b, _ := os.ReadFile(tokPath); string(b) != tok+"\n" {
				t.Error("the token file changed")
			}
		})
	}
}

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/credmon/credmon/credmon/credtest/daemontest"
)

// TestCondorAccountTopDaemonMakesUse is the account robot end to end: get
// --condor stores the self-describing .top of a token-exchange refresh
// token; the daemon, trusting the provider's issuer
// (CREDMON_OAUTH_TRUSTED_ISSUERS), refreshes it at the issuer's discovered
// token endpoint and writes robot.use: the provider's access token with the
// requested audience and scopes, while the robot's own refresh token is
// left to the robot.
func TestCondorAccountTopDaemonMakesUse(t *testing.T) {
	r, ap := condorAccountRobot(t)
	daemontest.Start(t, daemontest.Options{CredDir: ap.credd.Dir, Config: "CREDMON_OAUTH_TRUSTED_ISSUERS = " + r.idp.Issuer + "\n"})
	if code, _, errOut := r.run(r.condorGetArgs()...); code != 0 {
		t.Fatalf("get --condor: exit %d: %s", code, errOut)
	}
	if top := ap.top("robot"); top["refresh_token"] == nil {
		t.Fatalf("no refresh token in robot.top: %v", redactTop(top))
	}
	robotRT := r.refreshToken("robot")
	usePath := ap.credd.UsePath(ap.user, "robot")
	daemontest.WaitFor(t, "robot.use from the daemon", func() bool { _, err := os.Stat(usePath); return err == nil })
	use, err := os.ReadFile(usePath)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(use))
	if strings.HasPrefix(tok, "{") {
		// The daemon's .use may be the token response (JSON) or the bare
		// token, as for OAuth2 .top files.
		var m map[string]any
		if err := jsonUnmarshal(tok, &m); err != nil {
			t.Fatal(err)
		}
		tok, _ = m["access_token"].(string)
	}
	claims := r.idp.VerifyAccessToken(t, tok)
	if !audHas(claims["aud"], condorAud) || claims["scope"] != condorScope || claims["sub"] != "rosa" {
		t.Errorf("robot.use claims sub %v aud %v scope %v; want rosa, %s, %s", claims["sub"], claims["aud"], claims["scope"], condorAud, condorScope)
	}
	if r.refreshToken("robot") != robotRT {
		t.Error("the robot's own refresh token changed: someone else refreshed it")
	}
}

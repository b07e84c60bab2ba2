package credfile

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const robotRT = `{"iss":"https://issuer.example","token_url":"https://issuer.example/token","client_id":"robot","client_secret":"s3cret","refresh_token":"rt-1","scope":"storage.read:/ compute.read","resource":"https://aud.example"}`

func TestParseRobotTop(t *testing.T) {
	top, err := ParseRobotTop([]byte(robotRT))
	if err != nil {
		t.Fatal(err)
	}
	want := RobotTop{Issuer: "https://issuer.example", TokenURL: "https://issuer.example/token", ClientID: "robot", ClientSecret: "s3cret",
		Grant: GrantRefreshToken, Scopes: []string{"storage.read:/", "compute.read"}, Audience: []string{"https://aud.example"}}
	got := *top
	got.obj = nil
	if !reflect.DeepEqual(got, want) || top.RefreshToken() != "rt-1" {
		t.Errorf("parsed %+v (rt %q); want %+v", got, top.RefreshToken(), want)
	}
	// Rotation keeps every other key, in order.
	again, err := ParseRobotTop(top.WithRefreshToken("rt-2"))
	if err != nil || again.RefreshToken() != "rt-2" || fmt.Sprint(again.Object().Keys()) != fmt.Sprint(top.Object().Keys()) {
		t.Errorf("rewritten: %v, %q, %v", err, again.RefreshToken(), again.Object().Keys())
	}

	// credd's scopes/audience (a handle stored with -S/-A) win over the robot's.
	handle := "{\n  \"audience\": \"https://h.example\",\n  \"client_id\": \"robot\",\n  \"iss\": \"https://issuer.example/\",\n  \"refresh_token\": \"r\",\n  \"resource\": \"https://aud.example\",\n  \"scope\": \"a b\",\n  \"scopes\": \"x,y\"\n}\n"
	h, err := ParseRobotTop([]byte(handle))
	if err != nil || fmt.Sprint(h.Scopes) != "[x y]" || fmt.Sprint(h.Audience) != "[https://h.example]" || h.ClientSecret != "" {
		t.Errorf("handle: %v, scopes %q, audience %q", err, h.Scopes, h.Audience)
	}

	cc, err := ParseRobotTop([]byte(`{"iss":"https://i.example","client_id":"c","client_secret":"s","grant_type":"client_credentials"}`))
	if err != nil || cc.Grant != GrantClientCredentials || cc.RefreshToken() != "" || len(cc.Scopes) != 0 {
		t.Errorf("client credentials: %v, %+v", err, cc)
	}
}

func TestParseRobotTopNotRobot(t *testing.T) {
	for _, s := range []string{
		`{"refresh_token":"r"}`, // an OAuth2 .top
		`{"refresh_token":"r","scopes":"a"}`,
		`{"vault_url":"https://v:8200/v1/x","iss":"https://i.example","refresh_token":"r","client_id":"c"}`, // a Vault .top
		`{"iss":"https://i.example","client_id":"c"}`,                                                       // neither a refresh token nor client credentials
		`{"iss":"https://i.example","client_id":"c","grant_type":"device_code"}`,                            // idem
		"alice", "", "[1]", `{"iss":`,
	} {
		if _, err := ParseRobotTop([]byte(s)); err != ErrNotRobotTop {
			t.Errorf("%s: %v; want ErrNotRobotTop", s, err)
		}
	}
}

func TestParseRobotTopErrors(t *testing.T) {
	for _, c := range []struct{ top, want string }{
		{`{"iss":"https://i.example","refresh_token":"r"}`, "no client_id"},
		{`{"iss":"https://i.example","refresh_token":"r","client_id":""}`, "empty client_id"},
		{`{"iss":"","refresh_token":"r","client_id":"c"}`, "empty iss"},
		{`{"iss":"i.example","refresh_token":"r","client_id":"c"}`, "iss is not an https URL"},
		{`{"iss":"https://","refresh_token":"r","client_id":"c"}`, "iss has no host"},
		{`{"iss":7,"refresh_token":"r","client_id":"c"}`, "iss that is not a string"},
		{`{"iss":"https://i.example","refresh_token":"","client_id":"c"}`, "no refresh_token"},
		{`{"iss":"https://i.example","refresh_token":"r\nX","client_id":"c"}`, "refresh_token with characters outside"},
		{`{"iss":"https://i.example","refresh_token":"r","client_id":"c","grant_type":"password"}`, `unknown grant_type "password"`},
		{`{"iss":"https://i.example","refresh_token":"r","client_id":"c","grant_type":"client_credentials","client_secret":"s"}`, "refresh_token with grant_type client_credentials"},
		{`{"iss":"https://i.example","client_id":"c","grant_type":"client_credentials"}`, "no client_secret"},
		{`{"iss":"https://i.example","refresh_token":"r","client_id":"c","token_url":"/token"}`, "token_url is not an https URL"},
		{`{"iss":"https://i.example","refresh_token":"r","client_id":"c","scope":["a"]}`, "scope that is not a string"},
		{`{"iss":"https://i.example","refresh_token":"r","refresh_token":"s","client_id":"c"}`, "duplicate key"},
	} {
		_, err := ParseRobotTop([]byte(c.top))
		if err == nil || err == ErrNotRobotTop || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error containing %q", c.top, err, c.want)
		}
	}
	// Errors never quote a secret.
	_, err := ParseRobotTop([]byte(`{"iss":"https://i.example","client_id":"c","client_secret":"TOPSECRET","refresh_token":"REFRESHME","grant_type":"bogus"}`))
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "REFRESHME") {
		t.Errorf("error %v quotes a secret", err)
	}
}

func FuzzParseRobotTop(f *testing.F) {
	for _, s := range []string{robotRT, `{"iss":"https://i.example","client_id":"c","client_secret":"s","grant_type":"client_credentials","scope":"a"}`,
		`{"iss":"https://i.example","refresh_token":"r","client_id":"c","scopes":"x,y","audience":["a","b"]}`,
		`{"iss":"https://i.example","refresh_token":"r","client_id":"c","grant_type":7}`,
		`{"iss":"https://i.example","refresh_token":"r","refresh_token":"s","client_id":"c"}`,
		`{"refresh_token":"r"}`, `{"vault_url":"x","iss":"y","refresh_token":"r"}`, "alice", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		top, err := ParseRobotTop(b)
		if err != nil {
			return
		}
		if top.Issuer == "" || top.ClientID == "" || (top.Grant == GrantRefreshToken) != (top.RefreshToken() != "") ||
			top.Grant == GrantClientCredentials && top.ClientSecret == "" {
			t.Fatalf("accepted an incomplete .top: %q", b)
		}
		if top.Grant == GrantRefreshToken {
			again, err := ParseRobotTop(top.WithRefreshToken("new"))
			if err != nil || again.RefreshToken() != "new" || again.Issuer != top.Issuer || again.ClientID != top.ClientID ||
				again.ClientSecret != top.ClientSecret || fmt.Sprint(again.Scopes, again.Audience) != fmt.Sprint(top.Scopes, top.Audience) {
				t.Fatalf("rewritten .top reads differently (%v): %q", err, top.WithRefreshToken("new"))
			}
		}
	})
}

package tokenclient_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/tokenclient"
)

// Short enough that only the request's own secret list, not the
// token-like heuristic, can blank them.
const (
	echoSecret     = "cs&echo/7+q"
	echoDeviceCode = "dc-echo/7+q"
	echoIAT        = "iat-echo/7+q"
)

// assertNoEcho fails if err, printed any way a caller might, holds one of
// the secrets, raw or form-encoded.
func assertNoEcho(t *testing.T, err error, secrets ...string) {
	t.Helper()
	texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err)}
	var te *tokenclient.Error
	if errors.As(err, &te) {
		texts = append(texts, fmt.Sprintf("%+v", *te))
	}
	for _, s := range texts {
		for _, sec := range secrets {
			if strings.Contains(s, sec) || strings.Contains(s, url.QueryEscape(sec)) {
				t.Errorf("error text holds the secret %q: %s", sec, s)
			}
		}
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error spans lines: %q", err)
	}
}

var echoCases = func() (out []struct {
	status int
	shape  string
}) {
	for _, status := range []int{400, 401, 429, 500, 503, 200} {
		for _, shape := range []string{"json", "garbage", "status-line"} {
			out = append(out, struct {
				status int
				shape  string
			}{status, shape})
		}
	}
	return append(out, struct {
		status int
		shape  string
	}{307, "redirect"})
}()

// A server that echoes its request: no error of the client credentials
// grant, the device authorization, the device poll or the registration
// holds the client secret, the device code or the initial access token.
func TestErrorsNeverHoldEchoedSecrets(t *testing.T) {
	for _, tc := range echoCases {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
			t.Run(fmt.Sprintf("%d-%s-style%d", tc.status, tc.shape, style), func(t *testing.T) {
				srv := tokenclient.EchoServer(t, tc.status, tc.shape)
				clk := newFakeClock()
				c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true, Now: clk.Now, Sleep: clk.Sleep}
				auth := clientAuth{ClientID: "cid", ClientSecret: echoSecret, Style: style}
				md := &tokenclient.Metadata{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token",
					DeviceAuthorizationEndpoint: srv.URL + "/device", RegistrationEndpoint: srv.URL + "/reg"}

				_, err := cc(c, md.TokenEndpoint, auth, "").ClientCredentials(testContext(t), []string{"s"}, auds("https://aud"))
				if err == nil {
					t.Fatal("ClientCredentials succeeded")
				}
				assertNoEcho(t, err, echoSecret)

				if _, err = on(c, md, auth).StartDevice(testContext(t), nil, auds("")); err == nil {
					t.Fatal("StartDevice succeeded")
				}
				assertNoEcho(t, err, echoSecret)

				da := &tokenclient.DeviceAuth{DeviceCode: echoDeviceCode, UserCode: "U", VerificationURI: "https://v", ExpiresIn: 60, Interval: 5, Received: clk.Now()}
				if _, err = on(c, md, auth).PollDevice(testContext(t), da, nil); err == nil {
					t.Fatal("PollDevice succeeded")
				}
				assertNoEcho(t, err, echoSecret, echoDeviceCode)

				if _, err = c.Register(testContext(t), md.RegistrationEndpoint, tokenclient.RegistrationRequest{ClientName: "x", InitialAccessToken: echoIAT}); err == nil && tc.status/100 != 2 {
					t.Fatal("Register succeeded")
				}
				if err != nil {
					assertNoEcho(t, err, echoIAT)
				}
			})
		}
	}
}

// Tokens no Authorization header or token file can carry are refused like
// a missing token, on both grants, without quoting them.
func TestTokensWithControlCharactersRefused(t *testing.T) {
	for _, body := range []string{
		`{"access_token":"AT\nX-Injected: 1","token_type":"Bearer"}`,
		`{"access_token":"AT AT"}`,
		`{"access_token":"AT\u0000"}`,
		`{"access_token":"AT\u00e9"}`,
		`{"access_token":"AT","refresh_token":"RT\r\n"}`,
	} {
		e := newEndpoint(t, jsonReply(200, body))
		clk := newFakeClock()
		c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true, Now: clk.Now, Sleep: clk.Sleep}
		auth := clientAuth{ClientID: "cid", ClientSecret: "s"}
		_, err := cc(c, e.URL+"/token", auth, "").ClientCredentials(testContext(t), nil, auds(""))
		if err == nil || !strings.Contains(err.Error(), "characters") || strings.Contains(err.Error(), "AT") {
			t.Errorf("ClientCredentials(%s) = %v; want a refusal naming the characters, not the token", body, err)
		}
		md := &tokenclient.Metadata{TokenEndpoint: e.URL + "/token"}
		da := &tokenclient.DeviceAuth{DeviceCode: "dc", ExpiresIn: 60, Interval: 1, Received: clk.Now()}
		if _, err := on(c, md, auth).PollDevice(testContext(t), da, nil); err == nil || !strings.Contains(err.Error(), "characters") {
			t.Errorf("PollDevice(%s) = %v; want a refusal", body, err)
		}
	}
	e := newEndpoint(t, jsonReply(200, `{"access_token":"AT","refresh_token":"R T"}`))
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
	if tok, err := cc(c, e.URL+"/token", clientAuth{ClientID: "c", ClientSecret: "s"}, "").ClientCredentials(testContext(t), nil, auds("")); err != nil || tok.RefreshToken != "R T" {
		t.Errorf("refresh_token with a space (a VSCHAR): %v, %v", tok, err)
	}
}

package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Short enough that only the explicit secret list, not the token-like
// heuristic, can catch them; with characters form encoding changes.
const (
	echoRT     = "rt-echo/7+x=q"
	echoSecret = "cs&echo/secret"
)

// errorTexts is every way a caller could print err.
func errorTexts(err error) map[string]string {
	texts := map[string]string{
		"Error()":  err.Error(),
		"Describe": Describe(err),
		"%v":       fmt.Sprintf("%v", err),
		"%+v":      fmt.Sprintf("%+v", err),
		"%#v":      fmt.Sprintf("%#v", err),
		"%q":       fmt.Sprintf("%q", err),
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		texts["RetrieveError.Error()"] = re.Error()
		texts["RetrieveError %+v"] = fmt.Sprintf("%+v", *re)
		texts["RetrieveError.Body"] = string(re.Body)
		if re.Response != nil {
			texts["Response %+v"] = fmt.Sprintf("%+v", *re.Response)
		}
	}
	return texts
}

// assertNoSecret fails if any text contains a secret, raw or form-encoded.
func assertNoSecret(t *testing.T, texts map[string]string, secrets ...string) {
	t.Helper()
	for how, s := range texts {
		for _, sec := range secrets {
			if strings.Contains(s, sec) || strings.Contains(s, url.QueryEscape(sec)) {
				t.Errorf("%s holds the secret %q: %s", how, sec, s)
			}
		}
	}
}

// An issuer that echoes the request into every field of its answer: no
// error Refresh returns, however printed, holds the refresh token or the
// client secret.
func TestRefreshErrorsNeverHoldEchoedSecrets(t *testing.T) {
	for _, status := range []int{400, 401, 429, 500, 503, 200} {
		for _, shape := range []string{"json", "form", "garbage", "status-line"} {
			for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
				name := fmt.Sprintf("%d-%s-style%d", status, shape, style)
				t.Run(name, func(t *testing.T) {
					srv := EchoServer(t, status, shape)
					cl := &Client{TokenURL: srv.URL + "/token?tenant=x", ClientID: "cid", ClientSecret: echoSecret,
						AuthStyle: style, AllowInsecure: true}
					res, err := cl.Refresh(context.Background(), echoRT, []string{"read:/"}, []string{"https://aud"}, nil)
					if err == nil {
						t.Fatalf("Refresh = %v; want an error", res)
					}
					t.Logf("%v", err)
					texts := errorTexts(err)
					assertNoSecret(t, texts, echoRT, echoSecret)
					if strings.ContainsAny(err.Error(), "\n\r") {
						t.Errorf("Error() spans lines: %q", err.Error())
					}
				})
			}
		}
	}
}

// The token URL's query (which may carry a key) is not in a transport
// error: url.Error quotes the whole URL.
func TestRefreshTransportErrorDropsQuery(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // connection refused
	cl := &Client{TokenURL: srv.URL + "/token?key=k3y-in-query", ClientID: "c", AllowInsecure: true}
	_, err := cl.Refresh(context.Background(), echoRT, nil, nil, nil)
	if err == nil {
		t.Fatal("Refresh to a closed server succeeded")
	}
	assertNoSecret(t, errorTexts(err), "k3y-in-query")
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || IsPermanent(err) {
		t.Errorf("%v: want a transient net.Error", err)
	}
}

// The same refusal as before the scrub: the error code the daemon's
// decisions hang on survives, the echo does not.
func TestScrubbedErrorsStillClassify(t *testing.T) {
	body := fmt.Sprintf(`{"error":"invalid_grant","error_description":"token %s of client %s is revoked"}`, echoRT, echoSecret)
	srv, _ := endpoint(t, 400, body, "application/json")
	cl := &Client{TokenURL: srv.URL, ClientID: "c", ClientSecret: echoSecret, AllowInsecure: true}
	_, err := cl.Refresh(context.Background(), echoRT, nil, nil, nil)
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false", err)
	}
	if want := "invalid_grant: token [redacted] of client [redacted] is revoked (HTTP 400)"; Describe(err) != want || err.Error() != want {
		t.Errorf("Describe = %q, Error() = %q; want %q", Describe(err), err.Error(), want)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 || re.Body != nil {
		t.Errorf("RetrieveError = %+v; want invalid_grant, HTTP 400, no body", re)
	}
	srv, _ = endpoint(t, 400, `{"error":"invalid_target"}`, "application/json")
	cl.TokenURL = srv.URL
	if _, err := cl.Refresh(context.Background(), echoRT, nil, nil, nil); RefusedTarget(err) != "invalid_target" {
		t.Errorf("RefusedTarget(%v) = %q", err, RefusedTarget(err))
	}
}

// Token values no Authorization header or token file can carry are
// refused like a missing token: transient, and without the value.
func TestRefreshRefusesTokensWithControlCharacters(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"newline in access_token", `{"access_token":"AT\nX-Injected: 1","token_type":"Bearer"}`},
		{"NUL in access_token", `{"access_token":"AT\u0000","token_type":"Bearer"}`},
		{"space in access_token", `{"access_token":"AT AT","token_type":"Bearer"}`},
		{"non-ASCII access_token", `{"access_token":"AT\u00e9","token_type":"Bearer"}`},
		{"DEL in access_token", `{"access_token":"AT\u007f","token_type":"Bearer"}`},
		{"CR in refresh_token", `{"access_token":"AT","refresh_token":"RT\r\n"}`},
		{"form-encoded control character", "access_token=AT%0A&token_type=bearer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct := "application/json"
			if !strings.HasPrefix(tt.body, "{") {
				ct = "application/x-www-form-urlencoded"
			}
			srv, _ := endpoint(t, 200, tt.body, ct)
			cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
			res, err := cl.Refresh(context.Background(), "RT", nil, nil, nil)
			if err == nil {
				t.Fatalf("Refresh accepted %s: %+v", tt.body, res.Response)
			}
			if IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true; want a transient failure", err)
			}
			if d := Describe(err); strings.Contains(d, "AT") || !strings.Contains(d, "characters") {
				t.Errorf("Describe = %q; want the reason and not the token", d)
			}
		})
	}
	// A space is a VSCHAR: allowed in a refresh token.
	srv, _ := endpoint(t, 200, `{"access_token":"AT","refresh_token":"R T"}`, "application/json")
	cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
	if res, err := cl.Refresh(context.Background(), "RT", nil, nil, nil); err != nil || res.RefreshToken != "R T" {
		t.Errorf("refresh_token with a space: %v, %v", res, err)
	}
}

// FuzzTokenResult: whatever the answer, a success carries tokens a header
// and a file can hold, and a failure's text holds neither the request's
// secret nor a control character.
func FuzzTokenResult(f *testing.F) {
	f.Add(200, "application/json", []byte(okBody), "x")
	f.Add(200, "application/json", []byte(`{"access_token":"AT\n"}`), "x")
	f.Add(200, "application/json", []byte(`{"access_token":"AT","refresh_token":"\u0000"}`), "x")
	f.Add(400, "application/json", []byte(`{"error":"S3cr3t-x","error_description":"S3cr3t-x"}`), "x")
	f.Add(200, "application/x-www-form-urlencoded", []byte("access_token=A%00T"), "x")
	f.Add(503, "text/html", []byte("<html>S3cr3t-x</html>"), "x")
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte, tail string) {
		if status < 100 || status > 999 {
			return
		}
		secret := "S3cr3t-" + tail
		mt, _, _ := mime.ParseMediaType(ct)
		ra := strings.TrimSpace(string(body))
		if len(ra) > maxRetryAfterLen {
			ra = ""
		}
		resp := &response{status: status, contentType: mt, retryAfter: ra, body: body, secrets: []string{secret}}
		res, err := tokenResult(resp, time.Time{})
		if err == nil {
			at, _ := res.Response.String("access_token")
			if !tokenCharsOK(at, 0x21) || (res.RefreshToken != "" && !tokenCharsOK(res.RefreshToken, 0x20)) {
				t.Fatalf("accepted access_token %q, refresh_token %q", at, res.RefreshToken)
			}
			return
		}
		for how, s := range errorTexts(err) {
			if how == "%#v" || how == "%q" || how == "Response %+v" {
				continue // Go syntax and quoting; the header map holds Retry-After
			}
			if strings.Contains(s, secret) {
				t.Fatalf("%s holds the secret: %q", how, s)
			}
			for i := 0; i < len(s); i++ {
				if (s[i] < 0x20 || s[i] > 0x7e) && how != "RetrieveError.Error()" {
					t.Fatalf("%s has byte %#x: %q", how, s[i], s)
				}
			}
		}
	})
}

func tokenCharsOK(s string, lo byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

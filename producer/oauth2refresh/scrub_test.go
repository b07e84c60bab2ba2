package oauth2refresh

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// echoIssuer answers every request with status, putting the whole request
// (form body and Authorization header) into error, error_description,
// error_uri and the body around them: the worst an issuer can do to a log.
func echoIssuer(t *testing.T, status int, contentType string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		echo := string(b) + " auth=" + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		if contentType == "application/json" {
			fmt.Fprintf(w, `{"error":%q,"error_description":%q,"error_uri":%q,"echo":%q}`, "invalid_request "+echo, "refused: "+echo, "https://x/"+echo, echo)
		} else {
			io.WriteString(w, "<html>"+echo+"</html>")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEchoingIssuerLeaksNoSecret protects the daemon's log from an issuer
// that echoes the refused request: no error the client returns, however it
// is printed, holds the refresh token or the client secret.
func TestEchoingIssuerLeaksNoSecret(t *testing.T) {
	const rt = "RT-very-secret-refresh/token+value="
	const secret = "s3cr3t"
	for _, tc := range []struct {
		status int
		ct     string
	}{{400, "application/json"}, {401, "application/json"}, {500, "text/html"}, {200, "application/json"}, {429, "application/json"}} {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
			srv := echoIssuer(t, tc.status, tc.ct)
			cl := &Client{TokenURL: srv.URL + "/token", ClientID: "cid", ClientSecret: secret, AllowInsecure: true, AuthStyle: style}
			_, err := cl.Refresh(context.Background(), rt, []string{"a"}, []string{"https://aud"}, nil)
			if err == nil {
				t.Fatalf("HTTP %d %s: no error", tc.status, tc.ct)
			}
			for _, text := range []string{err.Error(), Describe(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, leaked := range []string{rt, secret, "RT-very-secret", base64.StdEncoding.EncodeToString([]byte("cid:" + secret))} {
					if strings.Contains(text, leaked) {
						t.Errorf("HTTP %d %s, auth style %v: %q leaked into %q", tc.status, tc.ct, style, leaked, text)
					}
				}
			}
		}
	}
}

// TestLyingTokenValuesRefused: an access token with a control character or
// a space (it goes into an Authorization header and a file read line by
// line), or a refresh token outside RFC 6749's VSCHAR, is an issuer lying.
func TestLyingTokenValuesRefused(t *testing.T) {
	for _, body := range []string{
		`{"access_token":"AT\nInjected: header","token_type":"Bearer"}`,
		`{"access_token":"AT with space","token_type":"Bearer"}`,
		`{"access_token":"AT","refresh_token":"RT\u0000","token_type":"Bearer"}`,
	} {
		srv, _ := endpoint(t, 200, body, "application/json")
		cl := &Client{TokenURL: srv.URL + "/token", ClientID: "cid", AllowInsecure: true}
		if res, err := cl.Refresh(context.Background(), "RT1", nil, nil, nil); err == nil {
			t.Errorf("%s: accepted (%v)", body, res.Response)
		} else if IsPermanent(err) {
			t.Errorf("%s: %v is permanent; a lying answer is transient", body, err)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"120", 120 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"temporarily_unavailable"}`)
		}))
		cl := &Client{TokenURL: srv.URL + "/token", ClientID: "cid", AllowInsecure: true}
		_, err := cl.Refresh(context.Background(), "RT1", nil, nil, nil)
		srv.Close()
		if got, ok := RetryAfter(err, now); got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q: %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := RetryAfter(fmt.Errorf("dial: refused"), now); ok {
		t.Error("RetryAfter without an answer reported a wait")
	}
}

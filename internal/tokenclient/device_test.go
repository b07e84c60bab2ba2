package tokenclient_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/tokenclient"
)

const (
	pending  = `{"error":"authorization_pending"}`
	slowDown = `{"error":"slow_down"}`
	tokenOK  = `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":600,"id_token":"idt","scope":"openid offline_access"}`
)

func TestStartDevice(t *testing.T) {
	tests := []struct {
		name         string
		auth         clientAuth
		body         string
		wantInterval int
		wantExpires  int
		wantURI      string
		wantComplete string
		wantForm     url.Values
		wantBasic    bool
	}{
		{
			name:         "post client authenticates on the device request too; string numbers",
			auth:         clientAuth{ClientID: testClientID, ClientSecret: testSecret, Style: oauth2.AuthStyleInParams},
			body:         `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"https://op/device","verification_uri_complete":"https://op/device?user_code=ABCD-EFGH","expires_in":"900","interval":"7"}`,
			wantInterval: 7, wantExpires: 900, wantURI: "https://op/device", wantComplete: "https://op/device?user_code=ABCD-EFGH",
			wantForm: url.Values{"client_id": {testClientID}, "client_secret": {testSecret}, "scope": {"openid offline_access"}, "resource": {"https://se.example.org"}},
		},
		{
			name:         "basic client; defaults for absent interval and expires_in; Google's verification_url",
			auth:         clientAuth{ClientID: testClientID, ClientSecret: testSecret, Style: oauth2.AuthStyleInHeader},
			body:         `{"device_code":"dc","user_code":"U","verification_url":"https://google/device"}`,
			wantInterval: 5, wantExpires: 300, wantURI: "https://google/device",
			wantForm:  url.Values{"scope": {"openid offline_access"}, "resource": {"https://se.example.org"}},
			wantBasic: true,
		},
		{
			name:         "public client sends client_id only",
			auth:         clientAuth{ClientID: "public", Style: oauth2.AuthStyleInHeader},
			body:         `{"device_code":"dc","user_code":"U","verification_uri":"https://op/d","expires_in":60,"interval":0}`,
			wantInterval: 5, wantExpires: 60, wantURI: "https://op/d",
			wantForm: url.Values{"client_id": {"public"}, "scope": {"openid offline_access"}, "resource": {"https://se.example.org"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, jsonReply(200, tt.body))
			clk := newFakeClock()
			c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true, Now: clk.Now}
			md := &tokenclient.Metadata{DeviceAuthorizationEndpoint: e.URL + "/device/auth"}
			da, err := on(c, md, tt.auth).StartDevice(testContext(t), []string{"openid", "offline_access"}, auds("https://se.example.org"))
			if err != nil {
				t.Fatal(err)
			}
			if da.DeviceCode != "dc" || da.Interval != tt.wantInterval || da.ExpiresIn != tt.wantExpires ||
				da.VerificationURI != tt.wantURI || da.VerificationURIComplete != tt.wantComplete || !da.Received.Equal(clk.Now()) {
				t.Errorf("DeviceAuth = %+v; want interval %d, expires_in %d, uri %q, complete %q", da, tt.wantInterval, tt.wantExpires, tt.wantURI, tt.wantComplete)
			}
			if !slices.Equal(da.Audiences, []string{"https://se.example.org"}) {
				t.Errorf("Audiences = %q; want them remembered for PollDevice", da.Audiences)
			}
			r := e.Requests()[0]
			if r.form.Encode() != tt.wantForm.Encode() {
				t.Errorf("form = %s; want %s", r.form.Encode(), tt.wantForm.Encode())
			}
			if r.basic != tt.wantBasic || (tt.wantBasic && (r.basicU != testClientID || r.basicP != testSecret)) {
				t.Errorf("basic = %v (%q); want %v", r.basic, r.basicU, tt.wantBasic)
			}
		})
	}
}

func TestStartDeviceErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		rp   reply
		code string
	}{
		{"invalid_client", jsonReply(401, `{"error":"invalid_client","error_description":"client authentication failed"}`), "invalid_client"},
		{"200 with error", jsonReply(200, `{"error":"unauthorized_client"}`), "unauthorized_client"},
		{"missing user_code", jsonReply(200, `{"device_code":"dc","verification_uri":"https://op/d"}`), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, tt.rp)
			c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
			_, err := on(c, &tokenclient.Metadata{DeviceAuthorizationEndpoint: e.URL}, clientAuth{ClientID: "c", ClientSecret: testSecret}).StartDevice(testContext(t), nil, auds(""))
			var te *tokenclient.Error
			if err == nil || errors.As(err, &te) != (tt.code != "") || (te != nil && te.Code != tt.code) {
				t.Fatalf("StartDevice error = %v; want code %q", err, tt.code)
			}
		})
	}
	if _, err := on((&tokenclient.Client{AudienceMode: tokenclient.AudienceAuto}), &tokenclient.Metadata{}, clientAuth{ClientID: "c"}).StartDevice(context.Background(), nil, auds("")); err == nil {
		t.Error("no device endpoint: want an error")
	}
}

// TestPollDevice runs PollDevice against scripted token endpoint answers
// on a fake clock and checks the RFC 8628 §3.4–3.5 timing: the wait before
// every poll, slow_down's +5 s that sticks, back-off on unavailability,
// and the end states.
func TestPollDevice(t *testing.T) {
	tests := []struct {
		name          string
		interval      int
		expiresIn     int
		replies       []reply
		wantIntervals []time.Duration // progress intervals, one per wait
		wantPolls     int
		wantErr       error // errors.Is target; nil for success, errAny for any
		wantTokenErr  string
	}{
		{
			name:          "pending, slow_down, pending, token",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{jsonReply(400, pending), jsonReply(400, slowDown), jsonReply(400, pending), jsonReply(200, tokenOK)},
			wantIntervals: seconds(5, 5, 10, 10),
			wantPolls:     4,
		},
		{
			name:          "slow_down twice accumulates",
			interval:      2,
			expiresIn:     600,
			replies:       []reply{jsonReply(400, slowDown), jsonReply(400, slowDown), jsonReply(200, tokenOK)},
			wantIntervals: seconds(2, 7, 12),
			wantPolls:     3,
		},
		{
			name:          "GitHub style 200 pending",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{jsonReply(200, pending), jsonReply(200, tokenOK)},
			wantIntervals: seconds(5, 5),
			wantPolls:     2,
		},
		{
			name:          "503 doubles the interval, then success",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{{status: 503, ctype: "text/html", body: "<html>down</html>"}, jsonReply(429, ""), jsonReply(400, pending), jsonReply(200, tokenOK)},
			wantIntervals: seconds(5, 10, 20, 20),
			wantPolls:     4,
		},
		{
			name:          "back-off stops doubling at a minute",
			interval:      40,
			expiresIn:     600,
			replies:       []reply{{status: 502}, {status: 502}, jsonReply(200, tokenOK)},
			wantIntervals: seconds(40, 60, 60),
			wantPolls:     3,
		},
		{
			name:          "server says expired_token",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{jsonReply(400, pending), jsonReply(400, `{"error":"expired_token"}`)},
			wantIntervals: seconds(5, 5),
			wantPolls:     2,
			wantErr:       tokenclient.ErrExpiredToken,
			wantTokenErr:  "expired_token",
		},
		{
			name:          "access_denied",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{jsonReply(400, `{"error":"access_denied","error_description":"End-User aborted interaction"}`)},
			wantIntervals: seconds(5),
			wantPolls:     1,
			wantErr:       tokenclient.ErrAccessDenied,
			wantTokenErr:  "access_denied",
		},
		{
			name:          "client-side expiry: no poll after expires_in",
			interval:      5,
			expiresIn:     17,
			replies:       []reply{jsonReply(400, pending)},
			wantIntervals: seconds(5, 5, 5, 5), // waits 5, 5, 5, then the 2 s left
			wantPolls:     3,
			wantErr:       tokenclient.ErrExpiredToken,
		},
		{
			name:          "other error is returned",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{jsonReply(400, `{"error":"invalid_grant"}`)},
			wantIntervals: seconds(5),
			wantPolls:     1,
			wantErr:       errAny,
			wantTokenErr:  "invalid_grant",
		},
		{
			name:          "500 without OAuth error is returned",
			interval:      5,
			expiresIn:     600,
			replies:       []reply{{status: 500}},
			wantIntervals: seconds(5),
			wantPolls:     1,
			wantErr:       errAny,
			wantTokenErr:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, tt.replies...)
			clk := newFakeClock()
			c := &tokenclient.Client{AudienceMode: tokenclient.AudienceBoth, AllowInsecure: true, Now: clk.Now, Sleep: clk.Sleep}
			md := &tokenclient.Metadata{TokenEndpoint: e.URL + "/token"}
			da := &tokenclient.DeviceAuth{DeviceCode: "the-device-code", UserCode: "U", Interval: tt.interval, ExpiresIn: tt.expiresIn, Received: clk.Now(), Audiences: []string{"https://se"}}
			auth := clientAuth{ClientID: "public"}
			var pl progressLog
			tok, err := on(c, md, auth).PollDevice(testContext(t), da, pl.record)

			reqs := e.Requests()
			if len(reqs) != tt.wantPolls {
				t.Errorf("polls = %d; want %d", len(reqs), tt.wantPolls)
			}
			if got := pl.Intervals(); !slices.Equal(got, tt.wantIntervals) {
				t.Errorf("progress intervals = %v; want %v", got, tt.wantIntervals)
			}
			// Sleeps equal the intervals except the last one may be cut
			// to the time left.
			sleeps := clk.Sleeps()
			for i, s := range sleeps {
				if s > tt.wantIntervals[i] {
					t.Errorf("sleep %d = %v; longer than interval %v", i, s, tt.wantIntervals[i])
				}
			}
			for _, r := range reqs {
				want := url.Values{"grant_type": {tokenclient.GrantTypeDeviceCode}, "device_code": {"the-device-code"}, "client_id": {"public"},
					"resource": {"https://se"}, "audience": {"https://se"}}
				if r.form.Encode() != want.Encode() {
					t.Errorf("poll form = %s; want %s", r.form.Encode(), want.Encode())
					break
				}
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken() != "at" || tok.RefreshToken != "rt" || field(tok, "id_token") != "idt" || !tok.Expiry().Equal(clk.Now().Add(600*time.Second)) {
					t.Errorf("token = %+v", tok)
				}
				return
			}
			if err == nil {
				t.Fatalf("PollDevice = %+v; want an error", tok)
			}
			if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v; want errors.Is %v", err, tt.wantErr)
			}
			var te *tokenclient.Error
			wantTE := tt.wantTokenErr != "" || tt.wantErr == errAny // both errAny cases are server answers
			if errors.As(err, &te) != wantTE || (te != nil && te.Code != tt.wantTokenErr) {
				t.Errorf("error = %v (%T); want TokenError code %q", err, err, tt.wantTokenErr)
			}
			if strings.Contains(err.Error(), "the-device-code") {
				t.Errorf("error %q contains the device code", err)
			}
		})
	}
}

// TestPollDeviceNetworkFailure checks that a connection failure backs off
// and that, when the code then expires, the error says both.
func TestPollDeviceNetworkFailure(t *testing.T) {
	e := newEndpoint(t, jsonReply(200, tokenOK))
	dead := e.URL
	e.Close() // nothing listens there any more
	clk := newFakeClock()
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true, Now: clk.Now, Sleep: clk.Sleep}
	da := &tokenclient.DeviceAuth{DeviceCode: "dc", Interval: 5, ExpiresIn: 60, Received: clk.Now()}
	var pl progressLog
	_, err := on(c, &tokenclient.Metadata{TokenEndpoint: dead}, clientAuth{ClientID: "c"}).PollDevice(testContext(t), da, pl.record)
	if !errors.Is(err, tokenclient.ErrExpiredToken) || !strings.Contains(err.Error(), "last poll failed") {
		t.Fatalf("error = %v; want ErrExpiredToken naming the last failure", err)
	}
	// 5, then doubled: 10, 20, 40 (sum 75 > 60: the last wait is cut).
	if got := pl.Intervals(); !slices.Equal(got, seconds(5, 10, 20, 40)) {
		t.Errorf("progress intervals = %v; want [5s 10s 20s 40s]", got)
	}
}

func TestPollDeviceContextCancel(t *testing.T) {
	e := newEndpoint(t, jsonReply(400, pending))
	clk := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	clk.onSleep = func(n int, _ time.Duration) bool {
		if n == 3 {
			cancel()
		}
		return true
	}
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true, Now: clk.Now, Sleep: clk.Sleep}
	da := &tokenclient.DeviceAuth{DeviceCode: "dc", Interval: 5, ExpiresIn: 600, Received: clk.Now()}
	_, err := on(c, &tokenclient.Metadata{TokenEndpoint: e.URL}, clientAuth{ClientID: "c"}).PollDevice(ctx, da, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v; want context.Canceled", err)
	}
	if n := len(e.Requests()); n != 2 {
		t.Errorf("polls = %d; want 2 (none after the cancel)", n)
	}
}

// TestPollDeviceRealSleep runs one short real wait, so the default Sleep
// (a timer) is exercised too.
func TestPollDeviceRealSleep(t *testing.T) {
	e := newEndpoint(t, jsonReply(200, tokenOK))
	c := &tokenclient.Client{AudienceMode: tokenclient.AudienceAuto, AllowInsecure: true}
	da := &tokenclient.DeviceAuth{DeviceCode: "dc", Interval: 1, ExpiresIn: 30}
	start := time.Now()
	if _, err := on(c, &tokenclient.Metadata{TokenEndpoint: e.URL}, clientAuth{ClientID: "c"}).PollDevice(testContext(t), da, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("PollDevice returned after %v; want at least the 1 s interval", d)
	}
}

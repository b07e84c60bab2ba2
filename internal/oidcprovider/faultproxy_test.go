package oidcprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// backend is a stand-in target that answers every request with a small
// token response, so the proxy's modes can be tested without Node.js.
func backend(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":600,"path":"`+r.URL.Path+`"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

type result struct {
	status int
	body   string
	err    error
	took   time.Duration
}

func post(client *http.Client, u string) result {
	start := time.Now()
	resp, err := client.Post(u, "application/x-www-form-urlencoded", strings.NewReader("grant_type=refresh_token&refresh_token=x"))
	if err != nil {
		return result{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), err: err, took: time.Since(start)}
}

func TestFaultProxyModes(t *testing.T) {
	fp := oidcprovider.NewFaultProxy(t, backend(t).URL)
	client := &http.Client{Timeout: 5 * time.Second}

	for _, tc := range []struct {
		mode  oidcprovider.Mode
		check func(t *testing.T, r result)
	}{
		{oidcprovider.Pass, func(t *testing.T, r result) {
			if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"path":"/token"`) {
				t.Errorf("got %d %q %v; want the backend's answer", r.status, r.body, r.err)
			}
		}},
		{oidcprovider.Status500, func(t *testing.T, r result) {
			if r.err != nil || r.status != 500 || strings.Contains(r.body, "access_token") || !strings.Contains(r.body, "<html>") {
				t.Errorf("got %d %q %v; want 500 with an HTML body", r.status, r.body, r.err)
			}
		}},
		{oidcprovider.BadJSON, func(t *testing.T, r result) {
			var m map[string]any
			if r.err != nil || r.status != 200 || json.Unmarshal([]byte(r.body), &m) == nil {
				t.Errorf("got %d %q %v; want 200 with invalid JSON", r.status, r.body, r.err)
			}
		}},
		{oidcprovider.ErrorJSON("invalid_grant"), func(t *testing.T, r result) {
			if r.err != nil || r.status != 400 || r.body != `{"error":"invalid_grant"}` {
				t.Errorf("got %d %q %v; want 400 {\"error\":\"invalid_grant\"}", r.status, r.body, r.err)
			}
		}},
		{oidcprovider.Down, func(t *testing.T, r result) {
			if r.err == nil {
				t.Errorf("got %d %q; want a connection error", r.status, r.body)
			}
		}},
		{oidcprovider.Slow(300 * time.Millisecond), func(t *testing.T, r result) {
			if r.err != nil || r.status != 200 || r.took < 300*time.Millisecond {
				t.Errorf("got %d %v after %v; want 200 after ≥300ms", r.status, r.err, r.took)
			}
		}},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			fp.SetMode(tc.mode)
			fp.ResetCounts()
			tc.check(t, post(client, fp.URL+"/token"))
			// A Down request may be retried once by the transport on a
			// reused connection.
			if n := fp.Count("/token"); n < 1 || n > 2 {
				t.Errorf("Count(/token) = %d; want 1", n)
			}
		})
	}
}

func TestFaultProxyHang(t *testing.T) {
	fp := oidcprovider.NewFaultProxy(t, backend(t).URL)
	fp.SetMode(oidcprovider.Hang)

	// The client gives up: its timeout fires and the handler is released.
	r := post(&http.Client{Timeout: 200 * time.Millisecond}, fp.URL+"/token")
	var ne interface{ Timeout() bool }
	if r.err == nil || !errors.As(r.err, &ne) || !ne.Timeout() {
		t.Fatalf("hung request: err = %v; want a client timeout", r.err)
	}

	// Close releases requests that are still hanging, and leaves no
	// goroutines behind.
	before := runtime.NumGoroutine()
	fp2 := oidcprovider.NewFaultProxy(t, backend(t).URL)
	fp2.SetMode(oidcprovider.Hang)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	done := make(chan result, 3)
	for range 3 {
		go func() { done <- post(&http.Client{Transport: tr}, fp2.URL+"/token") }()
	}
	waitFor(t, func() bool { return fp2.Count("/token") == 3 })
	fp2.Close()
	for range 3 {
		select {
		case r := <-done:
			if r.err == nil {
				t.Errorf("hung request after Close = %d %q; want a connection error", r.status, r.body)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not release a hung request")
		}
	}
	tr.CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestFaultProxyPathModes(t *testing.T) {
	fp := oidcprovider.NewFaultProxy(t, backend(t).URL)
	client := &http.Client{Timeout: 5 * time.Second}
	fp.SetPathMode("/token", oidcprovider.Status500)
	if r := post(client, fp.URL+"/token"); r.status != 500 {
		t.Errorf("/token = %d; want 500 from the path mode", r.status)
	}
	if r := post(client, fp.URL+"/.well-known/openid-configuration"); r.status != 200 {
		t.Errorf("discovery = %d; want 200 (global mode Pass)", r.status)
	}
	if got := fp.ModeFor("/token"); got != oidcprovider.Status500 {
		t.Errorf("ModeFor(/token) = %v; want Status500", got)
	}
	fp.ClearPathModes()
	if r := post(client, fp.URL+"/token"); r.status != 200 {
		t.Errorf("/token after ClearPathModes = %d; want 200", r.status)
	}
	counts := fp.Counts()
	if counts["/token"] != 2 || counts["/.well-known/openid-configuration"] != 1 || fp.Total() != 3 {
		t.Errorf("Counts() = %v, Total() = %d; want /token 2, discovery 1, total 3", counts, fp.Total())
	}
}

func TestFaultProxyModeString(t *testing.T) {
	for m, want := range map[oidcprovider.Mode]string{
		oidcprovider.Pass: "Pass", oidcprovider.Hang: "Hang", oidcprovider.Status500: "Status500", oidcprovider.Down: "Down",
		oidcprovider.BadJSON: "BadJSON", oidcprovider.Slow(time.Second): "Slow(1s)", oidcprovider.ErrorJSON("x"): `ErrorJSON("x")`,
		{}: "Pass",
	} {
		if got := m.String(); got != want {
			t.Errorf("String() = %q; want %q", got, want)
		}
	}
}

// TestFaultProxyProvider runs a refresh chain through the proxy against the
// real provider, failing it in between: failures that never reach the
// provider leave the refresh token usable.
func TestFaultProxyProvider(t *testing.T) {
	p := oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{})
	fp := oidcprovider.NewFaultProxy(t, p.Issuer)
	g := p.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret})

	refreshVia := func(rt string) (map[string]any, int, error) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {oidcprovider.ClientIDPost}, "client_secret": {oidcprovider.ClientSecret}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fp.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		return m, resp.StatusCode, err
	}

	for _, m := range []oidcprovider.Mode{oidcprovider.Status500, oidcprovider.Down, oidcprovider.Hang, oidcprovider.ErrorJSON("temporarily_unavailable"), oidcprovider.BadJSON} {
		fp.SetMode(m)
		if body, status, err := refreshVia(g.RefreshToken); err == nil && status == 200 && body["access_token"] != nil {
			t.Errorf("mode %v: refresh succeeded; want a failure", m)
		}
	}
	fp.SetMode(oidcprovider.Pass)
	body, status, err := refreshVia(g.RefreshToken)
	if err != nil || status != 200 {
		t.Fatalf("refresh through Pass after faults: HTTP %d %v %v", status, body, err)
	}
	p.VerifyAccessToken(t, body["access_token"].(string))
	if n := fp.Count("/token"); n < 6 {
		t.Errorf("Count(/token) = %d; want ≥ 6", n)
	}

	// With the provider stopped, Pass answers 502 from the proxy itself.
	p.Stop()
	if _, status, _ := refreshVia(body["refresh_token"].(string)); status != http.StatusBadGateway {
		t.Errorf("Pass with the provider down = HTTP %d; want 502", status)
	}
}

// waitFor polls cond for up to 5 s; tests use it only for conditions that
// other goroutines make true.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFaultProxyErrorIfParam: the conditional refusal answers only
// requests carrying the parameter, forwards the rest with their body
// intact, and the proxy records every form's parameter names (not values).
func TestFaultProxyErrorIfParam(t *testing.T) {
	var (
		mu        sync.Mutex
		forwarded []string
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		forwarded = append(forwarded, string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at"}`)
	}))
	t.Cleanup(target.Close)
	fp := oidcprovider.NewFaultProxy(t, target.URL)
	fp.SetPathMode("/token", oidcprovider.ErrorJSONIfParam("invalid_target", "resource"))
	client := &http.Client{Timeout: 5 * time.Second}
	send := func(form url.Values) (int, string) {
		resp, err := client.PostForm(fp.URL+"/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := send(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"secret-rt"}, "resource": {"https://a"}}); code != 400 || !strings.Contains(body, `"invalid_target"`) {
		t.Errorf("with resource: %d %s; want 400 invalid_target", code, body)
	}
	if code, _ := send(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"secret-rt"}}); code != 200 {
		t.Errorf("without resource: %d; want the target's 200", code)
	}
	mu.Lock()
	if len(forwarded) != 1 || forwarded[0] != "grant_type=refresh_token&refresh_token=secret-rt" {
		t.Errorf("forwarded bodies = %q; want only the second request, intact", forwarded)
	}
	mu.Unlock()
	got := fp.Params("/token")
	want := [][]string{{"grant_type", "refresh_token", "resource"}, {"grant_type", "refresh_token"}}
	if len(got) != 2 || strings.Join(got[0], ",") != strings.Join(want[0], ",") || strings.Join(got[1], ",") != strings.Join(want[1], ",") {
		t.Errorf("Params = %q; want %q", got, want)
	}
	if s := oidcprovider.ErrorJSONIfParam("invalid_target", "resource").String(); s != `ErrorJSONIfParam("invalid_target", "resource")` {
		t.Errorf("String() = %s", s)
	}
}

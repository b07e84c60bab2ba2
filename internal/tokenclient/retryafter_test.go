package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// retryAfterServer answers every request with status, the given
// Retry-After (none when empty) and body.
func retryAfterServer(t *testing.T, status int, retryAfter, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The server's Retry-After reaches the caller from Refresh's errors, in
// both of RFC 9110's forms, whatever the status; nonsense reads as none.
func TestRetryAfterFromRefresh(t *testing.T) {
	now := time.Date(2026, 11, 23, 11, 5, 1, 0, time.UTC)
	httpDate := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tt := range []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
		ok         bool
	}{
		{"429 seconds", 429, "120", 120 * time.Second, true},
		{"503 HTTP-date", 503, httpDate(90 * time.Second), 90 * time.Second, true},
		{"503 RFC 850 date", 503, now.Add(time.Hour).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Hour, true},
		{"503 asctime date", 503, now.Add(time.Minute).Format(time.ANSIC), time.Minute, true},
		{"400 with a header", 400, "7", 7 * time.Second, true},
		{"zero", 429, "0", 0, true},
		{"spaces around", 429, " 30 ", 30 * time.Second, true},
		{"uncapped", 503, "86400000", 86400000 * time.Second, true},
		{"too large for a Duration", 503, "99999999999999999999", time.Duration(math.MaxInt64), true},
		{"negative", 429, "-5", 0, false},
		{"fraction", 429, "1.5", 0, false},
		{"garbage", 503, "soon", 0, false},
		{"date in the past", 503, httpDate(-time.Minute), 0, false},
		{"longer than any valid one", 503, strings.Repeat("9", 65), 0, false},
		{"no header", 429, "", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := retryAfterServer(t, tt.status, tt.retryAfter, `{"error":"temporarily_unavailable"}`)
			cl := &Client{TokenURL: srv.URL, ClientID: "c", AllowInsecure: true}
			_, err := cl.Refresh(context.Background(), "RT", nil, nil, nil)
			if err == nil {
				t.Fatal("Refresh succeeded")
			}
			got, ok := RetryAfter(fmt.Errorf("refreshing: %w", err), now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter(Retry-After %q) = %v, %v; want %v, %v", tt.retryAfter, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRetryAfterFromDiscovery(t *testing.T) {
	srv := retryAfterServer(t, 503, "45", "busy")
	_, err := DiscoverTokenURL(context.Background(), srv.Client(), srv.URL, true)
	if err == nil || IsPermanent(err) {
		t.Fatalf("DiscoverTokenURL(503) = %v; want a transient error", err)
	}
	if d, ok := RetryAfter(err, time.Now()); d != 45*time.Second || !ok {
		t.Errorf("RetryAfter(discovery 503) = %v, %v; want 45s, true", d, ok)
	}
	if !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("discovery error %q does not name the status", err)
	}
}

func TestRetryAfterWithoutAnAnswer(t *testing.T) {
	for _, err := range []error{nil, errors.New("network down"), context.DeadlineExceeded, &PermanentError{Err: ErrInsecureURL}} {
		if d, ok := RetryAfter(err, time.Now()); ok || d != 0 {
			t.Errorf("RetryAfter(%v) = %v, %v; want 0, false", err, d, ok)
		}
	}
}

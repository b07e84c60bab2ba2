package renewer

import (
	"errors"
	"testing"
	"time"
)

// TestNextRenewal pins Watch's schedule: the shared refresh policy at
// half-life with jitter only earlier, min_lifetime plus a capped margin,
// and the minimum interval after the renewal just done.
func TestNextRenewal(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	pol := schedulePolicy{ratio: 0.5, jitter: 0.1, margin: time.Minute, minInterval: 10 * time.Second}
	for _, tt := range []struct {
		name           string
		pol            schedulePolicy
		issued, expiry time.Time
		now            time.Time
		minLife        time.Duration
		u              float64
		want           time.Time
	}{
		{"half-life, jitter draw 0", pol, t0, t0.Add(time.Hour), t0, 0, 0, t0.Add(30 * time.Minute)},
		{"jitter draw 0.5: earlier by half the jitter", pol, t0, t0.Add(time.Hour), t0, 0, 0.5, t0.Add(28*time.Minute + 30*time.Second)},
		{"jitter draw 1: earlier by all of it, never later", pol, t0, t0.Add(time.Hour), t0, 0, 1, t0.Add(27 * time.Minute)},
		{"min_lifetime earlier than half-life", pol, t0, t0.Add(time.Hour), t0, 40 * time.Minute, 0, t0.Add(19 * time.Minute)},
		{"min_lifetime later than half-life", pol, t0, t0.Add(time.Hour), t0, 10 * time.Minute, 0, t0.Add(30 * time.Minute)},
		{"margin capped for short tokens", pol, t0, t0.Add(100 * time.Second), t0, 60 * time.Second, 0, t0.Add(30 * time.Second)},
		{"min_lifetime >= lifetime is ignored", pol, t0, t0.Add(20 * time.Minute), t0, time.Hour, 0, t0.Add(10 * time.Minute)},
		{"largest min_lifetime is ignored, no overflow", pol, t0, t0.Add(20 * time.Minute), t0, time.Duration(1<<63 - 1), 0, t0.Add(10 * time.Minute)},
		{"floor: due in the past", pol, t0, t0.Add(time.Hour), t0.Add(50 * time.Minute), 0, 0, t0.Add(50*time.Minute + 10*time.Second)},
		{"floor: exactly at now+min", pol, t0, t0.Add(20 * time.Second), t0, 0, 0, t0.Add(10 * time.Second)},
		{"floor: 1ns before", pol, t0, t0.Add(20*time.Second - 2), t0, 0, 0, t0.Add(10 * time.Second)},
		{"floor: MinInterval below 1 s counts as 1 s", schedulePolicy{ratio: 0.5, minInterval: time.Millisecond}, t0, t0.Add(time.Second), t0, 0, 0, t0.Add(time.Second)},
		{"expired token", pol, t0, t0.Add(time.Minute), t0.Add(2 * time.Minute), 0, 0, t0.Add(2*time.Minute + 10*time.Second)},
		{"issued after expiry is expired", pol, t0.Add(time.Hour), t0.Add(time.Minute), t0, 0, 0, t0.Add(10 * time.Second)},
		{"unknown issued: lifetime from now", pol, time.Time{}, t0.Add(time.Hour), t0, 0, 0, t0.Add(30 * time.Minute)},
		{"unknown expiry", pol, t0, time.Time{}, t0, 0, 0, t0.Add(defaultUnknownExpiryInterval)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := nextRenewal(tt.pol, tt.issued, tt.expiry, tt.now, tt.minLife, tt.u)
			if !got.Equal(tt.want) {
				t.Errorf("nextRenewal = %v; want %v", got.Sub(t0), tt.want.Sub(t0))
			}
		})
	}
}

// TestBackoffDelay pins Watch's retry delays: doubling from BackoffMin,
// jitter only lengthening, never past BackoffMax; permanent failures wait
// the maximum.
func TestBackoffDelay(t *testing.T) {
	lo, hi := 10*time.Second, 5*time.Minute
	for _, tt := range []struct {
		name      string
		failures  int
		permanent bool
		u         float64
		want      time.Duration
	}{
		{"first, draw 0", 1, false, 0, 10 * time.Second},
		{"first, draw 1: a quarter longer", 1, false, 1, 12500 * time.Millisecond},
		{"second", 2, false, 0, 20 * time.Second},
		{"fifth", 5, false, 0, 160 * time.Second},
		{"capped", 6, false, 0, 5 * time.Minute},
		{"capped, jitter cut at the cap", 6, false, 1, 5 * time.Minute},
		{"capped far out", 1000, false, 0.5, 5 * time.Minute},
		{"permanent waits max", 1, true, 0, 5 * time.Minute},
		{"permanent never past max", 1, true, 1, 5 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoffDelay(tt.failures, tt.permanent, lo, hi, tt.u); got != tt.want {
				t.Errorf("backoffDelay = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	ok := TokenResult{Outcome: Renewed}
	skip := TokenResult{Outcome: Skipped}
	fail := TokenResult{Outcome: Failed, Class: ClassTransient}
	reauth := TokenResult{Outcome: Failed, Class: ClassReauth}
	for _, tt := range []struct {
		name string
		rep  *Report
		want int
	}{
		{"empty", &Report{}, exitOK},
		{"renewed and skipped", &Report{Tokens: []TokenResult{ok, skip}}, exitOK},
		{"one failed", &Report{Tokens: []TokenResult{ok, fail, skip}}, exitFailed},
		{"reauth wins", &Report{Tokens: []TokenResult{fail, reauth, ok}}, exitReauth},
		{"nil report", nil, exitFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rep.exitCode(); got != tt.want {
				t.Errorf("ExitCode() = %d; want %d", got, tt.want)
			}
		})
	}
	if got := exitCodeOf(ErrAlreadyRunning); got != exitLocked {
		t.Errorf("ExitCodeOf(ErrAlreadyRunning) = %d; want %d", got, exitLocked)
	}
	if got := exitCodeOf(&configError{}); got != exitConfig {
		t.Errorf("ExitCodeOf(ConfigError) = %d; want %d", got, exitConfig)
	}
	if got := exitCodeOf(errors.New("x")); got != exitFailed {
		t.Errorf("ExitCodeOf(other) = %d; want %d", got, exitFailed)
	}
}

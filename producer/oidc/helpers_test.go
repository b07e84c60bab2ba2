package oidc_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is the Client's Now and Sleep in tests: Sleep advances the
// clock by d at once instead of waiting, so a device flow with 5 s
// intervals runs in milliseconds. onSleep, if set, runs at the start of
// the n-th Sleep (1-based) and may approve or deny the code, or return
// false to make that Sleep not advance the clock at all — a client that
// polls too fast.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(n int, d time.Duration) (advance bool)
}

func newFakeClock() *fakeClock {
	// A fixed, obviously fake date: nothing may depend on the wall clock.
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	n := len(f.sleeps)
	hook := f.onSleep
	f.mu.Unlock()
	advance := true
	if hook != nil {
		advance = hook(n, d)
	}
	if advance {
		f.mu.Lock()
		f.now = f.now.Add(d)
		f.mu.Unlock()
	}
	return ctx.Err()
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// progressLog records PollDevice's progress callbacks.
type progressLog struct {
	mu        sync.Mutex
	lefts     []time.Duration
	intervals []time.Duration
}

func (p *progressLog) record(left, interval time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lefts = append(p.lefts, left)
	p.intervals = append(p.intervals, interval)
}

func (p *progressLog) Intervals() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.intervals...)
}

func seconds(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = time.Duration(x) * time.Second
	}
	return out
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

package clock

import (
	"sync"
	"time"
)

// Clock tells the time and makes timers and tickers.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
	NewTicker(d time.Duration) Ticker
}

// Timer is a *time.Timer behind an interface.
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration) bool
	Stop() bool
}

// Ticker is a *time.Ticker behind an interface.
type Ticker interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// Real returns the system clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                   { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t realTimer) Stop() bool                 { return t.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time   { return t.t.C }
func (t realTicker) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTicker) Stop()                 { t.t.Stop() }

// Func is the real clock's timers with the time read from now: for tests
// that shift the daemon's idea of the time (clock skew, a key file's age)
// but still need its timers to run.
func Func(now func() time.Time) Clock { return funcClock{now} }

type funcClock struct{ now func() time.Time }

func (c funcClock) Now() time.Time                 { return c.now() }
func (funcClock) NewTimer(d time.Duration) Timer   { return realClock{}.NewTimer(d) }
func (funcClock) NewTicker(d time.Duration) Ticker { return realClock{}.NewTicker(d) }

// Fake is a clock that moves only when told to (Add, Set). Its timers and
// tickers fire, on channels of capacity one as the real ones, when the time
// passes their deadline. Safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Add moves the time forward by d and fires what came due.
func (f *Fake) Add(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the time to t (never backwards) and fires what came due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	live := f.waiters[:0]
	for _, w := range f.waiters {
		w.fire(f.now)
		if w.live {
			live = append(live, w)
		} else {
			w.listed = false // Reset lists it again
		}
	}
	clear(f.waiters[len(live):])
	f.waiters = live
}

// Waiters returns how many timers and tickers are armed: a test waits for
// the code under test to arm its own before it moves the time.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.waiters {
		if w.live {
			n++
		}
	}
	return n
}

// NewTimer returns a timer that fires once the fake time reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer { return f.add(d, 0) }

// NewTicker returns a ticker that fires every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	return &fakeTicker{f.add(d, d)}
}

func (f *Fake) add(d, period time.Duration) *fakeWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{f: f, c: make(chan time.Time, 1), at: f.now.Add(d), period: period, live: true, listed: true}
	f.waiters = append(f.waiters, w)
	w.fire(f.now)
	return w
}

// fakeWaiter is a fake timer, or a ticker when period > 0. Its fields are
// guarded by the clock's mutex.
type fakeWaiter struct {
	f      *Fake
	c      chan time.Time
	at     time.Time
	period time.Duration
	live   bool
	listed bool // in f.waiters
}

func (w *fakeWaiter) fire(now time.Time) {
	for w.live && !w.at.After(now) {
		select {
		case w.c <- w.at:
		default: // a full channel drops the tick, as time.Ticker does
		}
		if w.period == 0 {
			w.live = false
			return
		}
		w.at = w.at.Add(w.period)
	}
}

func (w *fakeWaiter) C() <-chan time.Time { return w.c }

func (w *fakeWaiter) Reset(d time.Duration) bool {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	was := w.live
	w.at, w.live = w.f.now.Add(d), true
	if !w.listed {
		w.listed = true
		w.f.waiters = append(w.f.waiters, w)
	}
	w.fire(w.f.now)
	return was
}

func (w *fakeWaiter) Stop() bool {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	was := w.live
	w.live = false
	return was
}

type fakeTicker struct{ w *fakeWaiter }

func (t *fakeTicker) C() <-chan time.Time { return t.w.c }
func (t *fakeTicker) Reset(d time.Duration) {
	t.w.f.mu.Lock()
	t.w.period = d
	t.w.f.mu.Unlock()
	t.w.Reset(d)
}
func (t *fakeTicker) Stop() { t.w.Stop() }

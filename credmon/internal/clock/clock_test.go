package clock

import (
	"testing"
	"time"
)

func fired(c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestFakeTimerFiresAtItsDeadline: a fake timer fires when the time
// reaches its deadline, not a nanosecond before, once; Reset re-arms it
// (also after it fired) and Stop disarms it.
func TestFakeTimerFiresAtItsDeadline(t *testing.T) {
	f := NewFake(time.Unix(1000, 0))
	tm := f.NewTimer(time.Second)
	if f.Waiters() != 1 {
		t.Fatalf("Waiters = %d; want 1", f.Waiters())
	}
	f.Add(time.Second - time.Nanosecond)
	if fired(tm.C()) {
		t.Fatal("fired before its deadline")
	}
	f.Add(time.Nanosecond)
	if !fired(tm.C()) {
		t.Fatal("did not fire at its deadline")
	}
	f.Add(time.Hour)
	if fired(tm.C()) || f.Waiters() != 0 {
		t.Fatal("a timer fired twice")
	}
	if tm.Reset(time.Minute) {
		t.Error("Reset of a fired timer reported it active")
	}
	f.Add(time.Minute)
	if !fired(tm.C()) {
		t.Fatal("a timer reset after firing did not fire again")
	}
	tm.Reset(time.Minute)
	if !tm.Stop() {
		t.Error("Stop of an armed timer reported it inactive")
	}
	f.Add(time.Hour)
	if fired(tm.C()) {
		t.Error("a stopped timer fired")
	}
}

// TestFakeTickerTicksEveryPeriod: a ticker ticks each period; ticks the
// reader missed are dropped as time.Ticker drops them; Reset changes the
// period.
func TestFakeTickerTicksEveryPeriod(t *testing.T) {
	f := NewFake(time.Unix(1000, 0))
	tk := f.NewTicker(time.Minute)
	for i := 0; i < 3; i++ {
		f.Add(time.Minute)
		if !fired(tk.C()) {
			t.Fatalf("tick %d missing", i+1)
		}
	}
	f.Add(10 * time.Minute)
	if !fired(tk.C()) || fired(tk.C()) {
		t.Error("missed ticks were not coalesced into one")
	}
	tk.Reset(time.Hour)
	f.Add(time.Minute)
	if fired(tk.C()) {
		t.Error("ticked at the old period after Reset")
	}
	f.Add(time.Hour)
	if !fired(tk.C()) {
		t.Error("no tick at the new period")
	}
	tk.Stop()
	f.Add(2 * time.Hour)
	if fired(tk.C()) {
		t.Error("a stopped ticker ticked")
	}
}

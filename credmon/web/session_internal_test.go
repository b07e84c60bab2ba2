package web

import (
	"testing"
	"time"
)

// TestSessionsBoundAndExpiry checks the store's two limits: the oldest
// session goes when it is full, expired ones go first, and its bookkeeping
// stays the size of the store however many visits pass through it.
func TestSessionsBoundAndExpiry(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	st := newSessions(time.Hour, 3)
	var ids []string
	for i := range 5 {
		now := t0.Add(time.Duration(i) * time.Second)
		ids = append(ids, st.add(&session{user: "u", created: now}, now))
	}
	for i, id := range ids {
		if got := st.get(id, t0.Add(5*time.Second)) != nil; got != (i >= 2) {
			t.Errorf("session %d present = %v; want %v (the two oldest evicted)", i, got, i >= 2)
		}
	}

	// Expired sessions go before a live one is evicted, including one get
	// already dropped.
	later := t0.Add(time.Hour + 3500*time.Millisecond) // ids[2] and ids[3] expired; ids[4] not
	if st.get(ids[2], later) != nil {
		t.Fatal("expired session returned")
	}
	n := st.add(&session{user: "u", created: later}, later)
	if st.get(ids[4], later) == nil || st.get(n, later) == nil {
		t.Error("a live session was evicted while expired ones remained")
	}
	if len(st.m) != 2 {
		t.Errorf("store holds %d sessions; want 2", len(st.m))
	}

	// Many visits: the order list stays bounded by the store.
	st = newSessions(time.Minute, 1000)
	for i := range 100_000 {
		now := t0.Add(time.Duration(i) * time.Second)
		st.add(&session{created: now}, now)
		if live := len(st.order) - st.head; live > 62 || len(st.order) > 2*62+2 {
			t.Fatalf("after %d visits: %d ids kept (%d slots) for %d sessions", i+1, live, len(st.order), len(st.m))
		}
	}
}

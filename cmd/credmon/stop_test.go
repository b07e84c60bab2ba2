package main

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// TestStopSignalsLoseNoGrant is condor_restart, condor_off and package
// upgrades against a rotating issuer that takes 0.5 s per refresh: the
// daemon is stopped with SIGTERM, SIGINT or SIGQUIT at random moments while
// refreshes are on the wire, and started again, many times. It must exit 0
// each time, and every user's refresh token must still be valid at the end
// of every round: a refresh the stop caught on the wire finishes and its
// rotated token is saved, instead of being cut off and replayed later
// (which makes the issuer revoke the grant).
func TestStopSignalsLoseNoGrant(t *testing.T) {
	if testing.Short() {
		t.Skip("restart loop skipped in -short mode")
	}
	f := newFleet(t, oidcprovider.ProviderOptions{RefreshDelay: 500 * time.Millisecond}, "\nCREDMON_OAUTH_HTTP_TIMEOUT = 20")
	idp, tr, d := f.idp, f.tr, f.d
	const users = fleetUsers
	rnd := rand.New(rand.NewPCG(3, 4))
	signals := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT}
	const rounds = 12
	cut := 0 // requests on the wire when the signal came
	for round := 0; round < rounds; round++ {
		f.allDue()
		d.start("-v")
		d.wait("a refresh on the wire", func() bool { return tr.inFlight() > 0 })
		// A random moment within the burst: 40 tokens, 8 slots, 0.5 s each.
		time.Sleep(time.Duration(rnd.IntN(2500)) * time.Millisecond)
		cut += tr.inFlight()
		sig := signals[round%len(signals)]
		d.cmd.Process.Signal(sig)
		if code := d.exitCode(60 * time.Second); code != 0 {
			t.Fatalf("round %d: exit status %d after %v; want 0", round, code, sig)
		}
		tr.settle()
		checkFilesWhole(t, d.credDir)
		for i := 0; i < users; i++ {
			u := fmt.Sprintf("user%03d", i)
			if !active(t, idp, topRT(t, d.credDir, u)) {
				t.Fatalf("round %d (%v): %s's saved refresh token is no longer valid: a stop lost a rotated token", round, sig, u)
			}
		}
	}
	t.Logf("%d stops by SIGTERM/SIGINT/SIGQUIT caught %d refreshes on the wire; no grant lost", rounds, cut)
}

// inFlight counts requests that have not been answered yet.
func (tr *tracer) inFlight() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, r := range tr.reqs {
		if r.end.IsZero() {
			n++
		}
	}
	return n
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/credtest"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// TestCrashSafety kills the daemon with SIGKILL at random moments while it
// refreshes many tokens against a rotating issuer with reuse detection.
// Invariants: no .top/.use is ever partial or unparseable, and a user's
// refresh token is lost only if a kill landed while that user's own refresh
// request was on the wire (the issuer rotated it; we never heard the
// answer). A tracing proxy follows every token through its rotations to
// know whose request was in flight. Both numbers are reported.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	f := newFleet(t, oidcprovider.ProviderOptions{}, "")
	idp, tr, d := f.idp, f.tr, f.d
	const users = fleetUsers
	rnd := rand.New(rand.NewPCG(1, 2))
	const rounds = 25
	// Users a kill cut short: their request was on the wire (no answer
	// delivered), or answered but the new token not yet renamed into
	// .top (one small-file fsync: the only window durability allows).
	onWireTotal, unwrittenTotal, lostTotal := 0, 0, 0
	for round := 0; round < rounds; round++ {
		f.allDue()
		cmd := d.command("-v")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rnd.IntN(150)) * time.Millisecond)
		killed := time.Now()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		time.Sleep(150 * time.Millisecond) // late bytes of the dead process
		checkFilesWhole(t, d.credDir)
		onWire, unwritten := map[string]bool{}, map[string]bool{}
		for _, r := range tr.settle() {
			switch {
			case r.end.IsZero() || !r.end.Before(killed):
				onWire[r.user] = true // no answer reached the daemon
			case r.newRT != "" && topRT(t, d.credDir, r.user) == r.oldRT:
				unwritten[r.user] = true
			}
		}
		onWireTotal += len(onWire)
		unwrittenTotal += len(unwritten)
		for i := 0; i < users; i++ {
			u := fmt.Sprintf("user%03d", i)
			if active(t, idp, topRT(t, d.credDir, u)) {
				continue
			}
			lostTotal++
			if !onWire[u] && !unwritten[u] {
				t.Errorf("round %d: %s lost its refresh token although the kill cut none of its refreshes short", round, u)
			}
			f.login(t, u) // so that later rounds keep testing this user
		}
	}
	// A final clean run refreshes everything that can still be refreshed.
	d.start("-v")
	d.wait("CREDMON_COMPLETE", func() bool { _, err := os.Stat(filepath.Join(d.credDir, "CREDMON_COMPLETE")); return err == nil })
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.exitCode(30 * time.Second)
	checkFilesWhole(t, d.credDir)

	for i := 0; i < users; i++ {
		u := fmt.Sprintf("user%03d", i)
		if !active(t, idp, topRT(t, d.credDir, u)) {
			t.Errorf("%s: refresh token dead after a clean run", u)
		}
	}
	t.Logf("crash safety: %d SIGKILLs during refresh bursts of %d tokens; refreshes cut short: %d on the wire, %d answered but not yet renamed into .top; %d refresh tokens lost, all among those",
		rounds, users, onWireTotal, unwrittenTotal, lostTotal)
}

// active asks the issuer (RFC 7662 introspection, which does not consume
// the token) whether a refresh token is still valid.
func active(t *testing.T, idp *oidcprovider.Provider, rt string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, idp.IntrospectionURL, strings.NewReader(url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidcprovider.ClientIDPost, oidcprovider.ClientSecret)
	resp, err := idp.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("introspection: HTTP %d: %v", resp.StatusCode, err)
	}
	return out.Active
}

// fleet is a daemon whose fleetUsers users (user000, user001, ...) each
// hold a grant (compute.read) at a rotating issuer, which the daemon
// reaches through a tracer: the world of the crash and stop tests.
type fleet struct {
	idp   *oidcprovider.Provider
	tr    *tracer
	d     *daemon
	credd *credtest.Credd
}

const fleetUsers = 40

// newFleet starts the issuer with opts, the tracer in front of it and a
// daemon with 8 workers and the knobs in extra, and gives every user a
// grant.
func newFleet(t *testing.T, opts oidcprovider.ProviderOptions, extra string) *fleet {
	t.Helper()
	idp := oidcprovider.StartOIDCProvider(t, opts)
	tr := newTracer(t, idp.Issuer)
	d := newDaemon(t, fmt.Sprintf("MYIDP_CLIENT_ID = %s\nMYIDP_TOKEN_URL = %s/token\nMYIDP_CLIENT_SECRET_FILE = %s\nCREDMON_OAUTH_WORKERS = 8",
		oidcprovider.ClientIDPost, tr.URL, writeSecret(t))+extra)
	f := &fleet{idp: idp, tr: tr, d: d, credd: credtest.NewCredd(t, d.credDir)}
	grants := idp.NewRefreshTokens(t, fleetGrant(""), fleetUsers, 8)
	for i, g := range grants {
		f.store(t, fmt.Sprintf("user%03d", i), g.RefreshToken)
	}
	return f
}

func fleetGrant(user string) oidcprovider.GrantRequest {
	return oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read", User: user}
}

// login gives user a new grant, as a new login at the issuer does.
func (f *fleet) login(t *testing.T, user string) {
	t.Helper()
	f.store(t, user, f.idp.NewRefreshToken(t, fleetGrant(user)).RefreshToken)
}

// store hands user's refresh token rt to the daemon, as credd does, and
// tells the tracer whose it is.
func (f *fleet) store(t *testing.T, user, rt string) {
	t.Helper()
	f.tr.owner(rt, user)
	blob, _ := json.Marshal(map[string]string{"refresh_token": rt, "scopes": "compute.read"})
	if err := f.credd.StoreTop(user, "myidp", blob); err != nil {
		t.Fatal(err)
	}
}

// allDue removes every user's .use: each token is due at once.
func (f *fleet) allDue() {
	for i := 0; i < fleetUsers; i++ {
		os.Remove(filepath.Join(f.d.credDir, fmt.Sprintf("user%03d", i), "myidp.use"))
	}
}

// tracer is a reverse proxy to the token endpoint that records, per
// request, whose refresh token it carried and when it ran, and follows
// rotations (new token → same user).
type tracer struct {
	*httptest.Server
	mu    sync.Mutex
	users map[string]string // refresh token → user
	reqs  []traced
}

type traced struct {
	user         string
	oldRT, newRT string    // sent, and received (empty if no answer)
	start, end   time.Time // end zero while running
}

func newTracer(t *testing.T, target string) *tracer {
	tr := &tracer{users: map[string]string{}}
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	// Requests cut off by SIGKILL are the point of this test, not news.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rp.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(body, &tok) == nil && tok.RefreshToken != "" {
			if ref, ok := resp.Request.Context().Value(rtKey{}).(int); ok {
				tr.mu.Lock()
				tr.reqs[ref].newRT = tok.RefreshToken
				tr.users[tok.RefreshToken] = tr.reqs[ref].user
				tr.mu.Unlock()
			}
		}
		return nil
	}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rt := form.Get("refresh_token")
		tr.mu.Lock()
		i := len(tr.reqs)
		tr.reqs = append(tr.reqs, traced{user: tr.users[rt], oldRT: rt, start: time.Now()})
		tr.mu.Unlock()
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rtKey{}, i)))
		tr.mu.Lock()
		tr.reqs[i].end = time.Now()
		tr.mu.Unlock()
	}))
	t.Cleanup(tr.Close)
	return tr
}

type rtKey struct{}

func (tr *tracer) owner(rt, user string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.users[rt] = user
}

// settle waits until the proxy has been idle for a while (bytes a killed
// process had already written can still arrive and reach the issuer), then
// returns and forgets the round's requests.
func (tr *tracer) settle() []traced {
	const quiet = 150 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		tr.mu.Lock()
		busy := false
		for _, r := range tr.reqs {
			if r.end.IsZero() || time.Since(r.end) < quiet || time.Since(r.start) < quiet {
				busy = true
			}
		}
		tr.mu.Unlock()
		if !busy {
			break
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := append([]traced(nil), tr.reqs...)
	tr.reqs = tr.reqs[:0]
	return out
}

func topRT(t *testing.T, dir, user string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, user, "myidp.top"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := credfile.ParseTop(b)
	if err != nil {
		t.Fatalf("%s .top: %v", user, err)
	}
	return top.RefreshToken()
}

// checkFilesWhole asserts every .top/.use parses completely and no temp
// file outlives the next daemon start (they are removed at start-up).
func checkFilesWhole(t *testing.T, dir string) {
	t.Helper()
	users, _ := os.ReadDir(dir)
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, u.Name()))
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, u.Name(), f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasSuffix(f.Name(), ".top"):
				if _, err := credfile.ParseTop(b); err != nil {
					t.Fatalf("%s/%s partial or corrupt: %v: %q", u.Name(), f.Name(), err, b)
				}
			case strings.HasSuffix(f.Name(), ".use"):
				if _, err := credfile.ParseUse(b); err != nil || len(b) == 0 {
					t.Fatalf("%s/%s partial or corrupt: %v: %q", u.Name(), f.Name(), err, b)
				}
			}
		}
	}
}

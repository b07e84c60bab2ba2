package tokenclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/tokenclient"
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

// clientAuth is a client identity the tests give a Client (see on).
type clientAuth struct {
	ClientID, ClientSecret string
	Style                  oauth2.AuthStyle
}

// on is a copy of c that is the client a at md's token and device
// authorization endpoints (md nil: c's).
func on(c *tokenclient.Client, md *tokenclient.Metadata, a clientAuth) *tokenclient.Client {
	cp := *c
	cp.ClientID, cp.ClientSecret, cp.AuthStyle = a.ClientID, a.ClientSecret, a.Style
	if md != nil {
		cp.TokenURL, cp.DeviceAuthURL = md.TokenEndpoint, md.DeviceAuthorizationEndpoint
	}
	return &cp
}

// cc is a copy of c that is the client a at tokenURL, sending audiences as
// the mode named by as (see mode).
func cc(c *tokenclient.Client, tokenURL string, a clientAuth, as string) *tokenclient.Client {
	cp := on(c, nil, a)
	cp.TokenURL, cp.AudienceMode = tokenURL, mode(as)
	return cp
}

// mode is the AudienceMode for the names credmon-token's --audience-mode
// takes; "" is AudienceAuto.
func mode(as string) tokenclient.AudienceMode {
	if as == "" {
		return tokenclient.AudienceAuto
	}
	m, err := tokenclient.ParseAudienceMode(as)
	if err != nil {
		panic(err)
	}
	return m
}

// auds is one audience as a list, none for "".
func auds(aud string) []string {
	if aud == "" {
		return nil
	}
	return []string{aud}
}

// field is the token response's string member k.
func field(r *tokenclient.Result, k string) string {
	s, _ := r.Response.String(k)
	return s
}

// rawField is the token response's member k as sent.
func rawField(r *tokenclient.Result, k string) string {
	b, _ := r.Response.Raw(k)
	return string(b)
}

// expiresIn is the token response's expires_in (0: none).
func expiresIn(r *tokenclient.Result) int64 {
	n, _ := r.Response.Number("expires_in")
	return int64(n)
}

package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// session is what one browser's cookie stands for: which key file it
// opened, and the authorization requests in flight. It holds no secret
// from the key file (those are read again when needed, so a key file that
// disappears stops every flow at once) and no token.
type session struct {
	key     string // the key file's name: a bearer secret, never logged or shown
	keyID   string // a fingerprint of key for log lines
	user    string
	names   []string // token names, in key-file order
	csrf    string
	flows   map[string]flow // state → request
	created time.Time
}

// flow is one authorization request: the PKCE verifier and what to do
// with the code.
type flow struct {
	name     string
	verifier string
	as       authServer // where the request went, for the answer's iss
	started  time.Time
}

// sessions is an in-memory store: the app is one process, and a restart
// only costs the user a second visit of the (still valid) key URL. It is
// bounded so that visits cannot exhaust memory.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
	// order is the ids in the order they were added (so by creation
	// time, oldest first), some already gone from m: what makes dropping
	// the expired and the oldest O(1) per visit instead of a scan of the
	// whole store under its lock.
	order   []string
	head    int // order[head:] is live
	ttl     time.Duration
	max     int
	maxFlow int
}

func newSessions(ttl time.Duration, max int) *sessions {
	return &sessions{m: make(map[string]*session), ttl: ttl, max: max, maxFlow: 16}
}

// random returns n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fingerprint names a key in logs without revealing it.
func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// add stores s under a new id and returns the id. Expired sessions are
// dropped first; when the store is still full the oldest goes.
func (st *sessions) add(s *session, now time.Time) string {
	id := random(32)
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.head < len(st.order) {
		oldID := st.order[st.head]
		if old, ok := st.m[oldID]; ok { // else get dropped it, expired
			if now.Sub(old.created) <= st.ttl && len(st.m) < st.max {
				break
			}
			delete(st.m, oldID)
		}
		st.order[st.head] = ""
		st.head++
	}
	if st.head > 0 && st.head >= len(st.order)/2 {
		st.order = append(st.order[:0], st.order[st.head:]...)
		st.head = 0
	}
	st.m[id] = s
	st.order = append(st.order, id)
	return id
}

// get returns a copy of the session id (nil when unknown or expired), so
// that handlers never share mutable state.
func (st *sessions) get(id string, now time.Time) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[id]
	if !ok {
		return nil
	}
	if now.Sub(s.created) > st.ttl {
		delete(st.m, id)
		return nil
	}
	c := *s
	return &c
}

// startFlow records an authorization request under a new state.
func (st *sessions) startFlow(id string, f flow) (state string, ok bool) {
	state = random(32)
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[id]
	if !ok {
		return "", false
	}
	if len(s.flows) >= st.maxFlow {
		// A user clicking over and over: the oldest request is dropped.
		var oldState string
		for k, v := range s.flows {
			if oldState == "" || v.started.Before(s.flows[oldState].started) {
				oldState = k
			}
		}
		delete(s.flows, oldState)
	}
	nf := make(map[string]flow, len(s.flows)+1)
	for k, v := range s.flows {
		nf[k] = v
	}
	nf[state] = f
	s.flows = nf
	return state, true
}

// takeFlow removes and returns the request of state: a state is good for
// one answer only.
func (st *sessions) takeFlow(id, state string) (flow, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[id]
	if !ok || state == "" {
		return flow{}, false
	}
	f, ok := s.flows[state]
	if !ok {
		return flow{}, false
	}
	nf := make(map[string]flow, len(s.flows))
	for k, v := range s.flows {
		if k != state {
			nf[k] = v
		}
	}
	s.flows = nf
	return f, true
}

// checkCSRF compares a form's token with the session's in constant time.
func (s *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

package source

import (
	"context"
	"net/http/httptrace"
)

// Detach returns the context for a token request that a stop must not cut
// off once it is sent: ctx's values and deadline, without its
// cancellation. An issuer that rotates refresh tokens has rotated the one
// it received as soon as it read the request; a client that gives up
// before the answer never saves the new one and replays the old one next
// time, and the issuer then revokes the grant (refresh token reuse). The
// request stays bounded by ctx's deadline and by the HTTP client's own
// timeout, which the caller must set when ctx may have no deadline.
func Detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(d, dl)
	}
	return context.WithCancel(d)
}

// OnSent returns ctx with an HTTP trace that calls sent (when not nil)
// each time a request made with the returned context has been written to
// the connection: from then on the issuer may act on it. sent may be
// called from another goroutine.
func OnSent(ctx context.Context, sent func()) context.Context {
	if sent == nil {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				sent()
			}
		},
	})
}

// Package refreshpolicy is the one refresh schedule of the project: when
// to refresh a token and how long to wait after a failure. The daemon
// (credmon.Policy, credmon.Backoff) and the robot renewer
// (producer/renewer's Watch) both use it, each mapping its own knobs onto
// Policy; neither has a second copy of the arithmetic.
//
// Everything here is a pure function: the time and the random draw are
// parameters, so callers can fix a draw per token version (re-evaluating a
// token does not move its refresh point) and tests need no clock.
//
// # Jitter moves a refresh earlier, never later
//
// A refresh is scheduled at Fraction of the token's lifetime, moved
// earlier by up to Jitter of that at random, so that tokens issued
// together do not refresh together. Jitter only ever moves it earlier:
// the configured point and the margin before expiry are promises (a job's
// copy of the token must stay valid for the margin; a robot's consumer
// asked for min_lifetime), and a token is therefore never refreshed later
// than the configuration says, whatever the draw. Spreading the load
// needs a random offset, not a symmetric one.
//
// # Backoff jitter moves a retry later, never sooner
//
// After the n-th consecutive failure a retry waits min·2^(n−1), capped at
// max, lengthened by up to a quarter at random and capped at max again.
// It is never sooner than that doubling promises, nor longer than max:
// every delay lies in [min, max]. Retries that reach the cap wait exactly
// max, which keeps the offsets that earlier draws put between tokens that
// failed together.
//
// # Floors no input can break
//
// A refresh is never scheduled sooner than MinInterval (at least
// MinIntervalFloor) after the caller's own last refresh of the token,
// whatever the token's dates, an issuer or the clocks say, so no input
// makes a refresh loop. A backoff is at least MinIntervalFloor for the
// same reason.
package refreshpolicy

// Package flock waits for an exclusive flock(2) without giving up
// cancellation: flock has no timed wait, so the lock is polled with
// LOCK_NB until it is granted or the context ends. Both of credmon-token's
// locks use it: the run lock (package renewer) and the per-account lock
// (package oidcagent). The kernel drops a flock when its holder dies, so
// there is never a stale lock to clean up.
package flock

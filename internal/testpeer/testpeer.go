// Package testpeer holds what the test peers (internal/oidcprovider,
// internal/kdc, internal/vaulttest) share: the part of testing.TB their
// test-facing helpers take. It is an interface of its own so that those
// packages do not import "testing" (the demos link the OIDC provider);
// *testing.T and *testing.B satisfy it.
package testpeer

// TB is the part of testing.TB the test peers use.
type TB interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
}

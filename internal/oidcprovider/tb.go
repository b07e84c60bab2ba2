package oidcprovider

// TB is the part of testing.TB the test-facing helpers (StartOIDCProvider,
// NewRefreshToken, NewFaultProxy, ...) use. It is an interface of its own so
// this package does not import "testing": the demo links it to run the real
// provider (LaunchOIDCProvider), and a *testing.T or *testing.B satisfies it.
type TB interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
}

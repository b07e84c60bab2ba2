package kdc

// TB is the part of testing.TB that StartKDC and the KDC's helpers use. It
// is an interface of its own so this package does not import "testing";
// *testing.T and *testing.B satisfy it.
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

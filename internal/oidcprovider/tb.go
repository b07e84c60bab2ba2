package oidcprovider

import "github.com/credmon/credmon/internal/testpeer"

// TB is the part of testing.TB the test-facing helpers (StartOIDCProvider,
// NewRefreshToken, NewFaultProxy, ...) use; this package imports no
// "testing", since the demo links it to run the real provider.
type TB = testpeer.TB

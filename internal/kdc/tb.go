package kdc

import "github.com/credmon/credmon/internal/testpeer"

// TB is the part of testing.TB that StartKDC and the KDC's helpers use.
type TB = testpeer.TB

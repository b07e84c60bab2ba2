// Package archtest holds the architecture test: the project's layers must
// point one way. It has no code, only arch_test.go, run by `make lint` (and
// by `make test` with everything else).
//
// The rules, over non-test imports (see docs/architecture.md):
//
//   - condorcfg depends on the standard library only: it reads HTCondor's
//     configuration language, and the daemon's own types live with the
//     daemon;
//   - nothing under producer/ imports anything under credmon/: the robot
//     side must build without the daemon;
//   - no non-test package imports a test helper (credmon/credtest).
//
// Edges that break a rule today are listed in knownDebt with the issue
// that removes them; the test fails on any other violation, and on a debt
// entry that no longer exists, so the list can only shrink.
package archtest

// Package pkgtest is the install test of the rpm and the deb: it has no
// code of its own, only pkgtest_test.go, which make test runs.
//
// The test builds both packages with the Makefile's own targets (make rpm
// deb, nfpm from rpm/nfpm.yaml) into a temporary directory, checks what a
// package manager would see (rpm -qp --requires and --configfiles, the deb's
// Depends and conffiles, every file's mode and owner), unpacks each into a
// temporary root (rpm2cpio | cpio -idm, dpkg-deb -x) and runs the packaged
// binaries from there: --help and --version of each command, and the daemon
// for one pass over a credential directory, configured by the packaged
// HTCondor drop-in (examples/condor) plus the paths of the test's own.
//
// It needs nfpm in .cache/bin (make nfpm), rpm, rpm2cpio, cpio and
// dpkg-deb. Without them it skips, saying what is missing, unless
// CREDMON_REQUIRE_PKG=1 (set by .ci/run, which installs them): then it
// fails.
package pkgtest

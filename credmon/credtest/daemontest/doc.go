// Package daemontest runs the credmon daemon (credmon.Monitor) inside the
// test process, on a credential directory, for the tests of the daemon, of
// credmon-token's get --condor and of the login web app. It is NOT for use
// outside tests: its helpers take a testing.TB and fail the test instead of
// returning errors.
//
// It is the daemon's side of the shared harness whose credd side is package
// credtest: the credd emulator (credtest.Credd) and the condor_store_cred
// stand-in kick the daemon with a SIGHUP to the pid in the directory's pid
// file, which is this process while a Daemon runs. The first Start installs
// one signal.Notify for SIGHUP for the whole process and routes every SIGHUP
// to the Monitor of the latest Start (Monitor.Rescan), as the daemon's own
// SIGHUP handler would; tests that run one after another each get theirs.
// Tests that run daemons in parallel would share that route: they do not.
//
// It lives apart from credtest because credtest is linked into the
// condor_store_cred stand-in, which must not link the daemon.
package daemontest

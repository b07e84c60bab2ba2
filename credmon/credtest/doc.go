// Package credtest emulates condor_credd for the credmon daemon's tests. It is
// NOT for use outside tests: helpers take a testing.TB and fail the test
// instead of returning errors, and trust everything they are given. The real
// OIDC provider the daemon refreshes against is package internal/oidcprovider;
// this package also builds the module's binaries for tests (BuildForTests).
//
// # What is emulated: condor_credd
//
// HTCondor cannot be installed on the build machines (no packages for this
// distribution), so Credd emulates the parts of condor_credd that the
// credmon talks to, exactly as docs/htcondor-contract.md#handshake
// describes them: the directory layout and file modes (#files, #modes), the
// STORE_CRED write path with its .tmp-then-rename, the SIGHUP kick through
// the pid file with its 20 s pid cache, the once-a-second wait for the .use
// file with CREDD_POLLING_TIMEOUT, the "no kick when the .use already
// exists" rule of HTCONDOR-2653, QUERY return codes and cred_matches, the
// CHECK_CREDS local-issuer .top, deletion and sweeping, and
// read_secure_file's permission checks. There is no socket protocol
// between credd and credmon (#actors), so an emulation of the
// file and signal side is the whole interface.
//
// The emulation is only as good as that reading of HTCondor's sources; where
// HTCondor's real behaviour was observed to differ the field or method says so.
package credtest

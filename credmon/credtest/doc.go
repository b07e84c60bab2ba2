// Package credtest provides the real and emulated peers that credmon's
// end-to-end tests run against. It is NOT for use outside tests: helpers take
// a testing.TB and fail or skip the test instead of returning errors, start
// child processes, and trust everything they are given.
//
// # What is real: the OIDC provider
//
// StartOIDCProvider runs panva's oidc-provider 9.13.3 (npm), a certified
// OpenID Connect implementation, as a child process on a loopback port. The
// configuration lives in oidcprovider/server.mjs; it comes from Appendix A of
// the project's test-infra spec and keeps all of its behaviour:
//
//   - refresh tokens are rotated on every refresh, and replaying an old one
//     is reuse detection: invalid_grant, and the whole grant is revoked
//     (ProviderOptions.NoRotate turns rotation off);
//   - access tokens are JWTs (typ at+jwt, RS256 or ES256) whose aud is the
//     RFC 8707 resource; the non-standard "audience" parameter is mapped to
//     it, also on refresh;
//   - device authorization (RFC 8628), client_credentials, dynamic client
//     registration (RFC 7591/7592), revocation, introspection and an RFC 8693
//     token-exchange grant.
//
// A real provider, rather than an httptest fake, is used because the hard
// parts of credmon's job are the provider's behaviour, not ours: rotation,
// reuse detection, client authentication methods, resource indicators and
// error codes. A fake would encode our reading of the RFCs twice and could
// never disagree with the daemon. The provider costs about a second to start
// and needs Node.js; when node or the npm packages are missing the test is
// skipped, unless CREDMON_REQUIRE_OIDC=1 is set (CI), when it fails.
//
// Provider.NewRefreshToken obtains a refresh token the way a user would: a
// device authorization, approved by driving the provider's own HTML login
// and consent pages with net/http and a cookie jar (the Go version of the
// spec's approve-device.sh), then the device_code token request.
//
// Minting grants costs real requests: NewRefreshToken is about a dozen
// (13 ms idle, 25 ms on a loaded 2-core machine), NewRefreshTokens runs
// several at once (10,000 distinct users in about a minute), and
// CloneRefreshTokens makes independent grants for one user by RFC 8693
// token exchange (about 1 ms each). Provider.Refresh is a bare refresh
// client, the baseline for credmon's own throughput.
//
// The provider keeps everything in memory. Restart (same port) therefore
// behaves like an issuer that lost its database: every earlier refresh
// token fails with invalid_grant and the signing keys change. Node closes
// idle keep-alive connections after 5 s, so HTTP clients talking to it
// should use a shorter idle timeout (this package's use 2 s); otherwise a
// POST can race the close and fail with EOF.
//
// NewFaultProxy puts a reverse proxy in front of the provider whose
// behaviour can be switched at run time (hang, slow, 500, connection reset,
// truncated JSON, OAuth error), so that "the issuer is down/slow/lying" is
// tested against the real provider behind it.
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

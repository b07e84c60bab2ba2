// Package oidcprovider runs a real OpenID Connect provider on a loopback
// port, for the tests of every token client in this module and for the OAuth
// demo (make demo-oauth). It imports no "testing": the test-facing helpers
// take the small TB interface, which *testing.T and *testing.B satisfy, and
// fail or skip the test; LaunchOIDCProvider returns errors instead, for a
// program. It trusts what it is given and is not for production use.
//
// # The provider
//
// StartOIDCProvider runs panva's oidc-provider 9.13.3 (npm), a certified
// OpenID Connect implementation, as a child process on a loopback port. The
// configuration lives in server/server.mjs, whose comments say why each
// setting is there. Its behaviour:
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
package oidcprovider

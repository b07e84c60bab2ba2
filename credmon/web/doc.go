// Package web is credmon-web, the OAuth2 login web app that replaces the
// Python credmon's Flask app (spec §7.2): a user whose job needs an OAuth2
// credential that credd does not hold gets a URL from condor_submit,
// "https://<ap>/key/<64 hex>", and this app runs the authorization-code
// flow for each service credd listed in that key file and writes the
// .top, .use and .meta the credmon then refreshes.
//
// # Routes (under the path of CREDMON_WEB_PREFIX)
//
//   - GET /key/<key>: reads the key file <cred_dir>/<key> (old-ClassAd
//     text, one ad per service, §3.5), starts a session (an HttpOnly,
//     Secure, SameSite=Lax cookie naming server-side state) and redirects
//     to / so the key leaves the address bar.
//   - GET /: the session page: each service, done or with a button.
//   - POST /login/<name>: checks the form's CSRF token, then redirects to
//     the IdP's authorization endpoint with a fresh state and PKCE S256
//     challenge, the requested scopes (offline_access adds
//     prompt=consent) and the audiences as resource/audience.
//   - GET /return/<provider>: the IdP's redirect. The state must be one
//     this session issued (each is good once); with <SVC>_ISSUER set, iss
//     must be exactly the discovered issuer, and present when its metadata
//     says authorization_response_iss_parameter_supported (RFC 9207; a
//     service given by endpoints only is not checked, see
//     authServer.checkIss); then an error answer is the "refused" page; the code is exchanged (internal/tokenclient) with the
//     verifier, and .meta, .use and .top are written with
//     internal/atomicfile, mode 0400, owned by the app's user (condor),
//     single-line JSON (§3.1–3.3). When every service of the key file is
//     done, the key file is removed.
//   - GET /.well-known/openid-configuration, /.well-known/jwks-uri (the
//     Python app's name) and /.well-known/jwks.json: the local issuer's
//     documents, from the configured public keys.
//
// What is not shown or logged: the key (logs name a 4-byte SHA-256
// fingerprint), state, code, verifier, client secret and tokens. Error
// pages say what happened and what to do next, and quote nothing from the
// request. Pages are html/template files embedded in the binary, with a
// strict Content-Security-Policy and no script.
//
// Behind a reverse proxy, X-Forwarded-For, -Proto and -Host are believed
// only from Config.TrustedProxies.
package web

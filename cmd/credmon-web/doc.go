// Command credmon-web is the OAuth2 login web app (package credmon/web):
// the pages condor_submit's "Please visit: https://<ap>/key/<key>" leads to.
//
//	credmon-web [-n, --name CREDMON_OAUTH] [-c, --cred-dir CRED_DIR] [--listen HOST:PORT]
//
// It reads the HTCondor configuration: the credential directory and the
// providers' knobs of the credmon named by --name (<SVC>_CLIENT_ID,
// _CLIENT_SECRET_FILE, _AUTHORIZATION_URL, _TOKEN_URL, _RETURN_URL_SUFFIX,
// _ISSUER; with _ISSUER the answer's RFC 9207 iss is checked against the
// discovered issuer, without it, endpoints only, it cannot be), the local
// issuer's public keys, and its own CREDMON_WEB_PREFIX,
// CREDMON_WEB_LISTEN (default 127.0.0.1:8080, or :443 with TLS),
// CREDMON_WEB_TLS_CERTIFICATE and CREDMON_WEB_TLS_KEY (serve HTTPS itself),
// and CREDMON_WEB_TRUSTED_PROXIES (whose X-Forwarded-* headers to believe).
// It runs as the condor user and refuses to run as root; it logs to
// stderr (the journal under systemd), never a key, code, secret or token.
//
// The command line is cobra/pflag's, as the other commands': --help, usage
// errors in one line exiting 2, and the section 8 man page from the same
// definition (the hidden --gen-man DIR, run by make man and make pkg-bin).
package main

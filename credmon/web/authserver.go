package web

import (
	"fmt"
	"net/url"
)

// authServer is what the app knows of the authorization server a login is
// sent to, for RFC 9207 issuer identification of its answer (the defence
// against mix-up attacks, where one IdP's answer is passed off as
// another's).
type authServer struct {
	// issuer is the issuer identifier the authorization request went to:
	// the issuer member of <SVC>_ISSUER's discovery document. "" when the
	// service is configured with endpoints only (key file or
	// <SVC>_AUTHORIZATION_URL and _TOKEN_URL, no _ISSUER).
	issuer string
	// issRequired is the document's
	// authorization_response_iss_parameter_supported: the server puts iss
	// in every authorization response.
	issRequired bool
}

// checkIss checks the iss of an authorization response (success or error)
// as RFC 9207 §2.4 says: when present it must equal the issuer exactly (a
// simple string comparison, RFC 3986 §6.2.1: no trailing-slash or case
// leniency), after the query's form decoding; when absent it is refused
// only if the metadata promises it.
//
// A service configured without an issuer has nothing to compare with: its
// endpoints were given directly, so no metadata document said who they
// belong to, and the client was registered with that one server. Such a
// response is accepted with or without iss, as by a client without RFC
// 9207 (the Python app); setting <SVC>_ISSUER turns the check on.
//
// The error never quotes more than 200 characters of what the request
// carried, and quotes it escaped (%q), so it cannot forge a log line.
func (as authServer) checkIss(q url.Values) error {
	got, present := q["iss"]
	switch {
	case as.issuer == "":
		return nil
	case !present && as.issRequired:
		return fmt.Errorf("the answer has no iss, which issuer %s's metadata says it always sends (RFC 9207)", as.issuer)
	case !present:
		return nil
	case len(got) != 1:
		return fmt.Errorf("the answer has %d iss parameters (RFC 9207)", len(got))
	case got[0] != as.issuer:
		return fmt.Errorf("the answer's iss %.200q is not %s, the issuer the login was sent to (RFC 9207)", got[0], as.issuer)
	}
	return nil
}

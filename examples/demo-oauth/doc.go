// Command demo shows credmon doing its job end to end on this machine:
// a local OIDC provider stands in for a site's identity provider, a user
// logs in, "credd" stores the refresh token and signals the daemon, and the
// daemon writes the access token a job would receive.
//
// Run it with `make demo-oauth`. It needs node (for the provider) and nothing
// else; everything lives in a temporary directory that is removed at exit.
package main

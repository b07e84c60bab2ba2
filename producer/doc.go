// Package producer holds the ways a token is obtained, shared by the daemon
// (cmd/credmon), the submit-side producer (cmd/credmon-producer) and the
// robot tool (cmd/credmon-token). Each way lives in its own subpackage and
// touches the network or crypto; the daemon sees only their results.
//
//   - oauth2refresh: the OAuth2 refresh-token grant (RFC 6749 §6) with the
//     requested scopes and audience (RFC 8707 "resource" and/or "audience").
package producer

// Package producer holds the ways a token is obtained, shared by the daemon
// (cmd/credmon), the submit-side producer (cmd/credmon-producer) and the
// robot tool (cmd/credmon-token). Each way lives in its own subpackage and
// touches the network or crypto; the daemon sees only their results. Every
// request to a token endpoint goes through internal/tokenclient, which the
// daemon uses directly for its refresh grant.
package producer

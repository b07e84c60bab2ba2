// Package jwk converts between public keys and JSON Web Keys (RFC 7517) the
// way SciTokens verifiers read them. The local issuer publishes its keys with
// it and the OIDC provider harness verifies the provider's tokens with it;
// it sits in internal/ so both layers can share the one strict parser.
package jwk

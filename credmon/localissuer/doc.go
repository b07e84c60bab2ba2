// Package localissuer is the local SciTokens/WLCG token issuer of HTCondor's
// credmon ("LocalCredmon"), without the daemon around it: keys, claims,
// signing, the .use encoding, the published key set and a verifier. It reads
// no configuration, evaluates no ClassAd and touches no credential
// directory; the daemon does those and hands the results in (Config,
// Request). Everything here is a pure function of its inputs except
// EnsureKeyPair (files), NewJTI and signing (randomness).
//
// Entry points, each matching a piece of the Python credmon
// (docs/htcondor-contract.md#local-issuer):
//
//   - EnsureKeyPair creates a missing EC P-256 key pair, never overwriting
//     either file (ErrOrphanPublicKey for a public key without its private
//     key); LoadPrivateKey and ParsePrivateKeyPEM load one, refusing a key
//     file open to other users (ErrKeyFileMode) or of the wrong type.
//   - BuildClaims and a Minter's Mint make the token; FormatTemplate,
//     GroupsFor (ParseGroupMapfile) and SplitAudience are the pieces of the
//     scope and audience. EncodeUse is the .use file's content.
//   - JWKS and OpenIDConfiguration are the documents to publish.
//   - Verify is for tests and operators: it checks what a SciTokens
//     verifier would (signature by kid, ES256/RS256, exp, nbf, iat, iss,
//     aud), but it is not a SciTokens authorization enforcer.
//
// BuildClaims and Mint return an error, and no token, for a template Python
// would reject, an empty issuer or username, a lifetime under one second, or
// a missing audience for scitoken:2.0 (ErrNoAudience). The caller decides
// whether that means "log and retry next pass" (Python's behaviour) or
// "write an empty token" (only for AUTHZ_GROUP_REQUIREMENT non-members).
//
// What each function reproduces from the Python code, where it differs and
// why, and the verifier disagreement kept from Python are in
// docs/reimplementations.md#localissuer.
package localissuer

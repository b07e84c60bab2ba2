// Package localissuer is the local SciTokens/WLCG token issuer of HTCondor's
// credmon ("LocalCredmon"), without the daemon around it: keys, claims,
// signing, the .use encoding, the published key set and a verifier. It reads
// no configuration, evaluates no ClassAd and touches no credential
// directory; the daemon does those and hands the results in (Config,
// Request). Everything here is a pure function of its inputs except
// EnsureKeyPair (files), NewJTI and signing (randomness).
//
// # What it reproduces
//
// The reference is HTCondor's Python credmon, LocalCredmon.py and
// utils.create_credentials, plus python-scitokens SciToken.serialize (see
// docs/htcondor-contract.md#local-issuer):
//
//   - EnsureKeyPair is create_credentials: when the private key file does not
//     exist, make an EC P-256 key, write it as SEC1 "EC PRIVATE KEY" (mode
//     0600) and its SubjectPublicKeyInfo "PUBLIC KEY" (mode 0644). Unlike
//     Python, which O_EXCL-creates the private key file first and fills it
//     afterwards, a file only ever appears complete: each is written to a
//     temp file, fsynced and then hard-linked to its name, and link(2) fails
//     instead of replacing an existing file. The private key's link is the
//     lock between racing processes: exactly one wins and writes the public
//     key; the others see EEXIST and report created=false.
//   - BuildClaims is refresh_access_token + serialize: sub, scope (the authz
//     template, the AUTHZ_TEMPLATE_EXPR result, one group template per
//     group, space-joined), ver or "wlcg.ver": "1.0", aud as a JSON array,
//     iss, iat = nbf = whole seconds, exp = iat + lifetime, jti (UUID4).
//     A scitoken:2.0 token without an audience is refused, as in Python.
//   - FormatTemplate is Python str.format(username=...) restricted to named
//     fields: "{{" and "}}" are braces, "{name}" is replaced, and everything
//     Python would reject (and a few things Python would accept, see its doc)
//     is an error rather than a silently different scope.
//   - GroupsFor is get_user_groups: the first "* <user> <g1,g2,...>" line
//     wins; groups are the third whitespace token split on commas.
//   - EncodeUse is write_access_token's content: {"access_token": "<JWT>",
//     "expires_in": N} with Python's json.dumps separators, or "<JWT>\n".
//   - Signing follows PyJWT as python-scitokens calls it: header alg, typ
//     "JWT", kid; ES256 signatures are the raw 64-byte r||s (RFC 7518
//     §3.4), RS256 is PKCS#1 v1.5 with SHA-256.
//
// # Where it differs from Python, and why
//
//   - Keys of the wrong type for the algorithm, RSA keys under 2048 bits,
//     EC keys not on P-256 and encrypted keys are refused when loaded, not
//     when the first token is signed (Python only warns about the PEM header
//     and fails per token with a TypeError).
//   - LoadPrivateKey refuses a key file readable or writable by "other" or
//     writable by its group, and warns (Key.ModeWarning) when its group can
//     read it; Python signs with whatever it finds. Anyone who can read the
//     key can mint a token for any user.
//   - An empty group name (a mapfile line "* alice g1,,g2" or "g1,") gets no
//     group scope: Python would expand "write:/groups/{groupname}" to
//     "write:/groups/", a grant over every group, because of a typo.
//   - "wlcg" and "wlcg:1.0" are recognised in any case ("WLCG:1.0" too),
//     like the scitoken:2.0 audience check, which Python lowercases. The
//     LocalCredmon.py revision read compares the WLCG names case-sensitively
//     (and predates the HTCONDOR-2954 fix, so the fixed code's behaviour is
//     followed); a "ver" of "WLCG:1.0" means nothing to any
//     verifier, so treating it as the WLCG profile loses nothing.
//   - EnsureKeyPair never overwrites a public key file. If the public key
//     exists while the private key does not, it fails with
//     ErrOrphanPublicKey where Python would generate a new pair over it. A
//     lone public key more often means a wrong private key path or an
//     unmounted file system than a wish to rotate, and a silent rotation
//     under the same kid makes every verifier that cached the old key
//     reject new tokens until its cache expires. Removing the public key is
//     the explicit way to ask for a new pair.
//
// # Kept from Python although verifiers disagree
//
// LocalCredmon refuses a missing audience only for "scitoken:2.0". The
// verifier HTCondor and XRootD use, scitokens-cpp, also requires "aud" for
// the WLCG profile and for the older "scitokens:2.0" spelling, so such
// tokens are minted (here as in Python) and then rejected where they are
// used. TestSciTokensCppVerifies records this; the config layer is the
// place to warn about it.
//
// # Failure modes
//
// BuildClaims and Mint return an error, and no token, for a template Python
// would reject, an empty issuer or username, a lifetime under one second, or
// a missing audience for scitoken:2.0 (ErrNoAudience). The caller decides
// whether that means "log and retry next pass" (Python's behaviour) or
// "write an empty token" (only for AUTHZ_GROUP_REQUIREMENT non-members,
// which is the caller's decision, not a minting error).
//
// Verify is for tests and operators: it checks what a SciTokens verifier
// would (signature by kid from a JWKS, ES256/RS256 only, exp, nbf, iat,
// iss, aud) but it is not a SciTokens authorization enforcer.
package localissuer

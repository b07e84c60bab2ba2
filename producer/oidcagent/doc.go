// Package oidcagent reads and writes oidc-agent account configuration
// files, so that credmon-token can take over accounts made by oidc-gen (and
// used by osg-token-renewer) and hand them back, without running
// oidc-agent. Files made by oidc-gen 4.2.6 decrypt here and files made here
// load in oidc-add; testdata/ holds real oidc-gen and oidc-agent files.
//
// Entry points:
//
//   - FindConfigDir and CreateConfigDir locate oidc-agent's directory
//     ($OIDC_CONFIG_DIR, ~/.config/oidc-agent, ~/.oidc-agent); ValidName
//     checks an account's short name.
//   - Load decrypts and parses <dir>/<name>; Save encrypts and replaces it
//     atomically, keeping the existing mode and owner (0600 when new).
//     Encrypt and Decrypt work on the bytes alone.
//   - Account is the decrypted JSON. It keeps every member in order with its
//     original bytes, so a file re-encoded here loses nothing oidc-agent 4.x
//     or 5.x wrote; the typed accessors cover what credmon-token needs.
//   - LockAccount holds an account exclusively from Load to Save (a flock on
//     the file itself, re-checked after Save's rename), so two processes
//     never refresh with the same refresh token: an issuer that rotates
//     refresh tokens revokes the grant when one is used twice. The wait is
//     bounded by DefaultLockWait; ErrAccountBusy after that.
//   - PasswordFromFile, PasswordFromFD and PasswordFromEnv reproduce
//     oidc-agent's --pw-file, --pw-cmd="cat <&fd" and --pw-env; FirstLine is
//     --pw-file's reader for other secrets (a client secret file).
//
// Errors: ErrBadPassword (the verifier does not match), ErrCorrupt, and
// ErrUnsupported (GPG-encrypted files). Every Decrypt and Encrypt costs an
// Argon2id derivation, about 100 ms and 64 MiB (BenchmarkDeriveKey), so
// callers that handle many accounts should bound how many run at once.
//
// The file format, the directory rules, the lock and how oidc-agent itself
// behaves are in docs/robot.md#accounts.
package oidcagent

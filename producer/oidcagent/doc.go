// Package oidcagent reads and writes oidc-agent account configuration
// files, so that credmon-token can take over accounts made by oidc-gen (and
// used by osg-token-renewer) and hand them back, without running
// oidc-agent.
//
// The format was read from oidc-agent's C sources (indigo-dc/oidc-agent;
// src/utils/crypt/crypt.c, cryptUtils.c, hexCrypt.c, src/utils/versionUtils.c,
// src/utils/file_io/file_io.c, oidc_file_io.c, fileUtils.c,
// src/utils/promptUtils.c, src/account/account.c) — crypt.c differs from
// v4.2.6 to 5.3.3 only in formatting (the project's oidc-agent spec, §2.4) —
// and checked against Debian's oidc-agent-cli 4.2.6: files made by oidc-gen
// decrypt here, files made here load in oidc-add, and testdata/ holds real
// oidc-gen and oidc-agent files and legacy files made with libsodium
// (PyNaCl) that oidc-gen -p 4.2.6 decrypts.
//
// # File format (oidc-agent ≥ 2.1.0, current in 4.x and 5.x)
//
// Seven lines separated by "\n", without a trailing newline (one is
// tolerated on reading, as oidc-agent tolerates it):
//
//  1. ciphertext length in bytes, decimal: plaintext length + 16
//  2. nonce, 24 bytes, standard base64 with padding (32 characters)
//  3. salt, 16 bytes, standard base64 (24 characters)
//  4. crypt parameters nonce_len:salt_len:mac_len:key_len:base64_variant:
//     opslimit:memlimit:alg, always "24:16:16:32:1:2:67108864:2"
//  5. ciphertext, standard base64 of libsodium crypto_secretbox_easy's
//     output: the 16-byte Poly1305 MAC followed by the XSalsa20 ciphertext
//     (the layout of golang.org/x/crypto/nacl/secretbox.Seal)
//  6. "hash key", standard base64 of 32 bytes: a password verifier
//  7. "Generated using version: <oidc-agent version>"
//
// Key derivation (crypt.c crypt_keyDerivation_base64): libsodium
// crypto_pwhash with crypto_pwhash_ALG_DEFAULT, OPSLIMIT_INTERACTIVE and
// MEMLIMIT_INTERACTIVE, i.e. Argon2id v1.3 with 2 passes, 64 MiB and one
// lane, over the password bytes (a C string, so oidc-agent would cut it at
// a NUL; this package refuses such passwords) and the salt, producing 64
// bytes. Bytes 0–31 are the secretbox key, bytes 32–63
// the hash key. Decryption re-derives both, compares the hash key with
// line 6 (a mismatch is a wrong password, oidc-agent's OIDC_EPASS), then
// opens the box. Readers ignore the opslimit, memlimit and alg numbers of
// line 4 and always use the interactive constants; so does this package.
// Every write uses a fresh salt and nonce. The plaintext is the account
// JSON (a C string too: no NUL).
//
// Which format a file is in is decided by its last line: with a version
// line saying ≥ 2.1.0 it is the format above (cryptUtils.c
// decryptLinesList). Otherwise — a single line, or a version below 2.1.0 —
// it is the legacy hex format of oidc-agent < 2.1.0, which 4.2.6 still
// reads and so does Decrypt (never Encrypt): one line
// "cipher_len:salt_hex:nonce_hex:ciphertext_hex" with no verifier, whose
// 32-byte key is derived with Argon2i (4 passes, 32 MiB) or, if that does
// not open the box, Argon2id (2 passes, 64 MiB) (hexCrypt.c legacy18 and
// legacy23 parameters). oidc-agent 4.x/5.x can also encrypt with GPG
// (oidc-gen --pw-gpg); such files are refused with ErrUnsupported.
//
// # Account JSON
//
// oidc-gen 4.2.6 writes (cJSON_Print: tab-indented, one member per line)
//
//	{"name", "client_name", "issuer_url", "device_authorization_endpoint",
//	 "daeSetByUser": 0, "client_id", "client_secret", "refresh_token",
//	 "cert_path", "scope", "audience", "redirect_uris": [...],
//	 "username", "password"}
//
// plus, for a dynamically registered client, its registration response.
// 5.x writes auth_scope/refresh_scope instead of scope and adds
// mytoken_url, config_endpoint, oauth, uses_pub_client and
// mytoken_profile; it reads 4.x files (scope as auth_scope, issuer as
// issuer_url). Account keeps the members in order with their original
// bytes, so a file re-encoded here loses nothing either version wrote;
// the typed accessors cover what credmon-token needs.
//
// # Where the files are
//
// An account is the file <dir>/<short name>. oidc-agent's directory is the
// first existing one of $OIDC_CONFIG_DIR, $HOME/.config/oidc-agent and
// $HOME/.oidc-agent (FindConfigDir); oidc-gen creates the first whose
// parent exists (CreateConfigDir). oidc-agent writes files with
// fopen("w") — in place, mode 0666 minus umask, no fsync — and relies on
// the directory for confidentiality; Save writes atomically and keeps the
// existing mode and owner (0600 for new files). When the agent stores a
// rotated refresh token (oidc-add --pw-store, then a refresh) it edits the
// decrypted JSON — deletes refresh_token and appends it again — so members
// it does not know, such as ones credmon-token adds, survive, and it keeps
// the file's mode (verified with 4.2.6).
//
// # Locking
//
// oidc-agent keeps no lock (it owns its files alone). credmon-token's
// processes do not: get and renew may refresh the same account at the same
// time, and an issuer that rotates refresh tokens revokes the whole grant
// when one is used twice. LockAccount is an exclusive flock(2) on the
// account file, held from Load to Save; because Save replaces the file by
// rename, it locks the file it opened and then checks that the name still
// leads to it (lock-then-verify), starting over when it does not. No lock
// file is added to the directory, where oidc-agent would list it as an
// account.
//
// # Passwords
//
// PasswordFromFile, PasswordFromFD and PasswordFromEnv reproduce
// oidc-agent's --pw-file, --pw-cmd="cat <&fd" (osg-token-renewer-setup's
// way of passing a root-only file to the service user) and --pw-env; their
// documentation gives the exact newline rules, verified against 4.2.6.
//
// # Cost
//
// The key derivation is deliberately slow and large: every Decrypt and
// Encrypt allocates 64 MiB and takes on the order of 100 ms (see
// BenchmarkDeriveKey; legacy files may need two derivations). Callers that
// handle many accounts should bound how many run at once.
package oidcagent

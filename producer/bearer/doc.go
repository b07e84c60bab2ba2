// Package bearer finds, checks and writes bearer token files the way WLCG
// Bearer Token Discovery (BTD; WLCG-AuthZ-WG/bearer-token-discovery
// specification.md, DOI 10.5281/zenodo.3937438) lays them out, for
// credmon-token get (the replacement of igwn-robot-get/htgettoken for OIDC
// accounts), decode and status. It does no network I/O and verifies no
// signatures: it decides whether a token on disk can be kept, and if not,
// writes its successor so that consumers find it.
//
// # BTD rules implemented
//
// Discovery (Find), with $ID the effective uid the caller passes:
//
//  1. BEARER_TOKEN set: its value is the token.
//  2. BEARER_TOKEN_FILE set: the file's contents are the token.
//  3. XDG_RUNTIME_DIR set: the contents of $XDG_RUNTIME_DIR/bt_u$ID.
//  4. Otherwise /tmp/bt_u$ID.
//
// At each step leading and trailing C99 isspace whitespace (space, \f, \n,
// \r, \t, \v) is stripped. A valid RFC 6750 §2.1 b64token ends the search;
// an empty value goes on to the next step; an invalid one is an error
// (BTD's SHOULD). Choices where BTD or practice leaves room:
//
//   - A set but empty variable counts as unset (htdecodetoken's
//     ${XDG_RUNTIME_DIR:-/tmp}; htgettoken and igwn-auth-utils would write
//     "/bt_u<uid>" or a relative "bt_u<uid>"). A relative XDG_RUNTIME_DIR
//     is ignored, as the XDG Base Directory spec requires.
//   - Step 3 falls through to step 4 when $XDG_RUNTIME_DIR/bt_u$ID does
//     not exist, so a login shell finds what a cron job (no
//     XDG_RUNTIME_DIR) wrote to /tmp. A missing BEARER_TOKEN_FILE is an
//     error: the user named that file.
//   - Files are read defensively (ReadTokenFile): only regular files, not
//     group/other-writable, owned by the caller or root, at most
//     MaxTokenFileBytes; FIFOs are refused without blocking.
//
// Writing (WritePath, WriteFile): a producer writes to $BEARER_TOKEN_FILE,
// else $XDG_RUNTIME_DIR/bt_u$ID, else /tmp/bt_u$ID (BTD steps 2–4, the
// htgettoken -o default). The file is replaced atomically
// (atomicfile.Replace: temporary file in the same directory, fsync,
// rename, directory fsync) with mode 0600
// and a trailing newline when asked, as htgettoken's writeTokenSafely
// does, but without its unlink-first window, and never through a symlink
// or over another user's file.
//
// # Reuse
//
// Satisfies decides whether the token on disk is still good enough: at
// least max(minsecs, 10s) left before exp, the semantics of htgettoken
// --minsecs as OpenBao applies them, plus the requested
// audience and scopes, with WLCG storage.* and SciTokens read/write path
// scopes covering sub-paths. Inspect, ReadTokenFile and Satisfies together
// are credmon-token get's no-network path.
//
// # Failure modes
//
// Every refusal names the file and the reason (not a regular file, mode,
// owner, size, symlink, invalid content). Readers see either the old or
// the new token during a write, never a partial or missing file. A crash
// during WriteFile leaves the old file and at most a ".credmon-*.tmp" file.
package bearer

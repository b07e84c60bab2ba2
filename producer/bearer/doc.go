// Package bearer finds, checks and writes bearer token files the way WLCG
// Bearer Token Discovery (BTD) lays them out, for credmon-token get, renew
// (min_lifetime), status and decode. It does no network I/O and verifies no
// signatures: it decides whether a token on disk can be kept, and if not,
// writes its successor where consumers find it.
//
// Entry points:
//
//   - Find runs BTD discovery (BEARER_TOKEN, BEARER_TOKEN_FILE,
//     $XDG_RUNTIME_DIR/bt_u$ID, /tmp/bt_u$ID); WritePath is where a
//     producer writes (steps 2–4). Set but empty variables count as unset.
//   - ReadTokenFile reads a token file defensively: only a regular file, not
//     group- or other-writable, owned by the caller or root, at most
//     MaxTokenFileBytes, never blocking on a FIFO. Its content must be an
//     RFC 6750 §2.1 b64token (ErrInvalidToken, ErrEmptyToken).
//   - Inspect and ReadInfo decode a token's claims into an Info; Describe
//     renders one for people.
//   - Satisfies is the one "can this token be reused" rule: at least
//     max(minsecs, MinLeftFloor) left before exp, the requested audiences,
//     and scopes covered (a WLCG storage.read:/a covers storage.read:/a/b).
//     ReadInfo and Satisfies together are credmon-token get's no-network
//     path.
//   - WriteFile replaces a token file atomically (internal/atomicfile):
//     mode 0600 unless asked otherwise, never through a symlink or over
//     another user's file.
//
// Every refusal names the file and the reason. Readers see the old or the
// new token during a write, never a partial or missing file; a crash leaves
// the old file and at most a ".credmon-*.tmp" file.
//
// The discovery rules and the choices where BTD leaves room, the reuse
// rule in full, and the differences from htgettoken are in docs/robot.md
// (#btd, #reuse, #differences-igwn).
package bearer

// Package renewer is the engine of "credmon-token renew", the replacement
// for the OSG Token Renewal Service (osg-token-renewer). It reads
// osg-token-renewer's config.ini unchanged, takes over the oidc-agent
// account files its setup made (package oidcagent) without running
// oidc-agent, and writes the same token files, fixing the service's known
// problems on the way (the project's spec osg-token-renewer-oidc-agent.md,
// §4 and §5). References below (§n) are to that spec.
//
// # Configuration (LoadConfig)
//
// The file is $OSG_TOKEN_RENEWER_CONFIG_PATH, else
// /etc/osg/token-renewer/config.ini (§1.2, §1.9). It is read with Python
// configparser's default rules, as osg-token-renewer reads it (ini.go has
// the list: "=" or ":", case-insensitive keys, whole-line "#"/";"
// comments, no inline comments, indented continuation lines, [DEFAULT],
// BasicInterpolation with %(key)s and %%, duplicate sections and keys are
// errors). Sections are [account NAME] and [token NAME]; anything else is
// an error ("Unrecognized config section"). Validation follows
// osg-token-renewer: only accounts some token uses are checked, the first
// problem stops the parse, unknown keys are ignored. Errors name the
// file, line, section and key.
//
// [account NAME] is either an oidc-agent account (password_file: the
// file's first line is the password of the account file NAME in the
// oidc-agent directory, Renewer.AccountDir or oidcagent.FindConfigDir) or,
// without password_file, a client-credentials client (token_request_url,
// client_id, client_secret). password_file wins when both are present.
// Config.Accounts holds the accounts some token uses; Config.AllAccounts
// lists every section in file order, the others marked Unused and, when
// broken, Invalid rather than failing the file (for status).
//
// [token NAME] has account and token_path (required), audience and scope
// (space-separated lists, sent verbatim) and min_lifetime (seconds; a
// value that is not a non-negative integer fails that token only, as in
// osg-token-renewer's client-credentials mode).
//
// Extensions, all optional; their defaults are osg-token-renewer's
// behaviour:
//
//	owner, group    token file owner (name or number); default: the
//	                process's ids, keeping an existing file's group when
//	                allowed (an in-place rewrite, which is what
//	                osg-token-renewer does, never changes them)
//	mode            octal permission bits, never group- or other-writable;
//	                default: an existing file's bits, else 0600
//	newline         end the file with "\n"; default yes: osg-token-renewer
//	                writes access_token+"\n" in both modes (§1.4, §1.5);
//	                "no" serves consumers that choke on it (glideinwms#77)
//	audience_mode   audience, resource or both (also on [account]);
//	                default audience: one "audience" parameter, as the
//	                client-credentials mode and oidc-agent 4.x / legacy_aud_mode
//	                send it; resource is RFC 8707, one per audience (§2.7, §5)
//	timeout         per-token bound on the network work (discovery and
//	                the grant), seconds or a Go duration; default 20 s.
//	                It is applied through the request context, so
//	                Renewer.HTTPClient must not have a shorter overall
//	                Timeout (the CLI's has none, only connect and TLS
//	                handshake bounds)
//	client_secret_file
//	                [account] alternative to client_secret: first line of a file
//
// # A run (Renewer.RunOnce)
//
// Every token is attempted and one failure never stops the others; the
// Report lists each token as skipped-fresh, renewed or failed with an
// ErrorClass (config, secret, account, reauth, rejected, transient,
// write). A refresh token the issuer no longer accepts (invalid_grant) is
// class reauth: a person must run the setup again; nothing interactive is
// ever started, unlike oidc-agent's auto-reauthentication (§2.7, §4.1).
// The caller turns the report into its exit status (credmon-token's are
// in its documentation).
//
//   - min_lifetime: when set and the token file holds a JWT with at least
//     min_lifetime (and 10 s) left that carries the configured audiences
//     and scopes, nothing is fetched and no account is decrypted (§1.5).
//     The file is read and judged as credmon-token get --minsecs does
//     (bearer.ReadInfo, bearer.Satisfies: a WLCG storage.read:/a covers a
//     configured storage.read:/a/b), except that a symlink at token_path
//     is no usable token, since the write replaces it. Unlike osg-token-renewer, this applies in both modes (it was
//     a no-op in oidc-agent mode, §1.4). Without min_lifetime a token is
//     fetched on every run, as before.
//   - Refresh (oidc-agent accounts): discovery of the issuer's token
//     endpoint (once per issuer per run), then the refresh grant, scope
//     only when configured (RFC 6749 treats an omitted scope as the
//     original grant; osg-token-renewer's blank-scope quirk is not
//     reproduced, §5), audience per audience_mode. The client
//     authenticates with HTTP Basic, as oidc-agent does (§2.7), and when
//     the issuer refuses that as invalid_client, with client_secret_post
//     (clients registered by credmon-token setup use it): the grant is
//     refused before it is looked at, so the retry cannot replay the
//     refresh token. The method that worked is kept for the account's
//     next tokens. This is internal/tokenclient's AuthStyleAutoDetect,
//     which credmon-token get uses too, so the two cannot drift apart.
//   - Account lock: an oidc-agent account's file is locked
//     (oidcagent.LockAccount, a flock on the file itself) from the first
//     token that needs a refresh to the end of the account's tokens. A
//     concurrent credmon-token get (or any other holder) of the same
//     account waits, instead of refreshing with the same refresh token,
//     which an issuer that rotates refresh tokens takes for a stolen one
//     and answers by revoking the grant. After the lock is taken the
//     cached account is re-read if its file changed (another holder
//     rotated it). Since a save replaces the file by rename, the renewer
//     locks the new file right after its own save and only then lets go
//     of the old one. Waiting is bounded by oidcagent.DefaultLockWait;
//     a busy account fails its tokens as transient.
//   - Client credentials: internal/tokenclient's grant with HTTP Basic,
//     scope verbatim, audience per audience_mode (§1.5).
//   - Accounts are decrypted once per run (Argon2id, ~100 ms and 64 MiB
//     each); accounts are worked on in parallel (4 at a time), the
//     tokens of one account one after the other, because every refresh may
//     rotate the refresh token the next one needs.
//   - Rotated refresh tokens are written back to the account file
//     (oidcagent.Save: atomic, same format, so oidc-agent can still use it)
//     before any token file fetched with them is written. Since every save
//     costs an Argon2id derivation, saves are grouped: at most 1 s
//     (defaultCommitInterval) after a rotation and at the end of the
//     account's tokens, followed by the token files fetched meanwhile. A
//     failed save fails those tokens (class write) and keeps the new
//     refresh token in memory for the next attempt.
//   - Token files are written atomically: a temporary file in the same
//     directory, fsync, rename, directory fsync. A symlink at token_path is
//     replaced, never followed; readers never see a truncated token
//     (osg-token-renewer truncates in place, §1.6).
//   - Time: each token is bounded by its timeout, the run by ctx (or
//     DefaultRunTimeout, 5 min, when ctx has no deadline: the oneshot unit
//     of osg-token-renewer could hang forever, §1.8). No HTTP retries
//     within a run: a refresh whose answer was lost may already have
//     rotated the token, and replaying the old one makes issuers with
//     reuse detection revoke the grant; the next run (timer, or Watch's
//     backoff) retries.
//   - Lock: runs exclude each other with flock(2) on LockPath. Its
//     default does not depend on how the run was started, so a manual
//     run and the timer's exclude each other: $RUNTIME_DIRECTORY/renew.lock
//     when systemd sets it; else, for root and for the user owning an
//     existing /run/credmon-token (the units' RuntimeDirectory, which a
//     unit with User= gives to that user), /run/credmon-token/renew.lock
//     (root makes the directory, 0755, when missing; a lock file root
//     creates there is given to the directory's owner); else
//     $XDG_RUNTIME_DIR/credmon-token/renew.lock; else
//     $TMPDIR/credmon-token-<uid>/renew.lock. The last two directories are
//     made 0700 and must be the user's own (refused otherwise). A second
//     run waits up to 30 s (defaultLockWait) — a timer run that
//     meets a manual one then simply follows it — and otherwise fails
//     with ErrAlreadyRunning. The kernel drops the lock of a dead
//     process: no stale locks.
//   - Report hook: Renewer.OnReport gets the report of every RunOnce and
//     of every Watch round while the lock is still held (the CLI records
//     outcomes for status there, one run at a time).
//
// # Long-running mode (Renewer.Watch)
//
// Watch schedules each token from its own expiry instead of a fixed timer
// (§4.5), with the refresh policy the daemon uses too
// (internal/refreshpolicy): renew at half the lifetime, moved earlier by
// up to 10% at random (never later, so a token is never renewed later
// than configured), or when min_lifetime plus a margin remains if that is
// sooner (nextRenewal), never sooner than 10 s from now. At start, tokens
// whose file is still usable are scheduled from it without a request.
// Failures back off exponentially from 10 s to 5 min, lengthened by up to
// a quarter at random and never past 5 min (backoffDelay); permanent ones
// wait the maximum. Reload (the CLI's SIGHUP) re-reads the configuration;
// unchanged token sections keep their schedule. Account files are kept
// decrypted between rounds and re-read when they change on disk.
//
// # Deliberate differences from osg-token-renewer
//
// A missing config file is an error wrapping fs.ErrNotExist
// (osg-token-renewer silently renews nothing and exits 0; callers may
// reproduce that). http:// issuers and token URLs are refused unless
// AllowInsecure. Client ids and secrets in HTTP Basic are form-encoded
// first (RFC 6749 §2.3.1), as x/oauth2 does; oidc-agent and requests send
// them raw, which differs only for reserved characters.
package renewer

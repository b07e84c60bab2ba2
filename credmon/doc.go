// Package credmon is the credential monitor daemon: a drop-in replacement
// for HTCondor's Python condor_credmon_oauth that keeps every access token
// (.use) in the OAuth credential directory fresh: OAuth2 tokens by refresh
// grants at their issuer, local-issuer tokens (LOCAL_CREDMON_*) by minting
// and signing them in-process (worker_mint.go, package localissuer), Vault
// credentials by asking Vault, as condor_credmon_vault does
// (worker_vault.go, package internal/vault), client-credentials tokens
// (CLIENT_CREDMON_*) by a client_credentials grant asking for the scopes
// and audience the local issuer's knobs give the user (worker_client.go),
// Pelican tokens by an RFC 8693 exchange of the stored subject token,
// then refresh grants (worker_pelican.go), and robots' self-describing
// .top files at the issuer they name, when the admin trusts it
// (worker_robot.go). So one process serves every credential type credd
// knows, as it must: only one credmon can own the directory's pid file.
//
// # Contract with HTCondor
//
// The whole contract is files and one signal (docs/htcondor-contract.md):
//
//   - <cred_dir>/pid: our pid, decimal, no newline, 0644. credd reads it and
//     sends SIGHUP when it stored a credential whose .use does not exist.
//     Removed on clean exit so credd stops signalling a dead process.
//   - <cred_dir>/CREDMON_COMPLETE: deleted at start, touched after every full
//     pass once the refreshes that pass started have finished.
//   - <cred_dir>/<user>/<name>.top (+ .meta): inputs. We rewrite .top only to
//     persist a rotated refresh token, keeping every other key (a Pelican
//     .top: to replace the subject token by the exchanged grant).
//   - <cred_dir>/<user>/<name>.use: our output, one line of compact JSON
//     (a Vault credential's: the bare token; local, client-credentials and
//     Pelican ones: the Python credmons' ", "-separated line), mode 0600,
//     owned by the
//     daemon (root under condor_master).
//
// Not part of HTCondor's contract, for admins: the state file
// (<NAME>_STATE_FILE, default $(LOCK)/<name>-state.json; state.go, schema
// package statefile) — a snapshot of every token's type, .use expiry, last
// refresh, last error, backoff and what needs a human, built on the loop
// goroutine at most every 5 s and at each pass end, written 0640 by one
// writer goroutine through atomicfile, and once more at exit marked
// stopped. `credmon status` reads it. It never holds a token or a secret.
//
// # Design
//
// One goroutine (Run, loop.go) owns all state; workers (worker.go,
// worker_mint.go, worker_vault.go, worker_client.go, worker_pelican.go,
// worker_robot.go) own the network and the token-file writes; decide
// (decide.go) is the pure schedule between them. It reconciles: a full pass lists the
// directory (periodically, on SIGHUP via Rescan, on fsnotify overflow), a
// per-user pass re-reads a directory fsnotify reported, and a timer heap
// wakes tokens whose refresh time came. Events only wake the reconciler; the
// periodic pass is the source of truth.
//
// Refreshes run in at most Workers goroutines, at most one per token, each
// with its own timeout, and report back to Run, so one slow or broken issuer
// or token never delays the others (the Python credmon aborts its pass on
// the first exception). Failures back off exponentially with jitter;
// permanent ones (invalid_grant, invalid_client, a broken .top) wait for the
// .top/.meta to change.
//
// A refresh writes the rotated refresh token to .top before writing .use,
// each by temp file + fsync + rename (package atomicfile), through
// directory descriptors that never follow symlinks; the .top's rename is
// made durable by a directory fsync before the .use is written (a .use is
// derived data: a power failure can only bring back the previous one). A
// .top replaced while the request was on the wire (a new login) wins: our
// result is discarded and the new .top refreshed.
//
// When to refresh is the pure Policy: at Fraction (0.5; Box 0.95) of the
// token's real lifetime (expires_at, the JWT exp, else expires_in from the
// .use write time), moved earlier by up to Jitter, and never later than
// expiry − (SEC_CREDENTIAL_REFRESH + margin), so a job's copy, re-fetched
// every SEC_CREDENTIAL_REFRESH, never expires.
//
// Local mints have their own small worker pool (localJobs), so a hung
// issuer holding every OAuth2 slot never delays the .use condor_submit is
// waiting for. A local token is re-minted from its own exp by the same
// Policy, at once when a reload changed its provider's claims, and with the
// key re-read whenever the key file changes.
//
// A Vault credential's Vault host is its issuer (queue, breaker,
// timeouts); a Vault that refuses the Vault token ("permission denied")
// makes a permanent failure that leaves the files in place (the Python
// credmon deletes them) until a new .top arrives.
//
// A robot's self-describing .top (credfile.ParseRobotTop: its own iss,
// client and grant; no .meta; under a name of OAuth2, Vault or no type) is
// refreshed only when CREDMON_OAUTH_TRUSTED_ISSUERS lists its iss: the
// daemon runs as root and must not POST a URL, or send a client secret,
// that a user wrote into a file. Then the token endpoint is the one
// discovery at iss names (never the .top's token_url), and the rest is an
// OAuth2 refresh (or client credentials grant): rotated refresh token into
// the .top first, then the .use. Otherwise the .top is left alone with one
// warning per version, and no request goes anywhere.
// Client-credentials and Pelican tokens share the OAuth2 tokens' schedule,
// queues, breaker and backoff: the host of their token endpoint (or
// issuer; a Pelican service without a configured token URL: the service)
// is their issuer. Their configuration per generation is typed.go.
//
// Ownership follows credd's CredSorter (credfile.Sorter, the one place a
// token's type is decided): this package refreshes OAuth2 tokens, mints
// local-issuer ones, fetches Vault ones (also a vault_url .top under an
// unowned name, as credd stores those), and gets client-credentials and
// Pelican ones; it takes robot .top files by content as said above; plain
// credentials are left untouched.
package credmon

// Package renewer is the engine of "credmon-token renew", the replacement
// for the OSG Token Renewal Service (osg-token-renewer). It reads
// osg-token-renewer's config.ini unchanged, takes over the oidc-agent
// account files its setup made (package oidcagent) without running
// oidc-agent, and writes the same token files.
//
// Entry points: LoadConfig (or ConfigPath, for the default location) parses
// the file into a Config; a Renewer with that Config renews every token once
// (RunOnce) or keeps each renewed from its own expiry (Watch, with Reload
// for a changed file).
//
// What a caller relies on:
//
//   - Every token is attempted; one failure never stops the others. The
//     Report gives each token's Outcome and, for a failure, an ErrorClass
//     the caller turns into its exit status. ClassReauth means a person
//     must run the setup again: nothing interactive is ever started.
//   - A rotated refresh token is saved to the account file before any token
//     file fetched with it is written; token files are replaced atomically.
//   - Runs exclude each other (flock on LockPath, ErrAlreadyRunning after a
//     bounded wait), and an account's refreshes exclude a concurrent
//     credmon-token get of the same account (oidcagent.LockAccount).
//   - Each token is bounded by its timeout, a run by ctx or DefaultRunTimeout.
//     There are no HTTP retries within a run: a lost answer may already have
//     rotated the refresh token. Renewer.HTTPClient must therefore have no
//     overall Timeout shorter than the tokens' timeouts.
//   - A cancelled ctx sends no further request; requests already sent finish
//     and are saved.
//   - OnReport gets every report while the run lock is still held.
//
// The configuration (keys, extensions, defaults), a run's semantics, the
// lock paths, Watch's schedule and the deliberate differences from
// osg-token-renewer are in docs/robot.md (#config, #run, #watch,
// #differences).
package renewer

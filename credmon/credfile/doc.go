// Package credfile knows the files of HTCondor's OAuth credential directory
// and nothing else: their names, how a token name splits into provider and
// handle, which credential monitor owns a token (credd's CredSorter), and the
// formats of .top (OAuth2 and Vault), .meta and .use files.
//
// The layout is fixed by HTCondor (see docs/htcondor-contract.md#files and #formats):
//
//	<cred_dir>/<user>/<service>[_<handle>].top   refresh token or credd blob
//	<cred_dir>/<user>/<service>[_<handle>].meta  client id/secret/token URL (web app)
//	<cred_dir>/<user>/<service>[_<handle>].use   the access token jobs receive
//
// Parsers here are total: they return an error for any input they cannot
// use, never panic, and never guess (they are fuzzed). Encoders produce what
// HTCondor's consumers require: a .use is one line of compact JSON because
// the curl transfer plugin reads it line by line.
package credfile

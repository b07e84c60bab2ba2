// Package storer is HTCondor's SEC_CREDENTIAL_STORER protocol, the part of
// condor_vault_storer (now condor_credential_storer) around obtaining a
// token: what cmd/credmon-producer runs when condor_submit hands it the
// Vault services of a job. It imports nothing from the daemon.
//
// # Protocol
//
// condor_submit runs the storer once per credential kind with
// CONDOR_CREDENTIAL_STORER_MODE set and one argument per service,
// service[&handle=H][&scopes=s1,s2][&audience=A][&options=O] (ParseArgs,
// ParseRequest). Its stdout and stderr are the user's terminal, with the
// cursor left mid-line (Terminal). Exit status 0 lets the submit go on;
// anything else fails it with "'<storer>' failed: exit code N", so every
// failure exits 1.
//
// For each service the storer owns (Route), in order:
//
//  1. condor_store_cred query-oauth -s <service>, and for a handle
//     query-oauth -s <service>_<handle> -S <scopes> -A <audience>
//     (exit 0 present, 1 missing, 2 stored with other scopes/audience:
//     the run stops and the user is told the exact delete-oauth command,
//     Report);
//  2. Source.Obtain, with Renew when credd holds nothing for the service;
//  3. condor_store_cred add-oauth -s <name> [-S] [-A] -i -, the credential
//     on stdin, only for what Decide says: the service when the source
//     made a new long-lived credential, the handle when the service's is
//     new or credd lacks the handle's. A second run while the source's
//     session lasts stores nothing.
//
// Unlike condor_vault_storer the query comes before the source runs (the
// script queries after htgettoken because it learns only then whether a
// new Vault token was made; the Source says so itself), so a mismatch
// stops the run before anyone is asked to log in.
//
// # Configuration
//
// Knobs: SEC_CREDENTIAL_VAULT_STORER_OPTS (-v/-d), SEC_CREDENTIAL_GETTOKEN_OPTS,
// the provider lists (ConfigFrom; LoadKnobs reads them as condor_config_val
// does). StoreCred is the one condor_store_cred runner, also for
// credmon-token get --condor (AddPlain is add-oauth -P); ShellSplit reads a
// knob as igwn-robot-get's shlex does. Environment: HTGETTOKENOPTS,
// CONDOR_VAULT_STORER_USER, CONDOR_VAULT_STORER_ID,
// SEC_CREDENTIAL_STORECRED_OPTS (EnvFrom). Every argument is checked before
// anything is stored: names with credd's character set
// (internal/credname), the issuer/role split (SplitService), reduced
// scopes or audience only with a handle.
//
// SEC_CREDENTIAL_PRODUCER is the older protocol: no arguments, the
// credential on stdout. LocalCredential is the one output current credd
// does not store as a Kerberos credential.
package storer

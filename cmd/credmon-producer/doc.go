// Command credmon-producer hands a user's credentials to HTCondor at
// submit time. It is a drop-in for condor_vault_storer (now
// condor_credential_storer) as SEC_CREDENTIAL_STORER, and speaks the older
// SEC_CREDENTIAL_PRODUCER protocol for local-issuer services.
//
//	SEC_CREDENTIAL_STORER = /usr/bin/credmon-producer
//	    condor_submit runs: credmon-producer [-v] [-d] service[&handle=H][&scopes=S][&audience=A][&options=O] ...
//	SEC_CREDENTIAL_PRODUCER = /usr/bin/credmon-producer
//	    condor_submit runs it with no arguments; it prints LOCAL:<provider>
//
// As a storer, for each Vault service it asks credd what it holds
// (condor_store_cred query-oauth), obtains the credential from the Vault
// source, and stores (condor_store_cred add-oauth -i -, the credential on
// stdin) only what credd lacks or what the source renewed; a credential
// stored with other scopes or audience stops the submit with the
// delete-oauth command that removes it. Services owned by the local,
// OAuth2 or client-credentials credmons are skipped; Pelican services are
// refused. Package producer/storer has the protocol, line by line, and
// docs/submit.md the user's side.
//
// With no arguments (and CONDOR_CREDENTIAL_STORER_MODE unset) it is a
// producer: it prints LOCAL:<first of LOCAL_CREDMON_PROVIDER_NAMES> with no
// newline, which credd turns into a local-issuer .top and a wait for the
// credmon's .use. condor_submit ignores a producer's exit status and treats
// empty output as failure, so every failure prints nothing on stdout.
//
// Exit status: 0 success; 1 any failure (condor_submit then fails the
// submit with "'<storer>' failed: exit code 1"), including usage errors.
//
// The command line is condor_vault_storer's getopts "dv" (producer/storer
// parses it; --verbose and --debug are their long names). Its help (--help,
// -h), the usage printed with a usage error and the man page (--gen-man
// DIR, make man) come from one cobra definition (main.go newCommand).
//
// The Vault source (source.go) is producer/source's: a Kerberos login
// (keytab or ticket cache), else the OIDC device login on the terminal,
// makes the 28-day Vault token credd keeps and the 7-day one cached in
// /tmp/vt_<id>-<service>; while that one works and credd holds the
// service, nothing is stored. docs/submit.md#source has the details.
package main

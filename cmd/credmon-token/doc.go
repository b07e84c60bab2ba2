// Command credmon-token keeps robot and service tokens valid without
// oidc-agent or Python: what igwn-robot-get (cron, --minsecs, WLCG bearer
// token discovery) and the OSG Token Renewal Service (config.ini, device-flow
// setup, systemd timer) do, in one static binary.
//
//	credmon-token setup NAME --issuer URL     device flow once, store the account (oidc-agent's format)
//	credmon-token get [--account NAME] ...    a fresh bearer token where WLCG discovery finds it
//	credmon-token get --keytab FILE ...       the same from Vault (igwn-robot-get's command line)
//	credmon-token get ... --condor            also store a credential in HTCondor's credd for jobs
//	credmon-token renew [--watch]             every [token] of osg-token-renewer's config.ini
//	credmon-token status [--json]             every configured token and account
//	credmon-token path                        where get writes (WLCG Bearer Token Discovery)
//	credmon-token decode FILE                 a token's claims with dates
//	credmon-token completion bash|zsh|fish    a shell completion script
//
// The command line is cobra's with pflag (cli.go): -x, --long options,
// --help for every command, completion, and man pages from the same
// definitions (man.go, make man). The spellings of earlier releases (Go's
// one-dash long options) and igwn-robot-get's still parse.
//
// get --condor (condor.go): with Vault, igwn-robot-get's --condor: the
// site's SEC_CREDENTIAL_GETTOKEN_OPTS must be exactly this run's --credkey,
// --role and --vaultserver, then producer/storer stores the service --issuer
// with producer/vaultsource, as credmon-producer does under condor_submit.
// With an account or client credentials: condor_store_cred query-oauth -s
// SERVICE first, then get's token file, then either a self-describing .top
// the credmon refreshes (account: a second refresh token by RFC 8693 token
// exchange; client credentials: the client and its secret) or, with
// --condor-store=plain, the access token itself (add-oauth -P). Nothing is
// stored for a credential credd holds, unless a plain token changed.
//
// Exit status: 0 success; 1 other failure (also condor_store_cred failing);
// 2 usage; 3 configuration error (also, with --condor, a
// SEC_CREDENTIAL_GETTOKEN_OPTS that does not name this robot's Vault
// credential, and credd holding the service with other scopes or audience);
// 4 a human must log in (no stored credential, or the issuer refused the
// refresh token); 5 issuer unreachable (network, timeout, 5xx); 6 issuer
// refused the request (4xx other than an expired login); 7 a file could
// not be read or written (permissions).
package main

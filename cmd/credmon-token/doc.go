// Command credmon-token keeps robot and service tokens valid without
// oidc-agent or Python: what igwn-robot-get (cron, --minsecs, WLCG bearer
// token discovery) and the OSG Token Renewal Service (config.ini, device-flow
// setup, systemd timer) do, in one static binary.
//
//	credmon-token setup NAME --issuer URL     device flow once, store the account (oidc-agent's format)
//	credmon-token get [--account NAME] ...    a fresh bearer token where WLCG discovery finds it
//	credmon-token get --keytab FILE ...       the same from Vault (igwn-robot-get's command line)
//	credmon-token renew [--watch]             every [token] of osg-token-renewer's config.ini
//	credmon-token status [--json]             every configured token and account
//	credmon-token path                        where get writes (WLCG Bearer Token Discovery)
//	credmon-token decode FILE                 a token's claims with dates
//
// Exit status: 0 success; 1 other failure; 2 usage; 3 configuration error;
// 4 a human must log in (no stored credential, or the issuer refused the
// refresh token); 5 issuer unreachable (network, timeout, 5xx); 6 issuer
// refused the request (4xx other than an expired login); 7 a file could
// not be read or written (permissions).
package main

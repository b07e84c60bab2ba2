// Package vaultsource is the SEC_CREDENTIAL_STORER's Vault source
// (producer/storer.Source): what condor_vault_storer's htgettoken runs do
// for one service, on top of producer/source's Vault. htgettoken's options
// come from HTGETTOKENOPTS, SEC_CREDENTIAL_GETTOKEN_OPTS and the request's
// &options= (later ones win); the Vault token for credd lives 28 days, the
// cached one (/tmp/vt_<id>-<service>) 7 days; the bearer token goes where
// htgettoken -o would write it.
//
// Two commands run it: credmon-producer (condor_submit's storer) and
// credmon-token get --condor (igwn-robot-get's --condor), so both store
// the same credential the same way.
package vaultsource

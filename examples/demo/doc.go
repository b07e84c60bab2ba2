// Command demo shows credmon doing its main job on this machine with
// nothing else running: the daemon starts as condor_master would start it,
// creates the local issuer's key pair, and mints a SciToken for each user
// "credd" asks for, the way condor_submit asks when a job says
// `use_oauth_services = scitokens`.
//
// Run it with `make demo`. It needs no network, no node, no HTCondor:
// everything lives in a temporary directory that is removed at exit. The
// configuration is examples/demo/condor_config.
package main

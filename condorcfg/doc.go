// Package condorcfg reads HTCondor configuration the way HTCondor reads it.
// It imports nothing from the rest of the module.
//
// # Contract
//
// Load (LoadString, for a configuration in memory) returns an immutable,
// concurrency-safe *Config. Lookup(name) gives the value param(name) would
// give inside an HTCondor daemon whose subsystem is Options.Subsystem:
// fully macro-expanded, names case-insensitive, SUBSYS.NAME before NAME,
// _CONDOR_NAME environment overrides applied, the compiled-in default when
// nothing defines the knob, and an empty value meaning "unset". Bool, Int,
// Float and LogSize convert values the way param_boolean, param_integer,
// param_double and dprintf do; a value they cannot convert is an error
// naming the knob and the value, never a guess.
//
// There are two backends:
//
//   - condor_config_val (used whenever it is found in PATH, or named by
//     Options.ConfigVal). HTCondor itself answers, so every corner of the
//     language is exact. Load makes one batched run for Options.Prefetch;
//     Prefetch batches names learnt later (provider knobs such as
//     BOX_CLIENT_ID); Lookup of a name not fetched yet costs one run and is
//     then cached.
//   - the native parser (Options.ConfigVal "-", or no condor_config_val on
//     the host), a re-implementation of HTCondor's config.cpp. What it
//     cannot imitate exactly it refuses: a *SyntaxError at file:line, or an
//     error from LookupErr and the conversions, wrapping ErrUnsupported when
//     the configuration is valid HTCondor (the remedy is to install
//     condor_config_val). Expansion is bounded in depth and size.
//
// ErrNoConfig means no configuration source was found at all.
//
// The files read and their order, the statements, macros and metaknobs the
// native parser supports, what it refuses and why, and its known
// differences from HTCondor are in docs/reimplementations.md#condorcfg.
package condorcfg

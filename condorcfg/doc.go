// Package condorcfg reads HTCondor configuration the way HTCondor reads it.
//
// # Contract
//
// Load returns an immutable, concurrency-safe *Config. Lookup(name) gives
// the value param(name) would give inside an HTCondor daemon whose subsystem
// is Options.Subsystem: fully macro-expanded, names case-insensitive,
// SUBSYS.NAME before NAME, _CONDOR_NAME environment overrides applied, the
// compiled-in default when nothing defines the knob, and an empty value
// meaning "unset". Bool, Int, Float and LogSize convert values the way
// param_boolean, param_integer, param_double and dprintf do; a value they
// cannot convert is an error naming the knob and the value, never a guess.
//
// There are two backends:
//
//   - condor_config_val (used whenever it is found in PATH, or named by
//     Options.ConfigVal). HTCondor itself answers, so every corner of the
//     language is exact. Load makes one batched run for Options.Prefetch;
//     Prefetch batches names learnt later (provider knobs such as
//     BOX_CLIENT_ID); Lookup of a name not fetched yet costs one run and is
//     then cached. The batching protocol is described in configval.go.
//   - the native parser (Options.ConfigVal "-", or no condor_config_val on
//     the host), a re-implementation of src/condor_utils/config.cpp and
//     condor_config.cpp, described below.
//
// # Native parser: what is supported
//
// Files: CONDOR_CONFIG (a file, or ONLY_ENV for none), else
// /etc/condor/condor_config, /usr/local/etc/condor_config,
// ~condor/condor_config; then LOCAL_CONFIG_DIR (each directory's files in
// byte order, sub-directories and LOCAL_CONFIG_DIR_EXCLUDE_REGEXP matches
// skipped, unreadable directories skipped with a warning), LOCAL_CONFIG_FILE
// (comma/space list, re-read after every file; a missing file is an error
// unless REQUIRE_LOCAL_CONFIG_FILE is false), LOCAL_CONFIG_DIR again if it
// changed, ~/.condor/<USER_CONFIG_FILE> for non-root processes, then
// _CONDOR_<NAME> environment entries (prefix case-insensitive;
// _CONDOR_<SUBSYS>.<NAME> defines SUBSYS.NAME), then the detected values no
// file may override (HOSTNAME, FULL_HOSTNAME, SUBSYSTEM, USERNAME, REAL_UID,
// REAL_GID, PID, PPID, TILDE). ARCH, OPSYS, UNAME_ARCH, UNAME_OPSYS and
// CondorIsAdmin are detected too and may be overridden.
//
// Statements: "NAME = value", "NAME=value" and the obsolete "NAME : value"
// (with a warning; an error after #opt:strict); white space trimmed; '#'
// comments; '\' continuation with HTCondor's #opt:newcomment /
// #opt:oldcomment rules; "NAME @=tag" ... "@tag" multi-line values;
// "[section]" lines ignored; macro references in names; "include : file",
// "include ifexist[s] : file" (nesting limited to 20); "use CATEGORY :
// Name[(args)], ..." for the metaknobs in metaknobs.go (FEATURE: OAUTH, KRB,
// ADSTASH, PartitionableSlot, REMOTE_CONFIG, REMOTE_RUNTIME_CONFIG; ROLE:
// Personal, Submit, Execute, CentralManager, get_htcondor_*; SECURITY:
// HOST_BASED, USER_BASED, WITH_AUTHENTICATION, STRONG, FIPS,
// recommended_v9_0, get_htcondor_idtokens; POLICY: ALWAYS_RUN_JOBS),
// including $(N), $(N?), $(N#), $(N+) and ":default" arguments; "error :"
// and "warning :"; if/elif/else/endif with numbers, true/false/yes/no/t/f,
// "defined NAME", "defined use CAT[:NAME]", "version <op> X.Y[.Z]" (against
// Options.Version, default DefaultVersion), "!" and $(...) in conditions.
//
// Expansion: $(NAME), $(NAME:default), self references expanded at
// definition time ("X = $(X) more" appends), everything else at lookup time;
// $$(...) left alone for the submit side; $(DOLLAR) becomes "$" last;
// $ENV(NAME[:default]) (from Options.Env; "UNDEFINED" when unset, as in
// HTCondor); $INT(), $REAL() (without the format argument); $CHOICE();
// $SUBSTR(); $RANDOM_INTEGER(); $RANDOM_CHOICE(); $BASENAME(), $DIRNAME()
// and the $F[pnxdqabfwu]() family.
//
// # Native parser: what is refused, and why
//
// Each of these is a *SyntaxError at file:line (Load), or an error from
// LookupErr/Bool/Int/Float (at the defining file:line) for problems that
// HTCondor itself only notices when a knob is used. Errors wrap
// ErrUnsupported when the configuration is valid HTCondor that the native
// parser will not imitate, so the remedy (install condor_config_val) is
// clear:
//
//   - "include command :" / "include output :", piped LOCAL_CONFIG_FILE and
//     CONDOR_CONFIG: running programs from a daemon's configuration reader
//     is a security decision this package should not make on its own;
//   - $STRING(), $EVAL() and $INT()/$REAL() format arguments: they need the
//     ClassAd language and printf, and an approximation would be a guess;
//   - metaknobs not in the table: their bodies change between releases;
//   - complex if conditions: HTCondor rejects them too;
//   - macro definition loops (A = $(B), B = $(A)): HTCondor expands these
//     forever; we report the chain. Expansion is also bounded in depth and
//     size, so hostile input cannot exhaust memory.
//
// # Known differences from HTCondor (native parser)
//
//   - Built-in defaults (defaults.go) cover the knobs a credmon host reads,
//     not all of param_info.in, and use the RPM/DEB directory layout
//     (LOG = /var/log/condor ...) instead of the tarball one.
//   - Detected values HTCondor computes from hardware or the network
//     (IP_ADDRESS, DETECTED_CPUS, DETECTED_MEMORY, OPSYSVER, ...) are not
//     defined. FULL_HOSTNAME is NETWORK_HOSTNAME, else the kernel host name
//     completed by DNS (2 s limit) or DEFAULT_DOMAIN_NAME.
//   - Bool accepts yes/no and t/f as well as true/false and 1/0
//     (param_boolean itself only takes the latter; HTCondor accepts the
//     former in if-conditions and param_boolean_crufty).
//   - Error locations are the first line of a continued statement.
//   - _CONDOR_ values get the definition-time self expansion of a file line
//     (including SUBSYS.NAME -> NAME); HTCondor does so only when a file
//     defined the knob before, and otherwise expands the value forever.
package condorcfg

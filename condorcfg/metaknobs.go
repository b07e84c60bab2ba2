package condorcfg

import (
	"fmt"
	"sort"
	"strings"
)

// Metaknobs ("use CATEGORY : NAME") are macro templates compiled into
// HTCondor from the [$CATEGORY.NAME] sections at the bottom of
// src/condor_utils/param_info.in. The bodies below are copied statement for
// statement (comments dropped) from param_info.in at htcondor/htcondor commit
// 03cfd3f (the 24.x/25.x series; [$FEATURE.OAUTH] is identical in the
// 2026-08 main branch docs/htcondor-contract.md describes). Only templates a credmon host
// is likely to load are included; any other "use" is refused with an error
// naming the metaknob, because silently ignoring it could hide a knob the
// daemon reads. condor_config_val knows all of them.
var metaknobSource = map[string]map[string]string{
	"FEATURE": {
		// The feature the credmon exists for.
		"OAUTH": `
SEC_CREDENTIAL_DIRECTORY_OAUTH=/var/lib/condor/oauth_credentials
CREDMON_OAUTH_LOG=$(LOG)/CredMonOAuthLog
DAEMON_LIST=$(DAEMON_LIST),CREDMON_OAUTH
AUTO_INCLUDE_CREDD_IN_DAEMON_LIST=True
TRUST_CREDENTIAL_DIRECTORY=True`,
		"KRB": `
SEC_CREDENTIAL_DIRECTORY_KRB=/var/lib/condor/krb_credentials
DAEMON_LIST=$(DAEMON_LIST),CREDMON_KRB
SEC_CREDENTIAL_PRODUCER=$(LIBEXEC)/cred_producer_krb
SEC_CREDENTIAL_MONITOR_KRB_LOG=$(LOG)/CredMonKrbLog
AUTO_INCLUDE_CREDD_IN_DAEMON_LIST = True
USE_KEYRING_SESSIONS=True`,
		"ADSTASH": `
ADSTASH_SCHEDD_HISTORY=True
DAEMON_LIST=$(DAEMON_LIST),ADSTASH`,
		"PartitionableSlot": `
NUM_SLOTS_TYPE_$(1:1)=1
SLOT_TYPE_$(1:1)_PARTITIONABLE=true
SLOT_TYPE_$(1:1)=$(2+:100%)`,
		"REMOTE_RUNTIME_CONFIG": `
ENABLE_RUNTIME_CONFIG=True
ALLOW_CONFIG=$(ALLOW_ADMINISTRATOR)
if $(0#)
SETTABLE_ATTRS_CONFIG=$(SETTABLE_ATTRS_CONFIG) $(0)
endif`,
		"REMOTE_CONFIG": `
ENABLE_PERSISTENT_CONFIG=True
PERSISTENT_CONFIG_DIR=$(SPOOL)
use FEATURE : REMOTE_RUNTIME_CONFIG($(0))`,
	},
	"ROLE": {
		"Personal": `
CONDOR_HOST=127.0.0.1
COLLECTOR_HOST=$(CONDOR_HOST):0
DAEMON_LIST=MASTER COLLECTOR NEGOTIATOR STARTD SCHEDD
RunBenchmarks=0`,
		"Execute":        `DAEMON_LIST=$(DAEMON_LIST) STARTD`,
		"Submit":         `DAEMON_LIST=$(DAEMON_LIST) SCHEDD`,
		"CentralManager": `DAEMON_LIST=$(DAEMON_LIST) COLLECTOR NEGOTIATOR`,
		"get_htcondor_central_manager": `
use security:get_htcondor_idtokens
use role:CentralManager`,
		"get_htcondor_submit": `
use security:get_htcondor_idtokens
ALLOW_WRITE = $(ALLOW_WRITE) *
use role:submit`,
		"get_htcondor_execute": `
use security:get_htcondor_idtokens
use role:execute`,
	},
	"SECURITY": {
		"HOST_BASED": `
ALLOW_ADMINISTRATOR=$(CONDOR_HOST)
ALLOW_READ=*
ALLOW_WRITE=$(FULL_HOSTNAME) $(IPV4_ADDRESS) $(IPV6_ADDRESS)
ALLOW_DAEMON=$(FULL_HOSTNAME) $(IPV4_ADDRESS) $(IPV6_ADDRESS)
ALLOW_NEGOTIATOR=$(CONDOR_HOST)
ALLOW_NEGOTIATOR_SCHEDD=$(ALLOW_NEGOTIATOR) $(FLOCK_NEGOTIATOR_HOSTS)
ALLOW_WRITE_COLLECTOR=$(ALLOW_WRITE) $(FLOCK_FROM)
ALLOW_WRITE_STARTD=$(ALLOW_WRITE) $(FLOCK_FROM)
ALLOW_READ_COLLECTOR=$(ALLOW_READ) $(FLOCK_FROM)
ALLOW_READ_STARTD=$(ALLOW_READ) $(FLOCK_FROM)
LEGACY_ALLOW_SEMANTICS = TRUE`,
		"WITH_AUTHENTICATION": `
SEC_DEFAULT_AUTHENTICATION=required
SEC_DEFAULT_INTEGRITY=required`,
		"STRONG": `
SEC_DEFAULT_ENCRYPTION=required
SEC_DEFAULT_INTEGRITY=required
SEC_DEFAULT_AUTHENTICATION=required`,
		"USER_BASED": `
if $(CondorIsAdmin)
authuser=condor
else
authuser=$(USERNAME)
endif
ALLOW_ADMINISTRATOR=$(authuser)@$(CONDOR_HOST)
ALLOW_READ=*
ALLOW_WRITE=$(authuser)@$(FULL_HOSTNAME) $(authuser)@$(IP_ADDRESS)
ALLOW_DAEMON=$(authuser)@$(FULL_HOSTNAME) $(authuser)@$(IP_ADDRESS)
ALLOW_NEGOTIATOR=$(authuser)@$(CONDOR_HOST)
ALLOW_NEGOTIATOR_SCHEDD=$(ALLOW_NEGOTIATOR) $(FLOCK_NEGOTIATOR_HOSTS)
ALLOW_WRITE_COLLECTOR=$(ALLOW_WRITE) $(FLOCK_FROM)
ALLOW_WRITE_STARTD=$(ALLOW_WRITE) $(FLOCK_FROM)
ALLOW_READ_COLLECTOR=$(ALLOW_READ) $(FLOCK_FROM)
ALLOW_READ_STARTD=$(ALLOW_READ) $(FLOCK_FROM)
use SECURITY:WITH_AUTHENTICATION`,
		// Shipped by the packages in config.d/00-htcondor-9.0.config.
		"recommended_v9_0": `
SECURITY_MODEL = 9.0
use security:strong
SEC_READ_AUTHENTICATION = OPTIONAL
SEC_READ_ENCRYPTION = OPTIONAL
SEC_READ_INTEGRITY = OPTIONAL
ALLOW_ADMINISTRATOR = $(1:condor)@* condor_pool@* $(2:root@*) $(3+)
ALLOW_DAEMON = $(1:condor)@*  condor_pool@*
ALLOW_NEGOTIATOR = $(1:condor)@* condor_pool@*
ALLOW_WRITE = *
ALLOW_READ = *`,
		"FIPS": `
FIPS = True
use security:strong
SEC_DEFAULT_CRYPTO_METHODS = AES,3DES`,
		"get_htcondor_idtokens": `
use security:strong
SEC_DEFAULT_AUTHENTICATION_METHODS = IDTOKENS, FS
SEC_READ_AUTHENTICATION_METHODS = IDTOKENS, FS, ANONYMOUS
SEC_CLIENT_AUTHENTICATION_METHODS = IDTOKENS, FS, ANONYMOUS
TRUST_DOMAIN = $(CONDOR_HOST)
ALLOW_READ = *
ALLOW_ADMINISTRATOR = root@* condor@$(TRUST_DOMAIN)
ALLOW_WRITE = condor@$(TRUST_DOMAIN)
ALLOW_DAEMON = condor@$(TRUST_DOMAIN)
ALLOW_NEGOTIATOR = condor@$(TRUST_DOMAIN)`,
	},
	"POLICY": {
		"ALWAYS_RUN_JOBS": `
WANT_SUSPEND=False
WANT_VACATE=True
SUSPEND=False
CONTINUE=True
PREEMPT=False
START=True
KILL=False
PREEMPTION_REQUIREMENTS=False
NEGOTIATOR_CONSIDER_PREEMPTION=False
MaxJobRetirementTime=2147483647
CLAIM_WORKLIFE=1200`,
	},
}

// metaknob is one template; name keeps param_info.in's spelling.
type metaknob struct{ category, name, body string }

// metaknobs indexes metaknobSource case-insensitively (HTCondor matches both
// category and name without regard to case).
var metaknobs = func() map[string]map[string]metaknob {
	out := make(map[string]map[string]metaknob)
	for cat, items := range metaknobSource {
		m := make(map[string]metaknob)
		for name, body := range items {
			m[strings.ToUpper(name)] = metaknob{category: cat, name: name, body: body}
		}
		out[cat] = m
	}
	return out
}()

func lookupMetaknob(category, name string) (metaknob, bool) {
	mk, ok := metaknobs[strings.ToUpper(category)][strings.ToUpper(name)]
	return mk, ok
}

func knownMetaknobs(category string) string {
	var names []string
	for _, mk := range metaknobs[strings.ToUpper(category)] {
		names = append(names, mk.name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// nextMetaItem splits the next "Name" or "Name(args)" off the right-hand side
// of a use statement (MetaKnobAndArgs::init_from_string): items are separated
// by white space or commas, and arguments may nest () and [].
func nextMetaItem(s string) (knob, args, rest string, err error) {
	p := 0
	for p < len(s) && (isCSpace(s[p]) || s[p] == ',') {
		p++
	}
	e := p
	for e < len(s) && !isCSpace(s[e]) && s[e] != ',' && s[e] != '(' {
		e++
	}
	if e == p {
		return "", "", "", nil
	}
	knob = s[p:e]
	p = e
	for p < len(s) && isCSpace(s[p]) {
		p++
	}
	if p < len(s) && s[p] == '(' {
		end := closeBrace(s, p, 25)
		if end < 0 {
			return "", "", "", fmt.Errorf("unbalanced parentheses in arguments of %s", knob)
		}
		args = s[p+1 : end]
		p = end + 1
		for p < len(s) && isCSpace(s[p]) {
			p++
		}
	}
	return knob, args, s[p:], nil
}

// closeBrace returns the index of the bracket closing s[open], skipping
// nested () and [] pairs, or -1.
func closeBrace(s string, open, depth int) int {
	if depth < 0 {
		return -1
	}
	closer := map[byte]byte{'(': ')', '[': ']'}[s[open]]
	for i := open + 1; i < len(s); i++ {
		switch s[i] {
		case closer:
			return i
		case '(', '[':
			j := closeBrace(s, i, depth-1)
			if j < 0 {
				return -1
			}
			i = j
		}
	}
	return -1
}

// expandMetaArgs substitutes a metaknob's $(<n>) argument references
// (expand_meta_args): $(0) all arguments, $(0#) their number, $(N) the Nth,
// $(N?) "1" if the Nth is non-empty else "0", $(N+) the Nth and the rest,
// each optionally followed by ":default".
func expandMetaArgs(body, args string) (string, error) {
	argv := strings.Split(args, ",")
	if strings.TrimSpace(args) == "" {
		argv = nil
	}
	onlyNumbers := func(k macroKind, b string) bool { return b == "" || !isDigit(b[0]) }
	s := body
	for range 1024 { // real metaknobs have a handful of argument references
		m, ok := findMacro(s, 0, metaArgPrefix, onlyNumbers)
		if !ok {
			return s, nil
		}
		b := m.bodyText(s)
		i := 0
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		index := 0
		fmt.Sscan(b[:i], &index)
		emptyCheck, rest := false, false
		switch {
		case i < len(b) && b[i] == '?':
			emptyCheck = true
			i++
		case i < len(b) && (b[i] == '#' || b[i] == '+'):
			rest = true
			i++
		}
		def, hasDef := "", false
		if i < len(b) && b[i] == ':' {
			def, hasDef = b[i+1:], true
		}
		var v string
		switch {
		case index <= 0 && rest:
			v = fmt.Sprint(len(argv))
		case index <= 0:
			v = args
		case rest:
			if index-1 < len(argv) {
				v = strings.Join(argv[index-1:], ",")
			}
			if hasDef && strings.TrimSpace(v) == "" {
				v = def
			}
		case index-1 < len(argv):
			v = argv[index-1]
		case hasDef:
			v = def
		}
		v = strings.TrimSpace(v)
		if emptyCheck {
			v = map[bool]string{true: "1", false: "0"}[v != ""]
		}
		s = s[:m.dollar] + v + s[m.right:]
		if len(s) > maxValueLen {
			return "", errTooBig
		}
	}
	return "", fmt.Errorf("metaknob argument expansion does not terminate")
}

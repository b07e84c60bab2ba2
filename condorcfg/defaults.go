package condorcfg

// builtinDefaults are the compiled-in defaults HTCondor falls back to when no
// configuration source defines a knob: the "default=" values of
// src/condor_utils/param_info.in (htcondor/htcondor 03cfd3f), for the knobs a
// credmon host reads. A knob missing here behaves as in HTCondor for any knob
// without a param_info.in entry: undefined until configured.
//
// Exception, on purpose: param_info.in's directory layout is the tarball one
// (LOCAL_DIR=$(TILDE), LOG=$(LOCAL_DIR)/log, ...), which every packaged
// install overrides in /etc/condor/condor_config. We use the values the
// RPM/DEB condor_config sets (src/condor_examples/condor_config.generic.rpm.patch)
// so that a host whose config does not mention LOG still gets
// /var/log/condor, as it would on a packaged HTCondor. Each such entry notes
// the param_info.in value it replaces.
//
// Values are raw: they are macro-expanded at lookup time like any other value
// (LOG is "$(LOCAL_DIR)/log/condor", so LOCAL_DIR=/srv moves the log too).
var builtinDefaults = map[string]string{
	// Directory layout (RPM condor_config values).
	"RELEASE_DIR": "/usr",                          // param_info.in: /usr
	"LOCAL_DIR":   "/var",                          // param_info.in: $(TILDE)
	"LOG":         "$(LOCAL_DIR)/log/condor",       // param_info.in: $(LOCAL_DIR)/log
	"RUN":         "$(LOCAL_DIR)/run/condor",       // param_info.in: $(LOCK)
	"LOCK":        "$(LOCAL_DIR)/lock/condor",      // param_info.in: $(LOG)
	"SPOOL":       "$(LOCAL_DIR)/lib/condor/spool", // param_info.in: $(LOCAL_DIR)/spool
	"EXECUTE":     "$(LOCAL_DIR)/lib/condor/execute",
	"ETC":         "/etc/condor",                   // param_info.in: $(LOCAL_DIR)
	"BIN":         "$(RELEASE_DIR)/bin",            // param_info.in: same
	"SBIN":        "$(RELEASE_DIR)/sbin",           // param_info.in: same
	"LIBEXEC":     "$(RELEASE_DIR)/libexec/condor", // param_info.in: $(RELEASE_DIR)/libexec
	"LIB":         "$(RELEASE_DIR)/lib64/condor",   // param_info.in: $(RELEASE_DIR)/lib
	"SHARE":       "$(RELEASE_DIR)/share/condor",   // not in param_info.in; RPM only

	// Config file processing (param_info.in).
	"REQUIRE_LOCAL_CONFIG_FILE":       "true",
	"USER_CONFIG_FILE":                "user_config",
	"LOCAL_CONFIG_DIR_EXCLUDE_REGEXP": `^((\..*)|(.*\.pl)|(.*\.py)|(.*\.sh)|(.*~)|(#.*)|(.*\.rpmsave)|(.*\.rpmnew)|(.*\.dpkg-old)|(.*\.dpkg-dist)|(.*\.cfsaved))$`,

	// Daemon and logging basics.
	"DAEMON_LIST":       "MASTER",
	"MAX_DEFAULT_LOG":   "10 Mb", // a size with units: read it with Config.LogSize
	"DEBUG_TIME_FORMAT": "%m/%d/%y %H:%M:%S",
	"UID_DOMAIN":        "$(FULL_HOSTNAME)",
	"FILESYSTEM_DOMAIN": "$(FULL_HOSTNAME)",
	"CREDD":             "$(SBIN)/condor_credd",
	"CREDD_LOG":         "$(LOG)/CredLog",
	"MAX_CREDD_LOG":     "$(MAX_DEFAULT_LOG)",

	// Credentials.
	"CREDMON_OAUTH":                     "$(SBIN)/condor_credmon_oauth",
	"CREDMON_KRB":                       "$(SBIN)/condor_credmon_krb",
	"CREDD_OAUTH_MODE":                  "true",
	"CREDD_POLLING_TIMEOUT":             "20",
	"AUTO_INCLUDE_CREDD_IN_DAEMON_LIST": "false",
	"SEC_CREDENTIAL_SWEEP_DELAY":        "3600",
	"SEC_CREDENTIAL_SWEEP_INTERVAL":     "300",
	"SEC_CREDENTIAL_REFRESH_INTERVAL":   "-1",
	"LOCAL_CREDMON_TOKEN_USE_JSON":      "true",
	// The manual gives scitoken:2.0 (singular, HTCONDOR-2285); older
	// param tables carried the plural the C++ library once used.
	"LOCAL_CREDMON_TOKEN_VERSION":  "scitoken:2.0",
	"LOCAL_CREDMON_TOKEN_AUDIENCE": "",

	// Standard OAuth endpoints for the providers HTCondor knows.
	"BOX_AUTHORIZATION_URL":      "https://account.box.com/api/oauth2/authorize",
	"BOX_TOKEN_URL":              "https://api.box.com/oauth2/token",
	"GDRIVE_AUTHORIZATION_URL":   "https://accounts.google.com/o/oauth2/v2/auth",
	"GDRIVE_TOKEN_URL":           "https://oauth2.googleapis.com/token",
	"ONEDRIVE_AUTHORIZATION_URL": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	"ONEDRIVE_TOKEN_URL":         "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	"DROPBOX_AUTHORIZATION_URL":  "https://www.dropbox.com/oauth2/authorize",
	"DROPBOX_TOKEN_URL":          "https://api.dropboxapi.com/oauth2/token",
}

// Knobs whose defaults HTCondor hard-codes at the call site instead of
// declaring them in param_info.in are deliberately NOT in builtinDefaults:
// for them HTCondor's param() (and condor_config_val) report "not defined",
// and both backends of this package must agree. Callers pass the call-site
// default to Int/Bool instead:
//
//	SEC_CREDENTIAL_REFRESH      300    param_integer(..., 300) in condor_starter.V6.1/jic_local.cpp, jic_shadow.cpp
//	TRUST_CREDENTIAL_DIRECTORY  false  param_boolean(..., false) in condor_shadow.V6.1/NTreceivers.cpp, cred_dir.cpp
//	                                   ("use feature:OAUTH" sets it to True)

package condorcfg

import "testing"

func TestUseFeatureOAuth(t *testing.T) {
	// The exact statements of [$FEATURE.OAUTH] in param_info.in.
	cfg := mustLoad(t, "LOG = /var/log/condor\nDAEMON_LIST = MASTER, SCHEDD\nuse feature:oauth\n", testOpts("CREDMON_OAUTH"))
	want := map[string]string{
		"SEC_CREDENTIAL_DIRECTORY_OAUTH":    "/var/lib/condor/oauth_credentials",
		"CREDMON_OAUTH_LOG":                 "/var/log/condor/CredMonOAuthLog",
		"DAEMON_LIST":                       "MASTER, SCHEDD,CREDMON_OAUTH",
		"AUTO_INCLUDE_CREDD_IN_DAEMON_LIST": "True",
		"TRUST_CREDENTIAL_DIRECTORY":        "True",
	}
	for k, v := range want {
		if got := lookup(t, cfg, k); got != v {
			t.Errorf("after use feature:oauth, %s = %q; want %q", k, got, v)
		}
	}
	e, _ := cfg.b.(*nativeBackend).r.t.get("TRUST_CREDENTIAL_DIRECTORY")
	if e.src != (source{"test.conf", 3}) {
		t.Errorf("TRUST_CREDENTIAL_DIRECTORY defined at %v; want test.conf:3 (the use line)", e.src)
	}
}

func TestUseForms(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want map[string]string
	}{
		{"spaces and case", "use FEATURE : OAuth\n", map[string]string{"TRUST_CREDENTIAL_DIRECTORY": "True"}},
		{"several items", "use ROLE : Submit, CentralManager\n", map[string]string{"DAEMON_LIST": "MASTER SCHEDD COLLECTOR NEGOTIATOR"}},
		{"items separated by spaces", "use role:execute submit\n", map[string]string{"DAEMON_LIST": "MASTER STARTD SCHEDD"}},
		{"nested use", "use security:recommended_v9_0\n", map[string]string{
			"SEC_DEFAULT_ENCRYPTION": "required", "SECURITY_MODEL": "9.0",
			"ALLOW_ADMINISTRATOR": "condor@* condor_pool@* root@*", "ALLOW_DAEMON": "condor@*  condor_pool@*"}},
		{"arguments", "use security:recommended_v9_0(svc, admin@x, a, b)\n", map[string]string{
			"ALLOW_ADMINISTRATOR": "svc@* condor_pool@* admin@x a, b"}},
		{"argument defaults", "use feature:PartitionableSlot\n", map[string]string{
			"NUM_SLOTS_TYPE_1": "1", "SLOT_TYPE_1_PARTITIONABLE": "true", "SLOT_TYPE_1": "100%"}},
		{"arguments fill names", "use feature:PartitionableSlot(2, cpus=4, mem=50%)\n", map[string]string{
			"NUM_SLOTS_TYPE_2": "1", "SLOT_TYPE_2": "cpus=4, mem=50%"}},
		{"if inside metaknob", "use feature:REMOTE_RUNTIME_CONFIG(A B)\n", map[string]string{
			"SETTABLE_ATTRS_CONFIG": " A B", "ENABLE_RUNTIME_CONFIG": "True"}}, // expansion is not trimmed
		{"if inside metaknob, no args", "use feature:REMOTE_RUNTIME_CONFIG\n", map[string]string{
			"SETTABLE_ATTRS_CONFIG": "<unset>"}},
		{"metaknob passes args on", "use feature:REMOTE_CONFIG(X)\n", map[string]string{
			"SETTABLE_ATTRS_CONFIG": " X", "ENABLE_PERSISTENT_CONFIG": "True"}},
		{"CondorIsAdmin in metaknob", "use security:user_based\n", map[string]string{"authuser": "condor"}},
		{"empty item list is a no-op", "use ROLE :\n", map[string]string{"DAEMON_LIST": "MASTER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.conf, testOpts(""))
			for k, want := range tt.want {
				if got := lookup(t, cfg, k); got != want {
					t.Errorf("%s = %q; want %q", k, got, want)
				}
			}
		})
	}
}

func TestExpandMetaArgs(t *testing.T) {
	tests := []struct{ body, args, want string }{
		{"$(0)", " a, b ", "a, b"},
		{"$(0#)", "a, , c", "3"},
		{"$(0#)", "", "0"},
		{"$(1)|$(2)|$(3)", "a, , c", "a||c"},
		{"$(2?)$(1?)", "a, , c", "01"},
		{"$(2+)", "a, , c", ", c"},
		{"$(1+)", "a, b", "a, b"},
		{"$(4:def)", "a", "def"},
		{"$(4+:def)", "a", "def"},
		{"$(1:$(NOT_AN_ARG))", "", "$(NOT_AN_ARG)"},
		{"$(X) $$(1) kept", "a", "$(X) $$(1) kept"},
	}
	for _, tt := range tests {
		got, err := expandMetaArgs(tt.body, tt.args)
		if err != nil || got != tt.want {
			t.Errorf("expandMetaArgs(%q, %q) = %q, %v; want %q", tt.body, tt.args, got, err, tt.want)
		}
	}
	if _, err := expandMetaArgs("$(1)", "$(1)"); err == nil {
		t.Errorf("expandMetaArgs with a self-reproducing argument: got nil error; want non-termination error")
	}
}

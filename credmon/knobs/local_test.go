package knobs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLocalKnobs(t *testing.T) {
	base := "NETWORK_HOSTNAME = ap.example.org\n"
	def := Local{
		Name: "scitokens", PrivateKey: defaultLocalPrivateKey, PublicKey: defaultLocalPublicKey,
		KeyID: "local", Algorithm: "ES256", Issuer: "https://ap.example.org",
		AuthzTemplate: "read:/user/{username} write:/user/{username}",
		Lifetime:      1200 * time.Second, UseJSON: true, Version: "scitoken:2.0",
	}
	with := func(f func(l *Local)) Local { l := def; f(&l); return l }
	tests := []struct {
		name, config, provider string
		want                   Local
		wantErr                string
	}{
		{"defaults", "", "scitokens", def, ""},
		{"global knobs", "LOCAL_CREDMON_ISSUER = https://tokens.example.org\nLOCAL_CREDMON_KEY_ID = k1\n" +
			"LOCAL_CREDMON_TOKEN_AUDIENCE = https://a.example  https://b.example\nLOCAL_CREDMON_TOKEN_LIFETIME = 20*60*2\n",
			"scitokens", with(func(l *Local) {
				l.Issuer, l.KeyID, l.Audience, l.Lifetime = "https://tokens.example.org", "k1",
					[]string{"https://a.example", "https://b.example"}, 2400*time.Second
			}), ""},
		// Checklist item 37: a per-provider issuer and kid beat the global ones.
		{"per-provider beats global", "LOCAL_CREDMON_PROVIDER_NAMES = scitokens, other\n" +
			"LOCAL_CREDMON_ISSUER = https://global\nLOCAL_CREDMON_KEY_ID = g\n" +
			"LOCAL_CREDMON_OTHER_ISSUER = https://other\nLOCAL_CREDMON_other_KEY_ID = o\n",
			"other", with(func(l *Local) { l.Name, l.Issuer, l.KeyID = "other", "https://other", "o" }), ""},
		{"per-provider of another provider is ignored", "LOCAL_CREDMON_OTHER_ISSUER = https://other\n",
			"scitokens", def, ""},
		// Python reads a per-provider "false" as a truthy string; we do not.
		{"per-provider use_json false", "LOCAL_CREDMON_SCITOKENS_TOKEN_USE_JSON = false\n",
			"scitokens", with(func(l *Local) { l.UseJSON = false }), ""},
		{"empty version is unset", "LOCAL_CREDMON_TOKEN_VERSION =\n", "scitokens", def, ""},
		{"wlcg version", "LOCAL_CREDMON_TOKEN_VERSION = wlcg:1.0\n", "scitokens",
			with(func(l *Local) { l.Version = "wlcg:1.0" }), ""},
		{"group knobs", "LOCAL_CREDMON_AUTHZ_GROUP_MAPFILE = /etc/condor/groups\n" +
			"LOCAL_CREDMON_AUTHZ_GROUP_TEMPLATE = read:/groups/{groupname}\nLOCAL_CREDMON_AUTHZ_GROUP_REQUIREMENT = cms\n" +
			"LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR = strcat(\"read:/home/\", Username)\n", "scitokens",
			with(func(l *Local) {
				l.AuthzGroupMapfile, l.AuthzGroupTemplate, l.AuthzGroupRequirement = "/etc/condor/groups", "read:/groups/{groupname}", "cms"
				l.AuthzTemplateExpr = `strcat("read:/home/", Username)`
			}), ""},
		{"rs256 lower case", "LOCAL_CREDMON_PRIVATE_KEY_ALGORITHM = rs256\n", "scitokens",
			with(func(l *Local) { l.Algorithm = "RS256" }), ""},
		{"bad algorithm", "LOCAL_CREDMON_SCITOKENS_PRIVATE_KEY_ALGORITHM = HS256\n", "scitokens", Local{},
			`LOCAL_CREDMON_SCITOKENS_PRIVATE_KEY_ALGORITHM = "HS256": want ES256 or RS256`},
		{"bad lifetime", "LOCAL_CREDMON_TOKEN_LIFETIME = 20m\n", "scitokens", Local{},
			`LOCAL_CREDMON_TOKEN_LIFETIME = "20m": not a whole number of seconds`},
		{"zero lifetime", "LOCAL_CREDMON_TOKEN_LIFETIME = 0\n", "scitokens", Local{},
			`LOCAL_CREDMON_TOKEN_LIFETIME = 0: must be more than 0 and at most 31536000 seconds`},
		// 10000000000 s used to overflow time.Duration into a negative
		// lifetime, 9999999999999 s into a token expiring in 2086.
		{"lifetime overflowing a duration", "LOCAL_CREDMON_SCITOKENS_TOKEN_LIFETIME = 10000000000\n", "scitokens", Local{},
			`LOCAL_CREDMON_SCITOKENS_TOKEN_LIFETIME = 10000000000: must be more than 0 and at most 31536000 seconds`},
		{"lifetime wrapping to a plausible expiry", "LOCAL_CREDMON_TOKEN_LIFETIME = 9999999999999\n", "scitokens", Local{},
			`LOCAL_CREDMON_TOKEN_LIFETIME = 9999999999999: must be`},
		{"lifetime beyond int64", "LOCAL_CREDMON_TOKEN_LIFETIME = 99999999999999999999\n", "scitokens", Local{},
			`LOCAL_CREDMON_TOKEN_LIFETIME = "99999999999999999999": not a whole number of seconds`},
		{"year-long lifetime", "LOCAL_CREDMON_TOKEN_LIFETIME = 365*24*3600\n", "scitokens",
			with(func(l *Local) { l.Lifetime = maxLocalLifetime }), ""},
		{"bad bool", "LOCAL_CREDMON_TOKEN_USE_JSON = maybe\n", "scitokens", Local{},
			`LOCAL_CREDMON_TOKEN_USE_JSON = "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := credmonFrom(t, base+tt.config, Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Local(tt.provider)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestSameSeesLocalChanges(t *testing.T) {
	a, _ := credmonFrom(t, "LOCAL_CREDMON_TOKEN_AUDIENCE = x\n", Overrides{})
	b, _ := credmonFrom(t, "LOCAL_CREDMON_TOKEN_AUDIENCE = x\n", Overrides{})
	c, _ := credmonFrom(t, "LOCAL_CREDMON_SCITOKENS_TOKEN_AUDIENCE = y\nLOCAL_CREDMON_TOKEN_AUDIENCE = x\n", Overrides{})
	if !a.Same(b, nil) {
		t.Error("identical configurations differ")
	}
	if a.Same(c, nil) {
		t.Error("a per-provider audience change went unnoticed")
	}
}

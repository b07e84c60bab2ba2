package knobs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadCredmonRefusesBadNumbers: every numeric knob refuses NaN, the
// infinities, values that mean nothing (a zero timeout) and values whose
// conversion to a duration would overflow, with the knob's name in the
// error, and reads as its default meanwhile. `HTTP_TIMEOUT = 0`, `inf` or
// `nan` used to start a daemon whose every refresh failed, and
// `REFRESH_FRACTION = nan` passed the range check.
func TestLoadCredmonRefusesBadNumbers(t *testing.T) {
	const n = "CREDMON_OAUTH"
	tests := []struct {
		knob, value string
		field       string
		def         any
	}{
		{n + "_HTTP_TIMEOUT", "0", "HTTPTimeout", defaultHTTPTimeout},
		{n + "_HTTP_TIMEOUT", "inf", "HTTPTimeout", defaultHTTPTimeout},
		{n + "_HTTP_TIMEOUT", "nan", "HTTPTimeout", defaultHTTPTimeout},
		{n + "_HTTP_TIMEOUT", "-3", "HTTPTimeout", defaultHTTPTimeout},
		{n + "_HTTP_TIMEOUT", "600.001", "HTTPTimeout", defaultHTTPTimeout},
		{n + "_HTTP_TIMEOUT", "1e300", "HTTPTimeout", defaultHTTPTimeout},
		{n + "_CONNECT_TIMEOUT", "0", "ConnectTimeout", defaultConnectTimeout},
		{n + "_CONNECT_TIMEOUT", "NaN", "ConnectTimeout", defaultConnectTimeout},
		{n + "_REFRESH_FRACTION", "nan", "RefreshFraction", defaultRefreshFraction},
		{n + "_REFRESH_FRACTION", "0", "RefreshFraction", defaultRefreshFraction},
		{n + "_REFRESH_FRACTION", "1", "RefreshFraction", defaultRefreshFraction},
		{n + "_REFRESH_FRACTION", "-inf", "RefreshFraction", defaultRefreshFraction},
		{n + "_REFRESH_JITTER", "nan", "RefreshJitter", defaultRefreshJitter},
		{n + "_REFRESH_JITTER", "0.51", "RefreshJitter", defaultRefreshJitter},
		{n + "_SCAN_INTERVAL", "0.5", "ScanInterval", defaultScanInterval},
		{n + "_SCAN_INTERVAL", "inf", "ScanInterval", defaultScanInterval},
		{n + "_SCAN_INTERVAL", "3601", "ScanInterval", defaultScanInterval},
		{n + "_REFRESH_MARGIN", "-1", "RefreshMargin", defaultRefreshMargin},
		{n + "_REFRESH_MARGIN", "nan", "RefreshMargin", defaultRefreshMargin},
		{n + "_REFRESH_MARGIN", "1e12", "RefreshMargin", defaultRefreshMargin},
		{"SEC_CREDENTIAL_REFRESH", "10000000000", "SecCredentialRefresh", defaultSecCredentialRefresh},
		{"SEC_CREDENTIAL_REFRESH", "nan", "SecCredentialRefresh", defaultSecCredentialRefresh},
		{n + "_MIN_REFRESH_INTERVAL", "nan", "MinRefreshInterval", defaultMinRefreshInterval},
		{n + "_MIN_REFRESH_INTERVAL", "-1", "MinRefreshInterval", defaultMinRefreshInterval},
		{n + "_MIN_REFRESH_INTERVAL", "9999999999999", "MinRefreshInterval", defaultMinRefreshInterval},
		{n + "_WORKERS", "0", "Workers", defaultWorkers},
		{n + "_WORKERS", "1025", "Workers", defaultWorkers},
		{n + "_WORKERS", "99999999999999999999", "Workers", defaultWorkers},
		{n + "_MIN_BACKOFF", "0", "MinBackoff", defaultMinBackoff},
		{n + "_MIN_BACKOFF", "nan", "MinBackoff", defaultMinBackoff},
		{n + "_MAX_BACKOFF", "inf", "MaxBackoff", defaultMaxBackoff},
		{"MAX_" + n + "_LOG", "-1", "MaxLog", int64(defaultMaxLog)},
		{"MAX_" + n + "_LOG", "9999999999 Tb", "MaxLog", int64(defaultMaxLog)},
		{"MAX_DEFAULT_LOG", "1 day", "MaxLog", int64(defaultMaxLog)},
		{"MAX_NUM_" + n + "_LOG", "-1", "MaxNumLog", 1},
		{"MAX_NUM_DEFAULT_LOG", "10001", "MaxNumLog", 1},
	}
	for _, tt := range tests {
		t.Run(tt.knob+"="+tt.value, func(t *testing.T) {
			m, err := credmonFrom(t, fmt.Sprintf("%s = %s\n", tt.knob, tt.value), Overrides{})
			if err == nil || !strings.Contains(err.Error(), tt.knob) {
				t.Fatalf("LoadCredmon error = %v; want one naming %s", err, tt.knob)
			}
			if got := reflect.ValueOf(*m).FieldByName(tt.field).Interface(); !reflect.DeepEqual(got, tt.def) {
				t.Errorf("%s = %v after the error; want the default %v", tt.field, got, tt.def)
			}
		})
	}
}

// TestLoadCredmonReportsEveryBadKnob: one start names every bad knob, not
// only the first one.
func TestLoadCredmonReportsEveryBadKnob(t *testing.T) {
	_, err := credmonFrom(t, "CREDMON_OAUTH_HTTP_TIMEOUT = nan\nCREDMON_OAUTH_REFRESH_FRACTION = nan\n", Overrides{})
	for _, knob := range []string{"CREDMON_OAUTH_HTTP_TIMEOUT = NaN", "CREDMON_OAUTH_REFRESH_FRACTION = NaN"} {
		if err == nil || !strings.Contains(err.Error(), knob) {
			t.Errorf("LoadCredmon error = %v; want it to contain %q", err, knob)
		}
	}
}

// TestLoadCredmonAcceptsTheBounds: each bound itself is accepted (the
// checks are not off by one).
func TestLoadCredmonAcceptsTheBounds(t *testing.T) {
	m, err := credmonFrom(t, `
CREDMON_OAUTH_HTTP_TIMEOUT = 600
CREDMON_OAUTH_CONNECT_TIMEOUT = 0.001
CREDMON_OAUTH_SCAN_INTERVAL = 1
CREDMON_OAUTH_REFRESH_JITTER = 0.5
CREDMON_OAUTH_REFRESH_FRACTION = 0.999
CREDMON_OAUTH_REFRESH_MARGIN = 0
SEC_CREDENTIAL_REFRESH = 86400
CREDMON_OAUTH_MIN_REFRESH_INTERVAL = 86400
CREDMON_OAUTH_WORKERS = 1024
CREDMON_OAUTH_MIN_BACKOFF = 86400
CREDMON_OAUTH_MAX_BACKOFF = 86400
MAX_CREDMON_OAUTH_LOG = 0
MAX_NUM_CREDMON_OAUTH_LOG = 10000
LOCAL_CREDMON_TOKEN_LIFETIME = 31536000
`, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.HTTPTimeout, maxRequestTimeout)
	eq(t, m.ConnectTimeout, time.Millisecond)
	eq(t, m.ScanInterval, time.Second)
	eq(t, m.SecCredentialRefresh, maxScheduleSpan)
	eq(t, m.MinRefreshInterval, maxScheduleSpan)
	eq(t, m.Workers, maxWorkers)
	eq(t, m.MaxLog, int64(0))
	eq(t, m.MaxNumLog, maxNumLog)
	eq(t, len(m.Warnings), 0)
}

// TestMinRefreshIntervalBelowFloorIsRaisedWithWarning: MIN_REFRESH_INTERVAL
// = 0 with tokens that live less than SEC_CREDENTIAL_REFRESH + margin made
// the daemon refresh them in a tight loop (2,993 local mints in 8 s). It is
// raised to MinRefreshIntervalFloor, and the warning names the knob.
func TestMinRefreshIntervalBelowFloorIsRaisedWithWarning(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
		warns bool
	}{
		{"0", MinRefreshIntervalFloor, true},
		{"0.999", MinRefreshIntervalFloor, true},
		{"1", time.Second, false},
		{"30", 30 * time.Second, false},
	} {
		m, err := credmonFrom(t, "CREDMON_OAUTH_MIN_REFRESH_INTERVAL = "+tt.value+"\n", Overrides{})
		if err != nil {
			t.Fatalf("MIN_REFRESH_INTERVAL = %s: %v", tt.value, err)
		}
		if m.MinRefreshInterval != tt.want {
			t.Errorf("MIN_REFRESH_INTERVAL = %s: MinRefreshInterval = %v; want %v", tt.value, m.MinRefreshInterval, tt.want)
		}
		if got := contains(m.Warnings, "CREDMON_OAUTH_MIN_REFRESH_INTERVAL = "); got != tt.warns {
			t.Errorf("MIN_REFRESH_INTERVAL = %s: warnings %q; want a warning naming the knob: %v", tt.value, m.Warnings, tt.warns)
		}
	}
}

// TestMinBackoffBelowFloorIsRaisedWithWarning: a millisecond MIN_BACKOFF
// retries a failing issuer, and re-sends a rotated refresh token the daemon
// could not save, in a loop. It is raised to minBackoffFloor (and
// MAX_BACKOFF with it when smaller).
func TestMinBackoffBelowFloorIsRaisedWithWarning(t *testing.T) {
	m, err := credmonFrom(t, "CREDMON_OAUTH_MIN_BACKOFF = 0.001\nCREDMON_OAUTH_MAX_BACKOFF = 0.5\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.MinBackoff, minBackoffFloor)
	eq(t, m.MaxBackoff, minBackoffFloor)
	if !contains(m.Warnings, "CREDMON_OAUTH_MIN_BACKOFF = 1ms") {
		t.Errorf("warnings %q; want one naming CREDMON_OAUTH_MIN_BACKOFF", m.Warnings)
	}
	m, err = credmonFrom(t, "CREDMON_OAUTH_MIN_BACKOFF = 1\nCREDMON_OAUTH_MAX_BACKOFF = 2\n", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, m.MinBackoff, time.Second)
	eq(t, m.MaxBackoff, 2*time.Second)
	eq(t, len(m.Warnings), 0)
}

// TestShortLocalLifetimeWarns: a local provider whose tokens live no longer
// than SEC_CREDENTIAL_REFRESH + REFRESH_MARGIN re-mints every token at each
// MIN_REFRESH_INTERVAL; the warning names the provider and the knob that set
// the lifetime (or says it is the default).
func TestShortLocalLifetimeWarns(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string // substrings, one warning each
	}{
		{"defaults", "", nil},
		{"default lifetime under a long SEC_CREDENTIAL_REFRESH", "SEC_CREDENTIAL_REFRESH = 1140\n",
			[]string{"local provider scitokens: LOCAL_CREDMON_TOKEN_LIFETIME (default) = 20m0s is not longer than SEC_CREDENTIAL_REFRESH + CREDMON_OAUTH_REFRESH_MARGIN = 20m0s"}},
		{"one second more is enough", "SEC_CREDENTIAL_REFRESH = 1139\n", nil},
		{"per-provider knob named", "LOCAL_CREDMON_PROVIDER_NAMES = a, b\nLOCAL_CREDMON_B_TOKEN_LIFETIME = 300\n",
			[]string{"local provider b: LOCAL_CREDMON_B_TOKEN_LIFETIME = 5m0s"}},
		{"global knob for every provider", "LOCAL_CREDMON_PROVIDER_NAMES = a, b\nLOCAL_CREDMON_TOKEN_LIFETIME = 60\nCREDMON_OAUTH_REFRESH_MARGIN = 0\nSEC_CREDENTIAL_REFRESH = 60\n",
			[]string{"local provider a: LOCAL_CREDMON_TOKEN_LIFETIME = 1m0s", "local provider b: LOCAL_CREDMON_TOKEN_LIFETIME = 1m0s"}},
		// A bad lifetime is Local's error, reported per provider by the
		// daemon; it is not also a warning here.
		{"bad lifetime left to Local", "LOCAL_CREDMON_TOKEN_LIFETIME = nan\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := credmonFrom(t, tt.config, Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Warnings) != len(tt.want) {
				t.Fatalf("warnings %q; want %d", m.Warnings, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(m.Warnings[i], w) {
					t.Errorf("warning %d = %q; want it to contain %q", i, m.Warnings[i], w)
				}
			}
		})
	}
}

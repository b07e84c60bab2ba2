package condorcfg

import (
	"strconv"
	"strings"
	"testing"
)

func TestTypedGetters(t *testing.T) {
	cfg := mustLoad(t, `
T1 = true
T2 = YES
T3 = t
T4 = 1
T5 = 3 > 2
F1 = False
F2 = no
F3 = F
F4 = 0
F5 = 0.0
BADB = maybe
I1 = 42
I2 = -7
I3 = 128*1024
I4 = (1+2)*3 - 10 / 3
I5 = 2.9
I6 = true
I7 = $(I1) + 1
I8 = 99999999999999999999
BADI = 12 apples
DIV0 = 1/0
R1 = 0.5
R2 = 1e3
R3 = 3/2
R4 = 3.0/2
R5 = 7
BADR = half
EMPTY =
SZ1 = 10 Mb
SZ2 = 512
SZ3 = 2 GB
SZ4 = 4k
SZ5 = 1 Mib
SZT = 2 h
BADSZ = 10 parsecs
`, testOpts(""))
	boolCases := []struct {
		knob string
		def  bool
		want bool
	}{
		{"T1", false, true}, {"T2", false, true}, {"T3", false, true}, {"T4", false, true}, {"T5", false, true},
		{"F1", true, false}, {"F2", true, false}, {"F3", true, false}, {"F4", true, false}, {"F5", true, false},
		{"UNSET", true, true}, {"UNSET", false, false}, {"EMPTY", true, true},
	}
	for _, tt := range boolCases {
		if got, err := cfg.Bool(tt.knob, tt.def); err != nil || got != tt.want {
			t.Errorf("Bool(%s, %v) = %v, %v; want %v", tt.knob, tt.def, got, err, tt.want)
		}
	}
	intCases := []struct {
		knob string
		want int64
	}{
		{"I1", 42}, {"I2", -7}, {"I3", 131072}, {"I4", 6}, {"I5", 2}, {"I6", 1}, {"I7", 43}, {"UNSET", -1}, {"EMPTY", -1},
	}
	for _, tt := range intCases {
		if got, err := cfg.Int(tt.knob, -1); err != nil || got != tt.want {
			t.Errorf("Int(%s, -1) = %d, %v; want %d", tt.knob, got, err, tt.want)
		}
	}
	floatCases := []struct {
		knob string
		want float64
	}{
		{"R1", 0.5}, {"R2", 1000}, {"R3", 1}, {"R4", 1.5}, {"R5", 7}, {"UNSET", -1},
	}
	for _, tt := range floatCases {
		if got, err := cfg.Float(tt.knob, -1); err != nil || got != tt.want {
			t.Errorf("Float(%s, -1) = %v, %v; want %v", tt.knob, got, err, tt.want)
		}
	}
	sizeCases := []struct {
		knob string
		want int64
	}{
		{"SZ1", 10 << 20}, {"SZ2", 512}, {"SZ3", 2 << 30}, {"SZ4", 4 << 10}, {"SZ5", 1 << 20}, {"UNSET", -1},
		{"MAX_DEFAULT_LOG", 10 << 20},
	}
	for _, tt := range sizeCases {
		if got, err := cfg.LogSize(tt.knob, -1); err != nil || got != tt.want {
			t.Errorf("LogSize(%s, -1) = %d, %v; want %d", tt.knob, got, err, tt.want)
		}
	}
	errCases := []struct {
		name string
		call func() error
		want string
	}{
		{"bool", func() error { _, err := cfg.Bool("BADB", true); return err }, `knob BADB = "maybe" is not a boolean`},
		{"int words", func() error { _, err := cfg.Int("BADI", 0); return err }, `knob BADI = "12 apples" is not an integer`},
		{"int overflow", func() error { _, err := cfg.Int("I8", 0); return err }, `knob I8 = "99999999999999999999" is not an integer`},
		{"int div by zero", func() error { _, err := cfg.Int("DIV0", 0); return err }, `knob DIV0 = "1/0" is not an integer`},
		{"float", func() error { _, err := cfg.Float("BADR", 0); return err }, `knob BADR = "half" is not a number`},
		{"size unit", func() error { _, err := cfg.LogSize("BADSZ", 0); return err }, `knob BADSZ = "10 parsecs" must be an integer >= 0`},
		{"size is time", func() error { _, err := cfg.LogSize("SZT", 0); return err }, `knob SZT = "2 h" is a time`},
		{"int of size", func() error { _, err := cfg.Int("MAX_DEFAULT_LOG", 0); return err }, `knob MAX_DEFAULT_LOG = "10 Mb" is not an integer`},
	}
	for _, tt := range errCases {
		if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v; want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestEvalExpr(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"1+2*3", "7"}, {"(1+2)*3", "9"}, {"-3 % 2", "-1"}, {"7/2", "3"}, {"7.0/2", "3.5"},
		{"1 < 2 && 2 <= 2", "true"}, {"!(1 == 1) || false", "false"}, {"1e2+1", "101"},
		{"true == true", "true"}, {"2 != 2.0", "false"},
	}
	for _, tt := range tests {
		v, err := evalExpr(tt.in)
		var got string
		switch v.k {
		case vInt:
			got = strconv.FormatInt(v.i, 10)
		case vReal:
			got = strconv.FormatFloat(v.f, 'g', -1, 64)
		case vBool:
			got = map[bool]string{true: "true", false: "false"}[v.b]
		}
		if err != nil || got != tt.want {
			t.Errorf("evalExpr(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "foo", "1 +", "(1", "\"s\"", "1 + true", "true && 1", "1 % 2.0", "f(1)", "0x10"} {
		if _, err := evalExpr(bad); err == nil {
			t.Errorf("evalExpr(%q): got nil error; want one", bad)
		}
	}
}

// TestLogSizeRefusesOverflow: the sizes LoadCredmon reads (through
// Config.LogSize) keep the dprintf units and refuse a value whose byte count
// does not fit an int64, which used to wrap around to a negative size.
func TestLogSizeRefusesOverflow(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10 Mb", 10 << 20, true}, {"10Mb", 10 << 20, true}, {"500", 500, true}, {" 1 k", 1024, true},
		{"2 Gb", 2 << 30, true}, {"7 bytes", 7, true}, {"1 Tb", 1 << 40, true}, {"8388607 Tb", 8388607 << 40, true},
		{"8388608 Tb", 0, false}, {"9999999999999 Tb", 0, false}, {"-8388609 Tb", 0, false},
		{"Mb", 0, false}, {"", 0, false}, {"-", 0, false}, {"1 x", 0, false},
	} {
		got, isTime, ok := parseLogSize(tt.in)
		if ok != tt.ok || isTime || (ok && got != tt.want) {
			t.Errorf("parseLogSize(%q) = %d, %v, %v; want %d, false, %v", tt.in, got, isTime, ok, tt.want, tt.ok)
		}
	}
}

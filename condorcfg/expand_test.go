package condorcfg

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestMacroFunctions(t *testing.T) {
	conf := `
FILE = /opt/data/job.tar.gz
QFILE = "/opt/data/job.sub"
BARE = job.sub
WIN = C:\dir\file.txt
SIX = 2*3
LIST = red, green, blue
E1 = $ENV(HOME)
E2 = $ENV(NOPE)
E3 = $ENV(NOPE:fallback)
E4 = $ENV(EMPTYVAR:fallback)
I1 = $INT(SIX)
I2 = $INT(7)
I3 = $INT(3.9)
R1 = $REAL(SIX)
R2 = $REAL(1.5)
C1 = $CHOICE(1, LIST)
C2 = $CHOICE(0, a, b, c)
C3 = $CHOICE(I1, w, x, y, z, u, v, last)
S1 = $SUBSTR(FILE, 1, 3)
S2 = $SUBSTR(FILE, -6)
S3 = $SUBSTR(FILE, 5, -7)
P = $Fp(FILE)
N = $Fn(FILE)
X = $Fx(FILE)
NX = $Fnx(FILE)
D = $Fd(FILE)
DB = $Fdb(FILE)
DD = $Fdd(FILE)
PB = $Fpb(FILE)
XB = $Fxb(FILE)
Q = $Fqn(QFILE)
QA = $Fqa(BARE)
UNQ = $F(QFILE)
U = $Fu(WIN)
BN = $BASENAME(FILE)
DN = $DIRNAME(FILE)
LIT = $Fn(/literal/path.ext)
`
	cfg := mustLoad(t, conf, testOpts("", "HOME=/home/c", "EMPTYVAR="))
	tests := map[string]string{
		"E1": "/home/c", "E2": "UNDEFINED", "E3": "fallback", "E4": "<unset>",
		"I1": "6", "I2": "7", "I3": "3", "R1": "6", "R2": "1.5",
		"C1": "green", "C2": "a", "C3": "last",
		"S1": "opt", "S2": "tar.gz", "S3": "data/job",
		"P": "/opt/data/", "N": "job.tar", "X": ".gz", "NX": "job.tar.gz",
		"D": "data/", "DB": "data", "DD": "opt/data/", "PB": "/opt/data", "XB": "gz",
		"Q": `"job"`, "QA": "'job.sub'", "UNQ": "/opt/data/job.sub",
		"U": "C:/dir/file.txt", "BN": "job.tar.gz", "DN": "/opt/data/",
		"LIT": "path",
	}
	for k, want := range tests {
		if got := lookup(t, cfg, k); got != want {
			t.Errorf("Lookup(%s) = %q; want %q", k, got, want)
		}
	}
}

func TestRandomFunctions(t *testing.T) {
	cfg := mustLoad(t, "R = $RANDOM_INTEGER(10, 20, 5)\nC = $RANDOM_CHOICE(a,b,c)\nL = x, y\nCL = $RANDOM_CHOICE(L)\n", testOpts(""))
	for range 50 {
		n, err := strconv.Atoi(lookup(t, cfg, "R"))
		if err != nil || (n != 10 && n != 15 && n != 20) {
			t.Fatalf("$RANDOM_INTEGER(10, 20, 5) = %q; want 10, 15 or 20", lookup(t, cfg, "R"))
		}
		if c := lookup(t, cfg, "C"); c != "a" && c != "b" && c != "c" {
			t.Fatalf("$RANDOM_CHOICE(a,b,c) = %q", c)
		}
		if c := lookup(t, cfg, "CL"); c != "x" && c != "y" {
			t.Fatalf("$RANDOM_CHOICE(L) = %q; want x or y", c)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	conf := `A = $(B)
B = $(C)
C = $(A)
SELF = $INT(SELF)
STR = $STRING(x)
EV = x $EVAL(1+1)
FMT = $INT(1, %05d)
NOTINT = $INT(abc)
BADCHOICE = $CHOICE(9, a, b)
NOLIST = $CHOICE(0, MISSING)
RI = $RANDOM_INTEGER(5, 1)
USESTR = $(STR)
`
	cfg := mustLoad(t, conf, testOpts(""))
	tests := []struct {
		name, want  string
		unsupported bool
	}{
		{"A", "test.conf:1: A: macro expansion loop: A -> B -> C -> A", false},
		{"SELF", "test.conf:4: SELF: macro expansion loop: SELF -> SELF", false},
		{"STR", "test.conf:5: expanding STR: $STRING() needs ClassAd evaluation: condorcfg: not supported by the native parser", true},
		{"EV", "test.conf:6: expanding EV: $EVAL() needs ClassAd evaluation: condorcfg: not supported by the native parser", true},
		{"FMT", `test.conf:7: expanding FMT: $INT() format argument " %05d": condorcfg: not supported by the native parser`, true},
		{"NOTINT", "test.conf:8: expanding NOTINT: $INT(): abc does not evaluate to an integer", false},
		{"BADCHOICE", "test.conf:9: expanding BADCHOICE: $CHOICE(): index 9 is out of range", false},
		{"NOLIST", "test.conf:10: expanding NOLIST: $CHOICE(): no list named MISSING", false},
		{"RI", "test.conf:11: expanding RI: $RANDOM_INTEGER(): min > max", false},
		{"USESTR", "test.conf:12: expanding USESTR: $STRING() needs ClassAd evaluation: condorcfg: not supported by the native parser", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok, err := cfg.LookupErr(tt.name)
			if err == nil || ok {
				t.Fatalf("LookupErr(%s) = ok %v, err %v; want an error", tt.name, ok, err)
			}
			if err.Error() != tt.want {
				t.Errorf("LookupErr(%s) error = %q\nwant                   %q", tt.name, err, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("LookupErr(%s) error is %T; want *SyntaxError", tt.name, err)
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(LookupErr(%s), ErrUnsupported) = %v; want %v", tt.name, got, tt.unsupported)
			}
		})
	}
	// Lookup swallows the error but keeps the first one for Err.
	if v, ok := cfg.Lookup("A"); ok || v != "" {
		t.Errorf("Lookup(A) = %q, %v; want \"\", false", v, ok)
	}
	if err := cfg.Err(); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("Err() = %v; want the loop error", err)
	}
	if _, err := cfg.Int("NOTINT", 1); err == nil {
		t.Errorf("Int(NOTINT): got nil error; want the expansion error")
	}
}

func TestExpansionIsBounded(t *testing.T) {
	// Each level doubles the text: 2^40 bytes if nothing stopped it.
	var b strings.Builder
	b.WriteString("L0 = xxxxxxxxxxxxxxxx\n")
	for i := 1; i <= 40; i++ {
		b.WriteString("L" + strconv.Itoa(i) + " = $(L" + strconv.Itoa(i-1) + ")$(L" + strconv.Itoa(i-1) + ")\n")
	}
	cfg := mustLoad(t, b.String(), testOpts(""))
	_, _, err := cfg.LookupErr("L40")
	if !errors.Is(err, errTooBig) {
		t.Errorf("LookupErr(L40) = %v; want %v", err, errTooBig)
	}
	if got := lookup(t, cfg, "L3"); got != strings.Repeat("x", 128) {
		t.Errorf("Lookup(L3) = %q; want 128 x", got)
	}
}

func TestLookupInvalidNames(t *testing.T) {
	cfg := mustLoad(t, "A = 1\n", testOpts(""))
	for _, n := range []string{"", "a b", "$(A)", "A-B", "A\n"} {
		if v, ok, err := cfg.LookupErr(n); ok || err != nil || v != "" {
			t.Errorf("LookupErr(%q) = %q, %v, %v; want unset", n, v, ok, err)
		}
	}
}

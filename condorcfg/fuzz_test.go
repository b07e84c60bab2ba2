package condorcfg

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the native parser and then expands every
// knob it defined. Neither step may panic or run unbounded; errors are fine.
// Files and directories are off limits so that "include : /etc/passwd" or
// LOCAL_CONFIG_DIR = / cannot make a run depend on the machine.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"A = 1\nB = $(A) 2\n",
		"A = x \\\n  y\n# c \\\nB=2\n",
		"M @=end\n a\n b\n@end\n",
		"if version >= 8.1.2\nA = 1\nelif defined B\nA = 2\nelse\nA = 3\nendif\n",
		"use feature : OAUTH\nuse security:recommended_v9_0(a,b,c)\nuse role:submit, execute\n",
		"include ifexist : /nonexistent\ninclude : x\n",
		"A = $(B:$(C:d))\nB = $($(C))\nC = $(A)\n",
		"F = /a/b.c\nG = $Fpnxdqb(F) $BASENAME(F) $DIRNAME(F) $Fw(F) $Fua(F)\n",
		"I = $INT(1+2*3) $REAL(1.5) $CHOICE(1,a,b) $SUBSTR(I,1,2) $RANDOM_INTEGER(1,9,2) $RANDOM_CHOICE(a,b)\n",
		"E = $ENV(HOME) $ENV(X:y) $$(Q) $(DOLLAR)\n",
		"A = $(A)$(A)\nA = $(A)$(A)\nA = $(A)$(A)\n",
		"L0 = xx\nL1 = $(L0)$(L0)\nL2 = $(L1)$(L1)\nL3 = $(L2)$(L2)\n",
		":if true\n:A = 1\nendif\n[sec]\nerror : x\n",
		"#opt:oldcomment\nA : b\n#opt:strict\nC : d\n",
		"LOCAL_CONFIG_DIR = /\nLOCAL_CONFIG_FILE = /etc/passwd\n",
		"use feature:PartitionableSlot($(1)$(1))\n",
		"$(X) = $(Y)\n$Fp(X)=1\n",
		"if $(UNDEF)\nendif\nif ! defined use feature:oauth\nendif\n",
		"\x00",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		opts := testOpts("CREDMON_OAUTH", "HOME=/h", "_CONDOR_Z=$(A)")
		denied := errors.New("fuzz: file access denied")
		opts.sys.readFile = func(string) ([]byte, error) { return nil, denied }
		opts.sys.listDir = func(string) ([]string, error) { return nil, denied }
		cfg, err := LoadString("fuzz.conf", string(data), opts)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) && !strings.Contains(err.Error(), "fuzz: file access denied") &&
				!errors.Is(err, ErrUnsupported) {
				// Every parse failure of file content must carry a location.
				if !strings.Contains(err.Error(), "LOCAL_CONFIG") && !strings.Contains(err.Error(), "REQUIRE_LOCAL_CONFIG_FILE") {
					t.Fatalf("error without location: %v", err)
				}
			}
			return
		}
		nb := cfg.b.(*nativeBackend)
		for key := range nb.r.t.m {
			v, ok, err := cfg.LookupErr(key)
			if err == nil && ok && len(v) > maxValueLen {
				t.Fatalf("Lookup(%s) returned %d bytes, more than maxValueLen", key, len(v))
			}
			cfg.Bool(key, false)
			cfg.Int(key, 0)
		}
	})
}

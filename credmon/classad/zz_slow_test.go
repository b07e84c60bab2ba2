package classad_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/credmon/classad"
)

func TestZZSlow(t *testing.T) {
	dir := os.Getenv("FUZZDIR")
	if dir == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	ad := classad.NewAd()
	ad.SetString("Username", "alice")
	ad.SetInt("a", 1)
	ad.Set("cyc", classad.MustParse("cyc + 1"))
	ad.Set("l", classad.MustParse(`{1, "x", l}`))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := strings.SplitN(string(b), "\n", 2)
		src, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "string("), ")"))
		if err != nil {
			continue
		}
		start := time.Now()
		e, err := classad.Parse(src)
		if err == nil {
			s := e.String()
			e2, _ := classad.Parse(s)
			render(classad.Eval(e, ad))
			render(classad.Eval(e2, ad))
		}
		if d := time.Since(start); d > 5*time.Millisecond {
			t.Logf("%v %d bytes %q", d, len(src), src[:min(len(src), 120)])
		}
	}
}

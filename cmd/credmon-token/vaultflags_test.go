package main

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/credmon/credmon/producer/source"
)

func TestParseTTLReadsHtgettokensDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "0s": 0, "90": 90 * time.Second, "30m": 30 * time.Minute, "1h30m": 90 * time.Minute,
	} {
		if got, err := source.ParseTTL(in); err != nil || got != want {
			t.Errorf("source.ParseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1h", "1w", "x1h"} {
		if _, err := source.ParseTTL(bad); err == nil {
			t.Errorf("source.ParseTTL(%q) accepted", bad)
		}
	}
}

// TestInterleavedFlagsAndBundledCount protects argparse's forms that Go's
// flag package did not take by itself: options after the positional
// principal, and -vv; and "--" ending the options.
func TestInterleavedFlagsAndBundledCount(t *testing.T) {
	var o getOptions
	var minsecs int
	var v countFlag
	var version bool
	fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fl.SetOutput(io.Discard)
	o.register(fl, &minsecs, &v, &version)
	if err := fl.Parse(goFlagSpellings(fl, []string{"robot/host", "-vv", "-k", "kt", "-v", "--", "-x"})); err != nil {
		t.Fatal(err)
	}
	if pos := fl.Args(); !slices.Equal(pos, []string{"robot/host", "-x"}) || v != 3 || o.vf.keytab != "kt" {
		t.Fatalf("positional %q, -v %d, -k %q; want [robot/host -x], 3, kt", pos, v, o.vf.keytab)
	}
	if got := source.SplitList("a,b c,,d"); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("splitList = %q", got)
	}
}

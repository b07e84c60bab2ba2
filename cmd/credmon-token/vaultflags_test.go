package main

import (
	"flag"
	"io"
	"slices"
	"testing"
	"time"

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
// flag package does not take by itself: options after the positional
// principal, and -vv.
func TestInterleavedFlagsAndBundledCount(t *testing.T) {
	fl := flag.NewFlagSet("t", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	var v countFlag
	var k string
	fl.Var(&v, "v", "")
	fl.StringVar(&k, "k", "", "")
	pos, err := parseInterleaved(fl, expandShortCount([]string{"robot/host", "-vv", "-k", "kt", "-v", "--", "-x"}, "v"))
	if err != nil || !slices.Equal(pos, []string{"robot/host", "-x"}) || v != 3 || k != "kt" {
		t.Fatalf("positional %q, -v %d, -k %q, err %v; want [robot/host -x], 3, kt", pos, v, k, err)
	}
	if got := source.SplitList("a,b c,,d"); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("splitList = %q", got)
	}
}

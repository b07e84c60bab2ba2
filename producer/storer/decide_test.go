package storer_test

import (
	"errors"
	"testing"

	"github.com/credmon/credmon/producer/storer"
)

func TestQueryResultOfCondorStoreCredExit(t *testing.T) {
	for exit, want := range map[int]storer.QueryResult{0: storer.Present, 1: storer.Missing, 2: storer.Mismatch} {
		if got, err := storer.QueryResultOf(exit); err != nil || got != want {
			t.Errorf("QueryResultOf(%d) = %v, %v; want %v", exit, got, err, want)
		}
	}
	for _, exit := range []int{3, 127, -1} {
		if _, err := storer.QueryResultOf(exit); err == nil {
			t.Errorf("QueryResultOf(%d) succeeded; want an error", exit)
		}
	}
}

func TestCheckStopsOnEitherMismatch(t *testing.T) {
	const svc, h = "igwn", "igwn_ro"
	for _, tc := range []struct {
		service, handle storer.QueryResult
		hasHandle       bool
		wantName        string
	}{
		{storer.Mismatch, storer.Present, true, svc},
		{storer.Present, storer.Mismatch, true, h},
		{storer.Missing, storer.Mismatch, true, h},
		{storer.Mismatch, storer.Missing, false, svc},
		{storer.Present, storer.Mismatch, false, ""}, // no handle: its result is not looked at
		{storer.Present, storer.Present, true, ""},
		{storer.Missing, storer.Missing, true, ""},
	} {
		err := storer.Check(tc.service, tc.handle, tc.hasHandle, svc, h)
		var mm *storer.MismatchError
		got := ""
		if errors.As(err, &mm) {
			got = mm.Name
		} else if err != nil {
			t.Fatalf("Check = %v; want a MismatchError or nil", err)
		}
		if got != tc.wantName {
			t.Errorf("Check(%v, %v, %v) mismatch on %q; want %q", tc.service, tc.handle, tc.hasHandle, got, tc.wantName)
		}
	}
}

// TestDecideStoresOnlyWhatIsMissingOrNew is the table of what the storer
// stores: a second run within the source's session stores nothing.
func TestDecideStoresOnlyWhatIsMissingOrNew(t *testing.T) {
	P, M := storer.Present, storer.Missing
	for _, tc := range []struct {
		name            string
		service, handle storer.QueryResult
		hasHandle, new  bool
		want            storer.Plan
		err             error
	}{
		{"first run", M, M, false, true, storer.Plan{Service: true}, nil},
		{"first run with handle", M, M, true, true, storer.Plan{Service: true, Handle: true}, nil},
		{"second run", P, M, false, false, storer.Plan{}, nil},
		{"second run with handle", P, P, true, false, storer.Plan{}, nil},
		{"source renewed its session", P, M, false, true, storer.Plan{Service: true}, nil},
		{"renewed: the handle follows", P, P, true, true, storer.Plan{Service: true, Handle: true}, nil},
		{"new handle on a stored service", P, M, true, false, storer.Plan{Handle: true}, nil},
		{"service deleted, handle kept", M, P, true, true, storer.Plan{Service: true, Handle: true}, nil},
		{"source did not renew a missing service", M, M, false, false, storer.Plan{}, storer.ErrNotNew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := storer.MustRenew(tc.service); got != (tc.service == M) {
				t.Errorf("MustRenew(%v) = %v", tc.service, got)
			}
			got, err := storer.Decide(tc.service, tc.handle, tc.hasHandle, tc.new)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Decide = %v; want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Decide(%v, %v, handle %v, new %v) = %+v; want %+v", tc.service, tc.handle, tc.hasHandle, tc.new, got, tc.want)
			}
		})
	}
}

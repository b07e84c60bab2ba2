#!/usr/bin/env bash
# Runs every Fuzz target of the given packages (default ./...) for FUZZTIME
# each, and tells a real finding from a fuzz-engine hiccup:
#
#   - a finding is a new file under <pkg>/testdata/fuzz/<Target>/ written by
#     this run (a crasher), or any other failure: a seed corpus entry that
#     fails, tests that do not compile;
#   - a hiccup is a run that failed with "context deadline exceeded" or
#     "fuzzing process hung or terminated unexpectedly" and wrote no crasher.
#     The Go toolchain does that on a loaded machine; it is reported as a
#     warning and the remaining targets still run.
#
# Exits 1 after the last target when there was any finding, listing them.
# Usage: GO=go FUZZTIME=10s scripts/fuzz.sh [packages...]
set -u
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
[ $# -gt 0 ] || set -- ./...

log=$(mktemp)
trap 'rm -f "$log"' EXIT
trap 'exit 130' INT TERM

findings=()
hiccups=()
ran=0

# corpus lists the files of a target's corpus directory, one per line.
corpus() {
	if [ -d "$1" ]; then find "$1" -type f | LC_ALL=C sort; fi
}

# Only packages with test files can have Fuzz targets; skip the others
# without compiling anything.
pkgs=$("$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}|{{.Dir}}{{end}}' "$@") || {
	echo "fuzz: go list $* failed" >&2
	exit 1
}

for entry in $pkgs; do
	pkg=${entry%%|*}
	dir=${entry#*|}
	if ! list=$("$GO" test -list '^Fuzz' "$pkg" 2>&1); then
		printf '%s\n' "$list"
		findings+=("$pkg: listing its tests failed (see above)")
		continue
	fi
	for fz in $(printf '%s\n' "$list" | grep '^Fuzz' || true); do
		echo "== $pkg $fz"
		ran=$((ran + 1))
		cdir="$dir/testdata/fuzz/$fz"
		before=$(corpus "$cdir")
		"$GO" test -run '^$' -fuzz "^$fz\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		new=$(comm -13 <(printf '%s\n' "$before") <(corpus "$cdir") | sed '/^$/d')
		if [ -n "$new" ]; then
			findings+=("$pkg $fz: new crasher $(printf '%s ' $new)(go test -run '^$fz\$' $pkg reproduces it)")
		elif [ "$rc" -eq 0 ]; then
			:
		elif grep -Eq 'context deadline exceeded|fuzzing process hung or terminated unexpectedly' "$log" &&
			! grep -Eq 'Failing input written to|failure while testing seed corpus entry' "$log"; then
			hiccups+=("$pkg $fz: the fuzz engine stopped without writing a crasher ($(grep -Eo 'context deadline exceeded|fuzzing process hung or terminated unexpectedly[^:]*' "$log" | head -1)); not a finding, re-run it to cover the rest of its time")
		else
			findings+=("$pkg $fz: exit status $rc without a new crasher file (see its output above)")
		fi
	done
done

echo
echo "fuzz: $ran targets, ${#findings[@]} findings, ${#hiccups[@]} engine hiccups (FUZZTIME=$FUZZTIME)"
for h in "${hiccups[@]}"; do
	echo "warning: $h"
done
if [ ${#findings[@]} -gt 0 ]; then
	for f in "${findings[@]}"; do
		echo "FINDING: $f"
	done
	exit 1
fi

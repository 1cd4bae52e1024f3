#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func FuzzXxx in a *_test.go file)
# for a while each. go test -fuzz takes one target at a time, so the targets
# of one package run one after the other, and the packages side by side,
# each fuzzing with one worker (on two cores this halves the wall time of
# the brief run `make test` makes, most of which is building and starting).
# A failing input is written to the package's testdata/fuzz, where it stays
# as a regression test once committed.
#
#   .ci/fuzz.sh [FUZZTIME]   default 3s; `make test` runs it briefly,
#                            `make fuzz` for longer
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-3s}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# fuzz_one fuzzes target $2 of package $1 once; its output goes to $3 too.
fuzz_one() {
	go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" -parallel 1 "$1" 2>&1 | tee "$3"
	return "${PIPESTATUS[0]}"
}

# fuzz_package runs the targets of package $1 (the rest of the arguments).
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" when -fuzztime ends while a starved worker is still
# running an input (go.dev/issue/75804, fixed in Go 1.27): such a failure,
# with no failing input written, is run once more; any other failure stands.
fuzz_package() {
	local pkg=$1 target status=0 out
	shift
	out=$(mktemp)
	for target in "$@"; do
		echo "fuzz: $pkg $target ($fuzztime)"
		if fuzz_one "$pkg" "$target" "$out"; then
			continue
		fi
		if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
			echo "fuzz: $pkg $target: the coordinator's deadline race (go.dev/issue/75804); once more"
			fuzz_one "$pkg" "$target" "$out" && continue
		fi
		status=1
	done
	rm -f "$out"
	return "$status"
}

declare -A targets=()
while IFS=: read -r file target; do
	pkg=./$(dirname "$file")
	targets[$pkg]+=" $target"
done < <(grep -rHo --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*' . |
	sed 's|^\./||; s|:func |:|' | sort)

pids=() names=()
for pkg in "${!targets[@]}"; do
	# shellcheck disable=SC2086 # the targets are words
	fuzz_package "$pkg" ${targets[$pkg]} >"$logs/$((${#pids[@]})).log" 2>&1 &
	pids+=($!) names+=("$pkg")
done
status=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || status=1
	cat "$logs/$i.log"
done
exit "$status"

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

# fuzz_package runs the targets of package $1 (the rest of the arguments).
fuzz_package() {
	local pkg=$1 target status=0
	shift
	for target in "$@"; do
		echo "fuzz: $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel 1 "$pkg" || status=1
	done
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

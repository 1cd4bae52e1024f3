#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func FuzzXxx in a *_test.go file)
# for a while each, one after the other: go test -fuzz takes one target at a
# time. A failing input is written to the package's testdata/fuzz, where it
# stays as a regression test once committed.
#
#   .ci/fuzz.sh [FUZZTIME]   default 3s; `make test` runs it briefly,
#                            `make fuzz` for longer
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-3s}
status=0
while IFS=: read -r file target; do
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $target ($fuzztime)"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" || status=1
done < <(grep -rHo --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*' . |
	sed 's|^\./||; s|:func |:|' | sort)
exit "$status"

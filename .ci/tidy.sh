#!/usr/bin/env bash
# go.mod and go.sum are exactly what `go mod tidy` makes of them, checked the
# same way on every machine: every module of the build graph, test-only ones
# of dependencies included, must resolve. A module that the proxy (or the
# network) refuses fails the check with that reason, never passes it
# silently: otherwise a go.sum missing lines passes here and fails elsewhere.
set -uo pipefail
cd "$(dirname "$0")/.."

err=$(mktemp)
trap 'rm -f "$err"' EXIT
diff=$(go mod tidy -diff 2>"$err")
status=$?
if [[ $status -eq 0 ]]; then
	exit 0
fi
if [[ -n $diff ]]; then
	printf '%s\n' "$diff"
	echo
	echo "tidy: go.mod/go.sum are not tidy. Run 'go mod tidy' and commit go.mod and go.sum." >&2
	exit 1
fi
cat "$err" >&2
echo >&2
echo "tidy: 'go mod tidy' could not resolve every module (above), so tidiness cannot be checked" >&2
echo "tidy: on this machine. Make the module proxy reachable (GOPROXY, GOFLAGS, network) and" >&2
echo "tidy: run 'make check' again; see README \"When the tidy check fails\"." >&2
exit 1

#!/usr/bin/env bash
# Runs the suite (`test`) or the benchmarks (`bench`) on SQLite and on a
# throwaway PostgreSQL cluster shared by all packages, removed at exit.
#
#   .ci/test.sh test    deps, make check, go test -race; every engine and the
#                       browser are required (PAYPAGE_REQUIRE_ALL=1)
#   .ci/test.sh bench   deps, go test -bench, then the harness (cmd/paybench:
#                       paypage against the reference servers, both engines;
#                       docs/performance.md); PostgreSQL when it can be had
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-test}
case $mode in
test | bench) ;;
*)
	echo "usage: $0 test|bench" >&2
	exit 2
	;;
esac

.ci/deps.sh
if [[ $mode == test ]]; then
	# make test is bound by CPU on two cores, and the machine has the
	# memory: at GOGC=400 the handlers tests took 96 CPU-s, at 100 109.
	# For vet, the compiler, the test binaries and the servers they start.
	export GOGC=400
	make --no-print-directory check
fi

# Two temp paths: the cluster's directory is handed to the postgres user,
# who could not enter one inside a directory of root's.
pgdir=$(mktemp -d)
engines=$(mktemp)
trap '.ci/pg.sh stop "$pgdir"; rm -f "$engines"' EXIT
# The tests' databases live for seconds each, hundreds of them, and with
# autovacuum on the cluster spent about an eighth more CPU (79 CPU-s
# against 70 over the handlers, store and cmd/paypage tests), its
# launcher visiting every one. The benchmarks keep it, as a server would.
pgopts=()
[[ $mode == test ]] && pgopts=(-c autovacuum=off)
if url=$(.ci/pg.sh start "$pgdir" "${pgopts[@]}"); then
	export PAYPAGE_TEST_POSTGRES_URL=$url
elif [[ $mode == test ]]; then
	exit 1
else
	echo "test.sh: no PostgreSQL; benchmarking SQLite only" >&2
fi
# store/storetest's Main appends "<package dir>: engines ran: ..." here,
# since go test shows nothing of a passing package's output.
export PAYPAGE_TEST_ENGINES_LOG=$engines

status=0
if [[ $mode == test ]]; then
	# The whole output is kept; what is shown is what failed, then the time
	# each package took. -parallel: the browser and live tests spend most
	# of their time waiting on Chromium and the servers, not on our CPU.
	out=$(mktemp)
	trap '.ci/pg.sh stop "$pgdir"; rm -f "$engines" "$out"' EXIT
	start=$SECONDS
	# The browser tests run beside the rest, without the race detector:
	# their time is Chromium's, and the handlers they drive are raced by
	# the handlers package's own tests; under -race they took the longest
	# of any package, and kept a core busy with instrumented rendering.
	browser=./handlers/browser
	mapfile -t raced < <(go list ./... | grep -v -x "github.com/paypage/paypage/${browser#./}")
	# -vet=off: make check ran every vet analyzer already, and go test's
	# own subset cost each package another pass over a fresh clone.
	# Two tabs at a time: Chromium is most of the run's CPU, and the same
	# pages took it 134 CPU-s two at a time, 145 to 166 four at a time;
	# the package still ends well before the raced ones.
	PAYPAGE_REQUIRE_ALL=1 go test -vet=off -count=1 -parallel 2 "$browser" >"$out.browser" 2>&1 &
	browser_pid=$!
	# checkptr (which -race turns on) is off for modernc.org's packages:
	# SQLite translated from C does pointer arithmetic on every row, and
	# checking it took a fifth of the store tests' time. Our own packages
	# keep it; the race detector still sees every access.
	PAYPAGE_REQUIRE_ALL=1 go test -vet=off -race -gcflags='modernc.org/...=-d=checkptr=0' -count=1 -parallel 4 \
		"${raced[@]}" >"$out" 2>&1 || status=$?
	# Each fuzz target briefly, beyond its seeds (which go test ran above),
	# while the browser tests finish.
	.ci/fuzz.sh "${FUZZTIME:-3s}" >"$out.fuzz" 2>&1 || status=$?
	wait "$browser_pid" || status=$?
	cat "$out.browser" "$out.fuzz" >>"$out"
	rm -f "$out.browser" "$out.fuzz"
	if ((status != 0)); then
		echo "Failures:"
		# Everything but the lines of packages that passed or have no tests.
		grep -v -E '^(ok|\?) ' "$out" || :
		echo
	fi
	echo "Packages (seconds, slowest first):"
	grep -E '^(ok|FAIL)[[:space:]]+github.com/' "$out" |
		awk '{t=$3; sub(/s$/, "", t); printf "  %-5s %8.1f  %s\n", $1, t, $2}' | sort -k2,2nr
	echo "go test took $((SECONDS - start)) s"
else
	go test -run '^$' -bench . -benchmem -count 6 ./... || status=$?
	# The harness prints PASS or FAIL per goal but fails only when it
	# cannot measure. PAYBENCH_FLAGS: e.g. "-duration 5s -watchers 0".
	go build -o bin/paybench ./cmd/paybench || status=$?
	# shellcheck disable=SC2086 # the flags are words
	bin/paybench ${PAYBENCH_FLAGS:-} || status=$?
fi

if [[ -s $engines ]]; then
	echo "Engines per package:"
	sed "s|^$PWD/|  ./|" "$engines" | sort
fi
exit "$status"

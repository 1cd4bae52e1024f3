#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite, shared by every package
# through PAYPAGE_TEST_POSTGRES_URL.
#
#   .ci/pg.sh start DIR [OPTION...]
#                         initdb into DIR/data, start it on a unix socket in
#                         DIR (no TCP port) with the server OPTIONs added
#                         (-c name=value), print its admin URL
#   .ci/pg.sh stop DIR    stop it and remove DIR
#
# store/storetest starts the same kind of cluster itself when no URL is
# given; keep the initdb and server options of the two in step.
set -euo pipefail

usage() { echo "usage: $0 start DIR [OPTION...] | stop DIR" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$(realpath -m -- "$2")
shift 2
[[ $cmd == start || $# -eq 0 ]] || usage

# bindir finds initdb and pg_ctl: PATH first, then the newest of Debian's
# versioned directories, which are not on PATH.
bindir() {
	local d
	if d=$(command -v pg_ctl) && [[ -x $(dirname "$d")/initdb ]]; then
		dirname "$d"
		return
	fi
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4nr); do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return
		fi
	done
	echo "pg.sh: initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin" >&2
	return 1
}

# as_owner runs a command as the cluster's owner: ourselves, unless we are
# root, which initdb refuses; then postgres.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	bin=$(bindir)
	mkdir -p -- "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres: "$dir"
	fi
	# cd: somewhere the postgres user may enter.
	cd "$dir"
	# The C locale sorts like SQLite's default collation and exists on every
	# machine, unlike whatever LANG names.
	if ! out=$(as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 --locale=C 2>&1); then
		printf '%s\n' "$out" >&2
		exit 1
	fi
	# Durability is pointless for a throwaway cluster. wal_level=minimal
	# makes CREATE DATABASE, done once per test, four times faster. -l also
	# keeps the server off our stdout, which the caller reads to its end.
	opts="-k '$dir' -p 5432 -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	opts+=" -c wal_level=minimal -c max_wal_senders=0 -c max_connections=200"
	opts+=${*:+ $*}
	if ! out=$(as_owner "$bin/pg_ctl" start -w -D "$dir/data" -l "$dir/log" -o "$opts" 2>&1); then
		printf '%s\n' "$out" >&2
		cat "$dir/log" >&2 || :
		exit 1
	fi
	echo "postgres://postgres@/postgres?host=$dir&port=5432&sslmode=disable"
	;;
stop)
	if [[ -f $dir/data/postmaster.pid ]]; then
		bin=$(bindir)
		cd /
		as_owner "$bin/pg_ctl" stop -D "$dir/data" -m immediate -s || :
	fi
	rm -rf -- "$dir"
	;;
*)
	usage
	;;
esac

#!/usr/bin/env bash
# Installs what `make test` needs and a fresh Debian machine lacks: make,
# PostgreSQL's server binaries, Chromium, and the browser tests' node
# packages. Quick and silent when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Directories whose package.json lists node packages the tests use (axe-core
# for the browser tests, Stripe's Node library for the webhook tests); each
# is installed with `npm ci` once it exists.
npm_projects=(testdata/browser testdata/stripe-node)

have_postgres() {
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		return 0
	fi
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x $d/initdb && -x $d/pg_ctl ]] && return 0
	done
	return 1
}

have_chromium() {
	[[ -n ${PAYPAGE_CHROMIUM:-} ]] && return 0
	local name
	for name in chromium chromium-browser google-chrome google-chrome-stable; do
		command -v "$name" >/dev/null && return 0
	done
	return 1
}

# npm_stale lists the projects whose node_modules are missing or older than
# their lock file (npm ci records what it installed in .package-lock.json).
npm_stale() {
	local d
	for d in "${npm_projects[@]}"; do
		[[ -f $d/package.json ]] || continue
		if [[ ! -e $d/node_modules/.package-lock.json || $d/package-lock.json -nt $d/node_modules/.package-lock.json ]]; then
			echo "$d"
		fi
	done
}

pkgs=()
command -v make >/dev/null || pkgs+=(make)
have_postgres || pkgs+=(postgresql)
# Liberation fonts: without any font, pages cannot lay out text; Chromium's
# other recommends are desktop services a headless test has no use for.
have_chromium || pkgs+=(chromium fonts-liberation)
# The screenshots of the pages in every script (Arabic, Hebrew, Devanagari,
# Bengali, Tamil, Thai…; Chinese, Japanese, Korean) need their glyphs, or
# they show boxes in place of the text.
# DejaVu covers Arabic and Hebrew already, so Devanagari (hi) is what tells
# whether Noto's core fonts are there.
have_font() { command -v fc-list >/dev/null && [[ -n $(fc-list ":lang=$1" family) ]]; }
have_font hi || pkgs+=(fonts-noto-core)
have_font ja || pkgs+=(fonts-noto-cjk)
mapfile -t stale < <(npm_stale)
if ((${#stale[@]})) && ! command -v npm >/dev/null; then
	pkgs+=(npm)
fi

if ((${#pkgs[@]})); then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
			echo "deps: missing ${pkgs[*]}, and not root to install them; tests that need them will skip (or fail under PAYPAGE_REQUIRE_ALL=1)" >&2
			exit 0
		fi
		sudo=(sudo)
	fi
	echo "deps: installing ${pkgs[*]}" >&2
	if [[ " ${pkgs[*]} " == *" postgresql "* ]]; then
		# Debian's package would create and start a "main" cluster on port
		# 5432; the tests start their own throwaway clusters instead.
		"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
		echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/paypage-tests.conf >/dev/null
	fi
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	# apt's output is shown only when it fails.
	if ! { "${sudo[@]}" apt-get update -qq &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"; } >"$log" 2>&1; then
		cat "$log" >&2
		echo "deps: installing ${pkgs[*]} failed" >&2
		exit 1
	fi
fi

for d in "${stale[@]}"; do
	echo "deps: npm ci in $d" >&2
	(cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done

# Helpers for the shell integration tests.  The harness exports top_srcdir
# and top_builddir; a test run by hand gets them from its own location.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
AMDVIRT=$top_builddir/amdvirt
MKHOST=$top_builddir/tests/mkhost
SCENARIOS=$top_srcdir/tests/scenarios
PY=/usr/bin/python3
export NO_COLOR=1
. "$top_srcdir/tests/wait.sh"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/amdvirt-test.XXXXXX")
trap 'rm -rf "$TEST_TMP"' EXIT

passes=0
failures=0

# build_host NAME: builds tests/scenarios/NAME.json and prints its root.
build_host() {
	local out=$TEST_TMP/host-$1
	if [ ! -d "$out" ]; then
		"$MKHOST" "$SCENARIOS/$1.json" "$out" >&2 || { echo "cannot build scenario $1" >&2; exit 99; }
	fi
	echo "$out"
}

# skip_without TOOL...: the test is skipped (exit 77) unless every TOOL
# (a command or a path) is there.
skip_without() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
	done
}

# reap PID: ends a process the test started in the background and waits
# for it; nothing when PID is empty.
reap() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# bail MESSAGE: the test cannot run at all (exit 99, an error, not a failure).
bail() { echo "Bail out! $*"; exit 99; }

ok() { passes=$((passes + 1)); echo "ok - $*"; }
not_ok() { failures=$((failures + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

finish() {
	echo "$passes passed, $failures failed"
	[ "$failures" -eq 0 ]
}

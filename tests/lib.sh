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

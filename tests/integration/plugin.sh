#!/bin/sh
# The device plugin against an independent kubelet (tests/peers/kubelet.py,
# python3-grpcio) on every fake-host scenario: registration, device list,
# Allocate env and specs, hive refusals, health flips, kubelet restarts, a
# hostile peer and SIGTERM.  Two scenarios dial back as kubelets before 1.26
# do, with the socket path as :authority.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
	echo "SKIP: $PY lacks grpcio/protobuf (Debian: python3-grpcio python3-protobuf)"
	exit 77
fi
if [ ! -x "$MKHOST" ]; then
	echo "SKIP: $MKHOST not built"
	exit 77
fi

KUBELET=$top_srcdir/tests/peers/kubelet.py
rc=0

# run SCENARIO [kubelet options]: one daemon lifetime against the kubelet.
run() {
	local name=$1
	shift
	# A missing input is a failure, never a quiet pass.
	if [ ! -f "$SCENARIOS/$name.json" ]; then
		echo "not ok - no scenario $SCENARIOS/$name.json" >&2
		rc=1
		return
	fi
	local root expected=$top_srcdir/tests/expected/plugin/$name.json
	if [ ! -f "$expected" ]; then
		echo "not ok - no expected devices $expected" >&2
		rc=1
		return
	fi
	root=$(build_host "$name")
	"$PY" "$KUBELET" --amdvirt "$AMDVIRT" --root "$root" --scenario "$name" \
		--expected "$expected" --tmp "$TEST_TMP" "$@" || rc=1
}

run mi300x-vf --restart --hostile
run mi300x-pf --late-kubelet --path-authority
run mi210-hives --hives --path-authority
run mi300x-container
exit $rc

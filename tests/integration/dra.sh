#!/bin/sh
# amdvirt daemon --dra against an independent kubelet (tests/peers/kubelet_dra.py,
# python3-grpcio) and the fake API server (tests/peers/apiserver.py, with
# resource.k8s.io from tests/peers/api_resourceslices.py): registration,
# the ResourceSlice, Prepare/Unprepare with their CDI and metadata files,
# hive claims on the MI210 host, a VF leaving vfio-pci, kubelet's wipe of
# the slices, a crash between Prepare and Unprepare, SIGTERM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"

if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
	echo "SKIP: $PY lacks grpcio/protobuf (Debian: python3-grpcio python3-protobuf)"
	exit 77
fi
skip_without openssl "$MKHOST"
isolate_from_cluster

make_certs
TOKEN="tok-dra-5e1b7c9a-secret"
rc=0

# run SCENARIO [kubelet_dra options]: one API server and daemon lifetime.
run() {
	local name=$1 root expected=$top_srcdir/tests/expected/plugin/$1.json
	shift
	if [ ! -f "$SCENARIOS/$name.json" ] || [ ! -f "$expected" ]; then
		echo "not ok - no scenario or expected devices for $name" >&2
		rc=1
		return
	fi
	root=$(build_host "$name")
	cat >"$TEST_TMP/objects.json" <<OBJ
{"nodes": [{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node1", "uid": "node1-uid", "labels": {"kubernetes.io/hostname": "node1"}},
  "spec": {}, "status": {}}]}
OBJ
	start_apiserver
	write_kubeconfig "$TEST_TMP/kubeconfig" "$TEST_TMP/ca.crt" test agent
	"$PY" "$top_srcdir/tests/peers/kubelet_dra.py" --amdvirt "$AMDVIRT" --root "$root" \
		--scenario "$name" --expected "$expected" --tmp "$TEST_TMP" \
		--server "https://127.0.0.1:$PORT" --ca "$TEST_TMP/ca.crt" --token "$TOKEN" \
		--kubeconfig "$TEST_TMP/kubeconfig" "$@" || rc=1
	stop_apiserver
}

# The hive ids are the scenario's (tests/scenarios/mi210-hives.json), h0
# the hive of the lower BDFs.
run mi210-hives --hives --hive-ids 12609507387757274807,18091350218769748594
run mi300x-vf
run mi300x-pf
exit $rc

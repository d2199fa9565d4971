#!/bin/sh
# amdvirt daemon --dra against an independent kubelet (tests/peers/kubelet_dra.py,
# python3-grpcio) and the fake API server (tests/peers/apiserver.py, with
# resource.k8s.io from tests/peers/api_resourceslices.py): registration,
# the ResourceSlice, Prepare/Unprepare with their CDI and metadata files,
# hive claims on the MI210 host, a VF leaving vfio-pci, kubelet's wipe of
# the slices, a crash between Prepare and Unprepare, SIGTERM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
	echo "SKIP: $PY lacks grpcio/protobuf (Debian: python3-grpcio python3-protobuf)"
	exit 77
fi
for tool in openssl "$MKHOST"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not there"
		exit 77
	fi
done
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT NODE_NAME AMDVIRT_API_TIMEOUT

CERTS=$TEST_TMP
. "$top_srcdir/tests/certs.sh"
if ! { mkcert ca "amdvirt test CA" && mkcert server 127.0.0.1 ca; }; then
	echo "Bail out! openssl could not make the test certificates"
	exit 99
fi
TOKEN="tok-dra-5e1b7c9a-secret"
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TEST_TMP"' EXIT
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
	rm -f "$TEST_TMP/port"
	"$PY" "$top_srcdir/tests/peers/apiserver.py" --cert "$TEST_TMP/server.crt" \
		--key "$TEST_TMP/server.key" --objects "$TEST_TMP/objects.json" \
		--log "$TEST_TMP/api-$name.log" --port-file "$TEST_TMP/port" --token "$TOKEN" &
	SPID=$!
	local i=0
	while [ ! -s "$TEST_TMP/port" ]; do
		i=$((i + 1))
		if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then
			echo "Bail out! the fake API server did not start"
			exit 99
		fi
		sleep 0.05
	done
	local port
	port=$(cat "$TEST_TMP/port")
	cat >"$TEST_TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $TEST_TMP/ca.crt
contexts:
- name: test
  context: {cluster: test, user: agent}
users:
- name: agent
  user:
    token: $TOKEN
KC
	"$PY" "$top_srcdir/tests/peers/kubelet_dra.py" --amdvirt "$AMDVIRT" --root "$root" \
		--scenario "$name" --expected "$expected" --tmp "$TEST_TMP" \
		--server "https://127.0.0.1:$port" --ca "$TEST_TMP/ca.crt" --token "$TOKEN" \
		--kubeconfig "$TEST_TMP/kubeconfig" "$@" || rc=1
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	SPID=""
}

# The hive ids are the scenario's (tests/scenarios/mi210-hives.json), h0
# the hive of the lower BDFs.
run mi210-hives --hives --hive-ids 12609507387757274807,18091350218769748594
run mi300x-vf
run mi300x-pf
exit $rc

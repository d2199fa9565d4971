#!/bin/sh
# Who holds each GPU: `list` with kubelet's pod-resources API served by
# tests/peers/podresources.py on the fake host's socket (and without it,
# and with a socket that is no kubelet), and the cluster.* checks against
# it and the TLS API server peer (tests/peers/apiserver.py) serving a Node
# and a KubeVirt CR.  The expected holders are written here from the
# scenario (tests/scenarios/holders.json) and the peer's objects.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"

PR_PEER=$top_srcdir/tests/peers/podresources.py
PRPID=""
trap 'reap "$PRPID"; stop_apiserver; rm -rf "$TEST_TMP"' EXIT INT TERM

if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
	echo "SKIP: /usr/bin/python3 lacks grpc or protobuf (python3-grpcio, python3-protobuf)"
	exit 77
fi
isolate_from_cluster

ROOT=$(build_host holders)
PLAIN=$(build_host mi300x-vf)
SOCKDIR=$ROOT/var/lib/kubelet/pod-resources
mkdir -p "$SOCKDIR"

# The VFs and their groups, as the scenario lays them out (VFs numbered
# after every other function): 0000:05:02.0 is group 65 ... 0000:e5:02.0 72.
ALL='["65", "66", "67", "68", "69", "70", "71", "72"]'

# pr_objects ALLOCATABLE-IDS: the peer's pods (a KubeVirt VM on 65, a plain
# pod on 66, a pod on 999, which this host does not advertise, and one of
# another resource) and kubelet's allocatable list.
pr_objects() {
	cat >"$TEST_TMP/pr.json" <<EOF
{"pods": [
  {"namespace": "vms", "name": "virt-launcher-db-primary-1-x7k2p", "containers": [
    {"name": "volumecontainerdisk", "devices": []},
    {"name": "compute", "devices": [{"resource_name": "amd.com/gpu", "device_ids": ["65"]}]}]},
  {"namespace": "ml", "name": "trainer-0", "containers": [
    {"name": "main", "devices": [{"resource_name": "amd.com/gpu", "device_ids": ["66"]}]}]},
  {"namespace": "other", "name": "leftover", "containers": [
    {"name": "c", "devices": [{"resource_name": "amd.com/gpu", "device_ids": ["999"]}]}]},
  {"namespace": "net", "name": "sriov-nic", "containers": [
    {"name": "c", "devices": [{"resource_name": "vendor.example/nic", "device_ids": ["67"]}]}]}],
 "allocatable": [{"resource_name": "amd.com/gpu", "device_ids": $1},
                 {"resource_name": "vendor.example/nic", "device_ids": ["67"]}]}
EOF
}

start_pr() { # MODE
	stop_pr
	rm -f "$TEST_TMP/pr.ready" "$TEST_TMP/pr.log"
	"$PY" "$PR_PEER" --socket "$SOCKDIR/kubelet.sock" --objects "$TEST_TMP/pr.json" \
		--log "$TEST_TMP/pr.log" --ready "$TEST_TMP/pr.ready" --mode "$1" &
	PRPID=$!
	if ! wait_grep "$TEST_TMP/pr.ready" . 20; then
		echo "Bail out! the pod-resources peer did not start"
		exit 99
	fi
	: >"$TEST_TMP/pr.log"
}
stop_pr() {
	[ -n "$PRPID" ] && kill "$PRPID" 2>/dev/null && wait "$PRPID" 2>/dev/null || true
	PRPID=""
	rm -f "$SOCKDIR/kubelet.sock"
}

# run ROOT ARGS...: amdvirt's stdout to out, stderr to err, exit to RC.
run() {
	local root=$1
	shift
	RC=0
	"$AMDVIRT" --root "$root" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
}

# q EXPR: a Python expression over the JSON on stdout (d), its devices by
# ID (dev), stderr's lines (err) and the peer's calls (calls).
q() {
	"$PY" - "$TEST_TMP" "$1" <<'EOF'
import json, os, sys
t, expr = sys.argv[1], sys.argv[2]
try:
    d = json.load(open(os.path.join(t, "out")))
except ValueError:
    d = {}
dev = {x["id"]: x for x in d.get("devices", [])} if isinstance(d, dict) else {}
err = open(os.path.join(t, "err")).read().splitlines()
calls = open(os.path.join(t, "pr.log")).read().split() if os.path.exists(os.path.join(t, "pr.log")) else []
ok = eval(expr)
if not ok:
    print("  failed: %s\n  stdout: %s\n  stderr: %s" % (expr, open(os.path.join(t, "out")).read()[:1500], err),
          file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

VM_HOLDER='{"namespace": "vms", "pod": "virt-launcher-db-primary-1-x7k2p", "container": "compute", "vm": "db-primary-1", "pod_uid": "6f1c9b7e-3c2d-4a5b-9e8f-0a1b2c3d4e5f", "pids": [4242]}'
POD_HOLDER='{"namespace": "ml", "pod": "trainer-0", "container": "main", "vm": None, "pod_uid": "0a1b2c3d-0000-1111-2222-333344445555", "pids": [5151]}'
PID_HOLDER='{"namespace": None, "pod": None, "container": None, "vm": None, "pod_uid": None, "pids": [6161]}'

# --- no kubelet ------------------------------------------------------------------
run "$PLAIN" list --json
check "no kubelet, no VM: exit 0" test "$RC" -eq 0
check "no kubelet, no VM: no device has a holder key (the output of old)" \
	q 'dev and all("holder" not in x for x in dev.values()) and err == []'
run "$PLAIN" list
check "no kubelet, no VM: list names no holder" q '"held by" not in open(os.path.join(t, "out")).read()'

run "$ROOT" list --json
check "no kubelet: the processes alone say who holds 65, 66, 67" \
	q 'dev["65"]["holder"]["pids"] == [4242] and dev["65"]["holder"]["pod"] is None and dev["65"]["holder"]["pod_uid"] == "6f1c9b7e-3c2d-4a5b-9e8f-0a1b2c3d4e5f" and dev["67"]["holder"] == '"$PID_HOLDER"' and dev["68"]["holder"] is None'
check "no kubelet: nothing on stderr" q 'err == []'

# --- kubelet answering -------------------------------------------------------------
pr_objects "$ALL"
start_pr ok
run "$ROOT" list --json
check "kubelet: exit 0, nothing on stderr" q 'err == []'
check "kubelet: 65 is held by the VM db-primary-1 (its pod, container, pid, pod UID)" \
	q 'dev["65"]["holder"] == '"$VM_HOLDER"
check "kubelet: 66 is held by a plain pod, no VM" q 'dev["66"]["holder"] == '"$POD_HOLDER"
check "kubelet: 67 (another resource's 67 in kubelet) is held by a process outside Kubernetes" \
	q 'dev["67"]["holder"] == '"$PID_HOLDER"
check "kubelet: 68-72 are free" q 'all(dev[i]["holder"] is None for i in ["68", "69", "70", "71", "72"])'
check "kubelet: 999 is not listed among our devices" q '"999" not in dev and len(dev) == 8'
check "kubelet: one List call, nothing per device (list needs no allocatable list)" \
	q 'calls == ["List"]'
run "$ROOT" list
check "list: the VM on its function's line" \
	grep -q '^  `- 0000:05:02.0 .*group 65 .*held by vm db-primary-1 (vms/virt-launcher-db-primary-1-x7k2p)$' "$TEST_TMP/out"
check "list: the pod on its function's line" grep -q '0000:25:02.0 .*held by pod ml/trainer-0$' "$TEST_TMP/out"
check "list: the pid on its function's line" grep -q '0000:45:02.0 .*held by pid 6161$' "$TEST_TMP/out"
check "list: free functions say nothing" q 'not any("held" in l for l in open(os.path.join(t, "out")) if "0000:65:02.0" in l)'

# --- kubelet's socket there, but no kubelet behind it --------------------------------
for mode in stale garbage silent; do
	start_pr "$mode"
	start=$(date +%s%N)
	run "$ROOT" list --json
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	check "$mode socket: exit 0" test "$RC" -eq 0
	check "$mode socket: one line on stderr naming the socket" \
		q 'len(err) == 1 and "var/lib/kubelet/pod-resources/kubelet.sock" in err[0] and err[0].startswith("amdvirt: kubelet pod-resources ")'
	check "$mode socket: the rest as without kubelet" \
		q 'dev["67"]["holder"] == '"$PID_HOLDER"' and dev["65"]["holder"]["pod"] is None and dev["65"]["holder"]["pids"] == [4242]'
	check "$mode socket: done within 3 s ($ms ms)" test "$ms" -lt 3000
done
check "silent socket: the line says it timed out" q '"DEADLINE_EXCEEDED" in err[0] or "in time" in err[0]'

start_pr no-allocatable
run "$ROOT" list --json
check "older kubelet without GetAllocatableResources: holders all the same" \
	q 'err == [] and dev["65"]["holder"] == '"$VM_HOLDER"
run "$ROOT" check
check "older kubelet: cluster.registered skips, saying why" \
	grep -q '^SKIP  cluster.registered .*GetAllocatableResources' "$TEST_TMP/out"

# --- cluster checks ---------------------------------------------------------------------
# Without API access: the kubelet-side check runs, the API ones skip; a
# host with neither has no cluster line at all (its report is as before).
run "$PLAIN" check
PLAIN_RC=$RC
check "no kubelet, no API: no cluster check" q '"cluster." not in open(os.path.join(t, "out")).read()'
pr_objects "$ALL"
start_pr ok
: >"$TEST_TMP/pr.log"
run "$ROOT" check
check "check: one List and one GetAllocatableResources" q 'calls == ["List", "GetAllocatableResources"]'
check "kubelet lists exactly what is advertised: cluster.registered passes" \
	grep -q '^PASS  cluster.registered .*kubelet lists the 8 amd.com/gpu devices advertised here' "$TEST_TMP/out"
for id in node-allocatable labels kubevirt-permitted; do
	check "no API access: cluster.$id skips, saying so" \
		grep -q "^SKIP  cluster.$id .*no API access configured" "$TEST_TMP/out"
done
pr_objects '["65", "66", "67", "68", "69", "70", "71", "999"]'
start_pr ok
run "$ROOT" check
check "kubelet lacks 72 and has 999, no API access: cluster.registered warns naming both" \
	grep -q '^WARN  cluster.registered .*not listed by kubelet: 72; not advertised here: 999' "$TEST_TMP/out"
check "... with a fix line" sh -c "grep -A1 '^WARN  cluster.registered' '$TEST_TMP/out' | grep -q 'amdvirt daemon'"
check "... and the exit status of the host checks alone ($PLAIN_RC)" test "$RC" -eq "$PLAIN_RC"

# The API server: in-cluster credentials under ROOT, as the DaemonSet has them.
make_certs
TOKEN=tok-holders-5e1f
SA=$ROOT/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$SA"
cp "$TEST_TMP/ca.crt" "$SA/ca.crt"
echo "$TOKEN" >"$SA/token"
# The labels this host should carry, written from the scenario (8 MI300X
# VFs 74b5 on vfio-pci, gim 8.1.0.K), never taken from `labels --json`.
LABELS='"amd.com/gpu.device-id": "74b5", "amd.com/gpu.driver-version": "8.1.0.K",
 "amd.com/gpu.mode": "vf-passthrough", "beta.amd.com/gpu.device-id": "74b5",
 "beta.amd.com/gpu.device-id.74b5": "8", "beta.amd.com/gpu.mode": "vf-passthrough"'
GOOD_KV='{"developerConfiguration": {"featureGates": ["LiveMigration", "HostDevices"]},
  "permittedHostDevices": {"pciHostDevices": [
    {"pciVendorSelector": "10DE:1EB8", "resourceName": "nvidia.com/TU104GL_Tesla_T4", "externalResourceProvider": true},
    {"pciVendorSelector": "1002:74b5", "resourceName": "amd.com/gpu", "externalResourceProvider": true}]}}'

# api_objects ALLOCATABLE LABELS KUBEVIRT-CONFIGURATION
api_objects() {
	cat >"$TEST_TMP/objects.json" <<EOF
{"nodes": [{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1", $2}},
  "spec": {}, "status": {"capacity": {"cpu": "192", "amd.com/gpu": "8"},
                         "allocatable": {"cpu": "190", "amd.com/gpu": "$1"}}}],
 "kubevirts": [{"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
  "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
  "spec": {"configuration": $3}}]}
EOF
}
check_api() { # extra amdvirt arguments
	RC=0
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		"$AMDVIRT" --root "$ROOT" "$@" check >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
}
line() { grep "^[A-Z]*  cluster\.$1 " "$TEST_TMP/out"; }

pr_objects "$ALL"
start_pr ok
api_objects 8 "$LABELS" "$GOOD_KV"
start_apiserver
check_api
for id in registered node-allocatable labels kubevirt-permitted; do
	check "a cluster that sees this host: cluster.$id passes" q '"PASS  cluster.'"$id"' " in open(os.path.join(t, "out")).read()'
done
check "... Node's allocatable named" sh -c "grep '^PASS  cluster.node-allocatable' '$TEST_TMP/out' | grep -q 'Node node1 offers 8 amd.com/gpu'"
check "... the KubeVirt CR's selector matched whatever its case" \
	sh -c "grep '^PASS  cluster.kubevirt-permitted' '$TEST_TMP/out' | grep -q '1002:74B5 as amd.com/gpu'"
check "... two GETs: the Node and the KubeVirt CR" "$PY" -c '
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(sorted(e["path"] for e in log) != ["/api/v1/nodes/node1", "/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt"] or any(e["method"] != "GET" for e in log))' "$TEST_TMP/log"

# Each check failing on its own mistake.
pr_objects '["65", "66", "67", "68", "69", "70", "71", "999"]'
start_pr ok
check_api
check "with API access the same difference fails cluster.registered" \
	grep -q '^FAIL  cluster.registered .*not listed by kubelet: 72; not advertised here: 999' "$TEST_TMP/out"
check "... and check exits 1" test "$RC" -eq 1
check "... the others still pass" sh -c "test \$(grep -c '^PASS  cluster\\.' '$TEST_TMP/out') -eq 3"
pr_objects "$ALL"
start_pr ok
api_objects 7 "$LABELS" "$GOOD_KV"
start_apiserver
check_api
check "Node allocatable 7 for 8 healthy: cluster.node-allocatable fails" \
	sh -c "grep '^FAIL  cluster.node-allocatable' '$TEST_TMP/out' | grep -q 'offers 7 amd.com/gpu, but 8 healthy devices are advertised'"
check "... the others still pass" sh -c "test \$(grep -c '^PASS  cluster\\.' '$TEST_TMP/out') -eq 3"

api_objects 8 "$(echo "$LABELS" | sed 's/"amd.com\/gpu.device-id": "74b5"/"amd.com\/gpu.device-id": "74a1"/'), \"amd.com/gpu.product-name\": \"stale\"" "$GOOD_KV"
start_apiserver
check_api
check "a wrong label and a stale owned one: cluster.labels fails naming both" \
	sh -c "grep '^FAIL  cluster.labels' '$TEST_TMP/out' | grep -q 'amd.com/gpu.device-id=74a1 (want 74b5); stale: amd.com/gpu.product-name'"
check "... with labels --apply as the fix" sh -c "grep -A1 '^FAIL  cluster.labels' '$TEST_TMP/out' | grep -q 'labels --apply'"

api_objects 8 "$LABELS" '{"developerConfiguration": {"featureGates": ["HostDevices"]},
  "permittedHostDevices": {"pciHostDevices": [{"pciVendorSelector": "1002:74B5", "resourceName": "amd.com/gpu"}]}}'
start_apiserver
check_api
check "no externalResourceProvider: cluster.kubevirt-permitted fails, saying so" \
	sh -c "grep '^FAIL  cluster.kubevirt-permitted' '$TEST_TMP/out' | grep -q 'without externalResourceProvider: true'"
check "... with kubevirt-config as the fix" sh -c "grep -A1 '^FAIL  cluster.kubevirt-permitted' '$TEST_TMP/out' | grep -q 'amdvirt kubevirt-config'"

api_objects 8 "$LABELS" '{"developerConfiguration": {"featureGates": ["GPU"]},
  "permittedHostDevices": {"pciHostDevices": [{"pciVendorSelector": "1002:74B5", "resourceName": "amd.com/gpu_vf", "externalResourceProvider": true}]}}'
start_apiserver
check_api
check "wrong resourceName, no HostDevices gate: cluster.kubevirt-permitted names both" \
	sh -c "grep '^FAIL  cluster.kubevirt-permitted' '$TEST_TMP/out' | grep 'another resourceName' | grep -q 'HostDevices feature gate'"
check_api --resource-naming mixed
check "... while a host advertising amd.com/gpu_vf is permitted (but for the gate)" \
	sh -c "grep '^FAIL  cluster.kubevirt-permitted' '$TEST_TMP/out' | grep -v 'another resourceName' | grep -q 'HostDevices feature gate'"

# The API server refusing or gone: SKIP with the reason, never a FAIL.
api_objects 8 "$LABELS" "$GOOD_KV"
start_apiserver
RC=0
env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" \
	"$AMDVIRT" --root "$ROOT" check >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
check "no node name: the Node's checks skip, asking for it" \
	sh -c "grep '^SKIP  cluster.labels' '$TEST_TMP/out' | grep -q 'NODE_NAME'"
echo "not-the-token" >"$SA/token"
check_api
check "a refused token: the API checks skip, naming the credentials" \
	sh -c "grep '^SKIP  cluster.node-allocatable' '$TEST_TMP/out' | grep -q 'node \"node1\"'"
echo "$TOKEN" >"$SA/token"
stop_apiserver
check_api
check "API server gone: the API checks skip" \
	sh -c "test \$(grep -c '^SKIP  cluster\\.\\(node-allocatable\\|labels\\|kubevirt-permitted\\)' '$TEST_TMP/out') -eq 3"
stop_pr
rm -rf "$SA"
run "$PLAIN" check
check "a host without kubelet or credentials: exit code unchanged ($PLAIN_RC)" test "$RC" -eq "$PLAIN_RC"

finish

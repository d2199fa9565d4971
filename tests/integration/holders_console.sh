#!/bin/sh
# The console at 80x24 on a host whose VFs are held (tests/scenarios/
# holders.json), with kubelet's pod-resources API served by
# tests/peers/podresources.py: the VM on its function's row in Devices and
# Groups, namespace, pod, container and pids in the detail pane, kubelet's
# view on the Node screen; and the VM appearing on the console's own resync
# once kubelet answers.  Driven through tmux as tests/integration/console.sh.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
set +e

command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null ||
	{ echo "SKIP: /usr/bin/python3 lacks grpc or protobuf"; exit 77; }

SOCK=amdvirt-holders-$$
PRPID=""
. "$top_srcdir/tests/integration/tmux.sh"
cleanup() {
	tm kill-server 2>/dev/null
	[ -n "$PRPID" ] && kill "$PRPID" 2>/dev/null && wait "$PRPID" 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT INT TERM

ROOT=$(build_host holders)
SOCKDIR=$ROOT/var/lib/kubelet/pod-resources
mkdir -p "$SOCKDIR"
cat >"$TEST_TMP/pr.json" <<'EOF'
{"pods": [
  {"namespace": "vms", "name": "virt-launcher-db-primary-1-x7k2p", "containers": [
    {"name": "compute", "devices": [{"resource_name": "amd.com/gpu", "device_ids": ["65"]}]}]},
  {"namespace": "ml", "name": "trainer-0", "containers": [
    {"name": "main", "devices": [{"resource_name": "amd.com/gpu", "device_ids": ["66"]}]}]},
  {"namespace": "other", "name": "leftover", "containers": [
    {"name": "c", "devices": [{"resource_name": "amd.com/gpu", "device_ids": ["999"]}]}]}],
 "allocatable": [{"resource_name": "amd.com/gpu",
                  "device_ids": ["65", "66", "67", "68", "69", "70", "71", "72", "999"]}]}
EOF
start_pr() {
	"$PY" "$top_srcdir/tests/peers/podresources.py" --socket "$SOCKDIR/kubelet.sock" \
		--objects "$TEST_TMP/pr.json" --log "$TEST_TMP/pr.log" --ready "$TEST_TMP/pr.ready" &
	PRPID=$!
	wait_grep "$TEST_TMP/pr.ready" . 20 || { echo "Bail out! the pod-resources peer did not start"; exit 99; }
}

# The console starts before kubelet answers: the processes alone say a
# pid holds 0000:05:02.0; the resync (500 ms here) brings the VM once the
# peer serves.
tm new-session -d -x 80 -y 24 \
	"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1 AMDVIRT_CONSOLE_REFRESH_MS=500 $AMDVIRT --root $ROOT 2>$TEST_TMP/stderr; echo \"console exited \$?\"; sleep 600"
check "console opens at 80x24" wait_for "1 Devices" 30
check "no kubelet yet: the pid holding 0000:05:02.0 is shown" wait_for "in use        pid 4242" 10
start_pr
check "kubelet answers: on the next resync the VM is on its function's row" \
	wait_for "└─ 0000:05:02.0 vfio-pci      65    0 -          in use        vm db-primary-1" 10
check "... the plain pod on its row" wait_for "0000:25:02.0 vfio-pci      66    0 -          in use        pod trainer-0" 5
check "... the column says what it shows" wait_for "NAME / HELD BY" 5
check "... no more List calls than resyncs (one per rescan)" "$PY" -c '
import sys
calls = open(sys.argv[1]).read().split()
sys.exit(not (0 < calls.count("List") <= 12 and calls.count("List") == calls.count("GetAllocatableResources")))' "$TEST_TMP/pr.log"

keys j
check "detail pane: the VM" wait_for " vm        db-primary-1" 5
check "detail pane: namespace, pod and container" \
	wait_for " pod       vms/virt-launcher-db-primary-1-x7k2p, container compute" 5
check "detail pane: the pid and its pod UID" \
	wait_for " pids      4242 (pod uid 6f1c9b7e-3c2d-4a5b-9e8f-0a1b2c3d4e5f)" 5

keys 2
search "group 65 "
keys j
check "Groups: the VM next to the held function" \
	wait_for "└─ 0000:05:02.0 vfio-pci   1002:74b5  vm db-primary-1 | AMD Instinct" 5
check "Groups detail: the group's holder first" wait_for " vm        db-primary-1" 5
search "group 67 "
keys j
check "Groups: a process outside Kubernetes on its function" \
	wait_for "└─ 0000:45:02.0 vfio-pci   1002:74b5  pid 6161 | AMD Instinct" 5
check "Groups detail: no pod for it" wait_for " pod       none that kubelet knows of" 5

keys 5
search "leftover"
keys j
check "Node: kubelet's registered devices" \
	wait_for "registered amd.com/gpu: 9 devices: 65,66,67,68,69,70,71,72,999" 5
check "Node: allocatable per kubelet, held and free" \
	wait_for "allocatable per kubelet: 9, held by pods: 3, free: 6" 5
check "Node: the device kubelet lists that this host does not advertise" \
	wait_for "! kubelet lists amd.com/gpu 999; not advertised here" 5
check "Node: the pod holding it" wait_for "! kubelet gives amd.com/gpu 999 to pod other/leftover; not advertised" 5
search "device 65 "
check "Node: the holder on the device plugin's device row" \
	wait_for "device 65     numa 0   healthy   0000:05:02.0  vm db-primary-1" 5

keys q
check "q exits 0" wait_for "console exited 0" 10
check "nothing on stderr" test ! -s "$TEST_TMP/stderr"
finish

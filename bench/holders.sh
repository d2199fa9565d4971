#!/bin/sh
# Cost of asking kubelet who holds each device: `amdvirt list --json` on the
# large host without a pod-resources socket, and with
# tests/peers/podresources.py answering, every advertised device held by a
# KubeVirt VM's pod.  The holders come from one List and one
# GetAllocatableResources call per run, whatever the number of devices.
#   bench/holders.sh [BUILDDIR] [RUNS] [BASELINE-AMDVIRT]
# BASELINE-AMDVIRT (say, a build of the main branch) is timed too, without
# the socket.  Prints the median wall times and the ratio; the target is
# within 10 % of the run without kubelet.  Not a test: the numbers depend
# on the machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
runs=${2:-21}
base=${3:-}
out=$build/bench/out
PY=/usr/bin/python3
mkdir -p "$out"

root=$out/large-holders
[ -d "$root" ] || "$build/tests/mkhost" "$src/tests/scenarios/large.json" "$root"
sockdir=$root/var/lib/kubelet/pod-resources
mkdir -p "$sockdir"
rm -f "$sockdir/kubelet.sock"

# Every device the plugin advertises on this host, each in a VM's pod.
"$build/amdvirt" --root "$root" list --json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
res = next(iter(d["resources"]), "amd.com/gpu")
ids = [x["id"] for x in d["devices"]]
pods = [{"namespace": "vms", "name": "virt-launcher-vm-%d-bcdfg" % i,
         "containers": [{"name": "compute", "devices": [{"resource_name": res, "device_ids": [x]}]}]}
        for i, x in enumerate(ids)]
json.dump({"pods": pods, "allocatable": [{"resource_name": res, "device_ids": ids}]}, open(sys.argv[1], "w"))
print("%d devices of %s" % (len(ids), res))' "$out/holders-pr.json"

# Interleaved runs (baseline, without, with kubelet, in turn), so a busy
# machine slows all three alike; medians in ms.
i=0
: >"$out/t-base"; : >"$out/t-none"; : >"$out/t-with"
timed() { # FILE CMD...
	f=$1
	shift
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$f"
}
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR) printf "%.2f\n", a[int((NR+1)/2)] / 1000}'; }

bare=$out/large-holders-bare
[ -d "$bare" ] || cp -a "$root" "$bare"
rm -f "$bare/var/lib/kubelet/pod-resources/kubelet.sock"

"$PY" "$src/tests/peers/podresources.py" --socket "$sockdir/kubelet.sock" --objects "$out/holders-pr.json" \
	--log "$out/holders-pr.log" --ready "$out/holders-pr.ready" &
peer=$!
trap 'kill $peer 2>/dev/null; wait $peer 2>/dev/null; rm -f "$sockdir/kubelet.sock"' EXIT
while [ ! -s "$out/holders-pr.ready" ]; do sleep 0.05; done
"$build/amdvirt" --root "$root" list --json >/dev/null 2>&1 || true
"$build/amdvirt" --root "$bare" list --json >/dev/null 2>&1 || true
: >"$out/holders-pr.log"
while [ $i -lt "$runs" ]; do
	[ -n "$base" ] && timed "$out/t-base" "$base" --root "$bare" list --json
	timed "$out/t-none" "$build/amdvirt" --root "$bare" list --json
	timed "$out/t-with" "$build/amdvirt" --root "$root" list --json
	i=$((i + 1))
done
lists=$(grep -c '^List$' "$out/holders-pr.log" || true)
b=$(median "$out/t-base")
none=$(median "$out/t-none")
with=$(median "$out/t-with")
held=$("$build/amdvirt" --root "$root" list --json 2>/dev/null | grep -cE '"vm":[[:space:]]*"vm-' || true)
rm -f "$out/holders-pr.ready"

[ -n "$b" ] && printf '%-34s %10s ms\n' "baseline, no kubelet" "$b"
printf '%-34s %10s ms\n' "no kubelet socket" "$none"
printf '%-34s %10s ms  (%s devices held by VMs)\n' "kubelet answering" "$with" "$held"
printf 'List calls: %s for %s runs with kubelet\n' "$lists" "$runs"
awk -v a="$none" -v w="$with" -v b="${b:-0}" 'BEGIN {
	printf "kubelet answering / no socket: %.3f\n", w / a
	if (b > 0) printf "kubelet answering / baseline: %.3f\n", w / b
}'

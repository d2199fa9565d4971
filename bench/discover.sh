#!/bin/sh
# Discovery on a host with very many IOMMU groups: `amdvirt list --json`
# on roots with N and 2N groups (default 50000), to show that its time
# grows linearly.  Before the model's arrays grew geometrically, one
# realloc per group made it quadratic wherever realloc copies (an ASan
# build: 100 000 groups took 3 minutes).
#   bench/discover.sh [BUILDDIR] [N] [RUNS]
# BUILDDIR may be a sanitizer build (../configure --enable-sanitizers),
# where the difference shows most.  Prints the median wall time of each
# and the ratio; about 2 means linear, about 4 quadratic.  Not a test: the
# numbers depend on the machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
n=${2:-50000}
runs=${3:-3}
out=$build/bench/out
mkdir -p "$out"

# groups ROOT COUNT: a root whose only content is COUNT IOMMU groups, each
# with its type and an empty devices directory (what scan_groups walks),
# and an empty PCI device list.
groups() {
	[ -f "$1/.done" ] && return 0
	rm -rf "$1"
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(root, "sys/bus/pci/devices"))
base = os.path.join(root, "sys/kernel/iommu_groups")
for g in range(count):
    d = os.path.join(base, str(g))
    os.makedirs(os.path.join(d, "devices"))
    with open(os.path.join(d, "type"), "w") as f:
        f.write("DMA\n")
open(os.path.join(root, ".done"), "w").close()
EOF
}

# median_ms CMD...: runs CMD $runs times, prints the median in ms.
median_ms() {
	i=0
	: >"$out/times"
	while [ $i -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$out/times"
		i=$((i + 1))
	done
	sort -n "$out/times" | awk '{a[NR]=$1} END {printf "%.1f\n", a[int((NR+1)/2)] / 1000}'
}

printf '%8s %12s %14s\n' groups "list ms" "us per group"
for count in "$n" $((n * 2)); do
	root=$out/groups-$count
	groups "$root" "$count"
	got=$("$build/amdvirt" --root "$root" list --json 2>/dev/null | grep -c '"viable"' || true)
	if [ "$got" -ne "$count" ]; then
		echo "discover.sh: amdvirt saw $got groups of $count" >&2
		exit 1
	fi
	ms=$(median_ms "$build/amdvirt" --root "$root" list --json)
	printf '%8s %12s %14s\n' "$count" "$ms" "$(awk -v m="$ms" -v c="$count" 'BEGIN {printf "%.2f", m * 1000 / c}')"
	eval "ms_$count=$ms"
done
eval "a=\$ms_$n b=\$ms_$((n * 2))"
awk -v a="$a" -v b="$b" 'BEGIN { printf "doubling the groups: x%.2f (2: linear, 4: quadratic)\n", b / a }'

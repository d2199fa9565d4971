#!/bin/sh
# Speed of `amdvirt list --json` against `lspci -nnk` on the same fake host
# tree, on the large host and on a host twice its size.
#   bench/list.sh [BUILDDIR] [RUNS]
# Prints the median wall time of each and the ratios.  Not a test: the
# numbers depend on the machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
runs=${2:-21}
out=$build/bench/out
mkdir -p "$out"

for s in large large2; do
	[ -d "$out/$s" ] || "$build/tests/mkhost" "$src/tests/scenarios/$s.json" "$out/$s"
done

# median_ms CMD...: runs CMD $runs times (after one warm-up), prints the median in ms.
median_ms() {
	"$@" >/dev/null 2>&1 || true
	i=0
	: >"$out/times"
	while [ $i -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$out/times"
		i=$((i + 1))
	done
	sort -n "$out/times" | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)] / 1000}'
}

printf '%-8s %8s %8s %12s %12s\n' host gpus funcs "amdvirt ms" "lspci ms"
for s in large large2; do
	root=$out/$s
	n=$(ls "$root/sys/bus/pci/devices" | wc -l)
	a=$(median_ms "$build/amdvirt" --root "$root" list --json)
	l=$(median_ms lspci -nnk -A linux-sysfs -O "sysfs.path=$root/sys/bus/pci")
	printf '%-8s %8s %8s %12s %12s\n' "$s" "$("$build/amdvirt" --root "$root" list --json 2>/dev/null | grep -c "\"role\":.*\"pf\"")" "$n" "$a" "$l"
	eval "a_$s=$a l_$s=$l"
done
awk -v a1="$a_large" -v a2="$a_large2" -v l1="$l_large" -v l2="$l_large2" 'BEGIN {
	printf "amdvirt/lspci: large %.2f, large2 %.2f\n", a1 / l1, a2 / l2
	printf "doubling: amdvirt x%.2f, lspci x%.2f\n", a2 / a1, l2 / l1
}'

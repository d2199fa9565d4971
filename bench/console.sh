#!/bin/sh
# Time for the console to open on the large host: the console's own figure
# (from entering the console to the first frame on screen, written to its
# Log), plus the cost of starting the process at all (`--version`).
#   bench/console.sh [BUILDDIR] [RUNS]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
runs=${2:-11}
out=${TMPDIR:-/tmp}/amdvirt-bench-console
mkdir -p "$out"
for s in large large2; do
	[ -d "$out/$s" ] || "$build/tests/mkhost" "$src/tests/scenarios/$s.json" "$out/$s"
done
n=0
sock=amdvirt-bench-$$-0
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null || true' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

wait_screen() {
	tries=0
	until tm capture-pane -p 2>/dev/null | grep -q "$1"; do
		tries=$((tries + 1))
		[ $tries -lt 400 ] || { echo "'$1' never showed" >&2; exit 1; }
		sleep 0.025
	done
}

# One run: start, wait for the first frame, read the figure from the Log.
ready_ms() {
	# A fresh server per run: reusing a socket races its shutdown.
	tm kill-server 2>/dev/null || true
	n=$((n + 1))
	sock=amdvirt-bench-$$-$n
	tm new-session -d -x 120 -y 40 "env TERM=xterm-256color NO_COLOR=1 $build/amdvirt --root $1; sleep 60"
	wait_screen "1 Devices"
	tm send-keys 6
	wait_screen "console ready in"
	tm capture-pane -p | sed -n 's/.*console ready in \([0-9]*\) ms.*/\1/p' | head -n1
	tm send-keys q
}

start_ms() {
	run=0
	while [ $run -lt "$runs" ]; do
		t0=$(date +%s%N); "$build/amdvirt" --version >/dev/null; t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000000)); run=$((run + 1))
	done | median
}

printf 'process start (--version): %s ms\n' "$(start_ms)"
for s in large large2; do
	run=0
	figures=$(while [ $run -lt "$runs" ]; do ready_ms "$out/$s"; run=$((run + 1)); done)
	printf '%-7s first frame: median %s ms (runs: %s)\n' "$s" "$(echo "$figures" | median)" "$(echo $figures)"
done

#!/bin/sh
# Device plugin figures on an 8 PF x 8 VF host (bench/plugin-host.json) with
# the test suite's Python kubelet: start to Register, idle RSS, idle CPU and
# wake-ups, Allocate latency and CPU per Allocate.
#   bench/plugin.sh [BUILDDIR]
# Not a test: the numbers depend on the machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
out=$build/bench-out/plugin   # not under bench/: that directory is distributed whole
rm -rf "$out"
mkdir -p "$out"
"$build/tests/mkhost" "$src/bench/plugin-host.json" "$out/host" >/dev/null
/usr/bin/python3 "$src/bench/plugin.py" "$build/amdvirt" "$out/host" "$out"

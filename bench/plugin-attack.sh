#!/bin/sh
# Peak memory of the device plugin under hostile local clients (see
# bench/plugin-attack.py), on the 8 PF x 8 VF host of bench/plugin.sh.
#   bench/plugin-attack.sh [BUILDDIR]
# Not a test: the numbers depend on the machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
out=$build/bench-out/plugin-attack   # not under bench/: that directory is distributed whole
rm -rf "$out"
mkdir -p "$out"
"$build/tests/mkhost" "$src/bench/plugin-host.json" "$out/host" >/dev/null
/usr/bin/python3 "$src/bench/plugin-attack.py" "$build/amdvirt" "$out/host" "$out"

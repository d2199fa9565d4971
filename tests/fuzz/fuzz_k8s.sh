#!/bin/sh
# A short libFuzzer run over kubeconfig parsing, the label diff of a Node and
# DeviceConfig parsing, from the checked-in seeds (FUZZ_SECONDS, default 20).
# Built with --enable-fuzz.
: "${top_builddir:?}" "${top_srcdir:?}"
FUZZER=$top_builddir/tests/fuzz/fuzz_k8s
[ -x "$FUZZER" ] || { echo "SKIP: $FUZZER not built"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/amdvirt-fuzz-k8s.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/corpus"
cp "$top_srcdir"/tests/fuzz/corpus-k8s/* "$T/corpus/"
cd "$T" && "$FUZZER" -max_total_time="${FUZZ_SECONDS:-20}" -close_fd_mask=2 \
	-print_final_stats=1 "$T/corpus"

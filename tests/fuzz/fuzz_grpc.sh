#!/bin/sh
# A short libFuzzer run over the gRPC frame and message decoding, from the
# checked-in seeds (FUZZ_SECONDS, default 20).  Built with --enable-fuzz.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

FUZZER=$top_builddir/tests/fuzz/fuzz_grpc
[ -x "$FUZZER" ] || { echo "SKIP: $FUZZER not built"; exit 77; }
mkdir -p "$TEST_TMP/corpus"
cp "$top_srcdir"/tests/fuzz/corpus/* "$TEST_TMP/corpus/"
cd "$TEST_TMP" && "$FUZZER" -max_total_time="${FUZZ_SECONDS:-20}" -close_fd_mask=2 \
	-print_final_stats=1 "$TEST_TMP/corpus"

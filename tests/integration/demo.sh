#!/bin/sh
# --demo runs on a private copy of the demo host with the simulated kernel:
# actions succeed or refuse as on a real host with that layout, a run
# never inherits the one before, and nothing outside the copy is written.
. "$(dirname "$0")/../lib.sh"

demo=${AMDVIRT_DEMO_DIR:-$top_builddir/demo}
snapshot() { (cd "$demo" && find . -printf '%p %y %m %l %s %T@\n' | sort | md5sum); }
before=$(snapshot)
export TMPDIR=$TEST_TMP/tmp
mkdir -p "$TMPDIR"

run() { "$AMDVIRT" --demo "$@" >"$TEST_TMP/out" 2>&1; }

run list --json && cp "$TEST_TMP/out" "$TEST_TMP/pristine.json"
check "list --json on the demo" grep -q '"bdf":[[:space:]]*"0000:25:02.0"' "$TEST_TMP/pristine.json"

check "bind 0000:25:02.0 succeeds" run bind 0000:25:02.0
check "  the simulated kernel moved it to vfio-pci" grep -q "ok *verify */sys/bus/pci/devices/0000:25:02.0 driver is vfio-pci" "$TEST_TMP/out"
check "  and its group appeared" grep -q "ok *verify */dev/vfio/60 exists" "$TEST_TMP/out"

check "unbind of a VF on vfio-pci (05:02.0) succeeds" run unbind 0000:05:02.0
check "  vfio released its group" grep -q "ok *verify */dev/vfio/59 is absent" "$TEST_TMP/out"

check "bind of the VF on amdgpu (85:02.0) succeeds" run bind 0000:85:02.0

if run bind 0000:45:00.0; then not_ok "the shared group 27 is refused"; else
	check "the shared group 27 is refused" grep -q "refused: group 27: 0000:45:00.1 is on the host driver snd_hda_intel" "$TEST_TMP/out"
fi
if run unbind 0000:a5:02.0; then not_ok "the VM-held VF a5:02.0 is refused"; else
	check "the VM-held VF a5:02.0 is refused" grep -q "refused: 0000:a5:02.0 is in use" "$TEST_TMP/out"
fi
if run gim unload; then not_ok "gim unload with VFs in use is refused"; else
	check "gim unload with VFs in use is refused" grep -q "refused: VF 0000:a5:02.0 is in use" "$TEST_TMP/out"
fi
check "gim load says it is loaded" run gim load
check "  (gim is already loaded)" grep -q "gim is already loaded" "$TEST_TMP/out"

check "bind --all succeeds" run bind --all
run list --json
check "the next run starts from the pristine demo host" cmp -s "$TEST_TMP/out" "$TEST_TMP/pristine.json"

check "every run removed its copy" test -z "$(ls -A "$TMPDIR")"
check "the demo host itself was never written" test "$(snapshot)" = "$before"

export TMPDIR=$TEST_TMP/nowhere
if run list; then not_ok "an unusable TMPDIR is an error"; else
	check "an unusable TMPDIR is one clear line" grep -q "^amdvirt: cannot open the demo host: .*nowhere" "$TEST_TMP/out"
fi
finish

#!/bin/sh
# `amdvirt check` on the check-*.json fake hosts: each scenario is the clean
# vf (or pf, or guest) host with one thing changed, and must report exactly
# that: the check id, its status and its subject, the exit code, and no
# other FAIL.  Then the output formats, and hosts with broken files.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

# run_check SCENARIO ARGS...: check --json into out.json; exit code in $rc.
run_check() {
	local root
	root=$(build_host "$1")
	shift
	rc=0
	"$AMDVIRT" --root "$root" "$@" check --json >"$TEST_TMP/out.json" 2>"$TEST_TMP/out.err" || rc=$?
}

# `make update-expected` runs this with --update: every scenario's results
# are written to tests/expected/check/ and nothing is judged; review the
# diff before committing it.
UPDATE=false
if [ "${1:-}" = "--update" ]; then
	UPDATE=true
	mkdir -p "$top_srcdir/tests/expected/check"
	ok() { :; }
	not_ok() { :; }
fi

# same_results FILE: every result of out.json (status, id, subject, in order)
# is the expected file's; --update writes the file instead.
same_results() {
	$PY - "$TEST_TMP/out.json" "$1" "$UPDATE" <<'PYEOF'
import json, sys, difflib
d = json.load(open(sys.argv[1]))
got = ["%s %s %s" % (c["status"], c["id"], c["subject"]) for c in d["checks"]]
if sys.argv[3] == "true":
    open(sys.argv[2], "w").write("\n".join(got) + "\n")
    sys.exit(0)
try:
    want = open(sys.argv[2]).read().splitlines()
except OSError as e:
    print("    no expected results: %s" % e)
    sys.exit(1)
if got != want:
    for l in difflib.unified_diff(want, got, "expected", "got", lineterm="", n=1):
        print("    " + l)
    sys.exit(1)
PYEOF
}

# expect SCENARIO "ARGS" RC "ID STATUS SUBJECT; ..." "FAIL IDS"
#   Every listed result is present; the FAILing ids are exactly FAIL IDS
#   ("-": none).  STATUS "all-pass" as the only item: nothing but PASS.
expect() {
	local name=$1 args=$2 want_rc=$3 items=$4 fails=$5
	# shellcheck disable=SC2086
	run_check "check-$name" $args
	local tag
	tag=check-$name$(printf '%s' "${args:+_$args}" | sed "s|$TEST_TMP/||g; s/[^A-Za-z0-9._]\{1,\}/-/g")
	if same_results "$top_srcdir/tests/expected/check/$tag.txt"; then
		ok "check-$name: every result as in tests/expected/check/$tag.txt"
	else
		not_ok "check-$name: every result as in tests/expected/check/$tag.txt"
	fi
	if [ "$rc" != "$want_rc" ]; then
		not_ok "check-$name: exit $rc, expected $want_rc ($(head -c 300 "$TEST_TMP/out.err"))"
		return
	fi
	if $PY - "$TEST_TMP/out.json" "$items" "$fails" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
res = [(c["id"], c["status"], c["subject"]) for c in d["checks"]]
bad = []
for c in d["checks"]:
    for k in ("id", "status", "subject", "message", "hint", "evidence"):
        if k not in c:
            bad.append("result without %s: %s" % (k, c))
    if c["status"] != "pass" and not c["hint"] and c["status"] != "skip":
        bad.append("no hint: %s %s" % (c["id"], c["subject"]))
pairs = [(r[0], r[2]) for r in res]
dups = sorted({p for p in pairs if pairs.count(p) > 1})
if dups:
    bad.append("more than one result for %s" % dups)
summary = {s: sum(1 for r in res if r[1] == s) for s in ("pass", "fail", "warn", "note", "skip")}
if d["summary"] != summary:
    bad.append("summary %s != %s" % (d["summary"], summary))
items = [i.split() for i in sys.argv[2].split(";") if i.strip()]
for it in items:
    if it == ["all-pass"]:
        others = [r for r in res if r[1] != "pass"]
        if others:
            bad.append("not all pass: %s" % others)
    elif tuple(it) not in res:
        bad.append("missing %s; have %s" % (" ".join(it), [r for r in res if r[0] == it[0]]))
want = set() if sys.argv[3] == "-" else set(sys.argv[3].split())
got = {r[0] for r in res if r[1] == "fail"}
if got != want:
    bad.append("FAILs %s, expected %s" % (sorted(got), sorted(want)))
for b in bad:
    print("   ", b)
sys.exit(1 if bad else 0)
PYEOF
	then ok "check-$name: $items (exit $want_rc)"; else not_ok "check-$name: $items"; fi
}

# The clean hosts: every check they run passes.
expect vf "" 0 "all-pass" -
expect pf "" 0 "all-pass" -
expect guest "--guest" 0 "guest.device pass 0000:00:05.0" -

# What the issue names: each of these exits 1 and names exactly its check.
expect iommu-off "" 1 "iommu.kernel fail host; iommu.group skip 0000:25:02.0" "iommu.kernel"
expect amdgpu-pf "" 1 "amdgpu.blacklist fail 0000:25:00.0; gim.bound skip 0000:25:00.0" "amdgpu.blacklist"
expect ari-off "" 1 "pci.ari fail 0000:25:00.0; pci.ari pass 0000:05:00.0" "pci.ari"
expect grub-pending "" 1 "boot.pending-reboot fail host" "boot.pending-reboot"
expect vf-bars "" 1 "pci.vf-bars fail 0000:25:00.0; vf.binding skip 0000:25:00.0" "pci.vf-bars"

# One failing (or warning, or noting) variation per check.
expect platform-virt "" 1 "platform.virt fail host" "platform.virt"
expect iommu-firmware "" 1 "iommu.firmware fail host" "iommu.firmware"
expect iommu-group "" 1 "iommu.group fail 0000:25:02.0; iommu.group pass 0000:05:02.0; group.isolation skip 0000:25:02.0" "iommu.group"
expect irq-remap "" 1 "iommu.irq-remap fail host" "iommu.irq-remap"
expect irq-unsafe "" 1 "iommu.irq-remap fail host" "iommu.irq-remap"
expect noiommu "" 1 "vfio.noiommu fail host" "vfio.noiommu"
# Before vfio is loaded only the kernel command line tells: bare and valued.
expect noiommu-cmdline-bare "--driver-type pf-passthrough" 1 "vfio.noiommu fail host; gim.bound fail 0000:05:00.0" "gim.bound vfio.noiommu"
expect noiommu-cmdline-valued "--driver-type pf-passthrough" 1 "vfio.noiommu fail host; gim.bound fail 0000:05:00.0" "gim.bound vfio.noiommu"
expect iommu-pt "" 0 "iommu.domain note host" -
expect amd-iommu-off "" 1 "cmdline.params fail host; iommu.kernel fail host" "cmdline.params iommu.kernel"
expect amd-iommu-on "" 0 "cmdline.params note host" -
expect acs-override "" 0 "cmdline.params warn host" -
expect grubd-pending "" 1 "boot.pending-reboot fail host" "boot.pending-reboot"
expect bls-pending "" 1 "boot.pending-reboot fail host" "boot.pending-reboot"
expect kernel-cmdline "" 0 "boot.pending-reboot warn host" -
expect grub-cosmetic "" 0 "boot.pending-reboot warn host" -
expect grub-stale "" 0 "boot.pending-reboot warn host" -
expect initramfs "" 0 "boot.initramfs warn host" -
expect vfio-missing "" 1 "vfio.modules fail host" "vfio.modules"
expect vfio-node "" 1 "vfio.modules fail host" "vfio.modules"
expect amdgpu-not-blacklisted "" 0 "amdgpu.blacklist warn host; amdgpu.blacklist pass 0000:25:00.0" -
expect gim-missing "--driver-type vf-passthrough" 1 "gim.installed fail host; gim.loaded warn host; gim.bound fail 0000:05:00.0; gim.bound fail 0000:25:00.0; gim.nodes skip host" "gim.installed gim.bound"
expect gim-stale "" 0 "gim.loaded warn host" -
expect gim-uncompressed "" 0 "all-pass" -
check "check-gim-uncompressed: gim.installed found updates/dkms/gim.ko through modules.dep" \
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(not any(c["id"] == "gim.installed" and c["evidence"]["path"].endswith("/updates/dkms/gim.ko") for c in d["checks"]))' \
	"$TEST_TMP/out.json"
expect gim-noparam "" 0 "gim.params pass 0000:05:00.0; gim.params pass 0000:25:00.0" -
check "check-gim-noparam: gim.params does not call a loaded gim unloaded" \
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(any("not loaded" in (c["message"] or "") for c in d["checks"] if c["id"] == "gim.params"))' \
	"$TEST_TMP/out.json"
expect gim-rebuilt "" 0 "gim.loaded warn host" -
cat >"$TEST_TMP/devconfig.json" <<'JSON'
{"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig",
 "metadata": {"name": "gpus", "namespace": "kube-amd-gpu"},
 "spec": {"driver": {"enable": true, "driverType": "vf-passthrough", "version": "8.2.0.K"}}}
JSON
expect vf "--config $TEST_TMP/devconfig.json" 0 "gim.loaded warn host" -
expect gim-unbound "" 1 "gim.bound fail 0000:25:00.0; gim.bound pass 0000:05:00.0" "gim.bound"
expect gim-vfnum "" 0 "gim.params warn 0000:05:00.0; gim.params warn 0000:25:00.0" -
expect gim-log "" 0 "gim.log warn 0000:25:00.0" -
expect gim-nodes "" 0 "gim.nodes warn host" -
expect sriov-gpuiov "" 1 "pci.sriov fail 0000:25:00.0; pci.sriov pass 0000:05:00.0" "pci.sriov"
expect bar-unset "" 1 "pci.above-4g fail 0000:25:00.0" "pci.above-4g"
expect bar-low "" 0 "pci.above-4g warn 0000:25:00.0" -
expect rebar-min "" 0 "pci.rebar warn 0000:25:00.0" -
expect rebar-none "" 0 "pci.rebar note 0000:25:00.0" -
expect ari-fits "" 0 "pci.ari warn 0000:25:00.0" -
# The boundary: a last VF at function 7 is still reachable, at 8 it is not.
expect ari-fn7 "" 0 "pci.ari warn 0000:25:00.0; pci.ari pass 0000:05:00.0" -
expect ari-fn8 "" 1 "pci.ari fail 0000:25:00.0; pci.ari pass 0000:05:00.0" "pci.ari"
expect bus-range "" 1 "pci.bus-range fail 0000:25:00.0; vf.binding skip 0000:25:00.0" "pci.bus-range"
expect acs-off "" 0 "pci.acs warn 0000:25:00.0; pci.acs pass 0000:05:00.0" -
expect link-slow "" 0 "pci.link warn 0000:25:00.0" -
expect group-shared "" 1 "group.isolation fail 0000:25:02.0" "group.isolation"
# A PF with its own audio function (on vfio-pci, or unbound) is a viable
# group that goes to the VM whole: no warning, only VFs sharing a group warn.
expect pf-audio "" 0 "all-pass; group.isolation pass 0000:05:00.0; group.isolation pass 0000:25:00.0" -
expect group-vfs "" 0 "group.isolation warn 0000:25:02.0; group.isolation warn 0000:25:02.1" -
expect vf-stub "" 1 "vf.binding fail 0000:25:02.0" "vf.binding"
expect in-use "" 0 "device.in-use note 0000:25:02.0; device.in-use pass 0000:05:02.0" -
expect vfio-open "" 0 "device.in-use note 0000:25:02.0" -
expect pf-interrupted "" 1 "state.interrupted fail 0000:25:00.0; state.interrupted pass 0000:05:00.0; gim.bound fail 0000:25:00.0" "gim.bound state.interrupted"
expect modprobe-blacklist "" 0 "amdgpu.blacklist pass host" -
expect numa "" 0 "topology.numa note 0000:05:00.0" -
expect no-hive "" 0 "topology.hive note host" -
expect no-kubelet "" 0 "kubelet.plugin-dir warn host" -
expect pf-vfs "" 1 "pf.vfs-disabled fail 0000:25:00.0" "pf.vfs-disabled"
expect pf-gim "--driver-type pf-passthrough" 1 "gim.bound fail 0000:25:00.0" "gim.bound"
expect pf-reset-bus "" 0 "pf.reset warn 0000:25:00.0" -
expect pf-reset-none "" 1 "pf.reset fail 0000:25:00.0" "pf.reset"
expect pf-boot-vga "" 0 "pf.boot-vga warn 0000:25:00.0" -
expect pf-hive-split "" 0 "topology.hive warn 0000:05:00.0; device.in-use note 0000:25:00.0" -
expect vf-fb-split "" 0 "topology.hive warn 0000:05:00.0; device.in-use note 0000:05:02.0; device.in-use note 0000:25:02.0" -
expect vf-fb-isolated "" 0 "topology.hive pass 0000:05:00.0; device.in-use note 0000:05:02.0; device.in-use note 0000:25:02.0" -
expect guest-none "--guest" 1 "guest.device fail host" "guest.device"

# Files that cannot be read or parsed: SKIP naming the file, never a crash.
expect config-hidden "" 0 "pci.sriov skip 0000:25:00.0; pci.ari skip 0000:25:00.0; pci.sriov pass 0000:05:00.0" -
expect resource-garbled "" 0 "pci.vf-bars skip 0000:25:00.0; pci.above-4g skip 0000:25:00.0" -
expect grub-garbled "" 0 "boot.pending-reboot skip host" -
expect no-cmdline "" 0 "cmdline.params skip host; boot.pending-reboot skip host; amdgpu.blacklist skip host" -
run_check check-resource-garbled
check "check-resource-garbled: the message names the file" \
	grep -q '/sys/bus/pci/devices/0000:25:00.0/resource line 1' "$TEST_TMP/out.json"
run_check check-grub-garbled
check "check-grub-garbled: the message names the file and line" \
	grep -q '/etc/default/grub line 2: unterminated quote' "$TEST_TMP/out.json"
for s in broken mixed none iommu-off mi300x-pf mi300x-container; do
	root=$(build_host "$s")
	rc=0
	"$AMDVIRT" --root "$root" check --all --json >"$TEST_TMP/out.json" 2>"$TEST_TMP/out.err" || rc=$?
	check "$s: check --all runs to the end (exit $rc)" \
		sh -c "[ $rc -le 1 ] && $PY -c 'import json,sys; json.load(open(sys.argv[1]))' '$TEST_TMP/out.json'"
done

# Human output: LEVEL  id  subject: message, an indented hint, no colour
# off a terminal; -q shows only what does not pass.
root=$(build_host check-ari-off)
rc=0
"$AMDVIRT" --root "$root" check >"$TEST_TMP/out.txt" 2>&1 || rc=$?
check "human: exit 1" [ "$rc" = 1 ]
check "human: the FAIL line" grep -Eq '^FAIL  pci\.ari +0000:25:00\.0: ARI Forwarding is off' "$TEST_TMP/out.txt"
check "human: a hint line under it" grep -Eq '^ +hint: enable ARI' "$TEST_TMP/out.txt"
check "human: PASS lines" grep -Eq '^PASS  pci\.ari +0000:05:00\.0: ' "$TEST_TMP/out.txt"
check "human: no escape codes" sh -c "! grep -q \"$(printf '\033')\" '$TEST_TMP/out.txt'"
check "human: summary" grep -q '^vf-passthrough: .* 1 fail' "$TEST_TMP/out.txt"
"$AMDVIRT" --root "$root" -q check >"$TEST_TMP/q.txt" 2>&1 || true
check "-q: only what does not pass" sh -c "! grep -q '^PASS' '$TEST_TMP/q.txt' && grep -q '^FAIL  pci.ari' '$TEST_TMP/q.txt'"
root=$(build_host check-vf)
check "-q on a clean host prints nothing" sh -c "[ -z \"\$('$AMDVIRT' --root '$root' -q check)\" ]"
check "--check is check" sh -c "'$AMDVIRT' --root '$root' --check --json | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"mode\"] == \"vf-passthrough\"'"
rc=0
"$AMDVIRT" --root "$root" --all check --json >"$TEST_TMP/out.json" 2>/dev/null || rc=$?
check "--all adds the pf checks on a vf host" \
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); ids={c["id"] for c in d["checks"]}; assert {"pf.reset","pf.boot-vga","pf.vfs-disabled"} <= ids and "guest.device" not in ids' "$TEST_TMP/out.json"
# The demo host shows every kind of result.
rc=0
"$AMDVIRT" --demo check --json >"$TEST_TMP/out.json" 2>/dev/null || rc=$?
check "--demo: exit 1 and a mix of PASS, FAIL, WARN and NOTE" \
	$PY -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; assert all(s[k] > 0 for k in ("pass","fail","warn","note")), s; assert sys.argv[2] == "1"' "$TEST_TMP/out.json" "$rc"
rc=0
"$AMDVIRT" --root "$TEST_TMP/nonexistent" check >/dev/null 2>&1 || rc=$?
check "no such root: exit 2" [ "$rc" = 2 ]
if $UPDATE; then
	echo "rewrote tests/expected/check/*.txt"
	exit 0
fi
finish

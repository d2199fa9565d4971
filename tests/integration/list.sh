#!/bin/sh
# `amdvirt list` on every scenario: the JSON against its expected document,
# plus the properties each scenario exists to show, asserted directly.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

# Runs list --json on a scenario; stdout to FILE.json, stderr to FILE.err.
list_json() {
	local root
	root=$(build_host "$1")
	LAST_ROOT=$root
	shift
	"$AMDVIRT" --root "$root" "$@" list --json >"$TEST_TMP/out.json" 2>"$TEST_TMP/out.err"
}

# assert_json SCENARIO PYTHON-EXPRESSION...: each expression over `d` is true.
assert_json() {
	local name=$1
	shift
	for expr in "$@"; do
		if $PY - "$TEST_TMP/out.json" "$expr" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
gpus = d["gpus"]
vfs = [v for g in gpus for v in g["vfs"]]
groups = {g["id"]: g for g in d["iommu_groups"]}
sys.exit(0 if eval(sys.argv[2]) else 1)
PYEOF
		then ok "$name: $expr"; else not_ok "$name: $expr"; fi
	done
}

# The whole document against tests/expected/list/NAME.json.  pci.ids names
# vary with the pci.ids release and are left out; the fake root's temporary
# path becomes ROOT; problems are compared as a set (directory order).
NORMALISE='import json, sys, difflib
def norm(o, root):
    if isinstance(o, dict):
        return {k: (sorted(norm(v, root)) if k == "problems" else norm(v, root))
                for k, v in o.items() if k != "pci_name"}
    if isinstance(o, list): return [norm(v, root) for v in o]
    if isinstance(o, str): return o.replace(root, "ROOT")
    return o'

assert_expected() {
	local name=$1 expected=$top_srcdir/tests/expected/list/$1.json
	if $PY -c "$NORMALISE
got = norm(json.load(open(sys.argv[1])), sys.argv[2])
want = json.load(open(sys.argv[3]))
if got != want:
    import difflib
    a = json.dumps(want, indent=1, sort_keys=True).splitlines()
    b = json.dumps(got, indent=1, sort_keys=True).splitlines()
    sys.stderr.write(chr(10).join(difflib.unified_diff(a, b, 'expected', 'got', lineterm='', n=2)) + chr(10))
    sys.exit(1)" "$TEST_TMP/out.json" "$LAST_ROOT" "$expected"
	then ok "$name: matches expected document"; else not_ok "$name: matches expected document"; fi
}

# `make update-expected` runs this with --update: it rewrites the expected
# documents from the current output and stops, judging nothing; review the
# diff before committing it.
if [ "${1:-}" = "--update" ]; then
	for s in mi300x-vf mi300x-pf mi210-hives mi300x-container mixed none iommu-off broken; do
		list_json "$s" || true
		$PY -c "$NORMALISE
json.dump(norm(json.load(open(sys.argv[1])), sys.argv[2]), open(sys.argv[3], 'w'), indent=1, sort_keys=True)
open(sys.argv[3], 'a').write('\\n')" "$TEST_TMP/out.json" "$LAST_ROOT" "$top_srcdir/tests/expected/list/$s.json"
		echo "rewrote tests/expected/list/$s.json"
	done
	exit 0
fi

for s in mi300x-vf mi300x-pf mi210-hives mi300x-container mixed none iommu-off broken; do
	if list_json "$s"; then ok "$s: exit 0"; else not_ok "$s: exit 0"; fi
	assert_expected "$s"
done

list_json mi300x-vf
assert_json mi300x-vf 'd["mode"] == "vf-passthrough"' 'd["mode_source"] == "auto"' \
	'len(gpus) == 8 and all(g["driver"] == "gim" and g["device_id"] == "74a1" for g in gpus)' \
	'len(vfs) == 8 and all(v["driver"] == "vfio-pci" and v["device_id"] == "74b5" and v["selected"] for v in vfs)' \
	'all(g["sriov"]["num_vfs"] == 1 for g in gpus)' \
	'd["resources"] == {"amd.com/gpu": 8}' \
	'len({v["iommu_group"] for v in vfs}) == 8' \
	'all(groups[v["iommu_group"]]["viable"] for v in vfs)' \
	'd["mode_evidence"].endswith("is bound to gim and has 1 VF")' \
	'sorted({g["numa_node"] for g in gpus}) == [0, 1]' \
	'd["problems"] == []'
[ ! -s "$TEST_TMP/out.err" ] && ok "mi300x-vf: nothing on stderr" || not_ok "mi300x-vf: nothing on stderr"

list_json mi300x-vf --resource-naming mixed
assert_json mi300x-vf-mixed 'd["resources"] == {"amd.com/gpu_vf": 8}'
list_json mi300x-vf --driver-type pf-passthrough
assert_json mi300x-vf-forced 'd["mode"] == "pf-passthrough"' 'd["mode_source"] == "flag"' \
	'd["resources"] == {"amd.com/gpu": 0}'
list_json mi300x-vf --driver_type container
assert_json mi300x-vf-alias 'd["mode"] == "container"'

cat >"$TEST_TMP/cfg.json" <<'CFG'
{"metadata": {"name": "gpu", "namespace": "kube-amd-gpu"},
 "spec": {"driver": {"driverType": "vf-passthrough", "vfioConfig": {"deviceIDs": ["7410"]}},
          "amdvirt": {"resourceNaming": "mixed"}}}
CFG
list_json mi300x-vf --config "$TEST_TMP/cfg.json"
assert_json mi300x-vf-config 'd["mode_source"] == "config"' 'not any(v["selected"] for v in vfs)' \
	'd["resources"] == {"amd.com/gpu_vf": 0}'

list_json mi300x-pf
assert_json mi300x-pf 'd["mode"] == "pf-passthrough"' \
	'len(gpus) == 8 and all(g["driver"] == "vfio-pci" and g["selected"] and g["vfs"] == [] for g in gpus)' \
	'd["resources"] == {"amd.com/gpu": 8}'

list_json mi210-hives
assert_json mi210-hives 'd["mode"] == "vf-passthrough"' 'len(d["hives"]) == 2' \
	'all(len(h["gpus"]) == 4 and h["source"] == "record" for h in d["hives"])' \
	'[h["id"] for h in d["hives"]] == ["h0", "h1"]' \
	'all(v["hive"] == g["hive"] and g["hive"] is not None for g in gpus for v in g["vfs"])' \
	'd["resources"] == {"amd.com/gpu": 8}'

list_json mi300x-container
assert_json mi300x-container 'd["mode"] == "container"' 'd["resources"] == {"amd.com/gpu": 8}' \
	'len(d["hives"]) == 1 and d["hives"][0]["source"] == "sysfs" and len(d["hives"][0]["gpus"]) == 8'
# list only looks: the hive record is written by the commands that change
# drivers (tests/integration/rootfs.sh).
root=$(build_host mi300x-container)
check "mi300x-container: list writes no hive record" test ! -e "$root/var/lib/amdvirt/hives.json"

# amdvirt bind leaves a stubbed member in place on purpose: pci-stub does
# not make the group unviable, so the GPU stays healthy and counted.
list_json pf-stub-audio
assert_json pf-stub-audio 'd["mode"] == "pf-passthrough"' \
	'[(m["bdf"], m["driver"]) for m in groups[7]["devices"]] == [("0000:05:00.0", "vfio-pci"), ("0000:05:00.1", "pci-stub")]' \
	'[(m["bdf"], m["driver"]) for m in groups[14]["devices"]] == [("0000:25:00.0", "vfio-pci"), ("0000:25:00.1", "pci-stub")]' \
	'groups[7]["viable"] is True and groups[14]["viable"] is True' \
	'[(x["id"], x["functions"], x["healthy"]) for x in d["devices"]] == [("7", ["0000:05:00.0"], True), ("14", ["0000:25:00.0"], True)]' \
	'd["resources"] == {"amd.com/gpu": 2}'

# The record follows a hive id that changed (re-cabling, a hive re-formed):
# a command that records (unbind, here with nothing to do) rewrites it for
# the GPU whose id moved, and list then shows two hives.
REHIVE=$TEST_TMP/rehive
cp -a "$(build_host mi300x-container)" "$REHIVE"
hive_record() { # hive_record EXPECTED-PYTHON-LITERAL: {id: [bdfs]} in hives.json
	$PY -c 'import ast, json, sys
d = json.load(open(sys.argv[1]))
got = {h["xgmi_hive_id"]: sorted(h["gpus"]) for h in d["hives"]}
want = ast.literal_eval(sys.argv[2])
if got != want:
    print("   record %s, expected %s" % (got, want))
    sys.exit(1)' "$REHIVE/var/lib/amdvirt/hives.json" "$1"
}
ALL8="'0000:05:00.0', '0000:25:00.0', '0000:45:00.0', '0000:65:00.0', '0000:85:00.0', '0000:a5:00.0', '0000:c5:00.0'"
"$AMDVIRT" --root "$REHIVE" unbind --all >/dev/null 2>&1
check "rehive: unbind records the hive" hive_record "{'5164837823749213954': [$ALL8, '0000:e5:00.0']}"
rm "$REHIVE/sys/bus/pci/devices/0000:e5:00.0/xgmi_hive_info"
mkdir "$REHIVE/sys/bus/pci/devices/0000:e5:00.0/xgmi_hive_info"
echo 7305218940172635651 >"$REHIVE/sys/bus/pci/devices/0000:e5:00.0/xgmi_hive_info/xgmi_hive_id"
"$AMDVIRT" --root "$REHIVE" unbind --all >/dev/null 2>&1
check "rehive: the record follows the changed id" \
	hive_record "{'5164837823749213954': [$ALL8], '7305218940172635651': ['0000:e5:00.0']}"
# Once sysfs no longer shows the ids (the GPUs moved off amdgpu), the
# record is what places them.
for d in "$REHIVE"/sys/bus/pci/devices/*/xgmi_hive_info; do rm -rf "$d"; done
"$AMDVIRT" --root "$REHIVE" list --json >"$TEST_TMP/out.json" 2>"$TEST_TMP/out.err"
assert_json rehive '[(h["xgmi_hive_id"], h["source"], len(h["gpus"])) for h in d["hives"]] == [("5164837823749213954", "record", 7), ("7305218940172635651", "record", 1)]'

list_json mixed
assert_json mixed 'd["mode"] == "vf-passthrough"' 'd["mode_warning"] is not None' \
	'"mixed host" in d["mode_warning"]'
check "mixed: warning on stderr" grep -q "warning: mixed host" "$TEST_TMP/out.err"

list_json none
assert_json none 'd["mode"] == "none"' 'd["gpus"] == []' 'd["resources"] == {}' 'len(d["iommu_groups"]) > 0'

list_json iommu-off
assert_json iommu-off 'd["iommu_enabled"] is False' 'd["iommu_groups"] == []' \
	'all(g["iommu_group"] is None for g in gpus)' 'd["resources"] == {"amd.com/gpu": 0}'

# A broken host: a partial model and one line per problem naming the file.
list_json broken
assert_json broken 'len(d["problems"]) >= 5' 'len(gpus) >= 1'
check "broken: problems on stderr name files" grep -q '/sys/bus/pci/devices/.*: ' "$TEST_TMP/out.err"
check "broken: one stderr line per problem" \
	test "$(grep -c '^amdvirt: ' "$TEST_TMP/out.err")" -eq "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["problems"]))' "$TEST_TMP/out.json")"

# Usage errors and unreadable inputs exit 2 with one line.
set +e
"$AMDVIRT" --root "$TEST_TMP/nonexistent" list >/dev/null 2>"$TEST_TMP/err"; rc=$?
set -e
check "missing root: exit 2" test "$rc" -eq 2
check "missing root: names it" grep -q "$TEST_TMP/nonexistent" "$TEST_TMP/err"
set +e
"$AMDVIRT" --driver-type vm list >/dev/null 2>&1; rc=$?
set -e
check "bad --driver-type: exit 2" test "$rc" -eq 2
set +e
"$AMDVIRT" --demo list extra >/dev/null 2>"$TEST_TMP/err"; rc=$?
set -e
check "list with an argument: exit 2" test "$rc" -eq 2
check "list with an argument: names it" grep -q "takes no arguments (got 'extra')" "$TEST_TMP/err"
set +e
"$AMDVIRT" --root >/dev/null 2>"$TEST_TMP/err"; rc=$?
set -e
check "--root without its directory: exit 2" test "$rc" -eq 2
check "--root without its directory: names the option" grep -q -- "--root" "$TEST_TMP/err"
set +e
"$AMDVIRT" frobnicate >/dev/null 2>"$TEST_TMP/err"; rc=$?
set -e
check "unknown command: exit 2" test "$rc" -eq 2
echo '{"spec": {"driver": {"enable": "yes"}}}' >"$TEST_TMP/bad.json"
set +e
"$AMDVIRT" --root "$(build_host mi300x-vf)" --config "$TEST_TMP/bad.json" list >/dev/null 2>"$TEST_TMP/err"; rc=$?
set -e
check "bad config: exit 2" test "$rc" -eq 2
check "bad config: names the field" grep -q "spec.driver.enable" "$TEST_TMP/err"

# No command on a non-terminal stdout is list.
"$AMDVIRT" --root "$(build_host mi300x-vf)" >"$TEST_TMP/plain.txt" 2>/dev/null
check "no command, pipe: prints the tree" grep -q "0000:.*gim" "$TEST_TMP/plain.txt"
"$AMDVIRT" --demo list >"$TEST_TMP/demo.txt"
check "--demo works from the build tree" grep -q "demo-gpu-01" "$TEST_TMP/demo.txt"

# Hostile text from the host: a driver directory named with a byte that is
# not UTF-8 and a terminal escape, the same in a driver_override and the
# hostname.  JSON stays valid UTF-8; text output carries no ESC byte.
EVIL=$TEST_TMP/evil
cp -a "$(build_host mi300x-vf)" "$EVIL"
bad=$(printf '\377\033[31mevil')
mkdir "$EVIL/sys/bus/pci/drivers/$bad"
ln -sfn "../../../../../../bus/pci/drivers/$bad" "$EVIL/sys/bus/pci/devices/0000:05:00.0/driver"
printf '\377\033[2Jvfio-pci\n' >"$EVIL/sys/bus/pci/devices/0000:05:00.0/driver_override"
printf 'node\033]0;owned\007\n' >"$EVIL/proc/sys/kernel/hostname"
mkdir "$EVIL/sys/bus/pci/devices/$(printf '\033[31mjunk')"
# valid_json FILE: strict UTF-8, and a JSON document the json module reads.
valid_json() {
	$PY -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))' "$1"
}
no_esc() { ! grep -q "$(printf '\033')" "$1"; }
"$AMDVIRT" --root "$EVIL" list --json >"$TEST_TMP/evil.json" 2>"$TEST_TMP/evil.err"
check "hostile names: list --json is valid UTF-8 JSON" valid_json "$TEST_TMP/evil.json"
check "hostile names: a byte that is not UTF-8 becomes U+FFFD, the escape stays a JSON escape" \
	$PY -c 'import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
g = [g for g in d["gpus"] if g["bdf"] == "0000:05:00.0"][0]
sys.exit(g["driver"] != "\ufffd\x1b[31mevil" or g["driver_override"] != "\ufffd\x1b[2Jvfio-pci"
         or d["hostname"] != "node\x1b]0;owned\x07")' "$TEST_TMP/evil.json"
"$AMDVIRT" --root "$EVIL" list >"$TEST_TMP/evil.txt" 2>>"$TEST_TMP/evil.err"
check "hostile names: list prints no ESC byte" no_esc "$TEST_TMP/evil.txt"
check "hostile names: list shows the driver escaped" grep -qF '\xff\x1b[31mevil' "$TEST_TMP/evil.txt"
check "hostile names: list shows the hostname escaped" grep -qF 'node\x1b]0;owned\x07' "$TEST_TMP/evil.txt"
set +e
"$AMDVIRT" --root "$EVIL" check >"$TEST_TMP/evil-check.txt" 2>>"$TEST_TMP/evil.err"
"$AMDVIRT" --root "$EVIL" check --json >"$TEST_TMP/evil-check.json" 2>>"$TEST_TMP/evil.err"
set -e
check "hostile names: check prints no ESC byte" no_esc "$TEST_TMP/evil-check.txt"
check "hostile names: check names the driver escaped" grep -qF '\xff\x1b[31mevil' "$TEST_TMP/evil-check.txt"
check "hostile names: check --json is valid UTF-8 JSON" valid_json "$TEST_TMP/evil-check.json"
check "hostile names: the diagnostic names the entry escaped" grep -qF '\x1b[31mjunk: not a PCI address' "$TEST_TMP/evil.err"
# A plan names the driver it takes a function from: a VF on the same driver.
ln -sfn "../../../../../../bus/pci/drivers/$bad" "$EVIL/sys/bus/pci/devices/0000:05:02.0/driver"
"$AMDVIRT" --root "$EVIL" --driver-type vf-passthrough bind --dry-run 0000:05:02.0 \
	>"$TEST_TMP/evil-plan.txt" 2>>"$TEST_TMP/evil.err" || true
"$AMDVIRT" --root "$EVIL" --driver-type vf-passthrough bind --dry-run --json 0000:05:02.0 \
	>"$TEST_TMP/evil-plan.json" 2>>"$TEST_TMP/evil.err" || true
check "hostile names: a bind plan prints no ESC byte" no_esc "$TEST_TMP/evil-plan.txt"
check "hostile names: the bind plan names the driver escaped" grep -qF '\xff\x1b[31mevil' "$TEST_TMP/evil-plan.txt"
check "hostile names: bind --json is valid UTF-8 JSON" valid_json "$TEST_TMP/evil-plan.json"
check "hostile names: no ESC byte on stderr" no_esc "$TEST_TMP/evil.err"

finish

#!/bin/sh
# bind / unbind / gim with the real binary on a fake host: a separate
# process cannot be given the fake kernel, so this covers --dry-run (the
# exact plan, and that nothing changes), refusals and exit codes.
# Execution against kernel semantics is in tests/unit/test_actions_exec.c.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

# A host laid out as sysfs is: a bridge, an MI300X PF on amdgpu alone in
# group 11, and a PF + audio function sharing group 30.
fake_host() {
	local r=$1 d
	mkdir -p "$r/sys/bus/pci/devices" "$r/sys/kernel/iommu_groups" "$r/dev/vfio" "$r/proc"
	: > "$r/sys/bus/pci/drivers_probe"
	for drv in pcieport amdgpu snd_hda_intel vfio-pci; do
		mkdir -p "$r/sys/bus/pci/drivers/$drv"
		: > "$r/sys/bus/pci/drivers/$drv/bind"
		: > "$r/sys/bus/pci/drivers/$drv/unbind"
	done
	# dev BDF PARENT-DIR VENDOR DEVICE CLASS DRIVER GROUP [SRIOV-TOTAL]
	dev() {
		d=$r/sys/devices/pci0000:00$2/$1
		mkdir -p "$d" "$r/sys/kernel/iommu_groups/$7/devices"
		echo "$3" > "$d/vendor"; echo "$4" > "$d/device"; echo "$5" > "$d/class"
		echo '(null)' > "$d/driver_override"; echo 1 > "$d/enable"; echo -1 > "$d/numa_node"
		if [ -n "${8:-}" ]; then
			echo "$8" > "$d/sriov_totalvfs"; echo 0 > "$d/sriov_numvfs"; echo 1 > "$d/sriov_drivers_autoprobe"
		fi
		local up=../../../..
		[ -n "$2" ] && up=$up/..
		ln -s "$up/bus/pci/drivers/$6" "$d/driver"
		ln -s "$up/kernel/iommu_groups/$7" "$d/iommu_group"
		ln -s "../../../devices/pci0000:00$2/$1" "$r/sys/bus/pci/devices/$1"
		ln -s "../../../../devices/pci0000:00$2/$1" "$r/sys/kernel/iommu_groups/$7/devices/$1"
	}
	dev 0000:00:01.0 "" 0x1022 0x14ab 0x060400 pcieport 10
	dev 0000:05:00.0 /0000:00:01.0 0x1002 0x74a1 0x120000 amdgpu 11 16
	dev 0000:00:03.0 "" 0x1022 0x14ab 0x060400 pcieport 30
	dev 0000:07:00.0 /0000:00:03.0 0x1002 0x740f 0x038000 amdgpu 30
	dev 0000:07:00.1 /0000:00:03.0 0x1002 0xab38 0x040300 snd_hda_intel 30
}

R=$TEST_TMP/host
fake_host "$R"
tree_sum() { (cd "$R" && find . -printf '%p %l\n' | sort && cat sys/devices/pci0000:00/*/*/driver_override) | md5sum; }
before=$(tree_sum)

run() { # EXPECTED-EXIT ARGS...: output in $TEST_TMP/out, errors in $TEST_TMP/err
	local want=$1 rc=0
	shift
	"$AMDVIRT" --root "$R" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
	[ "$rc" = "$want" ] || { echo "exit $rc, expected $want: amdvirt $*" >&2; cat "$TEST_TMP/err" >&2; return 1; }
}
has() { grep -qF -- "$1" "$TEST_TMP/${2:-out}"; }

check "bind --dry-run exits 0" run 0 --driver-type pf-passthrough bind --dry-run 0000:05:00.0
check "the plan writes driver_override before unbinding" sh -c "
	grep -n 'driver_override <- \"vfio-pci\"' '$TEST_TMP/out' | cut -d: -f1 > '$TEST_TMP/a'
	grep -n 'drivers/amdgpu/unbind' '$TEST_TMP/out' | cut -d: -f1 > '$TEST_TMP/b'
	[ \$(cat '$TEST_TMP/a') -lt \$(cat '$TEST_TMP/b') ]"
check "the plan loads vfio-pci first" has "   1. load    vfio-pci"
check "the plan verifies the driver and the group node" sh -c "grep -qF 'driver is vfio-pci' '$TEST_TMP/out' && grep -qF '/dev/vfio/11 exists' '$TEST_TMP/out'"
check "the plan records the previous driver" has "record  /var/lib/amdvirt/state.json: 0000:05:00.0 was on amdgpu"
check "dry-run changed nothing" [ "$(tree_sum)" = "$before" ]
check "no lock or state file was made" [ ! -e "$R/run/amdvirt.lock" -a ! -e "$R/var/lib/amdvirt" ]

check "a shared group is refused (exit 1)" run 1 --driver-type pf-passthrough bind --dry-run 0000:07:00.0
check "the refusal names the other endpoint and its driver" has "0000:07:00.1 is on the host driver snd_hda_intel" err
check "--force plans the whole group" run 0 --driver-type pf-passthrough bind --dry-run --force 0000:07:00.0
check "... moving the audio function too" has "drivers/snd_hda_intel/unbind <- \"0000:07:00.1\""
check "... and leaving the bridge alone" sh -c "! grep -q 0000:00:03.0 '$TEST_TMP/out'"
check "a bridge is refused" run 1 bind --dry-run 0000:00:01.0
check "... saying why" has "is a bridge" err
check "a refused bind without --dry-run changes nothing" run 1 --driver-type pf-passthrough bind 0000:07:00.0
check "... really nothing" [ "$(tree_sum)" = "$before" ]

check "bind with no target is a usage error (2)" run 2 bind
check "gim without load/unload is a usage error (2)" run 2 gim
check "bad BDF refused" run 1 bind --dry-run nonsense
check "unbind of a function not on vfio-pci has nothing to do" run 0 unbind --dry-run 0000:05:00.0
check "... and says so" has "group 11: nothing is on vfio-pci"

# --json: one document on stdout, the same plan as the text form.
js() { $PY -c "import json,sys; d=json.load(open('$TEST_TMP/out')); sys.exit(0 if ($1) else 1)"; }
check "bind --dry-run --json exits 0" run 0 --json --driver-type pf-passthrough bind --dry-run 0000:05:00.0
check "... stdout is one JSON document saying what was asked" \
	js "d['action'] == 'bind' and d['dry_run'] is True and d['result'] == 'planned' and d['error'] is None"
check "... the lock comes first" js "d['steps'][0] == {'op': 'lock', 'path': '/run/amdvirt.lock', 'unit': None, 'why': None}"
check "... driver_override is written before the unbind" js "[i for i, s in enumerate(d['steps'])
	if s['op'] == 'write' and s['path'].endswith('0000:05:00.0/driver_override') and s['value'] == 'vfio-pci'][0]
	< [i for i, s in enumerate(d['steps']) if s['op'] == 'write' and s['path'] == '/sys/bus/pci/drivers/amdgpu/unbind'][0]"
check "... the final driver is verified for group 11" js "{'op': 'verify', 'test': 'driver', 'expect': 'vfio-pci',
	'path': '/sys/bus/pci/devices/0000:05:00.0', 'unit': 'group 11', 'why': None} in d['steps']"
check "... the rollback record is the function's present state" \
	js "d['rollback'] == [{'bdf': '0000:05:00.0', 'driver': 'amdgpu', 'driver_override': None, 'sriov_drivers_autoprobe': None}]"
run 0 --driver-type pf-passthrough bind --dry-run 0000:05:00.0
grep -cE '^ +[0-9]+\. ' "$TEST_TMP/out" > "$TEST_TMP/nsteps"
run 0 --json --driver-type pf-passthrough bind --dry-run 0000:05:00.0
check "... with as many steps as the text plan" js "len(d['steps']) == $(cat "$TEST_TMP/nsteps")"
check "... changing nothing" [ "$(tree_sum)" = "$before" ]
check "a refused bind --json exits 1" run 1 --json --driver-type pf-passthrough bind 0000:07:00.0
check "... with result refused, the reason and no steps" \
	js "d['result'] == 'refused' and 'snd_hda_intel' in d['refusals'][0] and d['steps'] == [] and d['rollback'] == []"
check "... and the reason on stderr too" has "refused: " err
check "unbind --json with nothing on vfio-pci: nothing-to-do" run 0 --json unbind --dry-run 0000:05:00.0
check "... and says so in notes" js "d['action'] == 'unbind' and d['result'] == 'nothing-to-do' and any('nothing is on vfio-pci' in n for n in d['notes'])"
# A real run on the fake host: it has no modules, so loading vfio-pci (the
# first step) fails before anything is changed.
cp -a "$R" "$TEST_TMP/host2"
rc=0; "$AMDVIRT" --root "$TEST_TMP/host2" --json --driver-type pf-passthrough bind 0000:05:00.0 \
	>"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
check "a failed bind --json exits 1" [ "$rc" = 1 ]
check "... stdout holds only the document: result failed, with the cause" \
	js "d['dry_run'] is False and d['result'] == 'failed' and 'vfio-pci' in d['error'] and 'nothing was changed' in d['error']"
check "... the cause on stderr too" has "nothing was changed" err
check "... and the override untouched" grep -qx '(null)' "$TEST_TMP/host2/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/driver_override"

# Another amdvirt holding the lock: the bind waits, then gives up changing nothing.
mkdir -p "$TEST_TMP/host2/run"
flock "$TEST_TMP/host2/run/amdvirt.lock" sleep 60 & holder=$!
i=0; while [ $i -lt 100 ] && flock -n "$TEST_TMP/host2/run/amdvirt.lock" true; do sleep 0.05; i=$((i + 1)); done
rc=0; "$AMDVIRT" --root "$TEST_TMP/host2" --driver-type pf-passthrough bind 0000:05:00.0 \
	>"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
kill $holder 2>/dev/null; wait $holder 2>/dev/null || true
check "a bind while the lock is held exits 1" [ "$rc" = 1 ]
check "... naming the lock and why" has "amdvirt.lock: another amdvirt is changing drivers; try again" err
check "... with the override untouched" grep -qx '(null)' "$TEST_TMP/host2/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/driver_override"

# Ctrl-C during the post-condition wait.  With vfio_pci "loaded" the fake
# host lets the bind run to its wait for vfio-pci, which never comes (no
# kernel here): the SIGINT sent then must wait for the rollback, and only
# then end the process, as SIGINT does.  The signal is sent from python with
# SIGINT at its default (a shell's background job would ignore it).
cp -a "$R" "$TEST_TMP/host3"
mkdir -p "$TEST_TMP/host3/sys/module/vfio_pci"
OV3=$TEST_TMP/host3/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/driver_override
rc=0; $PY - "$AMDVIRT" "$TEST_TMP/host3" "$TEST_TMP/out" "$TEST_TMP/err" <<'PYEOF' || rc=$?
import os, signal, subprocess, sys, time
amdvirt, root, out, err = sys.argv[1:5]
p = subprocess.Popen([amdvirt, "--root", root, "--driver-type", "pf-passthrough", "bind", "0000:05:00.0"],
                     stdout=open(out, "w"), stderr=open(err, "w"),
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
probe = os.path.join(root, "sys/bus/pci/drivers_probe")
deadline = time.time() + 20
while time.time() < deadline and "0000:05:00.0" not in open(probe).read():
    time.sleep(0.02)
time.sleep(0.2)
# the wait for vfio-pci: the function is half-way, and recorded
halfway = open(os.path.join(root, "sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/driver_override")).read()
recorded = os.path.exists(os.path.join(root, "var/lib/amdvirt/state.json"))
p.send_signal(signal.SIGINT)
p.wait(timeout=30)
print("halfway=%r recorded=%s returncode=%s" % (halfway, recorded, p.returncode))
sys.exit(0 if halfway == "vfio-pci" and recorded and p.returncode == -signal.SIGINT else 1)
PYEOF
check "SIGINT in the post-condition wait: sent while half-way, and the process dies of it" [ "$rc" = 0 ]
check "... after rolling back the group" has "rolling back group 11"
check "... saying the signal waited" has "SIGINT arrived meanwhile: it waited until the plan was rolled back"
check "... driver_override put back" sh -c "[ \"\$(cat '$OV3')\" != vfio-pci ]"
check "... and no state file left (there was none before)" [ ! -e "$TEST_TMP/host3/var/lib/amdvirt/state.json" ]

check "gim load refuses while amdgpu owns a PF" run 1 --driver-type vf-passthrough gim load --dry-run
check "... naming it" has "0000:05:00.0 is owned by amdgpu" err
rm "$R/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/driver"
before=$(tree_sum)
check "gim load --dry-run plans autoprobe, modules and checks" \
	run 0 --driver-type vf-passthrough gim load --dry-run --param vf_num=4 --module-path /opt/gim.ko
check "... autoprobe off before the VFs exist" has "0000:05:00.0/sriov_drivers_autoprobe <- \"0\""
check "... gim loaded from the file with its parameters" has "load    /opt/gim.ko vf_num=4"
check "... and the VF count verified" has "0000:05:00.0/sriov_numvfs reads \"4\""
check "... changing nothing" [ "$(tree_sum)" = "$before" ]
check "gim unload when gim is not loaded has nothing to do" run 0 gim unload --dry-run
check "gim load --dry-run --json" run 0 --json --driver-type vf-passthrough gim load --dry-run --param vf_num=4 --module-path /opt/gim.ko
check "... loads the file with its parameters and restores autoprobe on failure" \
	js "d['action'] == 'gim-load' and [(s['module'], s['params']) for s in d['steps'] if s['op'] == 'load'][-1] == ('/opt/gim.ko', 'vf_num=4')
	and d['rollback'][0]['sriov_drivers_autoprobe'] == 1"
finish

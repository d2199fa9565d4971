#!/bin/sh
# /init of the real-kernel lane (tests/kernel/run.sh): runs amdvirt against
# the emulated SR-IOV NVMe controller and prints one PASS:/FAIL: per check.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t tmpfs tmpfs /tmp
mkdir -p /var/lib /run
grep -q lab.verbose /proc/cmdline || echo 1 > /proc/sys/kernel/printk
NUMVFS=$(sed -n 's/.*lab.numvfs=\([0-9]*\).*/\1/p' /proc/cmdline)
NP=0; NF=0
pass() { NP=$((NP+1)); echo "PASS: $*"; }
fail() { NF=$((NF+1)); echo "FAIL: $*"; }
check() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
drv() { [ -e "/sys/bus/pci/devices/$1/driver" ] && basename "$(readlink "/sys/bus/pci/devices/$1/driver")" || echo none; }
grp() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
ovr() { cat "/sys/bus/pci/devices/$1/driver_override"; }
wait_for() { i=0; while [ $i -lt "${2:-50}" ]; do eval "$1" && return 0; sleep 0.1; i=$((i+1)); done; return 1; }
finish() {
	echo "LAB-RESULT: pass=$NP fail=$NF uptime=$(cut -d' ' -f1 /proc/uptime)s"
	echo "LAB-DONE"
	sync
	poweroff -f
}
av() { # runs amdvirt, shows its output, leaves the exit code in RC
	echo "+ amdvirt $*"
	amdvirt "$@" > /tmp/out 2>&1; RC=$?
	sed 's/^/  | /' /tmp/out
}

echo "kernel $(uname -r)"
check "IOMMU active" [ -e /sys/class/iommu/dmar0 ]
modprobe nvme
PF=
for d in /sys/bus/pci/devices/*; do
	[ -f "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor")" = 0x1b36 ] && PF=${d##*/}
done
check "SR-IOV NVMe PF found ($PF)" [ -n "$PF" ]
[ -n "$PF" ] || finish
P=/sys/bus/pci/devices/$PF
check "PF on nvme" wait_for '[ "$(drv $PF)" = nvme ]'
check "vfio-pci not loaded yet" [ ! -d /sys/module/vfio_pci ]
G=$(grp $PF)

echo "===== PF: dry run changes nothing"
av --driver-type pf-passthrough bind --dry-run $PF
check "dry-run exit 0" [ $RC = 0 ]
check "dry-run shows the override write first" grep -q "driver_override <- \"vfio-pci\"" /tmp/out
check "dry-run left PF on nvme and vfio-pci unloaded" [ "$(drv $PF)" = nvme -a ! -d /sys/module/vfio_pci ]

echo "===== PF: bind (VFs disabled)"
av --driver-type pf-passthrough bind $PF
check "bind PF exit 0" [ $RC = 0 ]
check "vfio-pci loaded through libkmod" [ -d /sys/module/vfio_pci ]
check "PF driver is vfio-pci" [ "$(drv $PF)" = vfio-pci ]
check "/dev/vfio/$G appeared" [ -c /dev/vfio/$G ]
check "state.json records nvme" grep -q '"driver":.*"nvme"' /var/lib/amdvirt/state.json
av --json list
check "list sees the PF on vfio-pci" grep -q "$PF" /tmp/out

echo "===== PF: unbind (--json)"
av --json unbind $PF
check "unbind PF exit 0" [ $RC = 0 ]
check "its JSON says done" grep -q '"result":[[:space:]]*"done"' /tmp/out
check "PF back on nvme" wait_for '[ "$(drv $PF)" = nvme ]'
check "PF driver_override cleared" [ "$(ovr $PF)" = "(null)" ]
check "/dev/vfio/$G gone" wait_for "[ ! -e /dev/vfio/$G ]"
check "state.json has no record left" sh -c "! grep -q '\"bdf\"' /var/lib/amdvirt/state.json"

echo "===== PF: rollback on the real kernel (drivers_probe fails after unbind)"
av --driver-type pf-passthrough bind --dry-run $PF
STEP=$(grep 'drivers_probe' /tmp/out | head -n1 | sed 's/^ *\([0-9]*\)\..*/\1/')
AMDVIRT_TEST_FAIL_STEP=$STEP av --driver-type pf-passthrough bind $PF
check "failed bind exits 1" [ $RC = 1 ]
check "it says it rolled back" grep -q "rolled back" /tmp/out
check "PF back on nvme after rollback" wait_for '[ "$(drv $PF)" = nvme ]'
check "PF driver_override cleared by rollback" [ "$(ovr $PF)" = "(null)" ]
check "no record left after rollback" sh -c "! grep -q '\"bdf\"' /var/lib/amdvirt/state.json"

echo "===== PF: a bind killed half-way, repaired by unbind alone"
# SIGKILL cannot be deferred: the process dies where the hook says, and
# only `unbind` runs after it.  Killed before drivers_probe (nvme has let
# go, driver_override is vfio-pci, the record is written), then before
# nvme's unbind (still on nvme, with driver_override vfio-pci).
av --driver-type pf-passthrough bind --dry-run $PF
cp /tmp/out /tmp/plan
for what in drivers_probe drivers/nvme/unbind; do
	STEP=$(grep -F "$what" /tmp/plan | head -n1 | sed 's/^ *\([0-9]*\)\..*/\1/')
	AMDVIRT_TEST_KILL_STEP=$STEP av --driver-type pf-passthrough bind $PF
	check "bind killed before $what (step $STEP) dies of SIGKILL" [ $RC = 137 ]
	check "... leaving the PF half-way: driver_override vfio-pci, recorded" \
		[ "$(ovr $PF)" = vfio-pci -a -f /var/lib/amdvirt/state.json ]
	av check --all
	check "... which check names (state.interrupted FAIL)" grep -q "FAIL  state.interrupted *$PF" /tmp/out
	av unbind --dry-run $PF
	check "... unbind's dry run says how it repairs it" grep -q "half-way to vfio-pci" /tmp/out
	av unbind $PF
	check "... unbind alone exits 0" [ $RC = 0 ]
	check "... PF back on nvme" wait_for '[ "$(drv $PF)" = nvme ]'
	check "... its driver_override cleared" [ "$(ovr $PF)" = "(null)" ]
	check "... no state file left (there was none before)" [ ! -e /var/lib/amdvirt/state.json ]
	check "... /dev/vfio/$G absent" [ ! -e /dev/vfio/$G ]
done

echo "===== VFs"
echo 0 > $P/sriov_drivers_autoprobe
echo $NUMVFS > $P/sriov_numvfs
VF=$(basename "$(readlink $P/virtfn0)")
check "VF $VF exists, no driver" [ -n "$VF" -a "$(drv $VF)" = none ]
VG=$(grp $VF)

echo "===== PF with VFs enabled is refused"
av --driver-type pf-passthrough bind $PF
check "bind PF with VFs exits 1" [ $RC = 1 ]
check "refusal names the VFs" grep -q "has $NUMVFS VFs enabled" /tmp/out
check "PF untouched (nvme, no override)" [ "$(drv $PF)" = nvme -a "$(ovr $PF)" = "(null)" ]

echo "===== VF: bind by vfioConfig.deviceIDs + vf-passthrough"
cat > /tmp/cfg.json <<'CFG'
{"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig", "metadata": {"name": "lab"},
 "spec": {"driver": {"driverType": "vf-passthrough", "vfioConfig": {"deviceIDs": ["0010"]}}}}
CFG
av --config /tmp/cfg.json --driver-type vf-passthrough bind $VF
check "bind VF exit 0" [ $RC = 0 ]
check "VF driver is vfio-pci" [ "$(drv $VF)" = vfio-pci ]
check "/dev/vfio/$VG appeared" [ -c /dev/vfio/$VG ]
check "PF untouched by the VF bind" [ "$(drv $PF)" = nvme ]
av --config /tmp/cfg.json --driver-type vf-passthrough unbind $VF
check "unbind VF exit 0" [ $RC = 0 ]
check "VF back to no driver (as recorded)" [ "$(drv $VF)" = none ]
check "VF driver_override cleared" [ "$(ovr $VF)" = "(null)" ]
check "/dev/vfio/$VG gone" wait_for "[ ! -e /dev/vfio/$VG ]"

echo "===== VF: rollback (verification fails after drivers_probe)"
av --driver-type vf-passthrough bind --dry-run $VF
STEP=$(grep 'driver is vfio-pci' /tmp/out | head -n1 | sed 's/^ *\([0-9]*\)\..*/\1/')
AMDVIRT_TEST_FAIL_STEP=$STEP av --driver-type vf-passthrough bind $VF
check "failed VF bind exits 1 and rolls back" [ $RC = 1 ] && grep -q "rolled back" /tmp/out
check "VF without driver again" [ "$(drv $VF)" = none -a "$(ovr $VF)" = "(null)" ]
check "/dev/vfio/$VG gone after rollback" wait_for "[ ! -e /dev/vfio/$VG ]"

echo "===== VF in use is never unbound"
av --driver-type vf-passthrough bind $VF
exec 7<>/dev/vfio/$VG
av --driver-type vf-passthrough unbind $VF
check "unbind of an open group exits 1" [ $RC = 1 ]
check "refusal says the group is open" grep -q "/dev/vfio/$VG is open" /tmp/out
check "VF still on vfio-pci" [ "$(drv $VF)" = vfio-pci ]
exec 7<&-
av --driver-type vf-passthrough unbind $VF
check "unbind after close exit 0" [ $RC = 0 -a "$(drv $VF)" = none ]

echo "===== daemon: driver management (pf-passthrough from the DeviceConfig)"
echo 0 > $P/sriov_numvfs
cat > /tmp/dc.json <<'CFG'
{"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig", "metadata": {"name": "lab", "namespace": "lab"},
 "spec": {"driver": {"enable": true, "driverType": "pf-passthrough", "vfioConfig": {"deviceIDs": ["0010"]}},
          "amdvirt": {"vendorID": "1b36"}}}
CFG
amdvirt --config /tmp/dc.json daemon > /tmp/daemon.log 2>&1 &
DP=$!
check "the daemon binds the PF to vfio-pci" wait_for '[ "$(drv $PF)" = vfio-pci ]' 200
check "its log says so" wait_for "grep -q 'drivers: bind $PF (group $G) to vfio-pci: done' /tmp/daemon.log" 100
check "then finds nothing to do" wait_for "grep -q 'every selected PF is on vfio-pci' /tmp/daemon.log" 100
av unbind $PF
check "an admin's unbind works (exit 0)" [ $RC = 0 ]
check "and the daemon puts the PF back on vfio-pci" wait_for '[ "$(drv $PF)" = vfio-pci ]' 200
kill $DP; wait $DP
sed 's/^/  | /' /tmp/daemon.log
check "two binds in the daemon's log, no failure" \
	[ "$(grep -c ': done' /tmp/daemon.log)" = 2 -a "$(grep -c 'failed' /tmp/daemon.log)" = 0 ]
av unbind $PF
check "unbind after the daemon stopped: PF back on nvme" wait_for '[ "$(drv $PF)" = nvme ]'
finish

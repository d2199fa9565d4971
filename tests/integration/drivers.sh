#!/bin/sh
# The daemon's driver management on fake hosts: when it is on or off and
# why, nothing changed when the host is already as the DeviceConfig asks,
# a refusal logged once, a failed plan rolled back and not retried at once.
# (Plans converging on the fake kernel: tests/unit/test_manage.c; the
# daemon binding a device on a real kernel: tests/kernel.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

VF_HOST=$(build_host mi300x-vf)
tree_sum() { (cd "$1" && find . -path ./run -prune -o -printf '%p %l\n' | sort && find sys/devices -name driver_override -exec cat {} +) | md5sum; }

config() { # FILE DRIVER-JSON
	printf '{"metadata": {"name": "dc", "namespace": "ns"}, "spec": {"driver": %s}}\n' "$2" > "$1"
}

DPID=
# daemon ROOT CONFIG|- ERRFILE [OPTION...]: starts the daemon in the background.
daemon() {
	local root=$1 cfg= err=$3
	[ "$2" != - ] && cfg="--config $2"
	shift 3
	: > "$err"
	# shellcheck disable=SC2086
	AMDVIRT_DEBUG=1 "$AMDVIRT" --root "$root" $cfg daemon "$@" 2>"$err" &
	DPID=$!
}
stop() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}
trap 'stop; rm -rf "$TEST_TMP"' EXIT
E=$TEST_TMP/err

# --- off: no config, enable false, no driverType
daemon "$VF_HOST" - "$E"
check "no DeviceConfig: management is off and says why" \
	wait_grep "$E" "driver management off: no DeviceConfig (--config or --deviceconfig)"
stop
config "$TEST_TMP/off.json" '{"enable": false, "driverType": "vf-passthrough"}'
daemon "$VF_HOST" "$TEST_TMP/off.json" "$E"
check "spec.driver.enable false: off" wait_grep "$E" "driver management off: spec.driver.enable is false"
stop
config "$TEST_TMP/notype.json" '{"enable": true}'
daemon "$VF_HOST" "$TEST_TMP/notype.json" "$E"
check "no driverType: off (AMD's default is container; a detected mode is not an instruction)" \
	wait_grep "$E" "driver management off: spec.driver.driverType is container (AMD's default when not given)"
stop

# --- on, and the host is already right: nothing is written
H=$TEST_TMP/ok
cp -a "$VF_HOST" "$H"
before=$(tree_sum "$H")
config "$TEST_TMP/vf.json" '{"enable": true, "driverType": "vf-passthrough"}'
daemon "$H" "$TEST_TMP/vf.json" "$E"
check "vf-passthrough: management is on" wait_grep "$E" "driver management on: vf-passthrough from the DeviceConfig"
check "... and finds nothing to do" wait_grep "$E" "drivers: gim is loaded and every selected VF is on vfio-pci"
kill -HUP "$DPID"
check "... a rescan (SIGHUP) does not say it again" sh -c "sleep 0.5; [ \$(grep -c 'every selected VF' '$E') = 1 ]"
stop
check "... and the host is untouched" [ "$(tree_sum "$H")" = "$before" ]
check "... no state file was written" [ ! -e "$H/var/lib/amdvirt/state.json" ]

# --- spec.driver.blacklist: the daemon writes the file, then has nothing to do
config "$TEST_TMP/bl.json" '{"enable": true, "driverType": "vf-passthrough", "blacklist": true}'
B=$TEST_TMP/bl
cp -a "$VF_HOST" "$B"
daemon "$B" "$TEST_TMP/bl.json" "$E"
check "blacklist: true: the daemon writes the modprobe.d file" \
	wait_grep "$E" "drivers: blacklist amdgpu (spec.driver.blacklist): done in"
check "... which blacklists amdgpu, marked as amdvirt's" sh -c "
	[ \"\$(cat '$B/etc/modprobe.d/blacklist-amdgpu.conf')\" = '# added by amdvirt (spec.driver.blacklist)
blacklist amdgpu' ]"
check "... then finds nothing more to do" wait_grep "$E" "drivers: gim is loaded and every selected VF is on vfio-pci"
stop
config "$TEST_TMP/nobl.json" '{"enable": true, "driverType": "vf-passthrough", "blacklist": false}'
daemon "$B" "$TEST_TMP/nobl.json" "$E"
check "blacklist: false: the daemon removes its own file" \
	wait_grep "$E" "drivers: remove amdvirt's amdgpu blacklist (spec.driver.blacklist: false): done in"
stop
check "... which is gone" [ ! -e "$B/etc/modprobe.d/blacklist-amdgpu.conf" ]

# --- a contradiction: pf-passthrough asked of PFs on gim with VFs; turning
# the host over would tear down VFs that may be in use, so nothing is planned
config "$TEST_TMP/pf.json" '{"enable": true, "driverType": "pf-passthrough"}'
daemon "$H" "$TEST_TMP/pf.json" "$E"
check "pf-passthrough on PFs with VFs: management off, saying why" \
	wait_grep "$E" "driver management off: spec.driver.driverType contradicts the host (see check config.driver-type)"
check "... naming the evidence" \
	grep -q "DeviceConfig contradicts the host: spec.driver.driverType is pf-passthrough, but 8 GPUs are on gim (vf-passthrough), 0000:05:00.0 first" "$E"
kill -HUP "$DPID"
check "... logged once, not on every rescan" sh -c "sleep 0.5; [ \$(grep -c 'contradicts the host:' '$E') = 1 ]"
check "... and no plan was tried" sh -c "! grep -q 'drivers: bind' '$E'"
stop
check "... and the host is untouched" [ "$(tree_sum "$H")" = "$before" ]

# --- --dry-run: the plan is logged, once, and not run
D=$TEST_TMP/dry
cp -a "$VF_HOST" "$D"
rm "$D/sys/bus/pci/devices/0000:45:02.0/driver"
before=$(tree_sum "$D")
daemon "$D" "$TEST_TMP/vf.json" "$E" --dry-run
check "daemon --dry-run logs the plan it would run" \
	wait_grep "$E" "drivers:    6. write   /sys/bus/pci/drivers_probe <- \"0000:45:02.0\""
kill -HUP "$DPID"
check "... once" sh -c "sleep 0.5; [ \$(grep -c 'so this plan is not run' '$E') = 1 ]"
stop
check "... and runs nothing" [ "$(tree_sum "$D")" = "$before" ]
check "... not even the lock" [ ! -e "$D/run/amdvirt.lock" ]

# --- a failure: a VF off vfio-pci on a fake host (no kernel takes the
# writes), so the bind's verification fails and the group is rolled back
F=$TEST_TMP/fail
cp -a "$VF_HOST" "$F"
rm "$F/sys/bus/pci/devices/0000:45:02.0/driver"
daemon "$F" "$TEST_TMP/vf.json" "$E"
check "a VF off vfio-pci: the daemon plans its bind and it fails" \
	wait_grep "$E" "drivers: bind 0000:45:02.0 (group 67) to vfio-pci: failed: .*rolled back.*; next attempt in 30 s" 30
check "... while the plan ran (5 s of verification), the device plugin was already serving" sh -c "
	grep -n 'device plugin amd.com/gpu: .* serving' '$E' | cut -d: -f1 > '$TEST_TMP/a'
	grep -n 'failed:' '$E' | cut -d: -f1 > '$TEST_TMP/b'
	[ -s '$TEST_TMP/a' ] && [ \$(cat '$TEST_TMP/a') -lt \$(cat '$TEST_TMP/b') ]"
kill -HUP "$DPID"
check "... a rescan right after does not try again" wait_grep "$E" "drivers: after the failure, next attempt in"
check "... exactly one attempt" [ "$(grep -c 'failed:' "$E")" = 1 ]
stop
check "... the VF's override is unset again" \
	sh -c "o=\$(cat '$F/sys/bus/pci/devices/0000:45:02.0/driver_override'); [ -z \"\$o\" -o \"\$o\" = '(null)' ]"
check "... and no record is left" sh -c "! grep -q '\"bdf\"' '$F/var/lib/amdvirt/state.json' 2>/dev/null"
check "... the lock was taken under the root" [ -e "$F/run/amdvirt.lock" ]

# --- SIGTERM while a plan runs: the plan ends (here: fails and is rolled
# back) before the daemon does; nothing is left half-done
G=$TEST_TMP/term
cp -a "$VF_HOST" "$G"
rm "$G/sys/bus/pci/devices/0000:45:02.0/driver"
daemon "$G" "$TEST_TMP/vf.json" "$E"
wait_grep "$E" "device plugin amd.com/gpu: .* serving" || true
wait_grep "$G/sys/bus/pci/devices/0000:45:02.0/driver_override" vfio-pci || true
kill "$DPID"
rc=0; wait "$DPID" || rc=$?
DPID=
check "SIGTERM during a plan: the daemon waits for it" grep -q "drivers: waiting for the plan in progress to end" "$E"
check "... which ends, rolled back, before the daemon stops" sh -c "
	grep -n 'failed: .*rolled back' '$E' | cut -d: -f1 > '$TEST_TMP/a'
	grep -n 'amdvirt: stopped' '$E' | cut -d: -f1 > '$TEST_TMP/b'
	[ -s '$TEST_TMP/a' ] && [ \$(cat '$TEST_TMP/a') -lt \$(cat '$TEST_TMP/b') ]"
check "... exit 0" [ "$rc" = 0 ]
check "... and the VF's override is unset again" \
	sh -c "o=\$(cat '$G/sys/bus/pci/devices/0000:45:02.0/driver_override'); [ -z \"\$o\" -o \"\$o\" = '(null)' ]"
finish

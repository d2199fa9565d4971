#!/bin/sh
# --root is not a sandbox, but it stays a root: the real binary on trees
# that plant links out of themselves, FIFOs where files belong and modprobe.d
# commands.  Nothing outside the root changes (with openat2 and with the
# walk that stands in for it on kernels without), no command hangs, a tree's
# modprobe.d commands never run, modules are not loaded for a root that runs
# another kernel, and commands that only inspect a tree write nothing to it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

RUNNING=$(uname -r)
BDF=0000:05:00.0

# Nothing here may change, whatever amdvirt is made to do.
OUT=$TEST_TMP/outside
mkdir -p "$OUT/run" "$OUT/state" "$OUT/var"
echo untouched > "$OUT/victim"
out_sum() { (cd "$OUT" && find . -printf '%p %y %s %l\n' | sort && cat victim) | md5sum; }
OUT_BEFORE=$(out_sum)
outside_unchanged() { [ "$(out_sum)" = "$OUT_BEFORE" ] && [ ! -e "$OUT/pwned" ]; }

# tree NAME RELEASE [MODULES]: one MI300X on amdgpu, in an XGMI hive that
# sysfs shows, on kernel RELEASE; prints the root.
tree() {
	local r=$TEST_TMP/$1
	rm -rf "$r"
	cat > "$TEST_TMP/$1.json" <<-EOF
	{
	  "kernel": {"release": "$2", "cmdline": "BOOT_IMAGE=/boot/vmlinuz-$2 root=/dev/sda1 ro iommu=pt"},
	  "modules": {${3:-}},
	  "gpus": [{"model": "MI300X", "count": 1, "driver": "amdgpu", "vfs": 0, "numa": -1,
	            "hive": "5164837823749213954"}],
	  "kubelet": true
	}
	EOF
	"$MKHOST" "$TEST_TMP/$1.json" "$r" >&2 || { echo "cannot build $1" >&2; exit 99; }
	echo "$r"
}

# av EXPECTED-EXIT ARGS...: stdout in $TEST_TMP/out, stderr in $TEST_TMP/err,
# the exit in $RC ("-" expects none in particular); a run that outlives 30 s
# counts as hung (exit 124).
av() {
	local want=$1
	shift
	RC=0
	timeout 30 "$AMDVIRT" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || RC=$?
	[ "$RC" = "$want" ] || [ "$want" = - ] && [ "$RC" != 124 ] ||
		{ echo "# amdvirt $*: exit $RC, wanted $want"; sed 's/^/#   /' "$TEST_TMP/err"; }
}
err_has() { grep -qF -- "$1" "$TEST_TMP/err"; }
one_line() { [ "$(grep -c . "$TEST_TMP/err")" = 1 ]; }

for mode in openat2 walk; do
	if [ $mode = walk ]; then
		AMDVIRT_TEST_NO_OPENAT2=1
		export AMDVIRT_TEST_NO_OPENAT2
	fi

	# A driver_override that is a link out of the tree, absolute or climbing.
	for target in "$OUT/victim" "../../../../../../../../../../../../../../..$OUT/victim"; do
		R=$(tree override "$RUNNING" '"vfio_pci": {}')
		dev=$(readlink -f "$R/sys/bus/pci/devices/$BDF")
		rm "$dev/driver_override"
		ln -s "$target" "$dev/driver_override"
		av 1 --root "$R" bind $BDF
		check "$mode: a linked driver_override is not written through ($target)" outside_unchanged
		check "$mode: one line names it" sh -c "grep -c . '$TEST_TMP/err' | grep -qx 1 &&
			grep -q 'write /sys/bus/pci/devices/$BDF/driver_override.*symbolic link' '$TEST_TMP/err'"
	done

	# /run an absolute link out of the tree: on the host the tree describes
	# it leads to ROOT$OUT/run, which does not exist.
	R=$(tree lock "$RUNNING" '"vfio_pci": {}')
	rm -rf "$R/run"
	ln -s "$OUT/run" "$R/run"
	av 1 --root "$R" bind $BDF
	check "$mode: the lock is not taken outside the root" outside_unchanged
	check "$mode: the lock's failure is one line naming it" \
		sh -c "grep -c . '$TEST_TMP/err' | grep -qx 1 && grep -qF '$R/run/amdvirt.lock: No such file' '$TEST_TMP/err'"
	mkdir -p "$R$OUT/run"
	av 1 --root "$R" bind $BDF
	check "$mode: where the link leads inside the root, the lock is taken there" \
		test -f "$R$OUT/run/amdvirt.lock"
	check "$mode: and still nothing outside" outside_unchanged

	# /var/lib/amdvirt an absolute link out of the tree: neither the hive
	# record nor the state file lands outside.
	R=$(tree state "$RUNNING" '"vfio_pci": {}')
	ln -s "$OUT/state" "$R/var/lib/amdvirt"
	av 1 --root "$R" bind $BDF
	check "$mode: state and hive record not written outside the root" outside_unchanged
	check "$mode: the state file's failure names it" err_has "$R/var/lib/amdvirt/state.json: No such file"
	# /var itself: the parents amdvirt would make are not made outside.
	R=$(tree parents "$RUNNING" '"vfio_pci": {}')
	rm -rf "$R/var"
	ln -s "$OUT/var" "$R/var"
	av 1 --root "$R" bind $BDF
	check "$mode: no directory made outside the root" outside_unchanged
done
unset AMDVIRT_TEST_NO_OPENAT2

# A tree whose modprobe.d would run a command instead of loading vfio-pci:
# refused before libkmod, naming the file and the line.
R=$(tree install "$RUNNING")
mkdir -p "$R/etc/modprobe.d"
printf 'options vfio-pci ids=1002:74a1\ninstall vfio-pci touch %s/pwned\n' "$OUT" > "$R/etc/modprobe.d/evil.conf"
av 1 --root "$R" bind $BDF
check "install line: the command did not run" test ! -e "$OUT/pwned"
check "install line: one line names the file and the line" \
	sh -c "grep -c . '$TEST_TMP/err' | grep -qx 1 &&
		grep -qF \"$R/etc/modprobe.d/evil.conf: 'install vfio-pci touch $OUT/pwned'\" '$TEST_TMP/err'"
check "install line: nothing was changed" sh -c "! grep -q 'ok .*record\|write' '$TEST_TMP/out'"

# A tree running another kernel: modules would go into this one.
R=$(tree other 6.1.0-99-other)
av 1 --root "$R" bind $BDF
check "other kernel: refused, naming the root's osrelease and both releases" \
	sh -c "grep -c . '$TEST_TMP/err' | grep -qx 1 &&
		grep -F '$R/proc/sys/kernel/osrelease' '$TEST_TMP/err' | grep -F 6.1.0-99-other | grep -qF '$RUNNING'"
check "other kernel: outside unchanged" outside_unchanged

# FIFOs where amdvirt reads: refused by name, never waited on.
R=$(tree fifo "$RUNNING" '"vfio_pci": {}')
rm -f "$R/etc/default/grub"
mkfifo "$R/etc/default/grub"
av - --root "$R" check
check "FIFO grub: check returns" test "$RC" != 124
check "FIFO grub: the result names it" grep -q '/etc/default/grub: not a regular file' "$TEST_TMP/out"
dev=$(readlink -f "$R/sys/bus/pci/devices/$BDF")
rm "$dev/vendor" "$dev/sriov_numvfs"
mkfifo "$dev/vendor" "$dev/sriov_numvfs"
av - --root "$R" check
check "FIFO sysfs attributes: check returns" test "$RC" != 124
check "FIFO sysfs attributes: named" grep -q "$BDF/vendor: not a regular file" "$TEST_TMP/err"
av 0 --root "$R" list
check "FIFO sysfs attributes: list returns" test "$RC" = 0
mkfifo "$TEST_TMP/config.fifo"
av 2 --root "$R" --config "$TEST_TMP/config.fifo" list
check "FIFO --config: exit 2, one line naming it" \
	sh -c "grep -c . '$TEST_TMP/err' | grep -qx 1 && grep -qxF 'amdvirt: $TEST_TMP/config.fifo: not a regular file' '$TEST_TMP/err'"
av 2 --root "$R" --config "$TEST_TMP" list
check "directory --config: exit 2, says so" grep -qxF "amdvirt: $TEST_TMP: Is a directory" "$TEST_TMP/err"

# The kubeconfig and its token file are read the same way: a FIFO planted
# there is refused by name instead of hanging the agent.
mkfifo "$TEST_TMP/kubeconfig.fifo" "$TEST_TMP/token.fifo"
av - --root "$R" labels --apply --kubeconfig "$TEST_TMP/kubeconfig.fifo" --node-name node1
check "FIFO kubeconfig: returns, naming it" err_has "kubeconfig $TEST_TMP/kubeconfig.fifo: not a regular file"
cat >"$TEST_TMP/kc-fifo-token" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {tokenFile: $TEST_TMP/token.fifo}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
KC
av - --root "$R" labels --apply --kubeconfig "$TEST_TMP/kc-fifo-token" --node-name node1
check "FIFO token file: returns, naming it" err_has "token file $TEST_TMP/token.fifo: not a regular file"

# Inspecting a tree writes nothing to it, hive ids in sysfs or not.
R=$(tree inspect 6.1.0-99-other)
tree_sum() { (cd "$R" && find . -printf '%p %y %s %m %l\n' | sort && find . -type f -exec md5sum {} + | sort) | md5sum; }
before=$(tree_sum)
for cmd in "list" "list --json" "check" "check --json" "check -q" "labels" "labels --json" \
	"--driver-type pf-passthrough kubevirt-config" "bind --all --dry-run" "unbind --all --dry-run" \
	"--driver-type vf-passthrough gim load --dry-run" "gim unload --dry-run" ""; do
	# shellcheck disable=SC2086
	timeout 30 "$AMDVIRT" --root "$R" $cmd >/dev/null 2>&1 </dev/null || true
	check "read-only: '${cmd:-(no command)}' leaves the tree byte-identical" test "$(tree_sum)" = "$before"
done
# A command that changes drivers records the hives first (here the bind
# itself is refused: the tree runs another kernel).
av 1 --root "$R" bind --all
check "bind records the hive amdgpu shows" grep -q 5164837823749213954 "$R/var/lib/amdvirt/hives.json"

check "nothing outside any root changed" outside_unchanged
finish

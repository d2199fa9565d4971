#!/bin/sh
# An option a command does not use is a usage error (exit 2, one line, and
# nothing read or done), like an unknown one; the options a command uses
# still work (src/cli/optuse.c, doc/amdvirt.1 OPTIONS).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

H=$(build_host mi300x-vf)
# refused COMMAND OPTION [ARGS...]: the run is refused with exactly the line.
refused() {
	cmd=$1 opt=$2
	shift 2
	rc=0
	"$AMDVIRT" --root "$H" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
	want="amdvirt: $cmd: $opt is not an option of $cmd"
	if [ $rc -eq 2 ] && [ "$(cat "$TEST_TMP/err")" = "$want" ] && [ ! -s "$TEST_TMP/out" ]; then
		ok "$cmd $opt: refused (exit 2, one line, nothing on stdout)"
	else
		not_ok "$cmd $opt: refused (exit $rc: $(cat "$TEST_TMP/err"))"
	fi
}
refused list --apply list --apply
refused list --quiet list -q
refused list --dry-run --dry-run list
refused check --apply check --apply
refused check --dry-run check --dry-run
refused list --dra list --dra
refused labels --dra labels --dra
refused labels --resync labels --resync 5
refused labels --dry-run labels --apply --dry-run
refused labels --resource-naming labels --resource-naming mixed
refused bind --apply bind --all --dry-run --apply
refused unbind --guest unbind --guest 0000:05:02.0
refused gim --all gim load --all --dry-run
refused kubevirt-config --guest kubevirt-config --guest
refused kubevirt-config --all kubevirt-config --all
refused daemon --json daemon --json
refused daemon --apply --daemon --apply
refused console --json console --json
refused console --param console --param vf_num=1

# The usual ones still run.
check "list --json --driver-type --config" sh -c "printf 'spec: {driver: {enable: false}}\n' >'$TEST_TMP/dc.yaml' &&
	'$AMDVIRT' --root '$H' --driver-type vf-passthrough --config '$TEST_TMP/dc.yaml' --resource-naming mixed list --json >/dev/null"
check "check -q --all" sh -c "'$AMDVIRT' --root '$H' check -q --all >/dev/null; [ \$? -le 1 ]"
check "check --resource-naming --node-name (the cluster checks')" sh -c "'$AMDVIRT' --root '$H' check --resource-naming mixed --node-name n1 >/dev/null; [ \$? -le 1 ]"
check "labels --json" sh -c "'$AMDVIRT' --root '$H' labels --json >/dev/null"
check "bind --all --dry-run --json" sh -c "'$AMDVIRT' --root '$H' bind --all --dry-run --json >/dev/null"
check "gim load --dry-run --param --force" sh -c "'$AMDVIRT' --root '$H' gim load --dry-run --force --param vf_num=1 >/dev/null; [ \$? -le 1 ]"
check "kubevirt-config --resource-naming mixed" sh -c "'$AMDVIRT' --root '$H' kubevirt-config --resource-naming mixed >/dev/null"
# --config or --deviceconfig, not both: refused before anything is sent.
rc=0
"$AMDVIRT" --root "$H" --config "$TEST_TMP/dc.yaml" --deviceconfig ns/dc list >/dev/null 2>"$TEST_TMP/err" || rc=$?
check "--config with --deviceconfig: exit 2, named" sh -c "[ $rc -eq 2 ] && grep -qx 'amdvirt: give --config or --deviceconfig, not both' '$TEST_TMP/err'"

finish

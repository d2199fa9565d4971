#!/bin/sh
# The console end to end: the real binary in a detached tmux server on fake
# hosts, driven with send-keys and read back with capture-pane.  Every wait
# polls the screen for explicit content with a deadline (no bare sleeps).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
# A failed wait is a failed assertion, not the end of the run.
set +e

command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
[ -x "$MKHOST" ] || { echo "SKIP: tests/mkhost not built"; exit 77; }
ls "$SCENARIOS"/*.json >/dev/null 2>&1 || { echo "SKIP: no scenarios"; exit 77; }

# One tmux server per console run, each on its own socket: a server that
# is still shutting down never receives the next session.
SOCK=amdvirt-console-$$-0
runs=0
. "$top_srcdir/tests/integration/tmux.sh"
trap 'tm kill-server 2>/dev/null; rm -rf "$TEST_TMP"' EXIT

# start W H ARGS...: the console in a fresh session; the shell afterwards
# prints the exit status and stays so the screen can still be read.
start() {
	local w=$1 h=$2
	shift 2
	tm kill-server 2>/dev/null || true
	runs=$((runs + 1))
	SOCK=amdvirt-console-$$-$runs
	tm new-session -d -x "$w" -y "$h" \
		"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1 AMDVIRT_CONSOLE_REFRESH_MS=${REFRESH_MS:-5000} $AMDVIRT $* 2>$TEST_TMP/stderr; echo \"console exited \$?\"; sleep 600"
}

# The screen as text; HIVES_SHOWN marks a Hives screen with either content.
screen() { tm capture-pane -p | sed -e 's/allocation: /&HIVES_SHOWN /' -e 's/No XGMI hives/& HIVES_SHOWN/'; }

# quit: q ends the console with status 0 and gives the terminal back
# (normal screen, cursor shown).
quit_ok() {
	local what=$1
	keys q
	if wait_for "console exited 0" 10 && [ "$(tm display -p '#{alternate_on}')" = 0 ] \
		&& [ "$(tm display -p '#{cursor_flag}')" = 1 ]; then
		ok "$what: q exits 0 and restores the terminal"
	else
		not_ok "$what: q exits 0 and restores the terminal"
	fi
}

# The devices of a scenario: "BDF DRIVER GROUP" per GPU function, from list --json.
expected_rows() {
	"$AMDVIRT" --root "$1" list --json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
for g in d["gpus"]:
    for f in [g] + g["vfs"]:
        grp = f["iommu_group"]
        print(f["bdf"], f["driver"] or "(none)", "-" if grp is None else grp)
'
}

# Every GPU function of every main scenario appears with its driver and
# group (the check-* variations differ from mi300x-vf only in what the
# checks see).  Functions below the first screenful are found with / search.
for json in "$SCENARIOS"/*.json; do
	name=$(basename "$json" .json)
	case $name in check-*) continue ;; esac
	root=$(build_host "$name")
	start 120 40 --root "$root"
	if ! wait_for "1 Devices" 30; then
		not_ok "$name: console opens"
		continue
	fi
	ok "$name: console opens"
	expected_rows "$root" >"$TEST_TMP/rows"
	if [ ! -s "$TEST_TMP/rows" ]; then
		check "$name: no GPU is said so" wait_for "No AMD GPU on this host" 5
		quit_ok "$name"
		continue
	fi
	missing=0
	n=0
	while read -r bdf driver group; do
		n=$((n + 1))
		# Checking a sample keeps the large scenario quick: the first
		# rows, then every 17th function.
		[ $n -le 12 ] || [ $((n % 17)) -eq 0 ] || continue
		if ! screen | grep -q -- "$bdf "; then
			# The jump is drawn after the prompt closes: wait for it.
			search "$bdf" && wait_for "$bdf " 15 2>/dev/null || true
		fi
		line=$(screen | grep -m1 -- "$bdf " || true)
		driver_re=$(printf '%s' "$driver" | sed 's/[()]/\\&/g')
		if ! echo "$line" | grep -qE -- "$bdf +$driver_re +$group "; then
			echo "# $bdf: want driver $driver group $group; row: $line" >&2
			missing=$((missing + 1))
		fi
	done <"$TEST_TMP/rows"
	if [ "$missing" -eq 0 ]; then ok "$name: GPU functions shown with driver and group"
	else not_ok "$name: $missing GPU functions not shown with driver and group"; fi
	quit_ok "$name"
done

# One scenario with GPUs drives the rest: mi300x-vf, else the first whose
# list has VFs, else the first with GPUs.
pick=""
for json in "$SCENARIOS"/mi300x-vf.json "$SCENARIOS"/*.json; do
	[ -f "$json" ] || continue
	name=$(basename "$json" .json)
	root=$(build_host "$name")
	rows=$(expected_rows "$root" | wc -l)
	[ "$rows" -gt 0 ] || continue
	[ -z "$pick" ] && pick=$name
	if "$AMDVIRT" --root "$root" list --json 2>/dev/null | grep -q '"role": "vf"'; then
		pick=$name
		break
	fi
done
[ -n "$pick" ] || { finish; exit; }
root=$(build_host "$pick")
cp -a "$root" "$TEST_TMP/live"
root=$TEST_TMP/live

# Screens switch with their number keys and Tab; help opens and closes.
start 120 40 --root "$root"
wait_for "1 Devices" 30
keys 2; check "$pick: 2 shows the IOMMU groups" wait_for "Groups with AMD GPU functions"
keys 3; check "$pick: 3 shows the hives" wait_for "HIVES_SHOWN" 5
keys 4; check "$pick: 4 shows the checks" wait_for "LEVEL" 10
keys 5; check "$pick: 5 shows the node" wait_for "Device plugin"
search HostDevices
check "$pick: node shows the KubeVirt snippet" wait_for "- HostDevices"
keys 6; check "$pick: 6 shows the session log" wait_for "console ready in"
keys Tab; check "$pick: Tab wraps to Devices" wait_for "STATE"
keys '?'; check "$pick: ? opens the help" wait_for "Bind a VF"
keys Escape; check "$pick: Esc closes the help" wait_gone "Bind a VF"
keys x; check "$pick: an unbound key says how to get help" wait_for "? lists the keys"

# The view follows the host: a function moved to another driver by someone
# else (here: the test, as the kernel would) shows up without a key press.
first_vf=$("$AMDVIRT" --root "$root" list --json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
vfs = [v for g in d["gpus"] for v in g["vfs"]] or d["gpus"]
print(vfs[0]["bdf"], vfs[0]["driver"] or "")')
set -- $first_vf
bdf=$1 old=${2:-}
new=pci-stub
[ "$old" = pci-stub ] && new=vfio-pci
mkdir -p "$root/sys/bus/pci/drivers/$new"
dev=$(readlink -f "$root/sys/bus/pci/devices/$bdf")
[ -n "$old" ] && rm -f "$root/sys/bus/pci/drivers/$old/$bdf"
rm -f "$dev/driver"
ln -s "$dev" "$root/sys/bus/pci/drivers/$new/$bdf"
ln -s "../../../bus/pci/drivers/$new" "$dev/driver"
check "$pick: a driver change on the host appears by itself" wait_for "$(printf '%s %-10s' "$bdf" "$new")" 10

# Search moves the selection.
search "$bdf"
check "$pick: / finds a function and shows its details" wait_for "$bdf  AMD" 5
# The detail pane reads BARs and the link on demand (mi300x-vf: every
# function has 64-bit BARs above 4 GiB; a VF's link is its PF's).
if [ "$pick" = mi300x-vf ]; then
	check "$pick: the detail pane shows a VF's BARs" \
		wait_re "BAR 0 +[0-9]+ [KMGT]iB +64-bit prefetchable above 4 GiB" 5
	check "$pick: the detail pane shows a VF's link through its PF" \
		wait_re "link +[0-9.]+ GT/s x[0-9]+ of [0-9.]+ GT/s x[0-9]+ via PF [0-9a-f:.]+" 5
	pf=$("$AMDVIRT" --root "$root" list --json 2>/dev/null | $PY -c '
import json, sys
print(json.load(sys.stdin)["gpus"][0]["bdf"])')
	search "$pf"
	wait_for "$pf  AMD" 5
	check "$pick: the detail pane shows a PF's link against its maximum" \
		wait_re "link +[0-9.]+ GT/s x[0-9]+ of [0-9.]+ GT/s x[0-9]+, at its maximum" 5
	check "$pick: the detail pane shows a PF's VF BARs" \
		wait_re "VF BAR 0 +[0-9]+ [KMGT]iB .*above 4 GiB +\([0-9]+ VFs? x [0-9]+ [KMGT]iB\)" 5
fi
quit_ok "$pick"

# Hives in VF mode: the VFs VMs get under each PF, with their group and
# health, and the shapes the plugin's Allocate accepts.
if [ -f "$SCENARIOS/mi210-hives.json" ]; then
	hroot=$(build_host mi210-hives)
	start 120 40 --root "$hroot"
	wait_for "1 Devices" 30
	keys 3
	check "mi210-hives: both hives are listed" wait_for "hive h1" 5
	check "mi210-hives: a hive lists its VFs with group and health" \
		wait_re "VF 0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] +vfio-pci +group [0-9]+ +healthy +device \"[0-9]+\"" 5
	check "mi210-hives: the allocation shapes of a hive of 4" \
		wait_for "1, 2 or 4 of its 4 VFs (4: the whole hive); with other hives: whole hives only" 5
	quit_ok "mi210-hives"
fi

# Read-only: actions are refused and not offered.
start 120 40 --readonly --root "$root"
wait_for "1 Devices" 30
check "$pick: read-only is shown" wait_for "[read-only]"
keys b
check "$pick: read-only refuses b" wait_for "Read-only console"
quit_ok "$pick read-only"

# A bind: the plan first, nothing runs on n, it runs on y and the result
# is shown and logged.  The binary writes plain files into the fake tree
# (no kernel reacts), so the post-conditions fail and the rollback is what
# the dialog and the Log report.
if "$AMDVIRT" bind --help >/dev/null 2>&1 || "$AMDVIRT" --root "$root" bind --dry-run "$bdf" >/dev/null 2>&1; then
	start 120 40 --root "$root"
	wait_for "1 Devices" 30
	search "$bdf"
	wait_for "$bdf  AMD" 5
	keys b
	if wait_for "y run" 10; then
		ok "$pick: b shows the plan before anything runs"
		keys n
		check "$pick: n cancels" wait_for "Cancelled: nothing was changed"
		keys b && wait_for "y run" 10 && keys y
		if wait_for "Done:" 30 || screen | grep -q "Failed:"; then
			ok "$pick: y runs the plan and shows its result"
		else
			not_ok "$pick: y runs the plan and shows its result"
		fi
		keys Enter
		keys 6
		check "$pick: the action is in the Log" wait_for "cancelled"
	else
		not_ok "$pick: b shows the plan before anything runs"
	fi
	quit_ok "$pick bind"
fi

# 80x24 stays readable: header, tabs, a device row and the key bar.
start 80 24 --root "$root"
if wait_for "1 Devices" 30 && screen | grep -q "q quit" && screen | grep -qF "$bdf"; then
	ok "$pick: 80x24 shows header, devices and key bar"
else
	not_ok "$pick: 80x24 shows header, devices and key bar"
fi
# Resizes are followed: smaller than the minimum says so, larger redraws.
tm resize-window -x 40 -y 10
check "$pick: a too small terminal is told so" wait_for "needs 50x12"
tm resize-window -x 100 -y 30
check "$pick: growing again redraws" wait_for "1 Devices"
quit_ok "$pick 80x24"

# SIGTERM also restores the terminal.
start 100 30 --root "$root"
wait_for "1 Devices" 30
shell_pid=$(tm display -p '#{pane_pid}')
# The console is the shell's child; signal only that process.
cpid=$(ps -o pid= --ppid "$shell_pid" | head -1 | tr -d ' ')
[ -n "$cpid" ] && kill -TERM "$cpid"
if wait_for "console exited 0" 10 && [ "$(tm display -p '#{alternate_on}')" = 0 ]; then
	ok "$pick: SIGTERM exits 0 and restores the terminal"
else
	not_ok "$pick: SIGTERM exits 0 and restores the terminal"
fi

# A crash gives the terminal back too (the handler restores it, then the
# signal takes its default course).
start 100 30 --root "$root"
wait_for "1 Devices" 30
shell_pid=$(tm display -p '#{pane_pid}')
cpid=$(ps -o pid= --ppid "$shell_pid" | head -1 | tr -d ' ')
[ -n "$cpid" ] && kill -SEGV "$cpid"
if wait_for "console exited 139" 10 && [ "$(tm display -p '#{alternate_on}')" = 0 ]; then
	ok "$pick: SIGSEGV restores the terminal"
else
	not_ok "$pick: SIGSEGV restores the terminal"
fi

# The demo host at 80x24 with its simulated kernel: the header keeps the
# checks and the mode, the status line suggests a first step, and every
# action key does on it what it would on a real host with that layout.
# act KEY TEXT: KEY, y when it shows a plan, then TEXT (the outcome's
# dialog).  Each outcome is closed with Enter before the next key.
act() {
	local deadline=$(($(date +%s) + 30))
	keys "$1"
	while [ "$(date +%s)" -lt "$deadline" ]; do
		screen | grep -qF -- "$2" && return 0
		if screen | grep -q "y run"; then keys y; wait_for "$2" 30; return; fi
		sleep 0.05
	done
	wait_for "$2" 1
}
# row BDF DRIVER STATE: the Devices row, within about a second.
row() { wait_re "$1 +$2 +[0-9]+ .* $3 " 2; }
if [ -d "$top_builddir/demo" ] || [ -n "${AMDVIRT_DEMO_DIR:-}" ]; then
	mkdir -p "$TEST_TMP/demo-tmp"
	export TMPDIR=$TEST_TMP/demo-tmp
	start 80 24 --demo
	unset TMPDIR
	check "demo: opens at 80x24" wait_for "1 Devices" 30
	check "demo: the header says it is the demo with a simulated kernel" wait_for "demo host (simulated kernel)"
	check "demo: the header keeps the checks summary and the mode at 80x24" \
		sh -c "tmux -L $SOCK capture-pane -p | head -1 | grep -qE 'vf-passthrough .*checks [0-9]+ FAIL, [0-9]+ WARN'"
	check "demo: the status line suggests a first step" wait_for "demo: press b on 0000:25:02.0 to bind it"
	check "demo: 0000:25:02.0 starts unbound" row 0000:25:02.0 "\(none\)" unbound
	search 0000:25:02.0
	wait_for "0000:25:02.0  AMD" 5
	check "demo: b y binds 0000:25:02.0" act b "Done: bind 0000:25:02.0 (group 60) to vfio-pci"
	keys Enter
	check "demo: its row shows vfio-pci, ready" row 0000:25:02.0 vfio-pci ready
	check "demo: the hint has gone once tried" wait_gone "demo: press b on" 2
	check "demo: u y unbinds it" act u "Done: unbind 0000:25:02.0"
	keys Enter
	check "demo: its row is back as before" row 0000:25:02.0 "\(none\)" unbound
	check "demo: m says gim is loaded" act m "gim is already loaded"
	keys Enter
	check "demo: a binds everything the mode selects" act a "Done: bind"
	keys Enter
	check "demo: ... 0000:85:02.0 is taken from amdgpu" row 0000:85:02.0 vfio-pci ready
	check "demo: A is refused: a VM holds 0000:a5:02.0" act A "refused: 0000:a5:02.0 is in use"
	keys Enter
	search 0000:45:00.0
	wait_for "0000:45:00.0  AMD" 5
	check "demo: B binds the shared group 27 as a whole" act B "Done: bind 0000:45:00.1 (group 27)"
	keys Enter
	check "demo: U gives group 27 back" act U "Done: unbind 2 functions in 1 IOMMU group"
	keys Enter
	keys '?'
	check "demo: ? explains the demo" wait_for "A copy of a bundled host with a simulated kernel"
	check "demo: ? explains the screens" wait_for "2 Groups   IOMMU groups"
	keys Escape
	for s in 2 3 4 5 6 1; do
		keys "$s"
		check "demo: screen $s at 80x24 keeps the header and the key bar" \
			sh -c "sleep 0.3; tmux -L $SOCK capture-pane -p | head -1 | grep -q 'checks ' && tmux -L $SOCK capture-pane -p | tail -1 | grep -q 'q quit'"
	done
	quit_ok "demo 80x24"
	check "demo: the console removed its copy" test -z "$(ls -A "$TEST_TMP/demo-tmp")"
fi

# No AMD GPU: said so, and d opens the demo host when there is one.
empty=$TEST_TMP/empty
mkdir -p "$empty/sys/bus/pci/devices" "$empty/sys/kernel/iommu_groups"
if [ -d "$top_builddir/demo" ]; then
	start 120 40 --root "$empty"
	check "no GPU: said so" wait_for "No AMD GPU on this host"
	keys d
	check "no GPU: d opens the demo host" wait_for "demo host (simulated kernel)"
	check "no GPU: on the demo the status line suggests a first step" wait_for "demo: press b on 0000:25:02.0"
	quit_ok "demo"
fi
finish

#!/bin/bash
# The real-kernel lane: boots a stock Debian kernel under QEMU (TCG, no KVM
# needed) on q35 with an emulated Intel IOMMU and an SR-IOV NVMe controller,
# and runs the real amdvirt inside: bind/unbind of a PF and of a VF, the
# refusal of a PF with VFs enabled, rollback on the real kernel, vfio-pci
# loaded through libkmod.  Since no AMD device can be emulated, amdvirt is
# pointed at the NVMe functions by BDF and by vfioConfig.deviceIDs.
#
# Usage: AMDVIRT=path/to/amdvirt tests/kernel/run.sh      (make check (or make check-kernel))
# Needs: qemu-system-x86, busybox-static, cpio, kmod, apt-get download.
# Env:   QEMU_LAB (work dir, default $TMPDIR/amdvirt-qemu-lab; the kernel .deb is kept there),
#        TCG_TIMEOUT (seconds, default 300), NUMVFS (default 2), KPKG.
# Exit:  0 all checks passed; 1 a check failed; 77 (skip) tools missing.
set -euo pipefail
T_START=$(date +%s.%N)

LAB=${QEMU_LAB:-${TMPDIR:-/tmp}/amdvirt-qemu-lab}
NUMVFS=${NUMVFS:-2}
CACHE=$LAB/cache
KROOT=$LAB/kroot
ROOT=$LAB/rootfs
LOG=$LAB/guest.log
HERE=$(cd "$(dirname "$0")" && pwd)
AMDVIRT=${AMDVIRT:-amdvirt}

log() { printf '[qemu] %s\n' "$*" >&2; }
skip() { log "SKIP: $*"; exit 77; }
# Under errexit a failing command would end the lane without a word.
trap 'log "stopped: line $LINENO: $BASH_COMMAND exited $?"' ERR
# Under pipefail a reader that stops early (awk exit, head) makes a writer
# with more to say die of SIGPIPE and fail the whole pipeline; every reader
# below therefore consumes all of its input.

for t in qemu-system-x86_64 cpio gzip dpkg apt-get depmod modprobe ldd; do
	command -v "$t" >/dev/null || [ -x "/sbin/$t" ] || skip "missing host tool $t"
done
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] && { ldd "$BUSYBOX" 2>&1 || true; } | grep -q 'not a dynamic' || skip "need a static busybox (busybox-static)"
AMDVIRT=$(command -v "$AMDVIRT" || true)
[ -x "$AMDVIRT" ] || { log "no amdvirt binary (set AMDVIRT)"; exit 2; }
mkdir -p "$CACHE"

# ---- kernel: downloaded as a .deb, extracted, never installed
if [ -z "${KPKG:-}" ]; then
	KDEB=$(ls "$CACHE"/linux-image-*-amd64_*.deb 2>/dev/null | grep -v -e unsigned -e dbg | sort -V | tail -n1 || true)
	if [ -n "$KDEB" ]; then
		KPKG=$(basename "$KDEB" | cut -d_ -f1)
	else
		# The metapackage names the current kernel; if apt cannot say, the
		# newest versioned package in the lists will do.
		KPKG=$({ apt-cache depends linux-image-amd64 || true; } |
			awk '/Depends: linux-image-[0-9]/ && !k {k = $2} END {print k}')
		[ -n "$KPKG" ] || KPKG=$({ apt-cache pkgnames linux-image- || true; } |
			grep -E '^linux-image-[0-9][0-9.]*-[0-9]+-amd64$' | sort -V | tail -n1 || true)
		[ -n "$KPKG" ] || skip "apt knows no linux-image-*-amd64 package (apt-get update?)"
	fi
fi
if ! ls "$CACHE/${KPKG}"_*.deb >/dev/null 2>&1; then
	log "apt-get download $KPKG"
	(cd "$CACHE" && apt-get -q -o APT::Sandbox::User=root download "$KPKG") >&2 || skip "cannot download $KPKG"
fi
KDEB=$(ls "$CACHE/${KPKG}"_*.deb | sort -V | tail -n1)
if [ ! -f "$KROOT/.done-$(basename "$KDEB")" ]; then
	log "extracting $(basename "$KDEB")"
	rm -rf "$KROOT" && mkdir -p "$KROOT"
	dpkg -x "$KDEB" "$KROOT"
	KV=$(ls "$KROOT/lib/modules" | sed -n 1p)
	# the .deb has no modules.dep: its postinst would run depmod
	depmod -b "$KROOT" -F "$KROOT/boot/System.map-$KV" "$KV"
	touch "$KROOT/.done-$(basename "$KDEB")"
fi
KV=$(ls "$KROOT/lib/modules" | sed -n 1p)
VMLINUZ=$KROOT/boot/vmlinuz-$KV

# ---- initramfs: busybox, kmod, amdvirt and its libraries, the modules
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,run,lib/modules,usr/share/misc}
copy_file() { local dst=$ROOT${2:-$1}; mkdir -p "$(dirname "$dst")"; cp -L "$1" "$dst"; }
copy_bin() { # binary + ELF interpreter + libraries
	copy_file "$1" "$2"
	ldd "$1" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
		[ -e "$ROOT$lib" ] || copy_file "$lib"
	done
	! ldd "$1" | grep -q 'not found' || { log "unresolved libraries for $1"; exit 2; }
}
copy_bin "$(readlink -f "$(command -v kmod || echo /bin/kmod)")" /bin/kmod
for a in modprobe insmod rmmod lsmod; do ln -sf /bin/kmod "$ROOT/sbin/$a"; done
copy_bin "$AMDVIRT" /usr/local/bin/amdvirt
# amdvirt loads libkmod with dlopen when it first needs it: ldd does not list it.
lib=$(/sbin/ldconfig -p | awk '$1 == "libkmod.so.2" && /x86-64/ && !k {k = $NF} END {print k}')
[ -n "$lib" ] || { log "libkmod.so.2 not found"; exit 2; }
copy_bin "$lib" "$lib"
[ -f /usr/share/misc/pci.ids ] && copy_file /usr/share/misc/pci.ids
cp "$BUSYBOX" "$ROOT/bin/busybox"
"$BUSYBOX" --list-full | while read -r p; do
	[ -e "$ROOT/$p" ] || [ -L "$ROOT/$p" ] || ln -s /bin/busybox "$ROOT/$p"
done
for m in nvme vfio-pci vfio_iommu_type1; do
	modprobe -d "$KROOT" -S "$KV" --show-depends "$m" | awk '$1=="insmod"{print $2}'
done | sort -u | while read -r ko; do copy_file "$ko" "${ko#"$KROOT"}"; done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	cp "$KROOT/lib/modules/$KV/$f" "$ROOT/lib/modules/$KV/"
done
depmod -b "$ROOT" "$KV"
cp "$HERE/guest.sh" "$ROOT/init"
chmod +x "$ROOT/init"
INITRD=$LAB/initramfs.cpio.gz
(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 > "$INITRD"
T_PREP=$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')

# ---- boot (TCG: KVM is neither needed nor trusted, see the lab's README)
Q=(qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 1G -smp 2
	-nodefaults -no-user-config -display none -serial stdio -no-reboot
	-device intel-iommu,intremap=on
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1
	-device nvme-subsys,id=nvmsubsys0,nqn=amdvirt-lab
	-device "nvme,id=nvme0,serial=amdvirt0,subsys=nvmsubsys0,bus=rp1,sriov_max_vfs=$NUMVFS,sriov_vq_flexible=$((NUMVFS*2)),sriov_vi_flexible=$NUMVFS,max_ioqpairs=$((NUMVFS*2+2)),msix_qsize=$((NUMVFS+2))"
	-drive if=none,id=nvmns1,driver=null-co,read-zeroes=on
	-device nvme-ns,drive=nvmns1,bus=nvme0,nsid=1
	-kernel "$VMLINUZ" -initrd "$INITRD"
	-append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 quiet lab.numvfs=$NUMVFS ${GUEST_APPEND:-}")
log "booting $KV (TCG)"
t0=$(date +%s.%N)
set +e
timeout -k 5 "${TCG_TIMEOUT:-300}" "${Q[@]}" </dev/null 2>&1 | tr -d '\r' > "$LOG"
qrc=${PIPESTATUS[0]}
set -e
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
grep -E '^(PASS|FAIL):' "$LOG" || true
np=$(grep -c '^PASS:' "$LOG" || true)
nf=$(grep -c '^FAIL:' "$LOG" || true)
if ! grep -q '^LAB-DONE' "$LOG"; then
	log "no LAB-DONE marker (qemu rc=$qrc); tail of $LOG:"
	tail -n 30 "$LOG" >&2
	nf=$((nf + 1))
fi
log "kernel $KV: pass=$np fail=$nf boot+tests=${secs}s prep=${T_PREP}s total=$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s log=$LOG"
[ "$nf" = 0 ] && [ "$np" -ge 10 ]

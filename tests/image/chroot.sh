#!/bin/sh
# The image's runtime stage without a container runtime: a Debian root file
# system built by mmdebstrap from k8s/image/runtime-packages (what
# k8s/image/Containerfile installs), amdvirt installed into it as `make
# install DESTDIR=` does, and in a chroot every command that loads a library:
# the linked ones (ldd, --version, list), libkmod (check reads module
# facts through it; gim load --dry-run plans with it), libcurl with TLS (labels --apply against tests/peers/
# apiserver.py on loopback) and the daemon registering with
# tests/peers/kubelet.py.  A library the binary cannot find fails the test,
# naming it.  Needs root (chroot) and the Debian archive; skips, saying so,
# only when mmdebstrap cannot reach the archive.  `make check-image`.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"

SUITE=${AMDVIRT_IMAGE_SUITE:-bookworm}
MIRROR=${AMDVIRT_IMAGE_MIRROR:-http://deb.debian.org/debian}
PACKAGES=${AMDVIRT_RUNTIME_PACKAGES:-$top_srcdir/k8s/image/runtime-packages}

if ! command -v mmdebstrap >/dev/null 2>&1; then
	echo "not ok - mmdebstrap is not installed (Debian: apt install mmdebstrap; .ci/packages has it)"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - the chroot needs root"
	exit 1
fi
for tool in openssl "$PY"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "not ok - $tool is missing"; exit 1; }
done

ROOTFS=$TEST_TMP/rootfs
T=$TEST_TMP
# --- the root file system -----------------------------------------------------
pkgs=$(grep -v '^[[:space:]]*#' "$PACKAGES" | grep -v '^[[:space:]]*$' | paste -sd, -)
echo "# mmdebstrap $SUITE minbase + $pkgs"
if ! mmdebstrap --variant=minbase --include="$pkgs" --skip=output/mknod \
	"$SUITE" "$ROOTFS" "$MIRROR" >"$T/mmdebstrap.log" 2>&1; then
	if grep -qE 'Could not resolve|Failed to fetch|Temporary failure|Unable to connect|Connection failed|could not download|Network is unreachable' "$T/mmdebstrap.log"; then
		echo "SKIP: mmdebstrap cannot reach the archive $MIRROR:"
		grep -E 'Could not resolve|Failed to fetch|Temporary failure|Unable to connect|Connection failed|could not download|Network is unreachable' "$T/mmdebstrap.log" | head -3
		exit 77
	fi
	echo "not ok - mmdebstrap failed:"
	tail -20 "$T/mmdebstrap.log"
	exit 1
fi
(cd "$top_builddir" && make install DESTDIR="$ROOTFS" >"$T/install.log" 2>&1) || {
	echo "not ok - make install DESTDIR=$ROOTFS failed:"; tail -20 "$T/install.log"; exit 1; }
# Where the configured prefix put it (the image uses /usr).
BIN=$(cd "$ROOTFS" && find usr -path '*/bin/amdvirt' -type f | head -1)
[ -n "$BIN" ] || { echo "not ok - make install put no bin/amdvirt under $ROOTFS"; exit 1; }
BIN=/$BIN

# in_root CMD...: runs CMD in the chroot, stdout to $T/out, stderr to $T/err.
in_root() {
	LAST="$*"
	chroot "$ROOTFS" "$@" >"$T/out" 2>"$T/err"
}

# libs_ok WHAT: no library missing from what the last command printed; each
# missing one is named.
libs_ok() {
	missing=$(grep -hoE 'cannot load [^ ]+|error while loading shared libraries: [^:]+|[^ ]+\.so[.0-9]* => not found' \
		"$T/out" "$T/err" | sed -E 's/^cannot load //; s/^error while loading shared libraries: //; s/ => not found//; s/[,:;]+$//' | sort -u | paste -sd' ' -)
	if [ -n "$missing" ]; then
		not_ok "$1: missing in the image: $missing (k8s/image/runtime-packages)"
		return 1
	fi
	return 0
}
run_check() { # WHAT EXPECTED-EXIT... -- CMD...
	local what=$1 rc
	shift
	local ok_rcs=""
	while [ "$1" != "--" ]; do ok_rcs="$ok_rcs $1"; shift; done
	shift
	in_root "$@"
	rc=$?
	libs_ok "$what" || return 0
	case " $ok_rcs " in
	*" $rc "*) ok "$what" ;;
	*) not_ok "$what: exit $rc: $(head -3 "$T/err")" ;;
	esac
}

set +e
run_check "ldd: every linked library found" 0 -- ldd "$BIN"
run_check "amdvirt --version" 0 -- "$BIN" --version
run_check "amdvirt --demo list --json" 0 -- "$BIN" --demo list --json
"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>/dev/null ||
	not_ok "list --json printed no JSON"
# check exits 1 when a check fails, which the demo host has.
run_check "amdvirt --demo check --json (libkmod)" 0 1 -- "$BIN" --demo check --json
"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>/dev/null ||
	not_ok "check --json printed no JSON"
run_check "amdvirt --demo gim load --dry-run" 0 -- "$BIN" --demo gim load --dry-run

# --- labels --apply: libcurl and TLS against the test API server ---------------
mkcert ca "amdvirt test CA" && mkcert server 127.0.0.1 ca || { not_ok "openssl could not make the certificates"; finish; }
TOKEN=tok-image-test
cat >"$T/objects.json" <<'JSON'
{"nodes": [{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}},
  "spec": {}, "status": {}}]}
JSON
if launch_apiserver --state-out "$T/state.json"; then
	mkdir -p "$ROOTFS/kube"
	cp "$T/ca.crt" "$ROOTFS/kube/ca.crt"
	write_kubeconfig "$ROOTFS/kube/config" ca.crt test agent
	run_check "amdvirt --demo labels --apply over TLS (libcurl)" 0 -- \
		"$BIN" --demo labels --apply --kubeconfig /kube/config --node-name node1
	if "$PY" -c 'import json, sys
labels = json.load(open(sys.argv[1]))["nodes"][0]["metadata"]["labels"]
sys.exit(0 if "amd.com/gpu.mode" in labels else 1)' "$T/state.json" 2>/dev/null; then
		ok "the API server's Node carries the labels"
	else
		not_ok "the Node has no amd.com/gpu.mode label: $(head -3 "$T/err")"
	fi
	stop_apiserver
else
	not_ok "the test API server did not start"
fi

# --- the daemon registers with the kubelet --------------------------------------
# kubelet.py starts `AMDVIRT --root ROOT daemon ...`; the wrapper runs that
# in the chroot with the fake host placed inside it, at /host.
host=$(build_host mi300x-vf)
mkdir -p "$ROOTFS/host"
cp -a "$host/." "$ROOTFS/host/"
cat >"$T/amdvirt-in-root" <<EOF
#!/bin/sh
shift 2
exec chroot "$ROOTFS" $BIN --root /host "\$@"
EOF
chmod +x "$T/amdvirt-in-root"
mkdir -p "$T/kubelet"
if "$PY" "$top_srcdir/tests/peers/kubelet.py" --amdvirt "$T/amdvirt-in-root" --root "$ROOTFS/host" \
	--scenario mi300x-vf --expected "$top_srcdir/tests/expected/plugin/mi300x-vf.json" \
	--tmp "$T/kubelet" >"$T/out" 2>"$T/err"; then
	libs_ok "amdvirt daemon in the chroot" && ok "amdvirt daemon registers with the kubelet from the chroot"
else
	libs_ok "amdvirt daemon in the chroot" &&
		not_ok "amdvirt daemon against the kubelet: $(tail -5 "$T/out" "$T/err")"
fi
finish

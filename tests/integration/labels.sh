#!/bin/sh
# Node labels: `labels --json` on every scenario against golden files, and
# `labels --apply` against a fake HTTPS API server (tests/peers/apiserver.py)
# with certificates made here by openssl.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"
# Commands fail on purpose here; the checks look at their status.
set +e
GOLDEN="$top_srcdir/tests/integration/labels"

skip_without openssl "$PY"

T=$TEST_TMP
trap 'stop_apiserver; reap "${DPID:-}"; rm -rf "$T"' EXIT INT TERM
isolate_from_cluster

TOKEN="tok-3f9c2a7d51e84b06-secret"

# q EXPR: a Python expression over the request log (log), the server's
# nodes (node = node1), the initial node (node0) and the desired labels
# (want, written by hand for the host).
q() {
	api_q "$1" '
state = load("state.json", {"nodes": []})
node = next((n for n in state["nodes"] if n["metadata"]["name"] == "node1"), None)
node0 = load("objects.json", {"nodes": [{}]})["nodes"][0]
want = load("want.json", {})
labels = (node or {}).get("metadata", {}).get("labels", {})
labels0 = node0.get("metadata", {}).get("labels", {})'
}

# --- certificates -----------------------------------------------------------
make_certs client
mkcert other "another CA" || bail "openssl could not make the test certificates"

# --- labels --json on the main scenarios ----------------------------------------
# The check-* scenarios are one-line variations of these for `check`; they
# add nothing to the labels.
SCENARIOS="mi300x-vf mi300x-pf mi210-hives mi300x-container mixed none broken iommu-off large"
if [ -x "$MKHOST" ]; then
	for name in $SCENARIOS; do
		scenario="$top_srcdir/tests/scenarios/$name.json"
		rm -rf "$T/host-$name"
		if ! "$MKHOST" "$scenario" "$T/host-$name" >"$T/mkhost.out" 2>&1; then
			not_ok "mkhost $name"
			continue
		fi
		"$AMDVIRT" --root "$T/host-$name" labels --json >"$T/labels-$name.json" 2>"$T/labels-$name.err"
		rc=$?
		if [ $rc -ne 0 ]; then
			not_ok "labels --json $name (exit $rc: $(cat "$T/labels-$name.err"))"
		elif [ ! -f "$GOLDEN/$name.json" ]; then
			not_ok "labels --json $name: no golden file $GOLDEN/$name.json"
			cat "$T/labels-$name.json"
		elif "$PY" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
			"$T/labels-$name.json" "$GOLDEN/$name.json"; then
			ok "labels --json $name matches the golden file"
		else
			not_ok "labels --json $name differs from the golden file"
			diff -u "$GOLDEN/$name.json" "$T/labels-$name.json"
		fi
		# The text form: the same labels, key=value, sorted.
		"$AMDVIRT" --root "$T/host-$name" labels >"$T/labels-$name.txt" 2>/dev/null
		check "labels $name text form is key=value sorted by key" "$PY" -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
want = json.load(open(sys.argv[2]))
keys = [l.split("=", 1)[0] for l in lines]
sys.exit(keys != sorted(keys) or dict(l.split("=", 1) for l in lines) != want)' \
			"$T/labels-$name.txt" "$T/labels-$name.json"
	done
fi

# The GIM version as the module prints it for a build with local changes:
# the label keeps what comes before the first '+'.
if [ -d "$T/host-mi300x-vf/sys/module/gim" ]; then
	cp -a "$T/host-mi300x-vf" "$T/plus"
	echo "8.1.0.K+ubuntu.24.04+build.42" >"$T/plus/sys/module/gim/version"
	"$AMDVIRT" --root "$T/plus" labels >"$T/plus.txt" 2>/dev/null
	check "driver-version is /sys/module/gim/version cut at the first +" \
		grep -qx "amd.com/gpu.driver-version=8.1.0.K" "$T/plus.txt"
	rm -rf "$T/plus"
fi

# --- the host for --apply ----------------------------------------------------
# A VF host from the scenarios when the fake host builder is there, else a
# bare root in forced vf-passthrough mode (mode and driver-version labels).
HOST="$T/host-mi300x-vf"
MODE_ARGS=""
if [ ! -d "$HOST/sys" ]; then
	HOST="$T/bare"
	mkdir -p "$HOST/sys/bus/pci/devices" "$HOST/sys/module/gim"
	echo "8.1.0.K+test" >"$HOST/sys/module/gim/version"
	MODE_ARGS="--driver-type vf-passthrough"
fi
SA="$HOST/var/run/secrets/kubernetes.io/serviceaccount"
mkdir -p "$SA"
cp "$T/ca.crt" "$SA/ca.crt"
echo "$TOKEN" >"$SA/token"

# The desired labels, written from the host's description (the contract's
# labels), never taken from `labels --json`: a bug there must show here.
if [ "$HOST" = "$T/host-mi300x-vf" ]; then
	# 8 MI300X VFs (74b5) on vfio-pci, gim 8.1.0.K
	cat >"$T/want.json" <<'EOF'
{"amd.com/gpu.device-id": "74b5", "amd.com/gpu.driver-version": "8.1.0.K",
 "amd.com/gpu.mode": "vf-passthrough", "beta.amd.com/gpu.device-id": "74b5",
 "beta.amd.com/gpu.device-id.74b5": "8", "beta.amd.com/gpu.mode": "vf-passthrough"}
EOF
else
	# no GPU, gim 8.1.0.K+test, the mode forced
	cat >"$T/want.json" <<'EOF'
{"amd.com/gpu.driver-version": "8.1.0.K", "amd.com/gpu.mode": "vf-passthrough",
 "beta.amd.com/gpu.mode": "vf-passthrough"}
EOF
fi

cat >"$T/objects.json" <<'EOF'
{"nodes": [{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node1", "labels": {
    "kubernetes.io/hostname": "node1",
    "amd.com/foo": "mine",
    "amd.com/gpu.family": "AI",
    "amd.com/gpu.device-id.0x74b5": "8",
    "amd.com/gpu.mode": "container",
    "beta.amd.com/gpu.device-id.7410": "4",
    "amd.com/gpu.product-name": "stale",
    "gpu.operator.amd.com/other.dc.driver": "container"}},
  "spec": {}, "status": {}}],
 "deviceconfigs": [{"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig",
  "metadata": {"name": "test-deviceconfig", "namespace": "kube-amd-gpu"},
  "spec": {"driver": {"enable": true, "driverType": "vf-passthrough", "version": "8.1.0.K"}}}]}
EOF

# start_server [apiserver.py ARGS...]: the server afresh, client
# certificates accepted, its nodes in state.json.
start_server() {
	stop_apiserver
	rm -f "$T/state.json"
	start_apiserver --client-ca "$T/ca.crt" --state-out "$T/state.json" "$@"
}

# apply [ENV=VALUE...] -- [amdvirt arguments]: labels --apply in-cluster as
# node1; output in $T/out, $T/err, exit status in RC, everything kept in
# $T/all-output for the token check.
apply() {
	envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 $envs \
		"$AMDVIRT" --root "$HOST" $MODE_ARGS labels --apply "$@" >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/out" "$T/err" >>"$T/all-output"
}

# --- in-cluster: one PATCH, exactly right --------------------------------------
start_server
apply
check "apply in-cluster exits 0" test "$RC" -eq 0
check "one GET and one PATCH" q 'len(gets) == 1 and len(patches) == 1 and len(log) == 2'
check "PATCH is a JSON merge patch" q 'patches[0]["content_type"] == "application/merge-patch+json"'
check "PATCH carries the resourceVersion read" \
	q 'patches[0]["body"]["metadata"]["resourceVersion"] == "101"'
check "PATCH sets exactly the new values and nulls exactly the stale owned keys" \
	q 'patches[0]["body"]["metadata"]["labels"] == dict({k: v for k, v in want.items() if labels0.get(k) != v}, **{k: None for k in ["amd.com/gpu.product-name", "beta.amd.com/gpu.device-id.7410"] if k not in want})'
check "PATCH names no foreign key" \
	q 'not set(patches[0]["body"]["metadata"]["labels"]) & {"kubernetes.io/hostname", "amd.com/foo", "amd.com/gpu.family", "amd.com/gpu.device-id.0x74b5", "gpu.operator.amd.com/other.dc.driver"}'
check "node ends with the desired labels plus the foreign ones" \
	q 'labels == dict(want, **{k: labels0[k] for k in ["kubernetes.io/hostname", "amd.com/foo", "amd.com/gpu.family", "amd.com/gpu.device-id.0x74b5", "gpu.operator.amd.com/other.dc.driver"]})'
check "apply reports what it did" grep -q "node node1: .* set, 2 removed" "$T/out"

apply
check "second run exits 0" test "$RC" -eq 0
check "second run sends no PATCH" q 'len(patches) == 1 and len(gets) == 2'
check "second run says up to date" grep -q "labels up to date" "$T/out"

apply -- --json
check "--apply --json reports patched=false" \
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["patched"] or d["node"] != "node1" or d["patch"] is not None)' "$T/out"

# Every scenario: the Node ends with exactly its labels and the foreign ones.
for f in "$T"/labels-*.json; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .json)
	name=${name#labels-}
	host="$T/host-$name"
	if [ "$host" != "$HOST" ]; then
		mkdir -p "$host/var/run/secrets/kubernetes.io/serviceaccount"
		cp "$SA/ca.crt" "$SA/token" "$host/var/run/secrets/kubernetes.io/serviceaccount/"
	fi
	start_server
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		"$AMDVIRT" --root "$host" labels --apply >"$T/out" 2>"$T/err"
	check "apply $name: exit 0" test $? -eq 0
	check "apply $name: the Node ends with exactly the scenario's labels and the foreign ones" \
		"$PY" -c '
import json, sys
want = json.load(open(sys.argv[1]))
node = json.load(open(sys.argv[2]))["nodes"][0]["metadata"]["labels"]
foreign = {"kubernetes.io/hostname", "amd.com/foo", "amd.com/gpu.family",
           "amd.com/gpu.device-id.0x74b5", "gpu.operator.amd.com/other.dc.driver"}
before = json.load(open(sys.argv[3]))["nodes"][0]["metadata"]["labels"]
sys.exit(node != dict(want, **{k: before[k] for k in foreign}))' "$f" "$T/state.json" "$T/objects.json"
	cat "$T/out" "$T/err" >>"$T/all-output"
done

# --- retries ----------------------------------------------------------------
start_server --inject 500 --inject 429:1 --inject 503
t0=$(date +%s%N)
apply
t1=$(date +%s%N)
check "500, 429 and 503 are retried to success" test "$RC" -eq 0
check "retried requests are in the log in order" \
	q '[e["status"] for e in log] == [500, 429, 503, 200, 200] and len(patches) == 1'
check "Retry-After: 1 is honoured" test $(((t1 - t0) / 1000000)) -ge 1000

start_server --inject drop --inject drop
apply
check "dropped connections are retried" test "$RC" -eq 0
check "after two drops: one GET answered and one PATCH" q 'len(patches) == 1 and [e["status"] for e in log] == [0, 0, 200, 200]'

start_server --inject slow:3
apply AMDVIRT_API_TIMEOUT=1
check "a slow answer times out and is retried" test "$RC" -eq 0
check "after the timeout the labels are applied" q 'len(patches) == 1 and labels.get("amd.com/gpu.mode") == want["amd.com/gpu.mode"]'

start_server --inject PATCH=409
apply
check "409 on PATCH reads the node again" test "$RC" -eq 0
check "409: GET, PATCH, GET, PATCH" \
	q '[(e["method"], e["status"]) for e in log] == [("GET", 200), ("PATCH", 409), ("GET", 200), ("PATCH", 200)]'

start_server --inject 500 --inject 500 --inject 500 --inject 500 --inject 500 --inject 500 --inject 500
apply
check "persistent 500 gives up with exit 1" test "$RC" -eq 1
check "gives up after 6 attempts" q 'len(log) == 6 and not patches'
check "gives up with one line naming the status" grep -q "HTTP 500" "$T/err"

# --- refusals ------------------------------------------------------------------
start_server --forbid patch
apply
check "403 on patch exits 1" test "$RC" -eq 1
check "403 message names verb and resource" grep -q 'verb "patch" on resource "nodes"' "$T/err"
check "403 message is one line" test "$(wc -l <"$T/err")" -eq 1
check "403 is not retried" q 'len(patches) == 1'

start_server --forbid get
apply
check "403 on get names verb get" grep -q 'verb "get" on resource "nodes"' "$T/err"

echo "wrong-token-value" >"$SA/token"
start_server
apply
check "401 exits 1" test "$RC" -eq 1
check "401 message names the credentials" grep -q "unauthorized.*in-cluster service account" "$T/err"
check "401 sends nothing more" q 'len(log) == 1'
echo "$TOKEN" >"$SA/token"

echo "old-token-before-rotation" >"$SA/token"
start_server --rotate-token "$SA/token:$TOKEN"
apply
check "a rotated token is picked up" test "$RC" -eq 0
check "rotation: 401 then success with the new token" \
	q '[e["status"] for e in log][:2] == [401, 200] and len(patches) == 1'
echo "$TOKEN" >"$SA/token"

cp "$T/other.crt" "$SA/ca.crt"
start_server
apply
check "a server certificate from another CA is refused" test "$RC" -eq 1
check "the refusal names the certificate" grep -qi "certificate" "$T/err"
check "no HTTP request reaches a server that does not verify" q 'len(log) == 0'
cp "$T/ca.crt" "$SA/ca.crt"

start_server
env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" \
	"$AMDVIRT" --root "$HOST" labels --apply >"$T/out" 2>"$T/err"
check "no node name is a usage error" test $? -eq 2
check "no node name names --node-name" grep -q -- "--node-name" "$T/err"
apply -- --node-name node2
check "an unknown node exits 1" test "$RC" -eq 1
check "an unknown node is named" grep -q 'node "node2" not found' "$T/err"

# Names that would put another path in the URL: refused before any request.
start_server
apply -- --node-name '../namespaces/kube-system/configmaps/coredns'
check "a node name with dot segments is a usage error (exit 2)" test "$RC" -eq 2
check "the refusal is one line naming the value" \
	sh -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q -- \"--node-name '../namespaces/kube-system/configmaps/coredns': not a node name\" '$T/err'"
check "no request reaches the server for a bad --node-name" q 'len(log) == 0'
apply NODE_NAME=Node_1/.. --
check "a bad NODE_NAME is a usage error (exit 2)" test "$RC" -eq 2
check "a bad NODE_NAME is named" grep -q "NODE_NAME 'Node_1/..': not a node name" "$T/err"
apply -- --deviceconfig 'kube-amd-gpu/../../../api/v1/nodes/node1'
check "a --deviceconfig with dot segments is a usage error (exit 2)" test "$RC" -eq 2
check "a bad --deviceconfig is named" grep -q -- "--deviceconfig 'kube-amd-gpu/../../../api/v1/nodes/node1'" "$T/err"
check "no request reaches the server for bad names" q 'len(log) == 0'

# A request timeout that cannot be read is refused, not replaced by the default.
for v in abc 0 -1; do
	apply AMDVIRT_API_TIMEOUT=$v --
	check "AMDVIRT_API_TIMEOUT=$v is a usage error (exit 2)" test "$RC" -eq 2
	check "AMDVIRT_API_TIMEOUT=$v: one line naming the variable" \
		sh -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q \"AMDVIRT_API_TIMEOUT '$v'\" '$T/err'"
done
check "no request is sent with a bad AMDVIRT_API_TIMEOUT" q 'len(log) == 0'

# --- kubeconfig forms ----------------------------------------------------------
b64() { base64 -w0 "$1"; }
kubeconfig() { # kubeconfig FILE USER-YAML [CLUSTER-EXTRA]
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: other
  cluster:
    server: https://127.0.0.1:1
- name: test
  cluster:
    server: https://127.0.0.1:$PORT
$3
contexts:
- name: wrong
  context: {cluster: other, user: nobody}
- name: test
  context:
    cluster: test
    user: admin
users:
- name: admin
  user:
$2
EOF
}
start_server
kubeconfig "$T/kc-data" "    client-certificate-data: $(b64 "$T/client.crt")
    client-key-data: $(b64 "$T/client.key")" "    certificate-authority-data: $(b64 "$T/ca.crt")"
"$AMDVIRT" --root "$HOST" $MODE_ARGS labels --apply --kubeconfig "$T/kc-data" --node-name node1 \
	>"$T/out" 2>"$T/err"
check "kubeconfig with -data forms (client certificate) applies" test $? -eq 0
check "kubeconfig client certificate authenticated" q 'log and all(e["auth"] == "cert" for e in log) and len(patches) == 1'

start_server
mkdir -p "$T/kc"
cp "$T/ca.crt" "$T/kc/ca.crt"
echo "$TOKEN" >"$T/kc/token"
kubeconfig "$T/kc/config" "    tokenFile: token" "    certificate-authority: ca.crt"
env KUBECONFIG="$T/kc/config:/nonexistent" NODE_NAME=node1 \
	"$AMDVIRT" --root "$HOST" $MODE_ARGS labels --apply >"$T/out" 2>"$T/err"
check "KUBECONFIG with a CA file and a token file (relative paths) applies" test $? -eq 0
check "kubeconfig token authenticated" q 'log and all(e["auth"] == "bearer" for e in log) and len(patches) == 1'
cat "$T/out" "$T/err" >>"$T/all-output"

start_server
kubeconfig "$T/kc-token" "    token: $TOKEN" "    insecure-skip-tls-verify: true"
"$AMDVIRT" --root "$HOST" labels --apply --kubeconfig "$T/kc-token" --node-name node1 >"$T/out" 2>"$T/err"
check "insecure-skip-tls-verify is refused (exit 2)" test $? -eq 2
check "insecure-skip-tls-verify refusal names it" grep -q "insecure-skip-tls-verify" "$T/err"
check "insecure kubeconfig sends nothing" q 'len(log) == 0'
for spelling in True yes ON; do
	kubeconfig "$T/kc-token" "    token: $TOKEN" "    insecure-skip-tls-verify: $spelling"
	"$AMDVIRT" --root "$HOST" labels --apply --kubeconfig "$T/kc-token" --node-name node1 >"$T/out" 2>"$T/err"
	check "insecure-skip-tls-verify: $spelling is refused like true (exit 2)" test $? -eq 2
	check "insecure-skip-tls-verify: $spelling refusal names it" grep -q "sets insecure-skip-tls-verify" "$T/err"
done
check "insecure kubeconfigs, every spelling, send nothing" q 'len(log) == 0'

start_server
kubeconfig "$T/kc-token" "    token: $TOKEN" ""
"$AMDVIRT" --root "$HOST" $MODE_ARGS labels --apply --kubeconfig "$T/kc-token" --node-name node1 >"$T/out" 2>"$T/err"
check "kubeconfig without a CA uses the system store and refuses the test CA" test $? -eq 1
cat "$T/out" "$T/err" >>"$T/all-output"

# --- DeviceConfig from the API ----------------------------------------------------
start_server
apply -- --deviceconfig kube-amd-gpu/test-deviceconfig
check "--deviceconfig applies" test "$RC" -eq 0
check "DeviceConfig is read from amd.com/v1alpha1" \
	q 'log[0]["path"] == "/apis/amd.com/v1alpha1/namespaces/kube-amd-gpu/deviceconfigs/test-deviceconfig"'
check "the operator driver label follows the DeviceConfig" \
	q 'labels.get("gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver") == "vf-passthrough"'
check "another DeviceConfig's operator label is left alone" \
	q 'labels.get("gpu.operator.amd.com/other.dc.driver") == "container"'

start_server --forbid get/deviceconfigs
apply -- --deviceconfig kube-amd-gpu/test-deviceconfig
check "403 on the DeviceConfig exits 2" test "$RC" -eq 2
check "403 on the DeviceConfig names verb and resource" \
	grep -q 'verb "get" on resource "deviceconfigs" in API group "amd.com"' "$T/err"
start_server
apply -- --deviceconfig kube-amd-gpu/missing
check "a missing DeviceConfig is named" grep -q "deviceconfig kube-amd-gpu/missing not found" "$T/err"
apply -- --deviceconfig bad
check "a malformed --deviceconfig is a usage error" test "$RC" -eq 2

# --- the daemon's labeller thread -------------------------------------------------
DRIVE="$top_builddir/tests/peers/labeller-drive"
if [ -x "$DRIVE" ]; then
	drive() { # drive ENV... -- STEP...: output in $T/out
		envs=""
		while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
		shift
		# shellcheck disable=SC2086
		env AV_ROOT="$HOST" KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" $envs \
			"$DRIVE" node1 "$@" >"$T/out" 2>"$T/err"
		RC=$?
		cat "$T/out" "$T/err" >>"$T/all-output"
	}
	"$PY" -c 'import json,sys; w=json.load(open(sys.argv[1])); w["amd.com/gpu.mode"]="pf-passthrough"; json.dump(w, open(sys.argv[2], "w"))' \
		"$T/want.json" "$T/want2.json"

	start_server
	drive -- set "$T/want.json" wait set "$T/want.json" wait set "$T/want2.json" wait \
		force "$T/want2.json" wait stop
	check "worker: runs and stops" test "$RC" -eq 0
	check "worker: every step succeeded" test "$(grep -c '^wait: 0$' "$T/out")" -eq 4
	check "worker: an unchanged set sends nothing, a forced one only a GET" \
		q '[e["method"] for e in log] == ["GET", "PATCH", "GET", "PATCH", "GET"]'
	check "worker: the Node ends at the last set" q 'labels["amd.com/gpu.mode"] == "pf-passthrough"'
	check "worker: logs what it changed" grep -q "^log: node node1: .* set" "$T/out"

	start_server --inject 500 --inject 500 --inject 500 --inject 500 --inject 500 --inject 500 --inject 403
	drive -- set "$T/want.json" wait-ok stop
	check "worker: failures are retried later until they succeed" grep -q "^wait-ok: 0$" "$T/out"
	check "worker: each failure is logged once" test "$(grep -c "labels not applied" "$T/out")" -eq 2
	check "worker: the labels arrive after the failures" q 'len(patches) == 1 and labels == dict(labels, **want)'

	start_server --inject slow:10
	drive -- set "$T/want.json" sleep 500 stop
	check "worker: the slow request was in flight" q 'len(log) == 0'
	check "worker: stop ends a slow request at once" \
		"$PY" -c 'import re,sys; m=re.search(r"stopped in (\d+) ms", open(sys.argv[1]).read()); sys.exit(not m or int(m.group(1)) > 2000)' "$T/out"
fi

# --- the labeller in the daemon ----------------------------------------------------
# The daemon on a fake host of its own, in-cluster: labels once at start,
# once more when a VF leaves vfio-pci (the DeviceConfig's vfio.ready label
# goes), nothing for a rescan that changes no label, a GET only on SIGHUP.
# No kubelet runs: the device plugin keeps retrying its registration.
. "$top_srcdir/tests/wait.sh"
# wait_requests N: true once the API server has logged N requests.
wait_requests() {
	i=0
	while [ "$(wc -l <"$T/log" 2>/dev/null || echo 0)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
}
DPID=""
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	DRC=$?
	DPID=""
}
if [ -d "$T/host-mi300x-vf/sys" ]; then
	DH="$T/dhost"
	rm -rf "$DH"
	cp -a "$T/host-mi300x-vf" "$DH"
	mkdir -p "$DH/var/run/secrets/kubernetes.io/serviceaccount"
	cp "$T/ca.crt" "$DH/var/run/secrets/kubernetes.io/serviceaccount/"
	echo "$TOKEN" >"$DH/var/run/secrets/kubernetes.io/serviceaccount/token"
	cat >"$T/dc.json" <<'EOF2'
{"metadata": {"name": "test-deviceconfig", "namespace": "kube-amd-gpu"},
 "spec": {"driver": {"enable": true, "driverType": "vf-passthrough"}}}
EOF2
	VREADY="gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.vfio.ready"
	# The reference VF host's labels and, with the DeviceConfig enabled and
	# every VF on vfio-pci, its driver and vfio.ready labels.
	cat >"$T/dwant1.json" <<EOF2
{"amd.com/gpu.device-id": "74b5", "amd.com/gpu.driver-version": "8.1.0.K",
 "amd.com/gpu.mode": "vf-passthrough", "beta.amd.com/gpu.device-id": "74b5",
 "beta.amd.com/gpu.device-id.74b5": "8", "beta.amd.com/gpu.mode": "vf-passthrough",
 "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver": "vf-passthrough",
 "$VREADY": ""}
EOF2

	start_server
	# Empty it first: the background child truncates it only once it runs,
	# and the last daemon's lines must not satisfy the next wait.
	: >"$T/daemon.err"
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		"$AMDVIRT" --root "$DH" --config "$T/dc.json" daemon 2>"$T/daemon.err" &
	DPID=$!
	check "daemon: applies the labels at start" wait_grep "$T/daemon.err" "node node1: .* set"
	check "daemon: says where the labels go" \
		grep -q "labeller: keeping the labels of node node1 (in-cluster service account)" "$T/daemon.err"
	check "daemon: one GET and one PATCH at start" \
		q '[e["method"] for e in log] == ["GET", "PATCH"]'
	check "daemon: the Node carries exactly the desired labels and the foreign ones" \
		q 'labels == dict(json.load(open(os.path.join(t, "dwant1.json"))), **{k: v for k, v in labels0.items() if k in ("kubernetes.io/hostname", "amd.com/foo", "amd.com/gpu.family", "amd.com/gpu.device-id.0x74b5", "gpu.operator.amd.com/other.dc.driver")})'

	# A health flip is a model change without a label change.
	mv "$DH/dev/vfio/65" "$DH/dev/vfio/65.away"
	check "daemon: /dev/vfio/65 going is seen" wait_grep "$T/daemon.err" "device 65: Unhealthy"
	mv "$DH/dev/vfio/65.away" "$DH/dev/vfio/65"
	check "daemon: /dev/vfio/65 coming back is seen" wait_grep "$T/daemon.err" "device 65: Healthy again"

	# The VF of group 65 leaves vfio-pci.
	rm "$DH/sys/bus/pci/devices/0000:05:02.0/driver"
	check "daemon: the unbind is seen" wait_grep "$T/daemon.err" "device 65: Unhealthy: 0000:05:02.0 is on no driver"
	check "daemon: the change is applied" wait_requests 4
	# The 8 selected VFs still count; one is off vfio-pci: no vfio.ready.
	cat >"$T/dwant2.json" <<'EOF2'
{"amd.com/gpu.device-id": "74b5", "amd.com/gpu.driver-version": "8.1.0.K",
 "amd.com/gpu.mode": "vf-passthrough", "beta.amd.com/gpu.device-id": "74b5",
 "beta.amd.com/gpu.device-id.74b5": "8", "beta.amd.com/gpu.mode": "vf-passthrough",
 "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver": "vf-passthrough"}
EOF2
	check "daemon: health flips sent nothing; the change one GET and one PATCH" \
		q '[e["method"] for e in log] == ["GET", "PATCH", "GET", "PATCH"]'
	check "daemon: the PATCH removes exactly vfio.ready" \
		q 'patches[1]["body"]["metadata"]["labels"] == {"'"$VREADY"'": None}'
	check "daemon: the Node carries the changed host's labels and the foreign ones" \
		q 'labels == dict(json.load(open(os.path.join(t, "dwant2.json"))), **{k: v for k, v in labels0.items() if k in ("kubernetes.io/hostname", "amd.com/foo", "amd.com/gpu.family", "amd.com/gpu.device-id.0x74b5", "gpu.operator.amd.com/other.dc.driver")})'

	# SIGHUP re-reads the host and the Node: a GET, no PATCH.
	kill -HUP "$DPID"
	check "daemon: SIGHUP reads the Node again" wait_requests 5
	check "daemon: SIGHUP sends no PATCH when the Node is right" \
		q '[e["method"] for e in log] == ["GET", "PATCH", "GET", "PATCH", "GET"]'
	stop_daemon
	check "daemon: SIGTERM exits 0 with the labeller running" test "$DRC" -eq 0
	check "daemon: logs that it stopped" grep -q "amdvirt: stopped" "$T/daemon.err"
	check "daemon: nothing sent on the way out" q 'len(log) == 5'
	cat "$T/daemon.err" >>"$T/all-output"

	# --deviceconfig: read from the API server before anything is served.
	start_server
	# Empty it first: the background child truncates it only once it runs,
	# and the last daemon's lines must not satisfy the next wait.
	: >"$T/daemon.err"
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		"$AMDVIRT" --root "$DH" daemon --deviceconfig kube-amd-gpu/test-deviceconfig \
		2>"$T/daemon.err" &
	DPID=$!
	check "daemon --deviceconfig: applies the labels" wait_grep "$T/daemon.err" "node node1: .* set"
	stop_daemon
	check "daemon --deviceconfig: the DeviceConfig is read first" \
		q 'log[0]["path"].endswith("/deviceconfigs/test-deviceconfig") and len(patches) == 1'
	check "daemon --deviceconfig: its driver label is set" \
		q 'labels.get("gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver") == "vf-passthrough"'
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		"$AMDVIRT" --root "$DH" daemon --deviceconfig kube-amd-gpu/missing >"$T/out" 2>"$T/daemon.err"
	check "daemon --deviceconfig: a missing one exits 2" test $? -eq 2
	check "daemon --deviceconfig: a missing one is named" \
		grep -q "deviceconfig kube-amd-gpu/missing not found" "$T/daemon.err"

	# Every pod has the in-cluster variables; without a node name the
	# device plugin runs alone and says why.
	start_server
	# Empty it first: the background child truncates it only once it runs,
	# and the last daemon's lines must not satisfy the next wait.
	: >"$T/daemon.err"
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" \
		"$AMDVIRT" --root "$DH" daemon 2>"$T/daemon.err" &
	DPID=$!
	check "daemon without NODE_NAME: labeller off, named" \
		wait_grep "$T/daemon.err" "labeller off: no node name (set NODE_NAME"
	check "daemon without NODE_NAME: the device plugin serves" \
		wait_grep "$T/daemon.err" "device plugin amd.com/gpu"
	stop_daemon
	check "daemon without NODE_NAME: exits 0, sent nothing" sh -c "[ $DRC -eq 0 ] && [ ! -s '$T/log' ]"

	# A bad node name stops the daemon before it serves or sends anything.
	start_server
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" \
		NODE_NAME='../namespaces/kube-system/configmaps/coredns' \
		timeout 10 "$AMDVIRT" --root "$DH" daemon >"$T/out" 2>"$T/daemon.err"
	check "daemon with a bad NODE_NAME exits 2" test $? -eq 2
	check "daemon with a bad NODE_NAME names it" \
		grep -q "NODE_NAME '../namespaces/kube-system/configmaps/coredns': not a node name" "$T/daemon.err"
	check "daemon with a bad NODE_NAME served and sent nothing" \
		sh -c "! grep -q 'device plugin' '$T/daemon.err' && [ ! -s '$T/log' ]"
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		AMDVIRT_API_TIMEOUT=abc timeout 10 "$AMDVIRT" --root "$DH" daemon >"$T/out" 2>"$T/daemon.err"
	check "daemon with AMDVIRT_API_TIMEOUT=abc exits 2 naming it" \
		sh -c "[ $? -eq 2 ] && grep -q \"AMDVIRT_API_TIMEOUT 'abc'\" '$T/daemon.err' && [ ! -s '$T/log' ]"

	# An explicit --kubeconfig that cannot be used stops the daemon before
	# it serves anything.
	"$AMDVIRT" --root "$DH" daemon --kubeconfig "$T/missing-kubeconfig" --node-name node1 \
		>"$T/out" 2>"$T/daemon.err"
	check "daemon with an unreadable --kubeconfig exits 2" test $? -eq 2
	check "daemon with an unreadable --kubeconfig names it" grep -q "missing-kubeconfig" "$T/daemon.err"
	check "daemon with an unreadable --kubeconfig served nothing" \
		sh -c "! grep -q 'device plugin' '$T/daemon.err'"

	# Without API access the daemon never loads the API client.
	env -u KUBERNETES_SERVICE_HOST "$AMDVIRT" --root "$DH" daemon 2>"$T/daemon.err" &
	DPID=$!
	wait_grep "$T/daemon.err" "device plugin amd.com/gpu"
	stop_daemon
	check "daemon without API access: no labeller line" sh -c "! grep -q labeller '$T/daemon.err'"
fi

# --- the token never appears ------------------------------------------------------
check "the token never appears in any output" sh -c "! grep -q '$TOKEN' '$T/all-output'"

stop_apiserver
finish

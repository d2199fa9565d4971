#!/bin/sh
# `daemon --deviceconfig NS/NAME` follows the DeviceConfig on the test API
# server (tests/peers/apiserver.py with api_watch.py), which writes, lists
# and watches as a real one does: a change made through the API is acted
# on without a restart (log line, labels on the Node, driver plans, the
# resource name), status-only writes are not, a deletion turns driver
# management off and removes the operator labels without unbinding, a
# re-creation is taken up; 410 Gone (an answer, or an ERROR event) makes it
# list again, timeoutSeconds and bookmarks move the watch on, a broken
# event or the server going away is one log line and a retry with backoff;
# SIGTERM with a long watch open ends at once.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"

skip_without openssl "$PY"
if [ ! -x "$MKHOST" ]; then
	echo "SKIP: $MKHOST not built"
	exit 77
fi

T=$TEST_TMP
DPID=
trap 'reap "$DPID"; stop_apiserver; rm -rf "$TEST_TMP"' EXIT
isolate_from_cluster AMDVIRT_WATCH_TIMEOUT

make_certs
TOKEN="tok-watch-7d1e0b5c93a24f68"

H=$T/host
cp -a "$(build_host mi300x-vf)" "$H"
SA=$H/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$SA"
cp "$T/ca.crt" "$SA/ca.crt"
echo "$TOKEN" >"$SA/token"
DC=/apis/amd.com/v1alpha1/namespaces/kube-amd-gpu/deviceconfigs
OP=gpu.operator.amd.com/kube-amd-gpu.dc

cat >"$T/objects.json" <<'EOF'
{"nodes": [{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1",
    "gpu.operator.amd.com/other.dc.driver": "container"}}, "spec": {}, "status": {}}],
 "deviceconfigs": [
  {"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig",
   "metadata": {"name": "dc", "namespace": "kube-amd-gpu"},
   "spec": {"driver": {"enable": false, "driverType": "vf-passthrough"}}},
  {"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig",
   "metadata": {"name": "unrelated", "namespace": "kube-amd-gpu"},
   "spec": {"driver": {"enable": false}}}]}
EOF

# start_server [apiserver.py ARGS...]: the server with the Node in
# state.json and the DeviceConfigs' own state; on $PORT when set (a restart).
start_server() {
	start_apiserver --state-out "$T/state.json" --dc-state "$T/dc-state.json" ${PORT:+--port "$PORT"} "$@"
}

# api METHOD PATH [BODY [CONTENT-TYPE]]: a request as an admin would send it
# (kubectl); the answer's body on stdout, success when 2xx.
api() {
	"$PY" - "$PORT" "$T/ca.crt" "$TOKEN" "$@" <<'EOF'
import http.client, ssl, sys
port, ca, token, method, path = sys.argv[1:6]
body = sys.argv[6] if len(sys.argv) > 6 else None
headers = {"Authorization": "Bearer " + token}
if body is not None:
    headers["Content-Type"] = sys.argv[7] if len(sys.argv) > 7 else "application/merge-patch+json"
c = http.client.HTTPSConnection("127.0.0.1", int(port), timeout=10,
                                context=ssl.create_default_context(cafile=ca))
c.request(method, path, body=body, headers=headers)
r = c.getresponse()
print(r.read().decode())
sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
}
# rv JSON: the resourceVersion in an answer.
rv() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["metadata"]["resourceVersion"])' "$1"; }
# patch BODY: merge-patches the DeviceConfig; prints the new resourceVersion.
patch() { rv "$(api PATCH "$DC/dc" "$1")"; }
unrelated() { rv "$(api PATCH "$DC/unrelated" "{\"metadata\": {\"annotations\": {\"n\": \"$1\"}}}")"; }

# q EXPR: a Python expression over the Node's labels (labels), the request
# log (log; watches: the watch requests, lists: the lists of
# DeviceConfigs, each with its query in e["q"]) and the daemon's log lines
# (dlog).
q() {
	"$PY" - "$T" "$E" "$1" <<'EOF'
import json, os, sys
from urllib.parse import parse_qs
t, err, expr = sys.argv[1:4]
state = json.load(open(os.path.join(t, "state.json"))) if os.path.exists(os.path.join(t, "state.json")) else {"nodes": []}
labels = next((n["metadata"].get("labels", {}) for n in state["nodes"] if n["metadata"]["name"] == "node1"), {})
log = [json.loads(l) for l in open(os.path.join(t, "log"))] if os.path.exists(os.path.join(t, "log")) else []
for e in log:
    e["q"] = {k: v[-1] for k, v in parse_qs(e["path"].partition("?")[2]).items()}
dc = [e for e in log if "/deviceconfigs" in e["path"] and e["method"] == "GET" and "fieldSelector" in e["q"]]
watches = [e for e in dc if e["q"].get("watch") == "1"]
lists = [e for e in dc if "watch" not in e["q"]]
for e in lists:
    e["rv"] = e.get("note", "").partition("resourceVersion ")[2]
dlog = open(err).read().splitlines() if os.path.exists(err) else []
ok = eval("(" + expr.strip() + ")")
if not ok and os.environ.get("WATCH_VERBOSE"):
    print("  failed: " + expr, file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}
# until SECONDS EXPR: waits until q EXPR holds.
until_q() {
	i=0
	while ! q "$2"; do
		i=$((i + 1))
		[ $i -gt $(($1 * 10)) ] && { WATCH_VERBOSE=1 q "$2"; return 1; }
		sleep 0.1
	done
}
open_watches() { api GET /_test/watches | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["open"])'; }
wait_watching() { # until the daemon's watch is open on the server
	i=0
	while [ "$(open_watches)" != 1 ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}
# The host as driver management leaves it: links (drivers), overrides and
# modprobe.d; not the sockets, which follow the resource name.
tree_sum() {
	(cd "$1" && find . \( -path ./run -o -path ./var/lib/kubelet \) -prune -o -printf '%p %l\n' | sort &&
		find sys/devices -name driver_override -exec cat {} + && cat etc/modprobe.d/* 2>/dev/null) | md5sum
}
E=$T/daemon.err
start_daemon() { # [ENV=VALUE...]
	[ -f "$E" ] && cat "$E" >>"$T/daemon-all.err"
	: >"$E"
	env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node1 \
		AMDVIRT_DEBUG=1 "$@" "$AMDVIRT" --root "$H" daemon --deviceconfig kube-amd-gpu/dc 2>"$E" &
	DPID=$!
}
stop_daemon() {
	kill "$DPID" 2>/dev/null || true
	DRC=0
	wait "$DPID" || DRC=$?
	DPID=
}
count() { grep -c -- "$1" "$E" || true; }

# --- start: list, then watch from the list's version ---------------------------
start_server
start_daemon AMDVIRT_WATCH_TIMEOUT=3
check "the daemon says it follows the DeviceConfig" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: following its changes (list and watch)"
check "... and its watch is open on the server" wait_watching
check "... after a LIST by name" \
	q 'lists and lists[0]["q"] == {"fieldSelector": "metadata.name=dc"} and lists[0]["status"] == 200'
check "... the watch starts from the list's resourceVersion, bookmarks allowed" q '
	watches[0]["q"]["resourceVersion"] == lists[0]["rv"] and watches[0]["q"]["fieldSelector"] == "metadata.name=dc"
	and watches[0]["q"]["allowWatchBookmarks"] == "true" and watches[0]["q"]["timeoutSeconds"] == "3"'
check "spec.driver.enable false: management off" wait_grep "$E" "driver management off: spec.driver.enable is false"
check "... the Node has the host's labels, no operator label" \
	until_q 10 'labels.get("amd.com/gpu.mode") == "vf-passthrough" and not any(k.startswith("'$OP'") for k in labels)'
before=$(tree_sum "$H")

# --- a change: management turned on -------------------------------------------
R=$(patch '{"spec": {"driver": {"enable": true}}}')
check "enable: true is acted on: one line naming the version" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R): driver management on (vf-passthrough), resource amd.com/gpu"
check "... driver management says it is on" wait_grep "$E" "driver management on: vf-passthrough from the DeviceConfig"
check "... and finds the host right" wait_grep "$E" "drivers: gim is loaded and every selected VF is on vfio-pci"
check "... the operator labels appear on the Node" \
	until_q 10 'labels.get("'$OP'.driver") == "vf-passthrough" and "'$OP'.vfio.ready" in labels'
check "... the host is untouched" [ "$(tree_sum "$H")" = "$before" ]

# --- what is not a change: status, labels of the DeviceConfig ------------------------
S=$(rv "$(api PUT "$DC/dc/status" '{"status": {"observedGeneration": 2}}' application/json)")
L=$(patch '{"metadata": {"labels": {"team": "gpu"}}}')
check "a status write is seen and ignored" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: MODIFIED, resourceVersion $S: spec and annotations unchanged"
check "... so is a change of its labels" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: MODIFIED, resourceVersion $L: spec and annotations unchanged"
check "... neither is logged as a change" [ "$(count 'DeviceConfig kube-amd-gpu/dc changed')" = 1 ]

# --- blacklist and resource naming: a driver plan, a new resource ------------------
R=$(patch '{"spec": {"driver": {"blacklist": true},
	"devicePlugin": {"devicePluginArguments": {"resource_naming_strategy": "mixed"}}}}')
check "blacklist and mixed naming: one line, the new resource" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R): driver management on (vf-passthrough), resource amd.com/gpu_vf"
check "... the resource changes and is registered again" \
	wait_grep "$E" "resource name changed: serving and registering again"
check "... under the new socket" test -S "$H/var/lib/kubelet/device-plugins/amdvirt-amd_com_gpu_vf.sock"
check "... the blacklist is written by a plan" wait_grep "$E" "drivers: blacklist amdgpu (spec.driver.blacklist): done in"
check "... which is there" grep -qx "blacklist amdgpu" "$H/etc/modprobe.d/blacklist-amdgpu.conf"

# --- annotations count -----------------------------------------------------------
R=$(patch '{"metadata": {"annotations": {"example.com/note": "x"}}}')
check "an annotation is a change" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R)"
# The device plugin and the DRA driver are not handed over live: the
# allocation asked is said, and the one chosen at start goes on.
R=$(patch '{"metadata": {"annotations": {"amdvirt/allocation": "dra"}}}')
check "allocation dra asked of a running device plugin: said once, kept until a restart" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc asks for allocation dra: the daemon serves the device plugin until it restarts"
check "... the device plugin still serves" test -S "$H/var/lib/kubelet/device-plugins/amdvirt-amd_com_gpu_vf.sock"
R=$(patch '{"metadata": {"annotations": {"amdvirt/allocation": null}}}')
check "... asked no more: a change" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R)"
check "... and nothing more is said" [ "$(count 'asks for allocation')" = 1 ]

# --- an object that cannot be used: one line, nothing changes --------------------------
R=$(patch '{"spec": {"driver": {"vfioConfig": {"deviceIDs": ["xyz"]}}}}')
check "an unusable DeviceConfig: one line, the last one kept" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc (resourceVersion $R) not applied: .*deviceIDs.*; keeping the last one"
sleep 0.5
check "... the resource stays" sh -c "! grep -q 'resource changes from amd.com/gpu_vf' '$E'"
check "... and the labels" q 'labels.get("'$OP'.driver") == "vf-passthrough"'
R=$(patch '{"spec": {"driver": {"vfioConfig": null}}}')
check "... and its repair is a change" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R)"

# --- deletion: management off, operator labels gone, nothing unbound ----------------
wait_grep "$E" "drivers: gim is loaded and every selected VF is on vfio-pci" || true
before=$(tree_sum "$H")
R=$(rv "$(api DELETE "$DC/dc")")
check "deleted: one line, management off" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc deleted (resourceVersion $R): driver management off (no DeviceConfig"
check "... driver management says it is off" \
	wait_grep "$E" "driver management off: no DeviceConfig (--config or --deviceconfig)"
check "... its operator labels leave the Node; the host's and the foreign ones stay" \
	until_q 10 'not any(k.startswith("'$OP'") for k in labels) and labels.get("amd.com/gpu.mode") == "vf-passthrough"
		and labels.get("gpu.operator.amd.com/other.dc.driver") == "container" and labels.get("kubernetes.io/hostname") == "node1"'
check "... the resource name is the default again" wait_grep "$E" "resource changes from amd.com/gpu_vf to amd.com/gpu"
sleep 0.5
check "... nothing is unbound or undone on the host" [ "$(tree_sum "$H")" = "$before" ]

# --- re-created ---------------------------------------------------------------------
R=$(rv "$(api POST "$DC" '{"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig",
	"metadata": {"name": "dc", "namespace": "kube-amd-gpu"},
	"spec": {"driver": {"enable": true, "driverType": "vf-passthrough"}}}' application/json)")
check "re-created: taken up, management on" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc created (resourceVersion $R): driver management on (vf-passthrough), resource amd.com/gpu"
check "... its operator labels are back" until_q 10 'labels.get("'$OP'.driver") == "vf-passthrough"'

# --- 410 as an ERROR event on an open watch --------------------------------------------
# Another object's writes move the store's version past the watch's; after
# the history is compacted the watch's version is too old.
n=0
while :; do
	unrelated a >/dev/null || true
	wait_watching || true
	ans=$(api POST "/_test/compact?watches=error") || ans=
	case $ans in *'"open": 1'*) break ;; esac
	n=$((n + 1))
	[ $n -lt 3 ] || break
done
check "410 in an ERROR event: said, and listed again" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: resourceVersion [0-9]* is too old (410 Gone): listing it again"
check "... the list comes before the next watch, which starts from the list's version" \
	until_q 10 'len(lists) == 2 and log.index(lists[1]) < log.index(watches[-1]) and watches[-1]["q"]["resourceVersion"] == lists[1]["rv"]'
R=$(patch '{"metadata": {"annotations": {"example.com/note": "after-410-event"}}}')
check "... and the watch goes on" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R)"

# --- 410 as the answer to a new watch ---------------------------------------------------
unrelated b >/dev/null || true
wait_watching || true
V=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["compacted"])' "$(api POST "/_test/compact?watches=end&gone=http")")

check "410 Gone answering a watch: listed again" \
	until_q 10 'any(e["status"] == 410 for e in watches) and len(lists) == 3'
check "... the 410 answered a watch from before the compaction; then the list, then a watch from its version" \
	until_q 10 '[(int(e["q"]["resourceVersion"]) < '$V', log.index(e) < log.index(lists[2]))
		for e in watches if e["status"] == 410] == [(True, True)]
		and watches[-1]["status"] == 200 and watches[-1]["q"]["resourceVersion"] == lists[2]["rv"]'
R=$(patch '{"metadata": {"annotations": {"example.com/note": "after-410-answer"}}}')
check "... and the watch goes on" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R)"

# --- 410 as an ERROR event answering a new watch ---------------------------------------
unrelated c >/dev/null || true
wait_watching || true
api POST "/_test/compact?watches=end&gone=event" >/dev/null || true
check "an ERROR event answering a new watch: listed again" until_q 10 'len(lists) == 4'
check "... three re-lists said, one each" [ "$(count 'is too old (410 Gone): listing it again')" = 3 ]
api POST "/_test/compact?gone=http" >/dev/null || true

# --- timeoutSeconds: the server ends the watch, the next starts where it left --------------
sleep 3.5
check "the server ending a watch at timeoutSeconds: watched again from the same version" q '
	any(a["status"] == b["status"] == 200 and a["q"]["resourceVersion"] == b["q"]["resourceVersion"]
	    and not [l for l in lists if log.index(a) < log.index(l) < log.index(b)]
	    for a, b in zip(watches, watches[1:]))'
check "... which is no failure" [ "$(count 'retrying with backoff')" = 0 ]

# --- a bookmark moves the version on ---------------------------------------------------------
U=$(unrelated d)
wait_watching || true
api POST /_test/bookmark >/dev/null || true
check "after a BOOKMARK the next watch starts from its version" \
	until_q 10 'watches[-1]["q"]["resourceVersion"] == "'$U'"'

# --- a broken event: one line, a retry --------------------------------------------------------
wait_watching || true
api POST /_test/raw 'this is not json' text/plain >/dev/null || true
check "an event that is not JSON: one line" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: an event that is not JSON (at byte 0 of 16); retrying with backoff"
check "... then watching again" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: watching again after 1 failed attempt"
wait_watching || true
"$PY" -c 'print("{\"type\": \"MODIFIED\", \"object\": {\"x\": \"" + "y" * 3000000 + "\"}}")' >"$T/big"
"$PY" - "$PORT" "$T/ca.crt" "$TOKEN" "$T/big" <<'EOF'
import http.client, ssl, sys
port, ca, token, path = sys.argv[1:5]
c = http.client.HTTPSConnection("127.0.0.1", int(port), timeout=30, context=ssl.create_default_context(cafile=ca))
c.request("POST", "/_test/raw", body=open(path).read().rstrip("\n"), headers={"Authorization": "Bearer " + token})
c.getresponse().read()
EOF
check "an event longer than 2 MiB: one line" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: an event of more than 2097152 bytes; retrying with backoff"
check "... then watching again" until_q 10 'sum("watching again after 1 failed attempt" in l for l in dlog) == 2'
R=$(patch '{"metadata": {"annotations": {"example.com/note": "after-garbage"}}}')
check "... and changes are still seen" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R)"

# --- the API server away for a while -------------------------------------------------------------
# Its version is that of the last event it saw.
last=$R
wait_watching || true
stop_apiserver KILL
cp "$T/state.json" "$T/objects.json"
: >"$T/log"
sleep 4
check "the server gone: said" wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: .*; retrying with backoff"
start_server
check "... back: watching again after failed attempts" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: watching again after [2-9][0-9]* failed attempts" 40
check "... without a line per attempt" [ "$(count 'retrying with backoff')" -le 4 ]
check "... resuming from the version it had, without a list" \
	q 'not lists and watches and watches[0]["q"]["resourceVersion"] == "'$last'"'
R=$(patch '{"spec": {"driver": {"enable": false}}}')
check "... and a change made then is acted on" \
	wait_grep "$E" "DeviceConfig kube-amd-gpu/dc changed (resourceVersion $R): driver management off (spec.driver.enable is false)"
check "... the operator labels leave the Node (enable false)" \
	until_q 10 'not any(k.startswith("'$OP'") for k in labels)'
stop_daemon
check "SIGTERM: exit 0" [ "$DRC" = 0 ]

# --- SIGTERM with a long watch open ----------------------------------------------------------------
start_daemon
wait_grep "$E" "DeviceConfig kube-amd-gpu/dc: following its changes" || true
check "a daemon's own watch lasts 5 to 10 minutes" \
	until_q 5 'watches and watches[-1]["status"] == 200 and 300 <= int(watches[-1]["q"]["timeoutSeconds"]) <= 600'
wait_watching || true
t0=$(date +%s%N)
stop_daemon
t1=$(date +%s%N)
check "SIGTERM with the watch open: exit 0" [ "$DRC" = 0 ]
check "... within 2 s ($(((t1 - t0) / 1000000)) ms)" [ $(((t1 - t0) / 1000000)) -lt 2000 ]
check "... said it stopped" grep -q "amdvirt: stopped" "$E"

# --- RBAC without list/watch: the daemon runs on what it read, and says why ---------------------------
start_server --forbid list/deviceconfigs
start_daemon
check "no list permission: one line naming the verb" \
	wait_grep "$E" 'DeviceConfig kube-amd-gpu/dc: forbidden: cannot list .*RBAC must allow verb "list" on resource "deviceconfigs" in API group "amd.com"'
check "... the device plugin serves anyway" wait_grep "$E" "device plugin amd.com/gpu"
sleep 2
check "... said once, however often it is retried" [ "$(count 'forbidden: cannot list')" = 1 ]
stop_daemon
check "... exit 0" [ "$DRC" = 0 ]
cat "$E" >>"$T/daemon-all.err"
check "the token never appears in the daemon's log" sh -c "! grep -q '$TOKEN' '$T/daemon-all.err'"
finish

#!/bin/sh
# Kubeconfigs whose user authenticates through an exec credential plugin
# (tests/peers/exec-plugin.sh) for labels --apply, kubevirt-config --apply and
# the daemon, against the test API server: the plugin run as kubectl runs
# it, its credential cached until it expires and fetched again on a 401, a
# plugin that fails stopping everything before a request is sent.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"
# Commands fail on purpose here; the checks look at their status.
set +e

skip_without openssl "$PY"

T=$TEST_TMP
DPID=""
trap 'reap "$DPID"; stop_apiserver; rm -rf "$T"' EXIT INT TERM
isolate_from_cluster AMDVIRT_EXEC_TIMEOUT KUBERNETES_EXEC_INFO

TOKEN="tok-exec-5b7f03e9-secret"

# q EXPR: over the request log (log, gets, patches), the plugin's runs
# (runs), the KubeVirt CR's gates now and the node's labels now.
q() {
	api_q "$1" '
p = lambda *a: os.path.join(t, *a)
runs = len(open(p("plugin", "runs")).read().splitlines()) if os.path.exists(p("plugin", "runs")) else 0
state = load("state.json", {})
kv = (state.get("kubevirts") or [{}])[0]
gates = kv.get("spec", {}).get("configuration", {}).get("developerConfiguration", {}).get("featureGates")
labels = (state.get("nodes") or [{}])[0].get("metadata", {}).get("labels", {})
def info(n):
    return json.loads(open(p("plugin", "info.%d" % n)).read())' runs
}

make_certs client
if [ ! -x "$MKHOST" ] || ! "$MKHOST" "$top_srcdir/tests/scenarios/mi300x-vf.json" "$T/host" >"$T/mkhost.out" 2>&1; then
	echo "Bail out! cannot build the mi300x-vf host"
	exit 99
fi
HOST="$T/host"

cat >"$T/objects.json" <<'EOF'
{"nodes": [{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}}, "spec": {}, "status": {}}],
 "kubevirts": [{"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
  "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
  "spec": {"configuration": {"developerConfiguration": {"featureGates": ["Snapshot"]}}}}]}
EOF

# start_server [apiserver.py ARGS...]: the server afresh, client
# certificates accepted, its objects in state.json; the kubeconfig, once
# written, follows it.
start_server() {
	stop_apiserver
	rm -f "$T/state.json"
	start_apiserver --client-ca "$T/ca.crt" --state-out "$T/state.json" "$@"
	[ -z "${EXEC_YAML:-}" ] || kubeconfig "$EXEC_YAML"
}

# The plugin lives in bin/ beside the kubeconfig; its state in plugin/.
mkdir -p "$T/kc/bin" "$T/plugin"
cp "$top_srcdir/tests/peers/exec-plugin.sh" "$T/kc/bin/exec-plugin"
cp "$T/ca.crt" "$T/kc/ca.crt"
cp "$T/client.crt" "$T/client.key" "$T/plugin/"
reset_plugin() { # reset_plugin MODE TOKEN...: fresh state, the tokens it hands out in turn
	rm -f "$T/plugin/runs" "$T/plugin"/info.* "$T/plugin"/args.* "$T/plugin"/stdin.*
	echo "$1" >"$T/plugin/mode"
	shift
	printf '%s\n' "$@" >"$T/plugin/tokens"
}
# kubeconfig EXEC-YAML: an admin kubeconfig for the running server whose
# user has the given exec section (indented under "exec:").
kubeconfig() {
	EXEC_YAML=$1
	write_kubeconfig "$T/kc/config" ca.crt admin@test oidc-admin "$1"
}
V1_EXEC="      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/exec-plugin
      args: [get-token, --cluster, test]
      env:
      - name: PLUGIN_DIR
        value: $T/plugin
      interactiveMode: Never
      provideClusterInfo: true"

kv() { # kubevirt-config --apply [args]: $T/out, $T/err, RC
	"$AMDVIRT" --root "$HOST" kubevirt-config --apply --kubeconfig "$T/kc/config" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/out" "$T/err" >>"$T/all-output"
}
lab() { # labels --apply [args]
	"$AMDVIRT" --root "$HOST" labels --apply --node-name node1 --kubeconfig "$T/kc/config" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/out" "$T/err" >>"$T/all-output"
}
# ours_one_line PATTERN: exactly one line of ours on stderr, holding PATTERN
ours_one_line() {
	[ "$(grep -c '^amdvirt:' "$T/err")" -eq 1 ] && grep '^amdvirt:' "$T/err" | grep -q -- "$1"
}

# --- the plugin as kubectl runs it ------------------------------------------------
start_server
kubeconfig "$V1_EXEC"
reset_plugin ok "$TOKEN"
kv
check "kubevirt-config --apply with an exec plugin: exit 0" test "$RC" -eq 0
check "kubevirt-config --apply: GET and PATCH with the plugin's token" \
	q '[(e["method"], e["status"], e["auth"]) for e in log] == [("GET", 200, "bearer"), ("PATCH", 200, "bearer")] and gates == ["Snapshot", "HostDevices"]'
check "the plugin ran once for both requests" q 'runs == 1'
check "KUBERNETES_EXEC_INFO: v1 ExecCredential, not interactive, the cluster (provideClusterInfo)" \
	q 'info(1) == {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "spec": {"interactive": False, "cluster": {"server": "https://127.0.0.1:%s" % open(os.path.join(t, "port")).read().strip(), "certificate-authority-data": __import__("base64").b64encode(open(os.path.join(t, "ca.crt"), "rb").read()).decode()}}}'
check "the plugin got its args" sh -c "[ \"\$(cat '$T/plugin/args.1')\" = \"\$(printf 'get-token\n--cluster\ntest')\" ]"
check "the plugin's stdin is not a terminal and empty" grep -qx "not a tty, stdin gave 0 bytes" "$T/plugin/stdin.1"
check "the plugin's stderr is passed through" grep -qx "exec-plugin: run 1" "$T/err"

# The cluster's exec extension (what OIDC helpers read their audience
# from) goes to the plugin as spec.cluster.config, typed as kubectl types
# YAML; other extensions are not the plugin's.
start_server
KC_CLUSTER_EXTRA="    extensions:
    - name: example.com/other
      extension: {ignored: true}
    - name: client.authentication.k8s.io/exec
      extension:
        audience: amdvirt-test
        scopes: [openid, groups]
        maxAge: 3600
        enabled: yes
        version: \"1.0\"" kubeconfig "$V1_EXEC"
reset_plugin ok "$TOKEN"
kv
check "the cluster's exec extension: exit 0" test "$RC" -eq 0
check "... given to the plugin as spec.cluster.config, the other extension not" \
	q 'info(1)["spec"]["cluster"]["config"] == {"audience": "amdvirt-test", "scopes": ["openid", "groups"], "maxAge": 3600, "enabled": True, "version": "1.0"}'
KC_CLUSTER_EXTRA="    extensions:
    - name: client.authentication.k8s.io/exec
      extension: [not, an, object]" kubeconfig "$V1_EXEC"
reset_plugin ok "$TOKEN"
kv
check "an exec extension that is not an object: exit 2, one line naming it, nothing run or sent" \
	sh -c "[ $RC -eq 2 ] && grep -q 'extension client.authentication.k8s.io/exec is not an object' '$T/err' && [ ! -e '$T/plugin/runs' ]"
kubeconfig "$V1_EXEC"

start_server
reset_plugin ok "$TOKEN"
lab
check "labels --apply with an exec plugin: exit 0" test "$RC" -eq 0
check "labels --apply: the node patched with the plugin's token, one run" \
	q 'runs == 1 and len(patches) == 1 and all(e["auth"] == "bearer" and e["status"] == 200 for e in log) and labels.get("amd.com/gpu.mode") == "vf-passthrough"'

# v1beta1, no interactiveMode (IfAvailable), the command found in PATH.
start_server
kubeconfig "      apiVersion: client.authentication.k8s.io/v1beta1
      command: exec-plugin
      env: [{name: PLUGIN_DIR, value: $T/plugin}]"
reset_plugin ok "$TOKEN"
PATH="$T/kc/bin:$PATH" kv
check "v1beta1, command from PATH: exit 0" test "$RC" -eq 0
check "v1beta1: the plugin was asked for v1beta1 without cluster info" \
	q 'runs == 1 and info(1) == {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "spec": {"interactive": False}} and len(patches) == 1'

# A client certificate from the plugin.
start_server
kubeconfig "$V1_EXEC"
reset_plugin cert
kv
check "a client certificate from the plugin: exit 0" test "$RC" -eq 0
check "a client certificate from the plugin: every request by certificate" q 'log and all(e["auth"] == "cert" and e["status"] == 200 for e in log) and runs == 1'

# --- the cache -------------------------------------------------------------------------
start_server --inject PATCH=409
reset_plugin ok "$TOKEN"
kv
check "four requests (a 409 between) and still one run" q 'len(log) == 4 and runs == 1'
check "... and the change made" sh -c "[ $RC -eq 0 ]"

start_server
reset_plugin expired "$TOKEN"
kv
check "an expired credential: exit 0" test "$RC" -eq 0
check "an expired credential is fetched again for each request" q 'len(log) == 2 and runs == 2'

# --- 401: fetched again, once per request -------------------------------------------------
start_server
reset_plugin ok stale-token "$TOKEN"
kv
check "a refused credential: exit 0" test "$RC" -eq 0
check "a refused credential: 401, the plugin run again, the request repeated" \
	q '[e["status"] for e in log] == [401, 200, 200] and runs == 2 and len(patches) == 1'

start_server
reset_plugin ok wrong-token
kv
check "a credential refused twice: exit 1" test "$RC" -eq 1
check "a credential refused twice: one line naming the kubeconfig" ours_one_line "unauthorized: the API server refused the credentials of kubeconfig $T/kc/config"
check "a credential refused twice: two runs, two GETs, nothing written" q 'runs == 2 and [e["status"] for e in log] == [401, 401]'

# --- a plugin that cannot give credentials: one line, exit 2, nothing sent --------------------
start_server
reset_plugin fail
kv
check "a failing plugin: kubevirt-config exits 2" test "$RC" -eq 2
check "a failing plugin: one line naming the plugin and its status" \
	ours_one_line "exec plugin $T/kc/bin/exec-plugin of user \"oidc-admin\" (kubeconfig $T/kc/config (context admin@test)) exited with status 3"
check "a failing plugin: its own stderr passed through" grep -qx "exec-plugin: login required (run 1)" "$T/err"
lab
check "a failing plugin: labels --apply exits 2 with the same line" \
	sh -c "[ $RC -eq 2 ] && grep -q 'exited with status 3' '$T/err'"
check "a failing plugin: nothing sent" q 'len(log) == 0'

reset_plugin garbage
kv
check "output that is no ExecCredential: exit 2, one line" \
	sh -c "[ $RC -eq 2 ] && [ \$(grep -c '^amdvirt:' '$T/err') -eq 1 ] && grep -q 'its output is not a JSON object' '$T/err'"

reset_plugin sleep
t0=$(date +%s)
AMDVIRT_EXEC_TIMEOUT=1 kv
t1=$(date +%s)
check "a plugin that does not answer: exit 2 after the timeout" sh -c "[ $RC -eq 2 ] && [ $((t1 - t0)) -lt 10 ]"
check "a plugin that does not answer: one line saying so" ours_one_line "did not answer within 1 s (AMDVIRT_EXEC_TIMEOUT); stopped"

kubeconfig "      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/no-such-plugin
      interactiveMode: IfAvailable
      installHint: |
        no-such-plugin is needed to log in.
        Install it with: apt install no-such-plugin"
kv
check "a missing plugin: exit 2, one line with its install hint" \
	sh -c "[ $RC -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'no-such-plugin of user .* cannot run: No such file or directory (no-such-plugin is needed to log in.    Install it with: apt install no-such-plugin' '$T/err'"

reset_plugin ok "$TOKEN"
kubeconfig "      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/exec-plugin
      env: [{name: PLUGIN_DIR, value: $T/plugin}]
      interactiveMode: Always"
kv
check "interactiveMode Always: exit 2, one line" sh -c "[ $RC -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'interactiveMode Always' '$T/err'"
check "interactiveMode Always: the plugin never ran" test ! -e "$T/plugin/runs"
kubeconfig "      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/exec-plugin"
kv
check "v1 without interactiveMode: exit 2 naming it" sh -c "[ $RC -eq 2 ] && grep -q 'interactiveMode must be given' '$T/err'"
kubeconfig "      apiVersion: client.authentication.k8s.io/v1alpha1
      command: ./bin/exec-plugin"
kv
check "an unsupported exec apiVersion: exit 2 naming it" sh -c "[ $RC -eq 2 ] && grep -q 'v1alpha1 is not supported' '$T/err'"
check "no kubeconfig refused here sent anything" q 'len(log) == 0'

# --- the daemon -------------------------------------------------------------------------------
. "$top_srcdir/tests/wait.sh"
start_server
kubeconfig "$V1_EXEC"
reset_plugin ok "$TOKEN"
: >"$T/daemon.err"
NODE_NAME=node1 "$AMDVIRT" --root "$HOST" daemon --kubeconfig "$T/kc/config" 2>"$T/daemon.err" &
DPID=$!
check "daemon with an exec plugin: applies the labels" wait_grep "$T/daemon.err" "node node1: .* set"
kill -TERM "$DPID"
wait "$DPID"
check "daemon with an exec plugin: exits 0" test $? -eq 0
DPID=""
check "daemon: one run, its token used" q 'runs == 1 and len(patches) == 1 and all(e["auth"] == "bearer" and e["status"] == 200 for e in log)'
cat "$T/daemon.err" >>"$T/all-output"

check "the plugin's token never appears in any output" sh -c "! grep -q '$TOKEN' '$T/all-output'"

stop_apiserver
finish

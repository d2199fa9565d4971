#!/bin/sh
# kubevirt-config --apply against the test API server (tests/peers/apiserver.py
# with tests/peers/api_kubevirt.py): the KubeVirt CR read, merged and written
# back with its resourceVersion; foreign gates and entries kept, conflicts
# retried, refusals one line with nothing changed.  The expected lists are
# written here from the host's description, never taken from the program.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"
# Commands fail on purpose here; the checks look at their status.
set +e
ROLE="$top_srcdir/k8s/examples/kubevirt-admin-clusterrole.yaml"

skip_without openssl "$PY"
T=$TEST_TMP
isolate_from_cluster

TOKEN="tok-kubevirt-9d2e61c4-secret"

# q EXPR: a Python expression over the request log (log, gets, patches),
# the CR on the server now (kv), as it was seeded (kv0), and its two lists
# now (gates, pci) and before (gates0, pci0).
q() {
	api_q "$1" '
state = load("state.json", {"kubevirts": []})
def cr(objs, ns="kubevirt", name="kubevirt"):
    return next((o for o in objs if o["metadata"]["namespace"] == ns and o["metadata"]["name"] == name), None)
kv = cr(state.get("kubevirts", []))
kv0 = cr(load("objects.json", {})["kubevirts"])
def lists(o):
    c = (o or {}).get("spec", {}).get("configuration", {})
    return (c.get("developerConfiguration", {}).get("featureGates"),
            c.get("permittedHostDevices", {}).get("pciHostDevices"))
gates, pci = lists(kv)
gates0, pci0 = lists(kv0)' kv
}

make_certs

if [ ! -x "$MKHOST" ] || ! "$MKHOST" "$top_srcdir/tests/scenarios/mi300x-vf.json" "$T/host" >"$T/mkhost.out" 2>&1; then
	echo "Bail out! cannot build the mi300x-vf host"
	exit 99
fi
HOST="$T/host"

# The CR as an admin's cluster has it: gates of its own, a foreign device
# (another vendor's, selector in capitals), a mediated device, another
# configuration field, and this host's ID (8 MI300X VFs, 1002:74b5) under a
# stale resource name.  kubevirt/broken has a pciHostDevices that is not a
# list; kubevirt/done already permits this host's devices.
cat >"$T/objects.json" <<'EOF'
{"kubevirts": [
 {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
  "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
  "spec": {"certificateRotateStrategy": {},
   "configuration": {
    "developerConfiguration": {"featureGates": ["LiveMigration", "Snapshot"], "logVerbosity": {"virtHandler": 4}},
    "migrations": {"parallelMigrationsPerCluster": 2},
    "permittedHostDevices": {
     "pciHostDevices": [
      {"pciVendorSelector": "10DE:1DB6", "resourceName": "nvidia.com/GV100GL_Tesla_V100"},
      {"pciVendorSelector": "1002:74b5", "resourceName": "amd.com/gpu_vf", "externalResourceProvider": true},
      {"pciVendorSelector": "8086:0d5c", "resourceName": "intel.com/qat", "externalResourceProvider": true}],
     "mediatedDevices": [{"mdevNameSelector": "GRID T4-1Q", "resourceName": "nvidia.com/GRID_T4-1Q"}]}}}},
 {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
  "metadata": {"name": "broken", "namespace": "kubevirt"},
  "spec": {"configuration": {"permittedHostDevices": {"pciHostDevices": "1002:74b5"}}}},
 {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
  "metadata": {"name": "done", "namespace": "kubevirt"},
  "spec": {"configuration": {
    "developerConfiguration": {"featureGates": ["HostDevices"]},
    "permittedHostDevices": {"pciHostDevices": [
      {"pciVendorSelector": "1002:74b5", "resourceName": "amd.com/gpu", "externalResourceProvider": true}]}}}}
]}
EOF
# What the CR must end with: every gate kept and HostDevices added; every
# foreign entry unchanged in its place; this host's entry corrected.
WANT_GATES='["LiveMigration", "Snapshot", "HostDevices"]'
WANT_PCI='[pci0[0], {"pciVendorSelector": "1002:74b5", "resourceName": "amd.com/gpu", "externalResourceProvider": True}, pci0[2]]'

# start_server [apiserver.py ARGS...]: the server afresh, the CR in
# state.json, and an admin's kubeconfig for it in $T/kc (CA file and token,
# relative to its directory).
start_server() {
	stop_apiserver
	rm -f "$T/state.json"
	start_apiserver --state-out "$T/state.json" "$@"
	mkdir -p "$T/kc"
	cp "$T/ca.crt" "$T/kc/ca.crt"
	write_kubeconfig "$T/kc/config" ca.crt admin@test admin
}

# kv [amdvirt arguments]: kubevirt-config --apply with the admin kubeconfig;
# stdout in $T/out, stderr in $T/err, exit status in RC.
kv() {
	"$AMDVIRT" --root "$HOST" kubevirt-config --apply --kubeconfig "$T/kc/config" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/out" "$T/err" >>"$T/all-output"
}
one_line() { # one_line PATTERN: stderr is exactly one line, holding PATTERN
	[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$1" "$T/err"
}
# q_unchanged EXPR: EXPR holds and the CR is as it was seeded.
q_unchanged() { q "$1" && unchanged; }
unchanged() { q 'kv == dict(kv0, metadata=dict(kv0["metadata"], resourceVersion=kv["metadata"]["resourceVersion"])) and kv["metadata"]["resourceVersion"] == "101"'; }

# --- without --apply: the patch on stdout, nothing sent ------------------------
start_server
KUBECONFIG="$T/kc/config" "$AMDVIRT" --root "$HOST" kubevirt-config >"$T/out" 2>"$T/err"
check "without --apply: exit 0" test $? -eq 0
check "without --apply: the patch as before, nothing sent" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
want = {"spec": {"configuration": {"developerConfiguration": {"featureGates": ["HostDevices"]},
        "permittedHostDevices": {"pciHostDevices": [{"pciVendorSelector": "1002:74b5",
        "resourceName": "amd.com/gpu", "externalResourceProvider": True}]}}}}
sys.exit(d != want or open(sys.argv[2]).read() != "")' "$T/out" "$T/log"
"$AMDVIRT" --root "$HOST" kubevirt-config --dry-run >"$T/out" 2>"$T/err"
check "--dry-run without --apply is a usage error (exit 2)" sh -c "[ $? -eq 2 ] && grep -q -- '--dry-run goes with --apply' '$T/err'"
"$AMDVIRT" --root "$HOST" kubevirt-config --kubevirt kubevirt/kubevirt >"$T/out" 2>"$T/err"
check "--kubevirt without --apply is a usage error (exit 2)" test $? -eq 2

# --- the change -----------------------------------------------------------------
start_server
kv
check "apply: exit 0" test "$RC" -eq 0
check "apply: one GET and one PATCH of kubevirt/kubevirt" \
	q '[(e["method"], e["path"]) for e in log] == [("GET", "/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt")] * 1 + [("PATCH", "/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt")]'
check "apply: a JSON merge patch with the resourceVersion read as precondition" \
	q 'patches[0]["content_type"] == "application/merge-patch+json" and patches[0]["body"]["metadata"] == {"resourceVersion": "101"}'
check "apply: the PATCH carries the two lists whole and nothing else" \
	q 'patches[0]["body"]["spec"] == {"configuration": {"developerConfiguration": {"featureGates": '"$WANT_GATES"'}, "permittedHostDevices": {"pciHostDevices": '"$WANT_PCI"'}}}'
check "apply: foreign gates kept, HostDevices added" q "gates == $WANT_GATES"
check "apply: foreign entries kept in place, the stale resourceName corrected" q "pci == $WANT_PCI"
check "apply: every other field of the CR is as it was" \
	q 'kv["spec"]["configuration"]["permittedHostDevices"]["mediatedDevices"] == kv0["spec"]["configuration"]["permittedHostDevices"]["mediatedDevices"] and kv["spec"]["configuration"]["migrations"] == kv0["spec"]["configuration"]["migrations"] and kv["spec"]["configuration"]["developerConfiguration"]["logVerbosity"] == {"virtHandler": 4} and kv["spec"]["certificateRotateStrategy"] == {}'
check "apply: says what it changed" sh -c "grep -q 'kubevirt kubevirt/kubevirt: 2 changes applied' '$T/out' && grep -q 'feature gate HostDevices added' '$T/out' && grep -q 'pciHostDevices 1002:74b5: resourceName amd.com/gpu_vf -> amd.com/gpu' '$T/out'"
check "apply: nothing on stderr" test ! -s "$T/err"

kv
check "again: exit 0" test "$RC" -eq 0
check "again: nothing needed changing, no PATCH" q 'len(patches) == 1 and len(gets) == 2'
check "again: says up to date" grep -qx "kubevirt kubevirt/kubevirt: up to date" "$T/out"

kv --json
check "again --json: changed and patched false" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(d["changed"] or d["patched"] or d["dryRun"] or d["changes"] or d["kubevirt"] != "kubevirt/kubevirt")' "$T/out"

start_server
kv --kubevirt kubevirt/done
check "a CR that already permits the devices: exit 0" test "$RC" -eq 0
check "a CR that already permits the devices: one GET, no PATCH" q 'len(log) == 1 and not patches'

# mixed naming: the stale-looking amd.com/gpu_vf is exactly this host's name.
start_server
kv --resource-naming mixed
check "mixed naming: the existing amd.com/gpu_vf entry is kept" \
	q 'pci == pci0 and gates == '"$WANT_GATES"' and len(patches) == 1 and "permittedHostDevices" not in patches[0]["body"]["spec"]["configuration"]'

# --- dry run ------------------------------------------------------------------------
start_server
kv --dry-run
check "--dry-run: exit 0" test "$RC" -eq 0
check "--dry-run: only a GET is sent" q 'len(log) == 1 and gets and not patches'
check "--dry-run: the CR is unchanged" unchanged
check "--dry-run: says nothing was sent" grep -q "2 changes to make (dry run: nothing sent)" "$T/out"
check "--dry-run: lists before and after" "$PY" -c '
import sys
out = open(sys.argv[1]).read()
want = """featureGates before:
  "LiveMigration"
  "Snapshot"
featureGates after:
  "LiveMigration"
  "Snapshot"
  "HostDevices"
pciHostDevices before:
  {"pciVendorSelector":"10DE:1DB6","resourceName":"nvidia.com/GV100GL_Tesla_V100"}
  {"pciVendorSelector":"1002:74b5","resourceName":"amd.com/gpu_vf","externalResourceProvider":true}
  {"pciVendorSelector":"8086:0d5c","resourceName":"intel.com/qat","externalResourceProvider":true}
pciHostDevices after:
  {"pciVendorSelector":"10DE:1DB6","resourceName":"nvidia.com/GV100GL_Tesla_V100"}
  {"pciVendorSelector":"1002:74b5","resourceName":"amd.com/gpu","externalResourceProvider":true}
  {"pciVendorSelector":"8086:0d5c","resourceName":"intel.com/qat","externalResourceProvider":true}
"""
sys.exit(want not in out)' "$T/out"
kv --dry-run --json
check "--dry-run --json: exit 0" test "$RC" -eq 0
check "--dry-run --json: still only GETs" q 'len(log) == 2 and not patches'
check "--dry-run --json: the document (doc/json.md)" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
kv0 = json.load(open(sys.argv[2]))["kubevirts"][0]["spec"]["configuration"]
pci0 = kv0["permittedHostDevices"]["pciHostDevices"]
ok = (d["kubevirt"] == "kubevirt/kubevirt" and d["resourceVersion"] == "101" and d["dryRun"] is True
      and d["changed"] is True and d["patched"] is False and d["conflicts"] == 0
      and d["featureGates"] == {"before": ["LiveMigration", "Snapshot"], "after": ["LiveMigration", "Snapshot", "HostDevices"]}
      and d["pciHostDevices"]["before"] == pci0
      and d["pciHostDevices"]["after"] == [pci0[0], dict(pci0[1], resourceName="amd.com/gpu"), pci0[2]]
      and d["changes"] == ["feature gate HostDevices added", "pciHostDevices 1002:74b5: resourceName amd.com/gpu_vf -> amd.com/gpu"]
      and d["notes"] == [])
sys.exit(not ok)' "$T/out" "$T/objects.json"

# --- conflicts --------------------------------------------------------------------------
start_server --inject PATCH=409
kv
check "an injected 409 is retried: exit 0" test "$RC" -eq 0
check "409: GET, PATCH 409, GET, PATCH" \
	q '[(e["method"], e["status"]) for e in log] == [("GET", 200), ("PATCH", 409), ("GET", 200), ("PATCH", 200)]'
check "409: the CR ends right" q "gates == $WANT_GATES and pci == $WANT_PCI"

# Another client adds a gate between our read and our write: a real 409,
# and the retry must build on the new read, keeping that gate.
start_server --kubevirt-race NonRoot
kv
check "a concurrent change: exit 0" test "$RC" -eq 0
check "a concurrent change: the stale PATCH is refused by the server, not injected" \
	q '[(e["method"], e["status"], e.get("note")) for e in log] == [("GET", 200, None), ("PATCH", 409, None), ("GET", 200, None), ("PATCH", 200, None)]'
check "a concurrent change: the second PATCH has the new resourceVersion" \
	q 'patches[0]["body"]["metadata"]["resourceVersion"] == "101" and patches[1]["body"]["metadata"]["resourceVersion"] == "104"'
check "a concurrent change: its gate is kept" q 'gates == ["LiveMigration", "Snapshot", "NonRoot", "HostDevices"] and pci == '"$WANT_PCI"

start_server --inject PATCH=409 --inject PATCH=409 --inject PATCH=409 --inject PATCH=409 --inject PATCH=409
kv
check "409 five times: exit 1" test "$RC" -eq 1
check "409 five times: one line saying so" one_line "kept changing while it was updated (409 Conflict 5 times)"
check "409 five times: five reads, five writes, nothing changed" q_unchanged 'len(gets) == 5 and len(patches) == 5'

# --- refusals and bad input: one line, nothing changed ------------------------------------
start_server
kv --kubevirt kubevirt/other
check "no such CR: exit 1" test "$RC" -eq 1
check "no such CR: one line naming it and --kubevirt" one_line "KubeVirt CR kubevirt/other does not exist.*--kubevirt NAMESPACE/NAME"
check "no such CR: one GET, nothing sent" q 'len(log) == 1 and not patches'

kv --kubevirt kubevirt/broken
check "a pciHostDevices that is not a list: exit 1" test "$RC" -eq 1
check "a pciHostDevices that is not a list: one line naming it" \
	one_line "spec.configuration.permittedHostDevices.pciHostDevices is not a list; nothing changed"
check "a pciHostDevices that is not a list: nothing sent" q 'not patches'

start_server --forbid patch/kubevirts
kv
check "403 on patch: exit 1" test "$RC" -eq 1
check "403 on patch: one line naming verb, resource, group and the role example" \
	one_line 'verb "patch" on resource "kubevirts" in API group "kubevirt.io" .*kubevirt-admin-clusterrole.yaml'
check "403 on patch: not retried, nothing changed" q_unchanged 'len(patches) == 1'

start_server --forbid get/kubevirts
kv
check "403 on get: exit 1, one line" sh -c "[ $RC -eq 1 ] && grep -q 'verb \"get\" on resource \"kubevirts\"' '$T/err' && [ \$(wc -l <'$T/err') -eq 1 ]"
check "403 on get: nothing written" q 'not patches'

start_server
for bad in 'kubevirt' 'Kube/virt' 'kubevirt/../../../api/v1/nodes/x' '/kubevirt' 'kubevirt/'; do
	kv --kubevirt "$bad"
	check "--kubevirt '$bad': usage error (exit 2), one line" sh -c "[ $RC -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q -- \"--kubevirt '\" '$T/err'"
done
check "bad --kubevirt values send nothing" q 'len(log) == 0'

# A kubeconfig whose server answers nothing.
stop_apiserver
kv
check "unreachable API server: exit 1" test "$RC" -eq 1
check "unreachable API server: one line naming the URL" one_line "GET https://127.0.0.1:$PORT/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt: .*after 6 attempts"

"$AMDVIRT" --root "$HOST" kubevirt-config --apply >"$T/out" 2>"$T/err"
check "no API access configured: exit 2, one line" sh -c "[ $? -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'no Kubernetes API access' '$T/err'"

# In-cluster credentials work as for labels --apply.
SA="$HOST/var/run/secrets/kubernetes.io/serviceaccount"
mkdir -p "$SA"
cp "$T/ca.crt" "$SA/ca.crt"
echo "$TOKEN" >"$SA/token"
start_server
env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" \
	"$AMDVIRT" --root "$HOST" kubevirt-config --apply >"$T/out" 2>"$T/err"
check "in-cluster: exit 0" test $? -eq 0
check "in-cluster: the CR changed" q "len(patches) == 1 and gates == $WANT_GATES"

# --- the admin ClusterRole example is enough, and nothing more is asked -----------------
if "$PY" -c 'import yaml' 2>/dev/null; then
	ALLOW=$("$PY" -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    for r in d.get("rules", []):
        if r.get("apiGroups") == ["kubevirt.io"]:
            for res in r["resources"]:
                for v in r["verbs"]:
                    print("--allow %s/%s" % (v, res))' "$ROLE")
	# shellcheck disable=SC2086
	start_server $ALLOW
	kv
	check "with only the example ClusterRole's rights: exit 0" test "$RC" -eq 0
	check "with only the example ClusterRole's rights: the CR changed" q "gates == $WANT_GATES and pci == $WANT_PCI"
fi

check "the token never appears in any output" sh -c "! grep -q '$TOKEN' '$T/all-output'"

stop_apiserver
finish

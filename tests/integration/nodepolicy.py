# Admits or denies sample Node requests through the rendered
# ValidatingAdmissionPolicy as the API server does: matchConstraints, then
# matchConditions (all true, or the policy does not apply), then each
# validation (false denies with its message; an error denies, failurePolicy
# Fail).  One line per failing case; exit 1 if any.
import copy
import os
import sys

import yaml

SRC, RENDERED, KEYS = sys.argv[1:4]
sys.path.insert(0, os.path.join(SRC, "tests/peers"))
import vap  # noqa: E402

objs = [d for d in yaml.safe_load_all(open(RENDERED)) if d]
NS = [o for o in objs if o["kind"] == "Namespace"][0]["metadata"]["name"]
SA = [o for o in objs if o["kind"] == "ServiceAccount"][0]["metadata"]["name"]
pols = [o for o in objs if o["kind"] == "ValidatingAdmissionPolicy"]
binds = [o for o in objs if o["kind"] == "ValidatingAdmissionPolicyBinding"]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


if len(pols) != 1 or len(binds) != 1:
    fail("%d policies and %d bindings rendered, want 1 and 1" % (len(pols), len(binds)))
    sys.exit(1)
POL, BIND = pols[0], binds[0]
for o in (POL, BIND):
    if o["apiVersion"] != "admissionregistration.k8s.io/v1" or "namespace" in o["metadata"]:
        fail("%s: apiVersion %s, namespace %r" % (o["kind"], o["apiVersion"], o["metadata"].get("namespace")))
if BIND["spec"].get("policyName") != POL["metadata"]["name"] or BIND["spec"].get("validationActions") != ["Deny"]:
    fail("the binding %s does not deny by %s" % (BIND["spec"], POL["metadata"]["name"]))
if POL["spec"].get("failurePolicy") != "Fail":
    fail("failurePolicy %r, want Fail" % POL["spec"].get("failurePolicy"))


def admit(op, user, obj, old, extra=None):
    """Returns (admitted, message)."""
    return vap.admit(POL["spec"], "", "nodes", op, user, obj, old, extra)


AGENT = "system:serviceaccount:%s:%s" % (NS, SA)
ON_NODE1 = {"authentication.kubernetes.io/node-name": ["node1"],
            "authentication.kubernetes.io/pod-name": ["amdvirt-x7k2q"]}
NODE = {"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node1", "labels": {
            "kubernetes.io/hostname": "node1", "amd.com/foo": "mine", "amd.com/gpu.family": "AI",
            "amd.com/gpu.mode": "container", "beta.amd.com/gpu.device-id.7410": "4",
            "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.vfio.ready": ""},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": "10.0.1.0/24"}, "status": {"capacity": {"cpu": "64"}}}


def changed(fn, base=NODE):
    new = copy.deepcopy(base)
    fn(new)
    return new


def labels(**kv):
    def f(n):
        for k, v in kv.items():
            k = k.replace("__", "/").replace("_", ".")
            if v is None:
                n["metadata"]["labels"].pop(k, None)
            else:
                n["metadata"]["labels"][k] = v
    return f


def setlabels(d):
    def f(n):
        for k, v in d.items():
            if v is None:
                n["metadata"]["labels"].pop(k, None)
            else:
                n["metadata"]["labels"][k] = v
    return f


def case(what, want, op, user, obj, old, extra=ON_NODE1, words=()):
    ok, msg = admit(op, user, obj, old, extra)
    if ok != want:
        fail("%s: %s (%s), want %s" % (what, "admitted" if ok else "denied", msg, "admitted" if want else "denied"))
    elif not ok:
        for w in words:
            if w not in msg:
                fail("%s: denied, but the message %r does not name %r" % (what, msg, w))
        if msg.startswith("error") or msg.startswith("matchCondition"):
            fail("%s: denied by an evaluation error, not by the rule: %s" % (what, msg))


own = setlabels({"amd.com/gpu.mode": "vf-passthrough", "beta.amd.com/gpu.mode": "vf-passthrough",
                 "amd.com/gpu.device-id": "74b5", "beta.amd.com/gpu.device-id.74b5": "8",
                 "beta.amd.com/gpu.device-id.7410": None,
                 "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver": "vf-passthrough",
                 "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.vfio.ready": None})
case("its own labels on its own Node", True, "UPDATE", AGENT, changed(own), NODE)
case("no change at all", True, "UPDATE", AGENT, changed(lambda n: None), NODE)
case("another Node", False, "UPDATE", AGENT, changed(own, changed(lambda n: n["metadata"].update(name="node2"))),
     changed(lambda n: n["metadata"].update(name="node2")), words=("node1", "node2"))
case("a token without the node claim", False, "UPDATE", AGENT, changed(own), NODE, extra={},
     words=("node-name",))
case("kubernetes.io/hostname", False, "UPDATE", AGENT,
     changed(setlabels({"kubernetes.io/hostname": "evil"})), NODE, words=("kubernetes.io/hostname",))
case("a user's amd.com/foo removed", False, "UPDATE", AGENT, changed(setlabels({"amd.com/foo": None})), NODE)
case("AMD's amd.com/gpu.family", False, "UPDATE", AGENT, changed(setlabels({"amd.com/gpu.family": "X"})), NODE)
case("the 0x-prefixed device-id key", False, "UPDATE", AGENT,
     changed(setlabels({"amd.com/gpu.device-id.0x74b5": "8"})), NODE)
case("node-role.kubernetes.io/control-plane", False, "UPDATE", AGENT,
     changed(setlabels({"node-role.kubernetes.io/control-plane": ""})), NODE)
case("spec.unschedulable", False, "UPDATE", AGENT,
     changed(lambda n: n["spec"].update(unschedulable=True)), NODE, words=("only labels",))
case("a taint", False, "UPDATE", AGENT,
     changed(lambda n: n["spec"].update(taints=[{"key": "k", "effect": "NoSchedule"}])), NODE)
case("an annotation", False, "UPDATE", AGENT,
     changed(lambda n: n["metadata"]["annotations"].update(x="y")), NODE)
case("labels with a taint", False, "UPDATE", AGENT,
     changed(lambda n: (own(n), n["spec"].update(taints=[{"key": "k", "effect": "NoExecute"}]))), NODE)
case("deleting its Node", False, "DELETE", AGENT, None, NODE, words=("DELETE",))
case("creating a Node", False, "CREATE", AGENT, NODE, None, words=("CREATE",))
case("another account", True, "UPDATE", "system:serviceaccount:%s:other" % NS,
     changed(lambda n: n["spec"].update(unschedulable=True)), NODE)
case("the same name in another namespace", True, "UPDATE", "system:serviceaccount:default:%s" % SA,
     changed(setlabels({"kubernetes.io/hostname": "x"})), NODE)
case("a kubelet", True, "UPDATE", "system:node:node1", changed(setlabels({"kubernetes.io/hostname": "x"})), NODE)

# Every key amdvirt writes on the scenarios must pass, set and removed.
keys = sorted({k.strip() for k in open(KEYS) if k.strip()})
if len(keys) < 10:
    fail("only %d label keys from amdvirt labels --json; the scenarios did not run" % len(keys))
for k in keys:
    case("amdvirt's key %s set" % k, True, "UPDATE", AGENT, changed(setlabels({k: "1"})), NODE)
    case("amdvirt's key %s removed" % k, True, "UPDATE", AGENT, NODE, changed(setlabels({k: "1"})))

if failures:
    sys.exit(1)
print("nodepolicy: %d sample requests and %d amdvirt label keys judged as expected" % (18, len(keys)))

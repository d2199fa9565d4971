# Renders k8s/ with kustomize (the default, unprivileged variant and the
# privileged one) and checks every object against what the daemon needs
# (doc/daemon.md) and what the API server's schemas accept.  One line per
# failure naming the object and field; exit 1 if any.
import os
import re
import subprocess
import sys
import tempfile

import yaml

SRC = sys.argv[1]
K8S = os.path.join(SRC, "k8s")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def render(path):
    out = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True)
    if out.returncode != 0:
        fail("kubectl kustomize %s: %s" % (path, out.stderr.strip()))
        return []
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def overlay(tmp, component):
    # An overlay of the shipped base with a shipped component, as the
    # install guide has users write it.
    d = os.path.join(tmp, component)
    os.mkdir(d)
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                "resources:\n- %s\ncomponents:\n- %s\n"
                % (os.path.relpath(K8S, d), os.path.relpath(os.path.join(K8S, "components", component), d)))
    return d


with open(os.path.join(K8S, "kustomization.yaml")) as f:
    kz = yaml.safe_load(f)
# The namespace is the Namespace object's name (k8s/namespace.yaml), which
# kustomization.yaml's replacements carry everywhere.
with open(os.path.join(K8S, "namespace.yaml")) as f:
    NS = yaml.safe_load(f)["metadata"]["name"]
images = kz.get("images") or []
IMAGE = "%s:%s" % (images[0]["newName"], images[0]["newTag"]) if images else None
if len(images) != 1:
    fail("k8s/kustomization.yaml: images: must set the one image")

# The lock the daemon takes, from the product itself, so that a change of
# the path cannot leave the manifests behind.
with open(os.path.join(SRC, "src/actions/internal.h")) as f:
    LOCK = re.search(r'#define AV_LOCK_FILE "([^"]+)"', f.read()).group(1)

# hostPath -> (mountPath, read-only) the daemon needs in each variant.
COMMON = {
    "/sys": ("/sys", True),
    "/dev/vfio": ("/dev/vfio", True),
    "/var/lib/kubelet/device-plugins": ("/var/lib/kubelet/device-plugins", False),
    "/var/lib/amdvirt": ("/var/lib/amdvirt", False),
}
PRIVILEGED = dict(COMMON)
PRIVILEGED.update({
    "/sys": ("/sys", False),
    "/lib/modules": ("/lib/modules", True),
    "/etc/modprobe.d": ("/etc/modprobe.d", False),
    LOCK: (LOCK, False),
})
# Paths that give root on the node to whoever holds the container, or more
# of the host than the agent needs.
FORBIDDEN = {"/", "/run", "/var/run", "/dev", "/etc", "/var/lib/kubelet", "/proc"}
HOSTPATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                  "Socket", "CharDevice", "BlockDevice"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding",
                  "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
                  "CustomResourceDefinition"}


def check(variant, objs, want_paths, privileged):
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o.get("kind"), []).append(o)
        name = "%s %s/%s" % (variant, o.get("kind"), o.get("metadata", {}).get("name"))
        ns = o.get("metadata", {}).get("namespace")
        if o.get("kind") in CLUSTER_SCOPED:
            if ns is not None:
                fail("%s: a cluster-scoped object with namespace %s" % (name, ns))
        elif ns != NS:
            fail("%s: namespace %r, not %r" % (name, ns, NS))
    for kind in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                 "Role", "RoleBinding", "DaemonSet",
                 "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
        if len(by_kind.get(kind, [])) != 1:
            fail("%s: %d %s objects, want 1" % (variant, len(by_kind.get(kind, [])), kind))
            return

    nsobj = by_kind["Namespace"][0]
    if nsobj["metadata"]["name"] != NS:
        fail("%s: Namespace %s, not %s" % (variant, nsobj["metadata"]["name"], NS))
    labels = nsobj["metadata"].get("labels") or {}
    if labels.get("pod-security.kubernetes.io/enforce") != "privileged":
        fail("%s: Namespace %s: pod-security.kubernetes.io/enforce is %r; hostPath and hostNetwork need privileged"
             % (variant, NS, labels.get("pod-security.kubernetes.io/enforce")))

    sa = by_kind["ServiceAccount"][0]["metadata"]["name"]
    # The policy holds exactly this account (tests/integration/nodepolicy.sh
    # judges what it lets through).
    conds = [c["expression"] for c in by_kind["ValidatingAdmissionPolicy"][0]["spec"].get("matchConditions", [])]
    if "'system:serviceaccount:%s:%s'" % (NS, sa) not in " ".join(conds):
        fail("%s: the admission policy's matchConditions %s do not name system:serviceaccount:%s:%s"
             % (variant, conds, NS, sa))

    # RBAC: exactly the rights of doc/daemon.md.
    cr = by_kind["ClusterRole"][0]
    rules = [(tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(sorted(r.get("verbs", []))))
             for r in cr.get("rules", [])]
    if rules != [(("",), ("nodes",), ("get", "patch"))]:
        fail("%s: ClusterRole %s: rules %s, want nodes get+patch only" % (variant, cr["metadata"]["name"], rules))
    role = by_kind["Role"][0]
    rules = [(tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(sorted(r.get("verbs", []))))
             for r in role.get("rules", [])]
    if rules != [(("amd.com",), ("deviceconfigs",), ("get", "list", "watch"))]:
        fail("%s: Role %s: rules %s, want amd.com deviceconfigs get, list and watch only" % (variant, role["metadata"]["name"], rules))
    for kind, target, rkind in (("ClusterRoleBinding", cr, "ClusterRole"), ("RoleBinding", role, "Role")):
        b = by_kind[kind][0]
        ref = b.get("roleRef", {})
        if (ref.get("apiGroup"), ref.get("kind"), ref.get("name")) != \
                ("rbac.authorization.k8s.io", rkind, target["metadata"]["name"]):
            fail("%s: %s %s: roleRef %s" % (variant, kind, b["metadata"]["name"], ref))
        if b.get("subjects") != [{"kind": "ServiceAccount", "name": sa, "namespace": NS}]:
            fail("%s: %s %s: subjects %s, want ServiceAccount %s/%s" % (variant, kind, b["metadata"]["name"],
                                                                        b.get("subjects"), NS, sa))

    ds = by_kind["DaemonSet"][0]
    dname = "%s DaemonSet/%s" % (variant, ds["metadata"]["name"])
    if ds.get("apiVersion") != "apps/v1":
        fail("%s: apiVersion %s" % (dname, ds.get("apiVersion")))
    tmpl = ds["spec"]["template"]
    sel = ds["spec"]["selector"].get("matchLabels", {})
    if not sel or any(tmpl["metadata"].get("labels", {}).get(k) != v for k, v in sel.items()):
        fail("%s: the selector %s does not match the pod template's labels" % (dname, sel))
    pod = tmpl["spec"]
    if pod.get("serviceAccountName") != sa:
        fail("%s: serviceAccountName %r, not %r" % (dname, pod.get("serviceAccountName"), sa))
    if pod.get("hostNetwork") is not True:
        fail("%s: not in the host's network namespace (kernel uevents)" % dname)
    cs = pod.get("containers", [])
    if len(cs) != 1:
        fail("%s: %d containers" % (dname, len(cs)))
        return
    c = cs[0]
    if c.get("image") != IMAGE:
        fail("%s: image %r, not kustomization.yaml's %r" % (dname, c.get("image"), IMAGE))
    if c.get("command", [])[:2] != ["amdvirt", "daemon"]:
        fail("%s: command %s" % (dname, c.get("command")))
    env = {e["name"]: e for e in c.get("env", [])}
    ref = env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
    if ref.get("fieldPath") != "spec.nodeName":
        fail("%s: NODE_NAME is not spec.nodeName from the downward API: %s" % (dname, env.get("NODE_NAME")))

    sc = c.get("securityContext", {})
    if bool(sc.get("privileged")) != privileged:
        fail("%s: privileged is %r" % (dname, sc.get("privileged")))
    if sc.get("privileged") and sc.get("allowPrivilegeEscalation") is False:
        fail("%s: allowPrivilegeEscalation false with privileged true, which the API server rejects" % dname)
    if not privileged:
        if sc.get("allowPrivilegeEscalation") is not False:
            fail("%s: allowPrivilegeEscalation is not false" % dname)
        if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
            fail("%s: capabilities %s, want all dropped and none added" % (dname, sc.get("capabilities")))

    vols = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    for n in mounts:
        if n not in vols:
            fail("%s: volumeMount %s names no volume" % (dname, n))
    got = {}
    for n, v in vols.items():
        hp = v.get("hostPath")
        if hp is None:
            continue
        if hp.get("type", "") not in HOSTPATH_TYPES:
            fail("%s: volume %s: hostPath type %r" % (dname, n, hp.get("type")))
        if hp["path"] in FORBIDDEN:
            fail("%s: volume %s mounts the host's %s" % (dname, n, hp["path"]))
        if n not in mounts:
            fail("%s: volume %s is mounted nowhere" % (dname, n))
            continue
        got[hp["path"]] = (mounts[n]["mountPath"], bool(mounts[n].get("readOnly")))
        if hp["path"] == LOCK and hp.get("type") != "FileOrCreate":
            fail("%s: the lock %s is not FileOrCreate" % (dname, LOCK))
    for path, want in want_paths.items():
        if path not in got:
            fail("%s: no hostPath mount of %s" % (dname, path))
        elif got[path] != want:
            fail("%s: %s mounted at %s read-only=%s, want %s read-only=%s"
                 % (dname, path, got[path][0], got[path][1], want[0], want[1]))
    for path in got:
        if path not in want_paths:
            fail("%s: hostPath %s, which this variant does not need" % (dname, path))


with tempfile.TemporaryDirectory() as tmp:
    check("default", render(K8S), COMMON, False)
    check("privileged", render(overlay(tmp, "privileged")), PRIVILEGED, True)
    objs = render(overlay(tmp, "deviceconfig-crd"))
    check("with the CRD", [o for o in objs if o.get("kind") != "CustomResourceDefinition"], COMMON, False)
    crds = [o for o in objs if o.get("kind") == "CustomResourceDefinition"]
    if len(crds) != 1 or crds[0].get("apiVersion") != "apiextensions.k8s.io/v1" \
            or crds[0]["metadata"]["name"] != "deviceconfigs.amd.com" or "namespace" in crds[0]["metadata"] \
            or crds[0]["spec"].get("scope") != "Namespaced" \
            or [(v["name"], v["served"], v["storage"]) for v in crds[0]["spec"]["versions"]] != [("v1alpha1", True, True)]:
        fail("with the CRD: no namespaced, served and stored amd.com/v1alpha1 deviceconfigs.amd.com CRD: %s"
             % [o["metadata"] for o in crds])

# --- components/dra: the DRA driver instead of the device plugin --------------
DRA = dict(COMMON)
DRA.update({
    "/var/lib/kubelet/plugins_registry": ("/var/lib/kubelet/plugins_registry", False),
    "/var/lib/kubelet/plugins/gpu.amdvirt.io": ("/var/lib/kubelet/plugins/gpu.amdvirt.io", False),
    "/var/run/cdi": ("/var/run/cdi", False),
})
DRA_OWN = {("ClusterRole", "amdvirt-dra"), ("ClusterRoleBinding", "amdvirt-dra"),
           ("ValidatingAdmissionPolicy", "amdvirt-dra-slices"),
           ("ValidatingAdmissionPolicyBinding", "amdvirt-dra-slices")}


def check_dra(objs):
    own = [o for o in objs if (o.get("kind"), o["metadata"].get("name")) in DRA_OWN]
    if sorted((o["kind"], o["metadata"]["name"]) for o in own) != sorted(DRA_OWN):
        fail("dra: the component's objects %s, want %s" % ([(o["kind"], o["metadata"]["name"]) for o in own],
                                                            sorted(DRA_OWN)))
        return
    check("dra", [o for o in objs if o not in own], DRA, False)
    ds = [o for o in objs if o["kind"] == "DaemonSet"][0]
    c = ds["spec"]["template"]["spec"]["containers"][0]
    if c.get("command", []) + c.get("args", []) != ["amdvirt", "daemon", "--dra"]:
        fail("dra: the DaemonSet runs %s, not amdvirt daemon --dra" % (c.get("command", []) + c.get("args", [])))
    by = {(o["kind"], o["metadata"]["name"]): o for o in own}
    rules = sorted((tuple(r["apiGroups"]), tuple(r["resources"]), tuple(sorted(r["verbs"])))
                   for r in by[("ClusterRole", "amdvirt-dra")]["rules"])
    want = [(("resource.k8s.io",), ("resourceclaims",), ("get",)),
            (("resource.k8s.io",), ("resourceslices",), ("create", "delete", "get", "list", "update"))]
    if rules != want:
        fail("dra: ClusterRole amdvirt-dra: rules %s, want %s" % (rules, want))
    b = by[("ClusterRoleBinding", "amdvirt-dra")]
    sa = [o for o in objs if o["kind"] == "ServiceAccount"][0]["metadata"]["name"]
    if b["roleRef"] != {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "amdvirt-dra"} \
            or b["subjects"] != [{"kind": "ServiceAccount", "name": sa, "namespace": NS}]:
        fail("dra: ClusterRoleBinding amdvirt-dra: %s %s" % (b["roleRef"], b["subjects"]))
    pol = by[("ValidatingAdmissionPolicy", "amdvirt-dra-slices")]
    bind = by[("ValidatingAdmissionPolicyBinding", "amdvirt-dra-slices")]
    for o in (pol, bind):
        if o["apiVersion"] != "admissionregistration.k8s.io/v1" or "namespace" in o["metadata"]:
            fail("dra: %s: apiVersion %s, namespace %r" % (o["kind"], o["apiVersion"], o["metadata"].get("namespace")))
    if bind["spec"] != {"policyName": pol["metadata"]["name"], "validationActions": ["Deny"]}:
        fail("dra: the binding %s does not deny by the policy" % bind["spec"])
    if pol["spec"].get("failurePolicy") != "Fail":
        fail("dra: failurePolicy %r" % pol["spec"].get("failurePolicy"))
    judge_dra_policy(pol, "system:serviceaccount:%s:%s" % (NS, sa))


def judge_dra_policy(pol, agent):
    """The policy's CEL evaluated as the API server does, on sample requests."""
    sys.path.insert(0, os.path.join(SRC, "tests/peers"))
    import vap

    spec = pol["spec"]

    def admit(op, user, obj, old, extra):
        return vap.admit(spec, "resource.k8s.io", "resourceslices", op, user, obj, old, extra)

    def sl(node, driver="gpu.amdvirt.io"):
        return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
                "metadata": {"name": "%s-%s-abcde" % (node, driver)},
                "spec": {"driver": driver, "nodeName": node, "pool": {"name": node, "generation": 1,
                                                                      "resourceSliceCount": 1}, "devices": []}}
    on1 = {"authentication.kubernetes.io/node-name": ["node1"]}
    cases = [
        ("create its own node's slice", True, "CREATE", agent, sl("node1"), None, on1),
        ("update its own node's slice", True, "UPDATE", agent, sl("node1"), sl("node1"), on1),
        ("delete its own node's slice", True, "DELETE", agent, None, sl("node1"), on1),
        ("create another node's slice", False, "CREATE", agent, sl("node2"), None, on1),
        ("delete another node's slice", False, "DELETE", agent, None, sl("node2"), on1),
        ("move a slice to its node", False, "UPDATE", agent, sl("node1"), sl("node2"), on1),
        ("another driver's slice", False, "CREATE", agent, sl("node1", "gpu.amd.com"), None, on1),
        ("a token without the node claim", False, "CREATE", agent, sl("node1"), None, {}),
        ("a slice for all nodes", False, "CREATE", agent,
         dict(sl("node1"), spec={"driver": "gpu.amdvirt.io", "allNodes": True}), None, on1),
        ("kubelet wiping another driver's slice", True, "DELETE", "system:node:node1", None,
         sl("node1", "gpu.amd.com"), {}),
    ]
    for what, want, op, user, obj, old, extra in cases:
        ok, msg = admit(op, user, obj, old, extra)
        if ok != want:
            fail("dra policy: %s: %s (%s)" % (what, "admitted" if ok else "denied", msg))
        elif not ok and msg.startswith(("error", "matchCondition", "messageExpression error")):
            fail("dra policy: %s: denied by an evaluation error: %s" % (what, msg))


with tempfile.TemporaryDirectory() as tmp:
    check_dra(render(overlay(tmp, "dra")))

if failures:
    sys.exit(1)
print("kustomize: both variants render; kinds, namespace %s, image %s, hostPaths, RBAC and env checked" % (NS, IMAGE))

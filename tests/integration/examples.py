# Checks each k8s/examples/*.yaml; one line per failure, exit 1 if any.
import glob
import json
import os
import subprocess
import sys

import yaml

SRC, AMDVIRT, TMP = sys.argv[1:4]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(*args):
    p = subprocess.run([AMDVIRT, "--demo"] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


# spec.driver fields of AMD's DriverSpec (api/v1alpha1), of which amdvirt
# reads enable, driverType, version, vfioConfig, kernelModuleConfig and
# blacklist; an example with anything else would not be an AMD object.
DRIVER_FIELDS = {"enable", "driverType", "version", "vfioConfig", "kernelModuleConfig", "blacklist",
                 "image", "imageRegistrySecret", "imageRegistryTLS", "imageSign", "imageBuild",
                 "useSourceImage", "amdgpuInstallerRepoURL", "upgradePolicy", "tolerations"}
SPEC_FIELDS = {"driver", "selector", "devicePlugin", "commonConfig", "amdvirt"}

# The schema of k8s/components/deviceconfig-crd, which an API server without
# AMD's operator validates the examples against.
with open(os.path.join(SRC, "k8s/components/deviceconfig-crd/crd.yaml")) as f:
    CRD = yaml.safe_load(f)
SCHEMA = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def validate(v, sch, where, name):
    t = sch.get("type")
    if t and not isinstance(v, TYPES[t]):
        fail("%s: %s is %r, the CRD wants %s" % (name, where, v, t))
        return
    if "enum" in sch and v not in sch["enum"]:
        fail("%s: %s %r is not one of %s" % (name, where, v, sch["enum"]))
    if t == "object":
        props = sch.get("properties", {})
        for k, sub in v.items():
            if k in props:
                validate(sub, props[k], where + "." + k, name)
            elif "additionalProperties" in sch:
                validate(sub, sch["additionalProperties"], where + "." + k, name)
            elif not sch.get("x-kubernetes-preserve-unknown-fields") and where != "":
                fail("%s: %s.%s would be pruned by the CRD" % (name, where, k))
    if t == "array":
        for i, sub in enumerate(v):
            validate(sub, sch.get("items", {}), "%s[%d]" % (where, i), name)


paths = sorted(glob.glob(os.path.join(SRC, "k8s/examples/*.yaml")))
docs = []
for p in paths:
    with open(p) as f:
        for d in yaml.safe_load_all(f):
            if d:
                docs.append((os.path.basename(p), d))

seen = set()
resources = set()
rc, out, err = run("kubevirt-config", "--json")
if rc == 0:
    for h in json.loads(out)["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]:
        resources.add(h["resourceName"])
else:
    fail("amdvirt --demo kubevirt-config --json: exit %d: %s" % (rc, err.strip()))

# --- DRA (doc/dra.md) ---
sys.path.insert(0, os.path.join(SRC, "tests/peers"))
import cel  # noqa: E402

DRIVER = "gpu.amdvirt.io"
# The driver's attributes, from doc/dra.md's table (the slice's are unit
# tested against the same names).
with open(os.path.join(SRC, "doc/dra.md")) as f:
    ATTRS = {m for line in f if line.startswith("| `")
             for m in [line.split("`")[1]] if "/" not in m and m.isidentifier()}
classes, templates, dra_vms = {}, {}, []


def sample_device(driver, **attrs):
    """A device as CEL sees it: attributes by domain, the driver's own
    under its name."""
    own = {"type": "vfio", "pciAddr": "0000:05:02.0", "iommuGroup": "63", "numaNode": 0,
           "isVF": True, "hive": "h0", "mode": "vf-passthrough"}
    own.update(attrs)
    return {"driver": driver, "attributes": {
        driver: own, "resource.kubernetes.io": {"pciBusID": "0000:05:02.0"}}}


def check_class(name, d):
    if d.get("apiVersion") != "resource.k8s.io/v1":
        fail("%s: apiVersion %s, not resource.k8s.io/v1" % (name, d.get("apiVersion")))
    sels = [s["cel"]["expression"] for s in d.get("spec", {}).get("selectors", [])]
    if not sels:
        fail("%s: no selectors" % name)
    # All selectors must hold for a device to be in the class.
    for what, dev, want in (("an amdvirt device", sample_device(DRIVER), True),
                            ("a PF of amdvirt", sample_device(DRIVER, isVF=False), True),
                            ("AMD's driver's device", sample_device("gpu.amd.com"), False),
                            ("an amdvirt device of another type", sample_device(DRIVER, type="x"), False)):
        try:
            got = all(cel.evaluate(e, {"device": dev}) is True for e in sels)
        except cel.CelError as e:
            fail("%s: selector error on %s: %s" % (name, what, e))
            continue
        if got != want:
            fail("%s: the class %s %s" % (name, "takes" if got else "leaves out", what))
    classes[d["metadata"]["name"]] = d


def check_template(name, d):
    if d.get("apiVersion") != "resource.k8s.io/v1":
        fail("%s: apiVersion %s, not resource.k8s.io/v1" % (name, d.get("apiVersion")))
    devs = d.get("spec", {}).get("spec", {}).get("devices", {})
    reqs = devs.get("requests", [])
    names = [r.get("name") for r in reqs]
    if not reqs or len(set(names)) != len(names):
        fail("%s: request names %s" % (name, names))
    for r in reqs:
        ex = r.get("exactly")
        if ex is None or "firstAvailable" in r:
            fail("%s: request %s: KubeVirt needs exactly (a subrequest name never matches)" % (name, r.get("name")))
            continue
        if ex.get("allocationMode", "ExactCount") != "ExactCount" or ex.get("count", 1) != 1:
            fail("%s: request %s: KubeVirt takes exactly one device per request" % (name, r.get("name")))
        if ex.get("deviceClassName") not in classes:
            fail("%s: request %s: deviceClassName %s is no example DeviceClass" % (name, r.get("name"),
                                                                                   ex.get("deviceClassName")))
    for c in devs.get("constraints", []):
        attr = c.get("matchAttribute") or c.get("distinctAttribute")
        dom, _, ident = (attr or "").rpartition("/")
        if dom != DRIVER or ident not in ATTRS:
            fail("%s: constraint on %s, which is not an attribute of %s (doc/dra.md)" % (name, attr, DRIVER))
        if any(r not in names for r in c.get("requests", [])):
            fail("%s: constraint names requests %s of %s" % (name, c.get("requests"), names))
    templates[d["metadata"]["name"]] = d


def check_dra_vm(name, d):
    tspec = d["spec"]["template"]["spec"]
    claims = {c["name"]: c for c in tspec["resourceClaims"]}
    devs = tspec["domain"]["devices"]
    entries = devs.get("gpus", []) + devs.get("hostDevices", [])
    if not entries:
        fail("%s: resourceClaims but no gpus or hostDevices" % name)
    pairs = []
    for e in entries:
        if "deviceName" in e:
            fail("%s: %s: deviceName with a claim (KubeVirt refuses both)" % (name, e.get("name")))
        c = claims.get(e.get("claimName"))
        if c is None:
            fail("%s: %s: claimName %s is not in spec.resourceClaims" % (name, e.get("name"), e.get("claimName")))
            continue
        t = templates.get(c.get("resourceClaimTemplateName"))
        if t is None:
            fail("%s: claim %s: template %s is no example" % (name, c["name"], c.get("resourceClaimTemplateName")))
            continue
        reqs = [r["name"] for r in t["spec"]["spec"]["devices"]["requests"]]
        if e.get("requestName") not in reqs:
            fail("%s: %s: requestName %s is not a request of %s" % (name, e.get("name"), e.get("requestName"),
                                                                     t["metadata"]["name"]))
        pairs.append((e.get("claimName"), e.get("requestName")))
    if len(set(pairs)) != len(pairs):
        fail("%s: a (claimName, requestName) pair is used twice: %s" % (name, pairs))


vms = 0
roles = 0
for name, d in docs:
    if d.get("kind") == "DeviceClass":
        check_class(name, d)
for name, d in docs:
    if d.get("kind") == "ResourceClaimTemplate":
        check_template(name, d)
for name, d in docs:
    kind = d.get("kind")
    if kind in ("DeviceClass", "ResourceClaimTemplate"):
        continue
    if kind == "VirtualMachine" and d["spec"]["template"]["spec"].get("resourceClaims"):
        vms += 1
        dra_vms.append(name)
        check_dra_vm(name, d)
        continue
    if kind == "DeviceConfig":
        if d.get("apiVersion") != "amd.com/v1alpha1":
            fail("%s: apiVersion %s, not amd.com/v1alpha1" % (name, d.get("apiVersion")))
        md = d.get("metadata", {})
        spec = d.get("spec", {})
        drv = spec.get("driver", {})
        for k in set(spec) - SPEC_FIELDS:
            fail("%s: spec.%s is no DeviceConfig field" % (name, k))
        for k in set(drv) - DRIVER_FIELDS:
            fail("%s: spec.driver.%s is no DeviceConfig field" % (name, k))
        if (CRD["spec"]["group"], CRD["spec"]["names"]["kind"], CRD["spec"]["versions"][0]["name"]) != \
                ("amd.com", "DeviceConfig", "v1alpha1"):
            fail("the CRD is not amd.com/v1alpha1 DeviceConfig")
        validate({k: v for k, v in d.items() if k != "metadata"}, SCHEMA, "", name)
        mode = drv.get("driverType", "container")
        enable = drv.get("enable", True)
        seen.add((mode, enable))
        cfg = os.path.join(TMP, name + ".json")
        with open(cfg, "w") as f:
            json.dump(d, f)
        # What the demo host says about itself with the mode alone is the
        # baseline: the DeviceConfig may add nothing to it.
        brc, _, berr = run("--driver-type", mode, "labels", "--json")
        rc, out, err = run("--config", cfg, "labels", "--json")
        if rc != 0 or brc != 0:
            fail("%s: amdvirt --config ... labels --json exit %d: %s" % (name, rc, err.strip()))
            continue
        if err != berr:
            fail("%s: --config says more than the host alone: %s" % (name, err.strip()))
        labels = json.loads(out)
        if labels.get("amd.com/gpu.mode") != mode:
            fail("%s: amdvirt reads mode %s, the example says %s" % (name, labels.get("amd.com/gpu.mode"), mode))
        key = "gpu.operator.amd.com/%s.%s.driver" % (md.get("namespace"), md.get("name"))
        if (key in labels) != (enable is not False):
            fail("%s: label %s %s with driver.enable %s" % (name, key, "set" if key in labels else "absent", enable))
    elif kind == "VirtualMachine":
        vms += 1
        if d.get("apiVersion") != "kubevirt.io/v1":
            fail("%s: apiVersion %s, not kubevirt.io/v1" % (name, d.get("apiVersion")))
        tspec = d["spec"]["template"]["spec"]
        devs = tspec["domain"]["devices"]
        hds = devs.get("hostDevices", [])
        if not hds:
            fail("%s: no hostDevices" % name)
        names = [h.get("name") for h in hds]
        if len(set(names)) != len(names) or None in names:
            fail("%s: hostDevices names %s are not unique" % (name, names))
        for h in hds:
            if h.get("deviceName") not in resources:
                fail("%s: hostDevices %s asks for %s, which amdvirt does not advertise (%s)"
                     % (name, h.get("name"), h.get("deviceName"), sorted(resources)))
        vols = {v["name"] for v in tspec.get("volumes", [])}
        for disk in devs.get("disks", []):
            if disk["name"] not in vols:
                fail("%s: disk %s has no volume" % (name, disk["name"]))
        if "mi210" in name and len(hds) != 4:
            fail("%s: %d hostDevices, a hive is 4" % (name, len(hds)))
    elif kind == "ClusterRole":
        # The admin's role for kubevirt-config --apply: exactly get and
        # patch on kubevirts.kubevirt.io (the requests kubevirt.sh sees it
        # send), a valid RBAC object, and never bound here: a binding in
        # the examples would hand it to the DaemonSet's account.
        roles += 1
        if d.get("apiVersion") != "rbac.authorization.k8s.io/v1":
            fail("%s: apiVersion %s, not rbac.authorization.k8s.io/v1" % (name, d.get("apiVersion")))
        md = d.get("metadata") or {}
        if not md.get("name") or "namespace" in md:
            fail("%s: a ClusterRole needs a name and no namespace" % name)
        for k in set(d) - {"apiVersion", "kind", "metadata", "rules", "aggregationRule"}:
            fail("%s: %s is no ClusterRole field" % (name, k))
        rules = []
        for r in d.get("rules") or []:
            for k in set(r) - {"apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"}:
                fail("%s: rules[].%s is no PolicyRule field" % (name, k))
            if not r.get("verbs"):
                fail("%s: a rule without verbs" % name)
            rules.append((tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(sorted(r.get("verbs", [])))))
        if rules != [(("kubevirt.io",), ("kubevirts",), ("get", "patch"))]:
            fail("%s: rules %s, want get and patch on kubevirts.kubevirt.io alone" % (name, rules))
    else:
        fail("%s: unexpected kind %s" % (name, kind))

for want in (("vf-passthrough", False), ("vf-passthrough", True), ("pf-passthrough", False), ("pf-passthrough", True)):
    if want not in seen:
        fail("no DeviceConfig example for %s with driver.enable %s" % want)
if roles != 1:
    fail("%d ClusterRole examples, want the KubeVirt admin's" % roles)
if vms < 2:
    fail("%d VirtualMachine examples, want the seed's and the MI210 hive's" % vms)
if len(classes) != 1 or not dra_vms:
    fail("DRA examples: %d DeviceClasses and %d VirtualMachines with a claim, want 1 and at least 1"
         % (len(classes), len(dra_vms)))
hive_counts = sorted(len(t["spec"]["spec"]["devices"]["requests"]) for t in templates.values()
                     if any(c.get("matchAttribute") == DRIVER + "/hive"
                            for c in t["spec"]["spec"]["devices"].get("constraints", [])))
if hive_counts != [2, 4] or len(templates) != 3:
    fail("DRA examples: templates for 1 GPU, 2 and 4 from one hive; got %d templates, hive ones of %s"
         % (len(templates), hive_counts))
if failures:
    sys.exit(1)
print("examples: %d DeviceConfigs, %d VirtualMachines (%d with a claim), %d ClusterRole, %d DeviceClass and %d "
      "ResourceClaimTemplates checked" % (len(docs) - vms - roles - len(classes) - len(templates), vms,
                                          len(dra_vms), roles, len(classes), len(templates)))

"""The KubeVirt CR (kubevirt.io/v1 KubeVirt) in the test API server:
GET, and JSON merge patch with the resourceVersion precondition (409 when
stale) and the CRD's schema for the lists amdvirt writes (422 otherwise).
--kubevirt-race GATE: once, right after a KubeVirt CR is read, another
client adds GATE to its feature gates (a new resourceVersion), so a write
based on that read meets a real conflict."""

import copy
import json


def add_arguments(p):
    p.add_argument("--kubevirt-race", metavar="GATE",
                   help="after the first GET of a KubeVirt CR, add GATE to its featureGates")


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": reason, "code": code}


def bump(st, obj):
    st.version += 1
    obj["metadata"]["resourceVersion"] = str(st.version)


def get(st, key, obj):
    answer = copy.deepcopy(obj)
    gate = getattr(st.args, "kubevirt_race", None)
    if gate and not getattr(st, "kubevirt_raced", False):
        st.kubevirt_raced = True
        conf = obj.setdefault("spec", {}).setdefault("configuration", {})
        gates = conf.setdefault("developerConfiguration", {}).setdefault("featureGates", [])
        gates.append(gate)
        bump(st, obj)
        st.save()
    return 200, answer


def invalid(obj):
    """What the KubeVirt CRD's schema refuses in the two lists, or None."""
    conf = obj.get("spec", {}).get("configuration", {})
    gates = conf.get("developerConfiguration", {}).get("featureGates")
    if gates is not None and (not isinstance(gates, list) or not all(isinstance(g, str) for g in gates)):
        return "spec.configuration.developerConfiguration.featureGates: must be a list of strings"
    pci = conf.get("permittedHostDevices", {}).get("pciHostDevices")
    if pci is None:
        return None
    if not isinstance(pci, list):
        return "spec.configuration.permittedHostDevices.pciHostDevices: must be a list"
    for i, e in enumerate(pci):
        where = "spec.configuration.permittedHostDevices.pciHostDevices[%d]" % i
        if not isinstance(e, dict):
            return where + ": must be an object"
        for field in ("pciVendorSelector", "resourceName"):
            if not isinstance(e.get(field), str):
                return "%s.%s: Required value" % (where, field)
        if "externalResourceProvider" in e and not isinstance(e["externalResourceProvider"], bool):
            return where + ".externalResourceProvider: must be a boolean"
    return None


def patch(st, headers, body_text, key, obj, merge_patch):
    if headers.get("Content-Type") != "application/merge-patch+json":
        return 415, status(415, "UnsupportedMediaType", "unsupported patch type")
    try:
        p = json.loads(body_text)
    except ValueError:
        return 400, status(400, "BadRequest", "not JSON")
    if not isinstance(p, dict):
        return 400, status(400, "BadRequest", "a merge patch must be an object")
    want = (p.get("metadata") or {}).get("resourceVersion")
    if want is not None and want != obj["metadata"]["resourceVersion"]:
        return 409, status(409, "Conflict", 'Operation cannot be fulfilled on kubevirts.kubevirt.io "%s": '
                           "the object has been modified; please apply your changes to the latest "
                           "version and try again" % key[1])
    new = merge_patch(obj, p)
    why = invalid(new)
    if why:
        return 422, status(422, "Invalid", 'KubeVirt.kubevirt.io "%s" is invalid: %s' % (key[1], why))
    bump(st, new)
    st.kubevirts[key] = new
    return 200, new

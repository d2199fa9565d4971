"""resource.k8s.io/v1 for the fake API server (tests/peers/apiserver.py):
ResourceSlices (cluster-scoped: list with field selectors, get, create with
generateName, update with resourceVersion, delete one or a collection by
field selector, as kubelet wipes a node's slices) and ResourceClaims
(namespaced: create, get, list, update of the status subresource, delete).

Objects are validated as the real API server validates them
(k8s.io/kubernetes pkg/apis/resource/validation): names, the driver, the
pool, one node selection, at most 128 devices, each a DNS label with at
most 32 attributes and capacities, qualified attribute names, exactly one
value of bounded length per attribute; an invalid object is answered 422
naming the field, a stale resourceVersion 409, a changed immutable field
422.  route() answers the paths it owns and returns None for the rest.
"""

import json
import random
import re
import string
import time

GROUP = "resource.k8s.io"
PREFIX = ["apis", "resource.k8s.io", "v1"]

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
                    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


def status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": reason, "code": code}


def dns_label(s):
    return isinstance(s, str) and 0 < len(s) <= 63 and LABEL.match(s) is not None


def dns_subdomain(s, limit=253):
    return (isinstance(s, str) and 0 < len(s) <= limit and
            all(dns_label(p) for p in s.split(".")))


def qualified_name(s):
    if not isinstance(s, str):
        return False
    domain, sep, ident = s.rpartition("/")
    if sep and not dns_subdomain(domain, 63):
        return False
    return 0 < len(ident) <= 32 and IDENT.match(ident) is not None


def validate_slice(obj):
    """Errors as the API server words them: 'field: why'."""
    errs = []
    meta = obj.get("metadata", {})
    name = meta.get("name") or meta.get("generateName")
    if not name or not dns_subdomain(name.rstrip("-") if "name" not in meta else name):
        errs.append("metadata.name: Invalid value: %r" % name)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return errs + ["spec: Required value"]
    if not dns_subdomain(spec.get("driver"), 63):
        errs.append("spec.driver: Invalid value: %r" % spec.get("driver"))
    pool = spec.get("pool") or {}
    if not pool.get("name") or not all(dns_subdomain(p) for p in str(pool.get("name")).split("/")) \
            or len(pool.get("name")) > 253:
        errs.append("spec.pool.name: Invalid value: %r" % pool.get("name"))
    if not isinstance(pool.get("generation"), int) or pool["generation"] < 0:
        errs.append("spec.pool.generation: Invalid value: %r" % pool.get("generation"))
    if not isinstance(pool.get("resourceSliceCount"), int) or pool["resourceSliceCount"] <= 0:
        errs.append("spec.pool.resourceSliceCount: Invalid value: %r" % pool.get("resourceSliceCount"))
    sel = [k for k in ("nodeName", "nodeSelector", "allNodes", "perDeviceNodeSelection")
           if spec.get(k) not in (None, False, "")]
    if len(sel) != 1:
        errs.append("spec: Invalid value: exactly one of nodeName, nodeSelector, allNodes, "
                    "perDeviceNodeSelection is required, not %s" % sel)
    if "nodeName" in sel and not dns_subdomain(spec["nodeName"]):
        errs.append("spec.nodeName: Invalid value: %r" % spec["nodeName"])
    devices = spec.get("devices") or []
    if len(devices) > 128:
        errs.append("spec.devices: Too many: %d: must have at most 128 items" % len(devices))
    seen = set()
    for i, d in enumerate(devices):
        where = "spec.devices[%d]" % i
        if not dns_label(d.get("name")):
            errs.append("%s.name: Invalid value: %r" % (where, d.get("name")))
        elif d["name"] in seen:
            errs.append("%s.name: Duplicate value: %r" % (where, d["name"]))
        seen.add(d.get("name"))
        attrs = d.get("attributes") or {}
        caps = d.get("capacity") or {}
        if len(attrs) + len(caps) > 32:
            errs.append("%s: Too many: %d: must have at most 32 attributes and capacities"
                        % (where, len(attrs) + len(caps)))
        for key, val in attrs.items():
            aw = "%s.attributes[%s]" % (where, key)
            if not qualified_name(key):
                errs.append("%s: Invalid value: not a qualified name" % aw)
            kinds = [k for k in ("int", "bool", "string", "version") if k in val]
            if len(kinds) != 1 or len(val) != 1:
                errs.append("%s: Invalid value: exactly one value must be set" % aw)
                continue
            v = val[kinds[0]]
            if kinds[0] == "int" and (not isinstance(v, int) or isinstance(v, bool)):
                errs.append("%s.int: Invalid value: %r" % (aw, v))
            if kinds[0] == "bool" and not isinstance(v, bool):
                errs.append("%s.bool: Invalid value: %r" % (aw, v))
            if kinds[0] == "string" and (not isinstance(v, str) or len(v) > 64):
                errs.append("%s.string: Too long or not a string: %r" % (aw, v))
            if kinds[0] == "version" and (not isinstance(v, str) or len(v) > 64 or
                                          not SEMVER.match(v)):
                errs.append("%s.version: Invalid value: %r: must be a semantic version" % (aw, v))
    return errs


def field_selector(query):
    out = {}
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "fieldSelector":
            value = value.replace("%3D", "=").replace("%2C", ",").replace("%3d", "=").replace("%2c", ",")
            for term in value.split(","):
                k, _, v = term.partition("=")
                out[k] = v
    return out


def matches(obj, sel):
    spec = obj.get("spec", {})
    for key, value in sel.items():
        if key == "spec.nodeName" and spec.get("nodeName") != value:
            return False
        if key == "spec.driver" and spec.get("driver") != value:
            return False
        if key == "metadata.name" and obj["metadata"]["name"] != value:
            return False
    return True


def stamp(st, obj, uid=True):
    st.version += 1
    meta = obj.setdefault("metadata", {})
    meta["resourceVersion"] = str(st.version)
    if uid:
        meta["uid"] = "%08x-0000-4000-8000-%012x" % (random.getrandbits(32), random.getrandbits(48))
        meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        meta["generation"] = 1


def init(st, objects):
    st.resourceslices = {}
    st.resourceclaims = {}
    for obj in objects.get("resourceclaims", []):
        status = obj.pop("status", None)
        stamp(st, obj)
        if status is not None:
            obj["status"] = status
        meta = obj["metadata"]
        st.resourceclaims[(meta["namespace"], meta["name"])] = obj


def route(st, method, path, body_text, forbidden):
    """(code, object) for resource.k8s.io paths, None for others."""
    raw, _, query = path.partition("?")
    parts = raw.strip("/").split("/")
    if parts[:3] != PREFIX:
        return None
    rest = parts[3:]
    verb = {"GET": "get", "POST": "create", "PUT": "update", "DELETE": "delete",
            "PATCH": "patch"}.get(method, method.lower())
    if rest[:1] == ["resourceslices"]:
        if len(rest) == 1 and verb == "get":
            verb = "list"
        if len(rest) == 1 and verb == "delete":
            verb = "deletecollection"
        if forbidden(verb, "resourceslices"):
            return 403, status_body(403, "Forbidden", 'resourceslices is forbidden: User '
                                    '"system:serviceaccount:test:amdvirt" cannot %s resource '
                                    '"resourceslices" in API group "%s"' % (verb, GROUP))
        return slices(st, method, rest[1:], query, body_text)
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] == "resourceclaims":
        if forbidden(verb, "resourceclaims"):
            return 403, status_body(403, "Forbidden", 'resourceclaims "%s" is forbidden: User '
                                    '"system:serviceaccount:test:amdvirt" cannot %s resource '
                                    '"resourceclaims" in API group "%s" in the namespace "%s"'
                                    % (rest[3] if len(rest) > 3 else "", verb, GROUP, rest[1]))
        return claims(st, method, rest[1], rest[3:], body_text)
    return 404, status_body(404, "NotFound", "the server could not find the requested resource")


def parse(body_text):
    try:
        obj = json.loads(body_text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def invalid(kind, name, errs):
    return 422, status_body(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, "; ".join(errs)))


def slices(st, method, rest, query, body_text):
    if not rest and method == "GET":
        sel = field_selector(query)
        items = [o for o in st.resourceslices.values() if matches(o, sel)]
        return 200, {"kind": "ResourceSliceList", "apiVersion": "resource.k8s.io/v1",
                     "metadata": {"resourceVersion": str(st.version)}, "items": items}
    if not rest and method == "DELETE":
        sel = field_selector(query)
        gone = [n for n, o in st.resourceslices.items() if matches(o, sel)]
        items = [st.resourceslices.pop(n) for n in gone]
        return 200, {"kind": "ResourceSliceList", "apiVersion": "resource.k8s.io/v1", "items": items}
    if not rest and method == "POST":
        obj = parse(body_text)
        if obj is None:
            return 400, status_body(400, "BadRequest", "not a JSON object")
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            if not meta.get("generateName"):
                return invalid("ResourceSlice", "", ["metadata.name: Required value"])
            meta["name"] = meta["generateName"] + "".join(
                random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        errs = validate_slice(obj)
        if errs:
            return invalid("ResourceSlice", meta["name"], errs)
        if meta["name"] in st.resourceslices:
            return 409, status_body(409, "AlreadyExists", 'resourceslices "%s" already exists'
                                    % meta["name"])
        if "resourceVersion" in meta:
            return 400, status_body(400, "BadRequest", "resourceVersion should not be set on "
                                    "objects to be created")
        stamp(st, obj)
        st.resourceslices[meta["name"]] = obj
        return 201, obj
    if len(rest) != 1:
        return 404, status_body(404, "NotFound", "the server could not find the requested resource")
    name = rest[0]
    cur = st.resourceslices.get(name)
    if cur is None:
        return 404, status_body(404, "NotFound", 'resourceslices.resource.k8s.io "%s" not found'
                                % name)
    if method == "GET":
        return 200, cur
    if method == "DELETE":
        del st.resourceslices[name]
        return 200, cur
    if method == "PUT":
        obj = parse(body_text)
        if obj is None:
            return 400, status_body(400, "BadRequest", "not a JSON object")
        meta = obj.setdefault("metadata", {})
        if meta.get("name") != name:
            return 400, status_body(400, "BadRequest", "the name of the object does not match")
        if not meta.get("resourceVersion"):
            return invalid("ResourceSlice", name, ["metadata.resourceVersion: Invalid value: 0x0: "
                                                   "must be specified for an update"])
        if meta["resourceVersion"] != cur["metadata"]["resourceVersion"]:
            return 409, status_body(409, "Conflict", 'Operation cannot be fulfilled on '
                                    'resourceslices.resource.k8s.io "%s": the object has been '
                                    'modified; please apply your changes to the latest version '
                                    'and try again' % name)
        errs = validate_slice(obj)
        old, new = cur.get("spec", {}), obj.get("spec", {})
        for f in ("driver", "nodeName"):
            if old.get(f) != new.get(f):
                errs.append("spec.%s: Invalid value: field is immutable" % f)
        if old.get("pool", {}).get("name") != new.get("pool", {}).get("name"):
            errs.append("spec.pool.name: Invalid value: field is immutable")
        if errs:
            return invalid("ResourceSlice", name, errs)
        for k in ("uid", "creationTimestamp"):
            meta[k] = cur["metadata"].get(k)
        meta["generation"] = cur["metadata"].get("generation", 1) + (old != new)
        st.version += 1
        meta["resourceVersion"] = str(st.version)
        st.resourceslices[name] = obj
        return 200, obj
    return 405, status_body(405, "MethodNotAllowed", "not supported here")


def claims(st, method, ns, rest, body_text):
    if not rest and method == "GET":
        items = [o for (n, _), o in st.resourceclaims.items() if n == ns]
        return 200, {"kind": "ResourceClaimList", "apiVersion": "resource.k8s.io/v1", "items": items}
    if not rest and method == "POST":
        obj = parse(body_text)
        if obj is None:
            return 400, status_body(400, "BadRequest", "not a JSON object")
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = ns
        name = meta.get("name")
        if not dns_subdomain(name):
            return invalid("ResourceClaim", name, ["metadata.name: Invalid value"])
        if (ns, name) in st.resourceclaims:
            return 409, status_body(409, "AlreadyExists", 'resourceclaims "%s" already exists' % name)
        # The status is a subresource: a create drops it.
        obj.pop("status", None)
        stamp(st, obj)
        st.resourceclaims[(ns, name)] = obj
        return 201, obj
    name = rest[0] if rest else None
    cur = st.resourceclaims.get((ns, name))
    if cur is None:
        return 404, status_body(404, "NotFound", 'resourceclaims.resource.k8s.io "%s" not found'
                                % name)
    if method == "GET" and len(rest) == 1:
        return 200, cur
    if method == "DELETE" and len(rest) == 1:
        del st.resourceclaims[(ns, name)]
        return 200, cur
    if method == "PUT" and rest[1:] == ["status"]:
        obj = parse(body_text)
        if obj is None:
            return 400, status_body(400, "BadRequest", "not a JSON object")
        if obj.get("metadata", {}).get("resourceVersion") != cur["metadata"]["resourceVersion"]:
            return 409, status_body(409, "Conflict", "the object has been modified")
        cur = dict(cur)
        cur["status"] = obj.get("status", {})
        st.version += 1
        cur["metadata"] = dict(cur["metadata"], resourceVersion=str(st.version))
        st.resourceclaims[(ns, name)] = cur
        return 200, cur
    return 405, status_body(405, "MethodNotAllowed", "not supported here")

"""A CustomResourceDefinition's structural schema, applied as a real API
server applies it to every object it stores (apiextensions-apiserver):

- pruning: a field the schema does not describe is dropped, unless the
  object it is in has x-kubernetes-preserve-unknown-fields (then kept as
  written) or additionalProperties describes it; a null where the schema
  does not say nullable is dropped too.  apiVersion, kind and metadata at
  the root are the server's, not the schema's, and are left alone;
- defaulting: a property with a default that is missing (or null and not
  nullable) gets it, wherever the object holding it is present, and the
  default itself is defaulted below;
- validation of what the rest of the suite needs: type (object, array,
  string, boolean, integer, number) and enum.  A failure raises Invalid
  with the messages a server puts in its 422 answer.

The schema is read from the CRD's YAML (k8s/components/deviceconfig-crd),
so the test server stores exactly what a cluster with that CRD would.
"""

import copy
import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICECONFIG_CRD = os.path.join(HERE, "..", "..", "k8s", "components", "deviceconfig-crd", "crd.yaml")

TYPES = {"object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
         "integer": (int,), "number": (int, float)}


class Invalid(ValueError):
    """The object fails the schema; args[0] is the list of causes (a
    ValueError, which api_watch answers with 422 as a server does)."""


class Crd:
    def __init__(self, path):
        with open(path) as f:
            doc = yaml.safe_load(f)
        spec = doc["spec"]
        self.group = spec["group"]
        self.kind = spec["names"]["kind"]
        self.plural = spec["names"]["plural"]
        version = next(v for v in spec["versions"] if v.get("storage"))
        self.version = version["name"]
        self.schema = version["schema"]["openAPIV3Schema"]

    def admit(self, obj):
        """The object as the server stores it: pruned, defaulted and
        validated (Invalid on failure).  obj itself is not changed."""
        out = {}
        props = self.schema.get("properties", {})
        for key, value in obj.items():
            if key in ("apiVersion", "kind", "metadata"):
                out[key] = copy.deepcopy(value)
            elif key in props:
                if value is None and not props[key].get("nullable"):
                    continue
                out[key] = prune(value, props[key])
        out = default(out, self.schema)
        errors = []
        for key, value in out.items():
            if key in props and key != "metadata":
                validate(value, props[key], key, errors)
        if errors:
            raise Invalid(errors)
        return out


def is_object(sch):
    return sch.get("type") == "object" or "properties" in sch or "additionalProperties" in sch


def prune(value, sch):
    if isinstance(value, dict) and is_object(sch):
        props = sch.get("properties", {})
        extra = sch.get("additionalProperties")
        keep = sch.get("x-kubernetes-preserve-unknown-fields", False)
        out = {}
        for key, sub in value.items():
            if key in props:
                if sub is None and not props[key].get("nullable"):
                    continue
                out[key] = prune(sub, props[key])
            elif isinstance(extra, dict):
                out[key] = prune(sub, extra)
            elif extra is True or keep:
                out[key] = copy.deepcopy(sub)
        return out
    if isinstance(value, list) and isinstance(sch.get("items"), dict):
        return [prune(v, sch["items"]) for v in value]
    return copy.deepcopy(value)


def default(value, sch):
    if isinstance(value, dict) and is_object(sch):
        props = sch.get("properties", {})
        for key, sub in props.items():
            if "default" in sub and value.get(key) is None and not (key in value and sub.get("nullable")):
                value[key] = prune(copy.deepcopy(sub["default"]), sub)
            if key in value:
                value[key] = default(value[key], sub)
        extra = sch.get("additionalProperties")
        if isinstance(extra, dict):
            for key in value:
                if key not in props:
                    value[key] = default(value[key], extra)
        return value
    if isinstance(value, list) and isinstance(sch.get("items"), dict):
        return [default(v, sch["items"]) for v in value]
    return value


def validate(value, sch, where, errors):
    t = sch.get("type")
    if value is None:
        if not sch.get("nullable"):
            errors.append("%s: Invalid value: \"null\": %s in body must be of type %s" % (where, where, t))
        return
    if t in TYPES and (not isinstance(value, TYPES[t]) or (t in ("integer", "number") and isinstance(value, bool))):
        errors.append("%s: Invalid value: %r: %s in body must be of type %s" % (where, value, where, t))
        return
    if "enum" in sch and value not in sch["enum"]:
        errors.append("%s: Unsupported value: %r: supported values: %s"
                      % (where, value, ", ".join('"%s"' % e for e in sch["enum"])))
    if isinstance(value, dict):
        props = sch.get("properties", {})
        extra = sch.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                validate(sub, props[key], where + "." + key, errors)
            elif isinstance(extra, dict):
                validate(sub, extra, where + "." + key, errors)
    elif isinstance(value, list) and isinstance(sch.get("items"), dict):
        for i, sub in enumerate(value):
            validate(sub, sch["items"], "%s[%d]" % (where, i), errors)


DEVICECONFIG = Crd(DEVICECONFIG_CRD)


def admit_deviceconfig(obj):
    return DEVICECONFIG.admit(obj)


# Where DeviceConfigs are written (api_watch's one write path), every
# stored object passes through the CRD as well.
try:
    import api_watch
    api_watch.ADMIT.append(admit_deviceconfig)
except ImportError:
    pass

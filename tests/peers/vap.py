"""A ValidatingAdmissionPolicy judged as the API server judges a request:
matchConstraints (resource and operation), variables evaluated on first
use, matchConditions (all true, or the policy does not apply; an error
denies, failurePolicy Fail), then each validation (false denies with its
message or messageExpression; an error denies).  CEL by cel.py."""

import cel


class Variables(dict):
    # Evaluated on first use, as the API server does; an error is raised
    # where the variable is read.
    def __init__(self, defs, env):
        super().__init__()
        self.defs = {v["name"]: v["expression"] for v in defs}
        self.env = env

    def __contains__(self, k):
        return k in self.defs

    def __getitem__(self, k):
        if not dict.__contains__(self, k):
            dict.__setitem__(self, k, cel.evaluate(self.defs[k], self.env))
        return dict.__getitem__(self, k)


def admit(spec, group, resource, op, user, obj, old, extra=None):
    """The policy spec's verdict on one request: (admitted, message)."""
    rules = spec["matchConstraints"]["resourceRules"]
    if not any(resource in r["resources"] and group in r.get("apiGroups", [""]) and op in r["operations"]
               for r in rules):
        return True, "not matched"
    name = (obj or old)["metadata"]["name"]
    env = {"object": obj, "oldObject": old, "params": None,
           "request": {"operation": op, "name": name, "namespace": "",
                       "userInfo": {"username": user, "extra": extra or {}}}}
    env["variables"] = Variables(spec.get("variables", []), env)
    for mc in spec.get("matchConditions", []):
        try:
            if not cel.evaluate(mc["expression"], env):
                return True, "condition %s false" % mc["name"]
        except cel.CelError as e:
            return False, "matchCondition %s: %s" % (mc["name"], e)
    for v in spec["validations"]:
        try:
            ok = cel.evaluate(v["expression"], env)
        except cel.CelError as e:
            return False, "error: %s" % e
        if ok is not True:
            msg = v.get("message", "")
            if "messageExpression" in v:
                try:
                    msg = cel.evaluate(v["messageExpression"], env)
                except cel.CelError as e:
                    msg = "messageExpression error: %s" % e
            return False, msg
    return True, "admitted"

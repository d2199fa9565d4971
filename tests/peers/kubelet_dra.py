#!/usr/bin/python3
"""A kubelet, as far as DRA drivers see one, for the test suite.

It watches ROOT/var/lib/kubelet/plugins_registry as kubelet's plugin
watcher does: connects to the driver's registration socket, calls GetInfo,
checks type, name and versions as kubelet 1.34-1.36 do (the first of the
driver's versions it knows), dials the endpoint and calls
NotifyRegistrationStatus.  Then it plays the scheduler and kubelet: reads
the ResourceSlice from the API server (tests/peers/apiserver.py), writes
allocated ResourceClaims there, and calls NodePrepareResources and
NodeUnprepareResources.  The message types are built here from kubelet's
field tables (k8s.io/kubelet pkg/apis/dra/v1 and pluginregistration/v1),
not from the driver's .proto files, so a wrong field number on either side
shows up.  Files the driver writes (CDI specs, device-metadata files, its
record) are checked field by field against what this file expects.

Run by tests/integration/dra.sh:
    kubelet_dra.py --amdvirt BIN --root ROOT --scenario NAME --expected FILE
                   --server URL --ca FILE --token TOKEN --kubeconfig FILE [--hives]
Prints TAP-style lines; exits 1 on any failure.
"""

import argparse
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import grpc
import peerlib
from peerlib import BOOL, FAILURES, MSG, OPT, REP, STRING, build_messages, check, finish

DRIVER = "gpu.amdvirt.io"
NODE = "node1"

# kubelet's tables: (message, [(field, number, type, label, message type)]).
DRA = [
    ("NodePrepareResourcesRequest", [("claims", 1, MSG, REP, "Claim")]),
    ("NodePrepareResourcesResponse", [("claims", 1, MSG, REP,
                                       "NodePrepareResourcesResponse.ClaimsEntry")]),
    ("NodePrepareResourceResponse", [("devices", 1, MSG, REP, "Device"),
                                     ("error", 2, STRING, OPT, None)]),
    ("Device", [("request_names", 1, STRING, REP, None), ("pool_name", 2, STRING, OPT, None),
                ("device_name", 3, STRING, OPT, None), ("cdi_device_ids", 4, STRING, REP, None),
                ("share_id", 5, STRING, OPT, None)]),
    ("NodeUnprepareResourcesRequest", [("claims", 1, MSG, REP, "Claim")]),
    ("NodeUnprepareResourcesResponse", [("claims", 1, MSG, REP,
                                         "NodeUnprepareResourcesResponse.ClaimsEntry")]),
    ("NodeUnprepareResourceResponse", [("error", 1, STRING, OPT, None)]),
    ("Claim", [("namespace", 1, STRING, OPT, None), ("uid", 2, STRING, OPT, None),
               ("name", 3, STRING, OPT, None)]),
]
MAPS = {"NodePrepareResourcesResponse": [("ClaimsEntry", MSG, "NodePrepareResourceResponse")],
        "NodeUnprepareResourcesResponse": [("ClaimsEntry", MSG, "NodeUnprepareResourceResponse")]}
REG = [
    ("InfoRequest", []),
    ("PluginInfo", [("type", 1, STRING, OPT, None), ("name", 2, STRING, OPT, None),
                    ("endpoint", 3, STRING, OPT, None),
                    ("supported_versions", 4, STRING, REP, None)]),
    ("RegistrationStatus", [("plugin_registered", 1, BOOL, OPT, None),
                            ("error", 2, STRING, OPT, None)]),
    ("RegistrationStatusResponse", []),
]


M = build_messages("k8s.io.kubelet.pkg.apis.dra.v1", DRA, MAPS)
R = build_messages("pluginregistration", REG)


def wait_for(pred, timeout):
    return peerlib.wait_for(pred, timeout, 0.02)

# --- the API server, as an administrator -------------------------------------------


class Api:
    def __init__(self, server, ca, token):
        self.server = server
        self.ctx = ssl.create_default_context(cafile=ca)
        self.token = token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def slices(self):
        code, obj = self.call("GET", "/apis/resource.k8s.io/v1/resourceslices"
                                     "?fieldSelector=spec.nodeName%3D" + NODE)
        return obj["items"] if code == 200 else None

    def make_claim(self, ns, name, results, pod_claim=None):
        meta = {"name": name, "namespace": ns}
        if pod_claim:
            meta["annotations"] = {"resource.kubernetes.io/pod-claim-name": pod_claim}
        reqs = sorted({r[0] for r in results})
        claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": meta,
                 "spec": {"devices": {"requests": [
                     {"name": r, "exactly": {"deviceClassName": DRIVER}} for r in reqs]}}}
        code, obj = self.call("POST", "/apis/resource.k8s.io/v1/namespaces/%s/resourceclaims" % ns,
                              claim)
        assert code == 201, obj
        # The scheduler's allocation, through the status subresource.
        obj["status"] = {"allocation": {"devices": {"results": [
            {"request": r, "driver": drv, "pool": pool, "device": dev}
            for r, drv, pool, dev in results]}}}
        code, obj = self.call("PUT", "/apis/resource.k8s.io/v1/namespaces/%s/resourceclaims/%s/status"
                              % (ns, name), obj)
        assert code == 200, obj
        return obj

# --- kubelet ------------------------------------------------------------------------


class Kubelet:
    def __init__(self, root):
        self.root = root
        self.reg_dir = os.path.join(root, "var/lib/kubelet/plugins_registry")
        self.reg_sock = os.path.join(self.reg_dir, DRIVER + "-reg.sock")
        self.channel = None
        self.info = None
        self.version = None

    def register(self, timeout=10):
        """kubelet's plugin watcher and DRA registration handler.  A socket
        left by a crashed driver refuses connections until the next one
        replaces it: kubelet's watcher waits for that file event, this
        retries."""
        end = time.monotonic() + timeout
        while True:
            err = self._register(max(end - time.monotonic(), 0.1))
            if err is None or "UNAVAILABLE" not in err or time.monotonic() > end:
                return err
            time.sleep(0.05)

    def _register(self, timeout):
        if not wait_for(lambda: os.path.exists(self.reg_sock), timeout):
            return "no registration socket %s" % self.reg_sock
        ch = grpc.insecure_channel("unix:" + self.reg_sock,
                                   options=[("grpc.use_local_subchannel_pool", 1)])
        try:
            info = ch.unary_unary("/pluginregistration.Registration/GetInfo",
                                  request_serializer=R["InfoRequest"].SerializeToString,
                                  response_deserializer=R["PluginInfo"].FromString)(
                                      R["InfoRequest"](), timeout=5)
            self.info = info
            known = ["v1.DRAPlugin", "v1beta1.DRAPlugin"]
            picked = next((v for v in info.supported_versions if v in known), None)
            error = ""
            if info.type != "DRAPlugin":
                error = "type %s" % info.type
            elif picked is None:
                error = "none of services supported by the plugin are supported by the kubelet"
            self.version = picked
            if not error:
                if self.channel:
                    self.channel.close()
                self.channel = grpc.insecure_channel(
                    "unix:" + os.path.join(self.root, info.endpoint.lstrip("/")),
                    options=[("grpc.use_local_subchannel_pool", 1)])
                try:
                    grpc.channel_ready_future(self.channel).result(timeout=5)
                except grpc.FutureTimeoutError:
                    error = "cannot dial %s" % info.endpoint
            ch.unary_unary("/pluginregistration.Registration/NotifyRegistrationStatus",
                           request_serializer=R["RegistrationStatus"].SerializeToString,
                           response_deserializer=R["RegistrationStatusResponse"].FromString)(
                               R["RegistrationStatus"](plugin_registered=not error, error=error),
                               timeout=5)
            return error or None
        except grpc.RpcError as e:
            return "registration: %s %s" % (e.code().name, e.details())
        finally:
            ch.close()

    def _call(self, method, req, resp, version=None):
        pkg = (version or self.version or "v1.DRAPlugin").split(".")[0]
        path = "/k8s.io.kubelet.pkg.apis.dra.%s.DRAPlugin/%s" % (pkg, method)
        return self.channel.unary_unary(path, request_serializer=type(req).SerializeToString,
                                        response_deserializer=M[resp].FromString)(req, timeout=45)

    def prepare(self, claims, version=None):
        req = M["NodePrepareResourcesRequest"]()
        for ns, uid, name in claims:
            req.claims.add(namespace=ns, uid=uid, name=name)
        return self._call("NodePrepareResources", req, "NodePrepareResourcesResponse", version)

    def unprepare(self, claims, version=None):
        req = M["NodeUnprepareResourcesRequest"]()
        for ns, uid, name in claims:
            req.claims.add(namespace=ns, uid=uid, name=name)
        return self._call("NodeUnprepareResources", req, "NodeUnprepareResourcesResponse", version)

    def close(self):
        if self.channel:
            self.channel.close()
            self.channel = None

# --- the daemon -----------------------------------------------------------------------


class Daemon(peerlib.Daemon):
    def __init__(self, args, extra=(), by_config=False):
        """by_config: DRA asked by the DeviceConfig's amdvirt/allocation
        annotation (the form a cluster keeps), not by --dra."""
        how = ["--dra"]
        if by_config:
            path = os.path.join(args.tmp, "dra-dc-%s.json" % args.scenario)
            with open(path, "w") as f:
                json.dump({"apiVersion": "amd.com/v1alpha1", "kind": "DeviceConfig",
                           "metadata": {"name": "gpus", "namespace": "kube-amd-gpu",
                                        "annotations": {"amdvirt/allocation": "dra"}},
                           "spec": {"driver": {"enable": False}}}, f)
            how = ["--config", path]
        super().__init__(
            [args.amdvirt, "--root", args.root, "daemon"] + how + ["--kubeconfig", args.kubeconfig,
             "--node-name", NODE, "--resync", "3600"] + list(extra),
            os.path.join(args.tmp, "dra-%s.log" % args.scenario))

    def term(self, timeout=10):
        return super().term(timeout)

    def crash(self):
        self.proc.kill()
        self.proc.wait()

# --- what the host should give ------------------------------------------------------------


def dev_name(bdf, vf):
    return ("vf-" if vf else "pf-") + bdf.replace(":", "-").replace(".", "-")


def expected_devices(root, expect, model):
    """name -> (group, expectation) from tests/expected/plugin/NAME.json."""
    vf = model == "vf-passthrough"
    return {dev_name(e["bdfs"][0], vf): (g, e) for g, e in expect["devices"].items() if e["healthy"]}


def pcie_root(root, bdf):
    target = os.readlink(os.path.join(root, "sys/bus/pci/devices", bdf))
    parts = target.split("/")
    return parts[parts.index("devices") + 1]


def attr(dev, name):
    a = dev["attributes"].get(name)
    return None if a is None else next(iter(a.values()))


def check_slice(sc, root, api, expect, want, hive_ids):
    items = api.slices()
    check("%s: one ResourceSlice for the node" % sc, items is not None and len(items) == 1, items)
    if not items:
        return None
    s = items[0]
    spec = s["spec"]
    check("%s: slice driver, nodeName, pool" % sc,
          spec["driver"] == DRIVER and spec["nodeName"] == NODE and
          spec["pool"]["name"] == NODE and spec["pool"]["resourceSliceCount"] == 1 and
          spec["pool"]["generation"] >= 1, spec["pool"])
    owners = s["metadata"].get("ownerReferences", [])
    check("%s: slice owned by the Node" % sc,
          owners == [{"apiVersion": "v1", "kind": "Node", "name": NODE, "uid": "node1-uid",
                      "controller": True}], owners)
    got = {d["name"]: d for d in spec["devices"]}
    check("%s: slice devices are the device plugin's healthy groups" % sc,
          sorted(got) == sorted(want), "%s vs %s" % (sorted(got), sorted(want)))
    bad = []
    vf = expect["mode"] == "vf-passthrough"
    for name, (group, e) in want.items():
        d = got.get(name)
        if d is None:
            continue
        bdf = e["bdfs"][0]
        wanted = {"type": "vfio", "pciAddr": bdf, "resource.kubernetes.io/pciBusID": bdf,
                  "resource.kubernetes.io/pcieRoot": pcie_root(root, bdf),
                  "vendorID": "0x1002", "iommuGroup": group, "isVF": vf,
                  "mode": expect["mode"]}
        if e["numa"] is not None and e["numa"] >= 0:
            wanted["numaNode"] = e["numa"]
        if e.get("hive"):
            wanted["hive"] = e["hive"]
            if hive_ids:
                wanted["xgmiHiveID"] = hive_ids[e["hive"]]
        for k, v in wanted.items():
            if attr(d, k) != v:
                bad.append((name, k, attr(d, k), v))
        kinds = {k: next(iter(v)) for k, v in d["attributes"].items()}
        if kinds.get("numaNode", "int") != "int" or kinds.get("isVF") != "bool":
            bad.append((name, "kinds", kinds))
        if vf and "parentPF" not in d["attributes"]:
            bad.append((name, "parentPF missing"))
    check("%s: slice attributes per device" % sc, not bad, bad)
    return s


def read_json(path):
    with open(path) as f:
        return json.load(f)


def check_prepared(sc, root, resp, claim, results, slice_devs, what):
    """The answer, the CDI specs and the metadata files, field by field."""
    uid = claim["metadata"]["uid"]
    ns, name = claim["metadata"]["namespace"], claim["metadata"]["name"]
    one = resp.claims.get(uid)
    check("%s: %s: an entry for the claim, no error" % (sc, what),
          one is not None and one.error == "", one)
    if one is None or one.error:
        return
    got = [(list(d.request_names), d.pool_name, d.device_name) for d in one.devices]
    wantd = [([r], NODE, dev) for r, _, _, dev in results]
    check("%s: %s: devices with request, pool and name" % (sc, what), got == wantd,
          "%s vs %s" % (got, wantd))
    cdi_dir = os.path.join(root, "var/run/cdi")
    spec_path = os.path.join(cdi_dir, "%s-vfio_%s.json" % (DRIVER, uid))
    check("%s: %s: the claim's CDI spec exists" % (sc, what), os.path.exists(spec_path))
    if not os.path.exists(spec_path):
        return
    spec = read_json(spec_path)
    top = [{"path": "/dev/vfio/vfio", "permissions": "rwm"}]
    if os.path.exists(os.path.join(root, "dev/iommu")):
        top.append({"path": "/dev/iommu", "permissions": "rwm"})
    devs = []
    for r, _, _, dev in results:
        group = slice_devs[dev][0]
        nodes = [{"path": "/dev/vfio/" + group, "permissions": "rwm"}]
        for bdf in slice_devs[dev][1]["bdfs"]:
            vdir = os.path.join(root, "sys/bus/pci/devices", bdf, "vfio-dev")
            if os.path.isdir(vdir):
                nodes += [{"path": "/dev/vfio/devices/" + n, "permissions": "rwm"}
                          for n in sorted(os.listdir(vdir)) if n.startswith("vfio")]
        devs.append({"name": "%s-%s" % (uid, dev), "containerEdits": {"deviceNodes": nodes}})
    want_spec = {"cdiVersion": "0.5.0", "kind": DRIVER + "/vfio",
                 "containerEdits": {"deviceNodes": top}, "devices": devs}
    check("%s: %s: CDI spec field by field" % (sc, what), spec == want_spec,
          "%s\nvs\n%s" % (json.dumps(spec), json.dumps(want_spec)))
    # One metadata file (and its CDI spec) per request; its CDI ID goes
    # with the request's first device.
    pod_claim = claim["metadata"].get("annotations", {}).get("resource.kubernetes.io/pod-claim-name")
    ids = {d.device_name: list(d.cdi_device_ids) for d in one.devices}
    first = {}
    for r, _, _, dev in results:
        first.setdefault(r, dev)
    for r, dev in first.items():
        mfile = "/var/lib/kubelet/plugins/%s/dra-device-metadata/%s_%s/%s/metadata.json" % (
            DRIVER, ns, name, r)
        mspec_path = os.path.join(cdi_dir, "%s_metadata_%s_%s.json" % (DRIVER, uid, r))
        meta_ok = os.path.exists(os.path.join(root, mfile.lstrip("/"))) and os.path.exists(mspec_path)
        check("%s: %s: request %s: metadata file and its CDI spec exist" % (sc, what, r), meta_ok)
        if not meta_ok:
            continue
        cpath = ("/var/run/kubernetes.io/dra-device-attributes/" +
                 ("resourceclaimtemplates/%s" % pod_claim if pod_claim else "resourceclaims/%s" % name) +
                 "/%s/%s-metadata.json" % (r, DRIVER))
        want_mspec = {"cdiVersion": "0.5.0", "kind": DRIVER + "/metadata", "devices": [
            {"name": "%s_%s" % (uid, r), "containerEdits": {"mounts": [
                {"hostPath": mfile, "containerPath": cpath, "options": ["ro", "bind"]}]}}]}
        got_mspec = read_json(mspec_path)
        check("%s: %s: request %s: metadata CDI spec field by field" % (sc, what, r),
              got_mspec == want_mspec, "%s\nvs\n%s" % (json.dumps(got_mspec), json.dumps(want_mspec)))
        meta = read_json(os.path.join(root, mfile.lstrip("/")))
        rdevs = meta.get("requests", [{}])[0].get("devices", [])
        want_meta = {"kind": "DeviceMetadata", "apiVersion": "metadata.resource.k8s.io/v1alpha1",
                     "metadata": {"name": name, "namespace": ns, "uid": uid, "generation": 1},
                     "requests": [{"name": r, "devices": rdevs}]}
        if pod_claim:
            want_meta["podClaimName"] = pod_claim
        check("%s: %s: request %s: metadata file's object" % (sc, what, r), meta == want_meta,
              "%s\nvs\n%s" % (json.dumps(meta), json.dumps(want_meta)))
        names = [d["name"] for d in rdevs]
        wantn = [dev for rr, _, _, dev in results if rr == r]
        bdfs = [d["attributes"].get("resource.kubernetes.io/pciBusID", {}).get("string")
                for d in rdevs]
        quals = all(all("/" in k for k in d["attributes"]) for d in rdevs)
        check("%s: %s: request %s: metadata devices, their PCI address (what KubeVirt reads) "
              "and qualified attributes" % (sc, what, r),
              names == wantn and bdfs == [slice_devs[n][1]["bdfs"][0] for n in wantn] and quals and
              all(d["driver"] == DRIVER and d["pool"] == NODE for d in rdevs), rdevs)
        check("%s: %s: request %s: its metadata CDI ID on its first device" % (sc, what, r),
              ids.get(dev, [None])[-1] == "%s/metadata=%s_%s" % (DRIVER, uid, r), ids)
    for r, _, _, dev in results:
        if ids.get(dev, [None])[0] != "%s/vfio=%s-%s" % (DRIVER, uid, dev):
            check("%s: %s: the VFIO CDI ID of %s" % (sc, what, dev), False, ids)


def claim_files(root, claim):
    uid = claim["metadata"]["uid"]
    out = [os.path.join(root, "var/run/cdi", n) for n in os.listdir(os.path.join(root, "var/run/cdi"))
           if uid in n] if os.path.isdir(os.path.join(root, "var/run/cdi")) else []
    mdir = os.path.join(root, "var/lib/kubelet/plugins", DRIVER, "dra-device-metadata",
                        "%s_%s" % (claim["metadata"]["namespace"], claim["metadata"]["name"]))
    if os.path.exists(mdir):
        out.append(mdir)
    return out


def dra_checks(args):
    """amdvirt check --json's dra.prepared results: subject -> (status, message)."""
    p = subprocess.run([args.amdvirt, "--root", args.root, "check", "--json"], capture_output=True, text=True)
    try:
        checks = json.loads(p.stdout)["checks"]
    except (ValueError, KeyError):
        return {"error": p.stderr}
    return {c["subject"]: (c["status"], c["message"]) for c in checks if c["id"] == "dra.prepared"}


def record(root):
    path = os.path.join(root, "var/lib/amdvirt/dra-claims.json")
    return read_json(path) if os.path.exists(path) else None


def run(args):
    sc = args.scenario
    root = os.path.abspath(args.root)
    args.root = root
    with open(args.expected) as f:
        expect = json.load(f)
    api = Api(args.server, args.ca, args.token)
    want = expected_devices(root, expect, expect["mode"])
    hive_ids = dict(zip(("h0", "h1"), args.hive_ids.split(","))) if args.hive_ids else None
    k = Kubelet(root)
    d = Daemon(args)
    with peerlib.driving(sc, d, k.close):
        body(args, sc, root, api, k, d, expect, want, hive_ids)


def body(args, sc, root, api, k, d, expect, want, hive_ids):
    t0 = time.monotonic()
    err = k.register()
    check("%s: registers through plugins_registry (%s)" % (sc, err or "ok"), err is None, d.text())
    if err:
        return
    info = k.info
    check("%s: GetInfo: DRAPlugin %s at its dra.sock, v1 first" % (sc, DRIVER),
          info.type == "DRAPlugin" and info.name == DRIVER and
          info.endpoint == "/var/lib/kubelet/plugins/%s/dra.sock" % DRIVER and
          list(info.supported_versions) == ["v1.DRAPlugin", "v1beta1.DRAPlugin"], info)
    for sock in (k.reg_sock, os.path.join(root, info.endpoint.lstrip("/"))):
        mode = os.stat(sock).st_mode & 0o777
        check("%s: %s mode 0600" % (sc, os.path.basename(sock)), mode == 0o600, oct(mode))
    slices = wait_for(lambda: api.slices(), 10)
    check("%s: the slice is published (%.0f ms after start)" % (sc, (time.monotonic() - t0) * 1000),
          bool(slices))
    s = check_slice(sc, root, api, expect, want, hive_ids)
    if s is None:
        return
    gen0 = s["spec"]["pool"]["generation"]
    names = sorted(want, key=lambda n: int(want[n][0]))

    # --- claims ---
    ns = "vms"
    if args.hives:
        by_hive = {}
        for n in names:
            by_hive.setdefault(want[n][1]["hive"], []).append(n)
        # The scheduler's matchAttribute on the hive: two of h0, four of h1.
        two = by_hive["h0"][:2]
        four = by_hive["h1"][:4]
        c1 = api.make_claim(ns, "vm1-gpus-ab12c", [("gpu0", DRIVER, NODE, two[0]),
                                                   ("gpu1", DRIVER, NODE, two[1])], pod_claim="gpus")
        r1 = [("gpu0", DRIVER, NODE, two[0]), ("gpu1", DRIVER, NODE, two[1])]
        c2 = api.make_claim(ns, "hive4", [("gpu%d" % i, DRIVER, NODE, n) for i, n in enumerate(four)])
        r2 = [("gpu%d" % i, DRIVER, NODE, n) for i, n in enumerate(four)]
    else:
        c1 = api.make_claim(ns, "vm1-gpu-x7k2p", [("gpu", DRIVER, NODE, names[0])], pod_claim="gpu")
        r1 = [("gpu", DRIVER, NODE, names[0])]
        # Two devices for one request (count: 2): one metadata file lists both.
        c2 = api.make_claim(ns, "pair", [("gpus", DRIVER, NODE, names[1]), ("gpus", DRIVER, NODE, names[2])])
        r2 = [("gpus", DRIVER, NODE, names[1]), ("gpus", DRIVER, NODE, names[2])]
    ref1 = (ns, c1["metadata"]["uid"], c1["metadata"]["name"])
    ref2 = (ns, c2["metadata"]["uid"], c2["metadata"]["name"])
    t = time.monotonic()
    resp = k.prepare([ref1, ref2])
    dt = (time.monotonic() - t) * 1000
    check("%s: Prepare of two claims in one call (%.1f ms)" % (sc, dt), len(resp.claims) == 2, resp)
    check_prepared(sc, root, resp, c1, r1, want, "claim 1")
    check_prepared(sc, root, resp, c2, r2, want, "claim 2")
    rec = record(root)
    check("%s: the prepared claims are on record" % sc,
          rec is not None and sorted(c["uid"] for c in rec["claims"]) ==
          sorted([ref1[1], ref2[1]]), rec)
    check("%s: the published slice is on record" % sc,
          rec is not None and rec.get("slice") == {
              "name": s["metadata"]["name"], "pool": NODE, "generation": gen0,
              "devices": [dd["name"] for dd in s["spec"]["devices"]]}, rec and rec.get("slice"))
    p = subprocess.run([args.amdvirt, "--root", root, "list", "--json"], capture_output=True, text=True)
    dra = json.loads(p.stdout).get("dra", {}) if p.returncode == 0 else {}
    check("%s: list --json shows the slice and the prepared claims with their devices" % sc,
          dra.get("driver") == DRIVER and dra.get("slice", {}).get("name") == s["metadata"]["name"] and
          sorted((c["uid"], tuple((dd["request"], dd["device"], dd["bdf"]) for dd in c["devices"]))
                 for c in dra.get("claims", [])) ==
          sorted((c["metadata"]["uid"], tuple((r, dev, want[dev][1]["bdfs"][0]) for r, _, _, dev in rr))
                 for c, rr in ((c1, r1), (c2, r2))), dra or p.stderr)
    prepared = {want[dev][1]["bdfs"][0]: dev for _, _, _, dev in r1 + r2}
    got = dra_checks(args)
    check("%s: check: dra.prepared passes for each prepared device" % sc,
          sorted(got) == sorted(prepared) and all(v[0] == "pass" for v in got.values()), got)
    spec1 = os.path.join(root, "var/run/cdi/%s-vfio_%s.json" % (DRIVER, ref1[1]))
    before = os.stat(spec1).st_mtime_ns
    again = k.prepare([ref1])
    check("%s: a repeated Prepare gets the same answer" % sc,
          again.claims[ref1[1]] == resp.claims[ref1[1]], again)
    check("%s: a repeated Prepare writes nothing again" % sc, os.stat(spec1).st_mtime_ns == before)

    # Refusals: per claim, never the whole call.
    bad = k.prepare([(ns, "00000000-0000-4000-8000-000000000000", c1["metadata"]["name"]),
                     (ns, "11111111-0000-4000-8000-000000000000", "no-such-claim"),
                     (ns, "x/../y", "evil")])
    errs = {u: c.error for u, c in bad.claims.items()}
    check("%s: Prepare with a stale uid: an error naming both uids" % sc,
          "not 00000000-0000-4000-8000-000000000000" in errs.get("00000000-0000-4000-8000-000000000000", ""),
          errs)
    check("%s: Prepare of a missing claim: an error naming it" % sc,
          "no-such-claim" in errs.get("11111111-0000-4000-8000-000000000000", ""), errs)
    check("%s: Prepare of a reference that names no claim is refused without a request" % sc,
          "does not name a ResourceClaim" in errs.get("x/../y", ""), errs)
    foreign = api.make_claim(ns, "foreign", [("gpu", "gpu.amd.com", NODE, "gpu-0")])
    fr = k.prepare([(ns, foreign["metadata"]["uid"], "foreign")])
    check("%s: a claim with no device of this driver is refused" % sc,
          "allocates no device of " + DRIVER in fr.claims[foreign["metadata"]["uid"]].error, fr)
    gone = api.make_claim(ns, "gone", [("gpu", DRIVER, NODE, "vf-0000-ff-1f-7")])
    gr = k.prepare([(ns, gone["metadata"]["uid"], "gone")])
    check("%s: a device not on the host is refused" % sc,
          "not ready for a VM" in gr.claims[gone["metadata"]["uid"]].error or
          "not on the host" in gr.claims[gone["metadata"]["uid"]].error, gr)

    # Requests kubelet would never send: refused as a whole, the daemon serves on.
    junk = k.channel.unary_unary("/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources",
                                 request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        junk(b"\xff\xff\xff\xff\x0f", timeout=5)
        check("%s: an undecodable Prepare is refused" % sc, False)
    except grpc.RpcError as e:
        check("%s: an undecodable Prepare: INVALID_ARGUMENT" % sc,
              e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code())
    try:
        k._call("NodeWatchResources", M["NodePrepareResourcesRequest"](), "NodePrepareResourcesResponse")
        check("%s: an unknown method is refused" % sc, False)
    except grpc.RpcError as e:
        check("%s: an unknown method: UNIMPLEMENTED" % sc, e.code() == grpc.StatusCode.UNIMPLEMENTED, e.code())
    empty = k.prepare([])
    check("%s: a Prepare of no claims answers an empty map" % sc, len(empty.claims) == 0, empty)
    many = k.prepare([(ns, "%08d-0000-4000-8000-000000000000" % i, "missing-%d" % i) for i in range(50)])
    check("%s: 50 claims in one call get 50 entries" % sc,
          len(many.claims) == 50 and all(c.error for c in many.claims.values()), len(many.claims))
    check("%s: the daemon still serves" % sc, d.alive() and k.prepare([ref1]).claims[ref1[1]].error == "")

    # A VF leaving vfio-pci: the slice drops it (generation + 1), and
    # Prepare refuses it (driver management is off).
    victim = r2[-1][3]
    bdf = want[victim][1]["bdfs"][0]
    link = os.path.join(root, "sys/bus/pci/devices", bdf, "driver")
    target = os.readlink(link)
    os.unlink(link)
    s2 = wait_for(lambda: next((x for x in (api.slices() or [])
                                if victim not in [dd["name"] for dd in x["spec"]["devices"]]), None), 5)
    check("%s: a VF leaving vfio-pci leaves the slice" % sc, s2 is not None)
    if s2:
        check("%s: ... with the pool's generation + 1 and the rest unchanged" % sc,
              s2["spec"]["pool"]["generation"] == gen0 + 1 and
              sorted(dd["name"] for dd in s2["spec"]["devices"]) == sorted(n for n in want if n != victim),
              s2["spec"]["pool"])
    got = dra_checks(args)
    check("%s: check: dra.prepared fails for the prepared device that left vfio-pci, naming its claim" % sc,
          got.get(bdf, ("", ""))[0] == "fail" and c2["metadata"]["name"] in got[bdf][1] and
          sum(v[0] == "fail" for v in got.values()) == 1, got)
    off = api.make_claim(ns, "off-vfio", [("gpu", DRIVER, NODE, victim)])
    orr = k.prepare([(ns, off["metadata"]["uid"], "off-vfio")])
    check("%s: Prepare of a device off vfio-pci is refused, saying why" % sc,
          "not vfio-pci" in orr.claims[off["metadata"]["uid"]].error, orr)
    os.symlink(target, link)
    s3 = wait_for(lambda: next((x for x in (api.slices() or [])
                                if victim in [dd["name"] for dd in x["spec"]["devices"]]), None), 5)
    check("%s: binding it back returns it to the slice (generation + 2)" % sc,
          s3 is not None and s3["spec"]["pool"]["generation"] == gen0 + 2,
          s3 and s3["spec"]["pool"])

    # kubelet starts again: it deletes the node's slices, then registers
    # the driver anew; the slice comes back.
    code, _ = api.call("DELETE", "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3D" + NODE)
    check("%s: (kubelet wipes the node's slices)" % sc, code == 200 and api.slices() == [])
    err = k.register()
    back = wait_for(lambda: api.slices(), 5)
    check("%s: re-registered, the slice is created again" % sc, err is None and bool(back), err)
    if back:
        check("%s: ... with all healthy devices" % sc,
              sorted(dd["name"] for dd in back[0]["spec"]["devices"]) == sorted(want))

    # A crash between Prepare and Unprepare: the record lets the next
    # daemon unprepare.
    d.crash()
    check("%s: files stay while the daemon is down" % sc, all(claim_files(root, c1)))
    # It comes back asked for DRA by the DeviceConfig rather than --dra.
    d2 = Daemon(args, by_config=True)
    err = k.register()
    check("%s: the restarted daemon, DRA from the DeviceConfig's annotation, registers" % sc, err is None, err)
    check("%s: ... and says why it serves DRA" % sc,
          wait_for(lambda: "asks for allocation dra: serving the DRA driver" in d2.text(), 5), d2.text()[-500:])
    check("%s: ... and serves no device plugin" % sc,
          not any(n.startswith("amdvirt-") for n in os.listdir(os.path.join(args.root, "var/lib/kubelet/device-plugins"))))
    again = k.prepare([ref2])
    check("%s: after the restart, Prepare of a prepared claim answers from the record" % sc,
          again.claims[ref2[1]] == resp.claims[ref2[1]], again)
    un = k.unprepare([ref1, ref2, (ns, "22222222-0000-4000-8000-000000000000", "never-prepared")])
    check("%s: Unprepare: an empty entry for every claim, the unknown one too" % sc,
          sorted(un.claims) == sorted([ref1[1], ref2[1], "22222222-0000-4000-8000-000000000000"]) and
          all(c.error == "" for c in un.claims.values()), un)
    left = claim_files(root, c1) + claim_files(root, c2)
    check("%s: Unprepare removes the CDI specs and metadata files" % sc, not left, left)
    rec = record(root)
    check("%s: the record is empty" % sc, rec is not None and rec["claims"] == [], rec)
    got = dra_checks(args)
    check("%s: check: dra.prepared says no claim is prepared" % sc,
          list(got) == ["host"] and got["host"][0] == "pass", got)
    un = k.unprepare([ref1])
    check("%s: a repeated Unprepare succeeds" % sc, un.claims[ref1[1]].error == "", un)
    un = k.unprepare([ref1], version="v1beta1.DRAPlugin")
    check("%s: the v1beta1 service answers too" % sc, un.claims[ref1[1]].error == "", un)

    # SIGTERM: the registration socket goes, the slice stays (kubelet
    # removes it 30 s after the driver is gone, a quick restart keeps it).
    rc = d2.term()
    check("%s: daemon exits 0 on SIGTERM" % sc, rc == 0, rc)
    check("%s: sockets removed on exit" % sc,
          not os.path.exists(k.reg_sock) and
          not os.path.exists(os.path.join(root, info.endpoint.lstrip("/"))))
    check("%s: the slice is not deleted on exit" % sc, len(api.slices() or []) == 1)
    if FAILURES:
        sys.stderr.write("--- restarted daemon log ---\n%s" % d2.text())


def main():
    ap = argparse.ArgumentParser()
    for a in ("--amdvirt", "--root", "--scenario", "--expected", "--server", "--ca", "--token",
              "--kubeconfig"):
        ap.add_argument(a, required=True)
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--hives", action="store_true")
    ap.add_argument("--hive-ids", help="the xgmi hive ids of h0,h1")
    args = ap.parse_args()
    run(args)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A kubelet, as far as device plugins see one, for the test suite.

It serves v1beta1.Registration on kubelet.sock, dials the plugin back from
inside Register (as kubelet's ManagerImpl does), keeps a ListAndWatch stream
open and then drives the plugin the way kubelet and KubeVirt would.  The
message types are built here from kubelet's own field tables, not from the
plugin's .proto, so a wrong field number on either side shows up.

Run by tests/integration/plugin.sh:
    kubelet.py --amdvirt BIN --root ROOT --scenario NAME [--hives] [--restart]
               [--hostile] [--late-kubelet] [--path-authority]
Prints TAP-style "ok - ..." / "not ok - ..." lines; exits 1 on any failure.
Needs Debian's python3-grpcio and python3-protobuf (/usr/bin/python3).
"""

import argparse
import json
import os
import queue
import socket
import struct
import threading
import time
from concurrent import futures

import grpc
import h2flood as H
import peerlib
from peerlib import BOOL, INT32, INT64, MSG, OPT, REP, STRING
from peerlib import build_messages, check, finish, wait_for

# --- the v1beta1 messages, from kubelet's api.proto tables -------------------

MESSAGES = [
    ("DevicePluginOptions", [("pre_start_required", 1, BOOL, OPT, None),
                             ("get_preferred_allocation_available", 2, BOOL, OPT, None)]),
    ("RegisterRequest", [("version", 1, STRING, OPT, None), ("endpoint", 2, STRING, OPT, None),
                         ("resource_name", 3, STRING, OPT, None),
                         ("options", 4, MSG, OPT, "DevicePluginOptions")]),
    ("Empty", []),
    ("ListAndWatchResponse", [("devices", 1, MSG, REP, "Device")]),
    ("TopologyInfo", [("nodes", 1, MSG, REP, "NUMANode")]),
    ("NUMANode", [("ID", 1, INT64, OPT, None)]),
    ("Device", [("ID", 1, STRING, OPT, None), ("health", 2, STRING, OPT, None),
                ("topology", 3, MSG, OPT, "TopologyInfo")]),
    ("PreStartContainerRequest", [("devices_ids", 1, STRING, REP, None)]),
    ("PreStartContainerResponse", []),
    ("PreferredAllocationRequest", [("container_requests", 1, MSG, REP,
                                     "ContainerPreferredAllocationRequest")]),
    ("ContainerPreferredAllocationRequest", [("available_deviceIDs", 1, STRING, REP, None),
                                             ("must_include_deviceIDs", 2, STRING, REP, None),
                                             ("allocation_size", 3, INT32, OPT, None)]),
    ("PreferredAllocationResponse", [("container_responses", 1, MSG, REP,
                                      "ContainerPreferredAllocationResponse")]),
    ("ContainerPreferredAllocationResponse", [("deviceIDs", 1, STRING, REP, None)]),
    ("AllocateRequest", [("container_requests", 1, MSG, REP, "ContainerAllocateRequest")]),
    ("ContainerAllocateRequest", [("devices_ids", 1, STRING, REP, None)]),
    ("AllocateResponse", [("container_responses", 1, MSG, REP, "ContainerAllocateResponse")]),
    ("ContainerAllocateResponse", [("envs", 1, MSG, REP, "ContainerAllocateResponse.EnvsEntry"),
                                   ("mounts", 2, MSG, REP, "Mount"),
                                   ("devices", 3, MSG, REP, "DeviceSpec"),
                                   ("annotations", 4, MSG, REP,
                                    "ContainerAllocateResponse.AnnotationsEntry"),
                                   ("cdi_devices", 5, MSG, REP, "CDIDevice")]),
    ("Mount", [("container_path", 1, STRING, OPT, None), ("host_path", 2, STRING, OPT, None),
               ("read_only", 3, BOOL, OPT, None)]),
    ("DeviceSpec", [("container_path", 1, STRING, OPT, None), ("host_path", 2, STRING, OPT, None),
                    ("permissions", 3, STRING, OPT, None)]),
    ("CDIDevice", [("name", 1, STRING, OPT, None)]),
]


M = build_messages("v1beta1", MESSAGES, {"ContainerAllocateResponse": [
    ("EnvsEntry", STRING, None), ("AnnotationsEntry", STRING, None)]})
DP = "/v1beta1.DevicePlugin/"

# --- the kubelet side ----------------------------------------------------------


class Kubelet:
    """Registration server plus the plugin client kubelet keeps per resource."""

    def __init__(self, plugin_dir, authority=None):
        self.dir = plugin_dir
        # Kubelets before 1.26 dial the socket path as the target, and
        # grpc-go then sends that path as :authority.
        self.authority = authority
        self.registrations = queue.Queue()
        self.updates = queue.Queue()
        self.last = None
        self.server = None
        self.channel = None
        self.stream = None
        self.stream_end = queue.Queue()
        self.options = None

    def start(self):
        path = os.path.join(self.dir, "kubelet.sock")
        if os.path.exists(path):
            os.unlink(path)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler("v1beta1.Registration", {
            "Register": grpc.unary_unary_rpc_method_handler(
                self._register, request_deserializer=M["RegisterRequest"].FromString,
                response_serializer=M["Empty"].SerializeToString)})
        self.server.add_generic_rpc_handlers((handler,))
        self.server.add_insecure_port("unix:" + path)
        self.server.start()

    def stop(self):
        if self.server:
            self.server.stop(0).wait()
            self.server = None
        self.close_plugin()

    def close_plugin(self):
        if self.stream is not None:
            self.stream.cancel()
            self.stream = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def _register(self, req, context):
        # kubelet's server.Register: version and name checks, then a
        # blocking dial and GetDevicePluginOptions before returning.
        if req.version != "v1beta1":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unsupported version " + req.version)
        self.close_plugin()
        path = os.path.join(self.dir, req.endpoint)
        opts = [("grpc.default_authority", path)] if self.authority == "path" else []
        ch = grpc.insecure_channel("unix:" + path, options=opts)
        try:
            grpc.channel_ready_future(ch).result(timeout=10)
            opts = self.unary(ch, "GetDevicePluginOptions", M["Empty"](), "DevicePluginOptions")
        except Exception as e:  # noqa: BLE001 - reported through the test
            self.registrations.put(("error", req, str(e)))
            context.abort(grpc.StatusCode.UNAVAILABLE, "cannot dial plugin: %s" % e)
        self.channel = ch
        self.options = opts
        self._watch()
        self.registrations.put(("ok", req, opts))
        return M["Empty"]()

    def _watch(self):
        call = self.channel.unary_stream(
            DP + "ListAndWatch", request_serializer=M["Empty"].SerializeToString,
            response_deserializer=M["ListAndWatchResponse"].FromString)(M["Empty"]())
        self.stream = call
        self.stream_end = queue.Queue()     # the old stream reports to its own
        updates = self.updates
        ends = self.stream_end

        def run():
            try:
                for resp in call:
                    updates.put((time.monotonic(), resp))
                ends.put(("eof", call.code()))
            except grpc.RpcError as e:
                ends.put(("error", e.code()))
        threading.Thread(target=run, daemon=True).start()

    @staticmethod
    def unary(ch, method, req, resp_type, timeout=5, **kw):
        return ch.unary_unary(DP + method, request_serializer=type(req).SerializeToString,
                              response_deserializer=M[resp_type].FromString)(
                                  req, timeout=timeout, **kw)

    def call(self, method, req, resp_type, **kw):
        return self.unary(self.channel, method, req, resp_type, **kw)

    def next_list(self, timeout):
        try:
            t, resp = self.updates.get(timeout=timeout)
        except queue.Empty:
            return None
        self.last = resp
        return resp

    def list_until(self, pred, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            resp = self.next_list(left)
            if resp is not None and pred(resp):
                return resp

    def allocate(self, ids):
        req = M["AllocateRequest"]()
        req.container_requests.add().devices_ids.extend(ids)
        return self.call("Allocate", req, "AllocateResponse")

    def prefer(self, avail, must, size):
        req = M["PreferredAllocationRequest"]()
        c = req.container_requests.add()
        c.available_deviceIDs.extend(avail)
        c.must_include_deviceIDs.extend(must)
        c.allocation_size = size
        return list(self.call("GetPreferredAllocation", req,
                              "PreferredAllocationResponse").container_responses[0].deviceIDs)

# --- what the host should give --------------------------------------------------


def expectations(path):
    """The devices a scenario must offer, written by hand from its description
    (tests/expected/plugin/NAME.json), never read back from amdvirt itself."""
    with open(path) as f:
        want = json.load(f)
    return {"mode": want["mode"]}, want["resource"], want["devices"]


def env_name(resource):
    return "PCI_RESOURCE_" + resource.upper().replace("/", "_").replace(".", "_")


def list_map(resp):
    return {d.ID: d for d in resp.devices}

# --- raw HTTP/2 for the hostile peer ---------------------------------------------

PREFACE, frame, hpack, grpc_headers, frames_of = H.PREFACE, H.frame, H.hpack, H.grpc_headers, \
    H.frames_of


def raw_conn(sock_path, payload, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(sock_path)
    try:
        s.sendall(payload)
        data = b""
        if read:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if len(data) > 1 << 20:
                    break
    except (socket.timeout, ConnectionError, OSError):
        pass
    finally:
        s.close()
    return data


def frames_of(data):
    out = []
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        out.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7fffffff,
                    data[9:9 + length]))
        data = data[9 + length:]
    return out

# --- the scenario -----------------------------------------------------------------


class Daemon(peerlib.Daemon):
    def __init__(self, amdvirt, root, log_path, umask=None):
        super().__init__([amdvirt, "--root", root, "daemon", "--resync", "3600"], log_path,
                         None if umask is None else lambda: os.umask(umask))


def run(args):
    root = os.path.abspath(args.root)
    pdir = os.path.join(root, "var/lib/kubelet/device-plugins")
    os.makedirs(pdir, exist_ok=True)
    model, resource, expect = expectations(args.expected)
    sock_name = "amdvirt-" + resource.replace("/", "_").replace(".", "_") + ".sock"
    sc = args.scenario
    log_path = os.path.join(args.tmp, "daemon-%s.log" % sc)
    k = Kubelet(pdir, authority="path" if args.path_authority else None)

    if args.late_kubelet:
        d = Daemon(args.amdvirt, root, log_path, umask=0)
        wait_for(lambda: os.path.exists(os.path.join(pdir, sock_name)), 5)
        time.sleep(0.3)
        check("%s: daemon waits for an absent kubelet" % sc, d.alive())
        text = d.text()
        check("%s: one clear line about the absent kubelet" % sc,
              text.count("kubelet is not listening") == 1, text)
        k.start()
    else:
        k.start()
        d = Daemon(args.amdvirt, root, log_path, umask=0)
    with peerlib.driving(sc, d, k.stop):
        body(args, k, d, root, pdir, model, resource, expect, sock_name)


def body(args, k, d, root, pdir, model, resource, expect, sock_name):
    sc = args.scenario
    try:
        status, req, opts = k.registrations.get(timeout=10)
    except queue.Empty:
        check("%s: daemon registers" % sc, False, "no Register within 10 s")
        return
    check("%s: Register succeeded (plugin answered the dial-back)" % sc, status == "ok", opts)
    if status != "ok":
        return
    check("%s: Register version v1beta1" % sc, req.version == "v1beta1", req.version)
    check("%s: Register resource %s" % (sc, resource), req.resource_name == resource,
          req.resource_name)
    check("%s: Register endpoint is the socket file name" % sc, req.endpoint == sock_name,
          req.endpoint)
    mode = os.stat(os.path.join(pdir, sock_name)).st_mode & 0o7777
    check("%s: plugin socket mode 0600 under umask 0" % sc, mode == 0o600, oct(mode))
    check("%s: GetDevicePluginOptions: preferred allocation, no pre-start" % sc,
          opts.get_preferred_allocation_available and not opts.pre_start_required, opts)

    first = k.next_list(5)
    check("%s: ListAndWatch sends the list at once" % sc, first is not None)
    if first is None:
        return
    got = list_map(first)
    check("%s: device IDs" % sc, sorted(got) == sorted(expect),
          "%s vs %s" % (sorted(got), sorted(expect)))
    health_ok = all(got[i].health == ("Healthy" if e["healthy"] else "Unhealthy")
                    for i, e in expect.items() if i in got)
    check("%s: device health" % sc, health_ok,
          {i: got[i].health for i in got})
    topo_ok = True
    for i, e in expect.items():
        if i not in got:
            continue
        nodes = [n.ID for n in got[i].topology.nodes]
        want = [e["numa"]] if e["numa"] is not None and e["numa"] >= 0 else []
        topo_ok &= nodes == want
    check("%s: NUMA topology (omitted for -1)" % sc, topo_ok)

    healthy = sorted((i for i, e in expect.items() if e["healthy"]), key=sort_key)
    passthrough = model["mode"] in ("vf-passthrough", "pf-passthrough")
    if healthy:
        allocate_checks(k, sc, root, model, resource, expect, healthy, passthrough)
    if args.hives:
        hive_checks(k, sc, expect, healthy)
    if passthrough and healthy:
        health_checks(k, sc, root, healthy[0], expect)
    if args.restart:
        restart_checks(k, d, sc, pdir, sock_name)
    if args.hostile:
        hostile_checks(k, d, sc, pdir, sock_name, healthy)

    # SIGTERM: an empty list, the stream ends, our socket goes away.
    while not k.updates.empty():
        k.updates.get_nowait()
    rc = d.term()
    last = k.next_list(3)
    check("%s: SIGTERM sends an empty list" % sc, last is not None and len(last.devices) == 0,
          last)
    try:
        end = k.stream_end.get(timeout=3)
    except queue.Empty:
        end = None
    check("%s: ListAndWatch ends after SIGTERM" % sc, end is not None, end)
    check("%s: daemon exits 0 on SIGTERM" % sc, rc == 0, rc)
    check("%s: plugin socket removed on exit" % sc,
          not os.path.exists(os.path.join(pdir, sock_name)))
    if args.hostile:
        # Hundreds of streams were opened: a capped number of lines about
        # them, and one saying how many were left out.
        text = d.text()
        opened = text.count("ListAndWatch: stream opened")
        check("%s: stream lines capped under churn (%d written)" % (sc, opened),
              opened <= 50 and "more lines about device plugin calls" in text, opened)


def sort_key(i):
    return (0, int(i), "") if i.isdigit() else (1, 0, i)


def specs_of(resp):
    return [(s.container_path, s.host_path, s.permissions) for s in resp.devices]


def expected_specs(root, model, expect, ids, passthrough):
    specs = []
    if passthrough:
        specs.append("/dev/vfio/vfio")
        for i in ids:
            specs.append("/dev/vfio/" + i)
            for bdf in expect[i]["bdfs"]:
                vdir = os.path.join(root, "sys/bus/pci/devices", bdf, "vfio-dev")
                if os.path.isdir(vdir):
                    specs.extend("/dev/vfio/devices/" + n for n in sorted(os.listdir(vdir))
                                 if n.startswith("vfio"))
        if os.path.exists(os.path.join(root, "dev/iommu")):
            specs.append("/dev/iommu")
        perm = "mrw"
    else:
        specs.append("/dev/kfd")
        for i in ids:
            ddir = os.path.join(root, "sys/bus/pci/devices", i, "drm")
            if os.path.isdir(ddir):
                specs.extend("/dev/dri/" + n for n in sorted(os.listdir(ddir))
                             if n.startswith(("card", "renderD")))
        perm = "rw"
    seen, out = set(), []
    for s in specs:
        if s not in seen:
            seen.add(s)
            out.append((s, s, perm))
    return out


def allocate_checks(k, sc, root, model, resource, expect, healthy, passthrough):
    one = healthy[:1]
    resp = k.allocate(one)
    c = resp.container_responses[0]
    envs = dict(c.envs)
    if passthrough:
        check("%s: Allocate(1) env %s" % (sc, env_name(resource)),
              envs == {env_name(resource): ",".join(expect[one[0]]["bdfs"])}, envs)
    else:
        check("%s: Allocate(1) sets no env in container mode" % sc, envs == {}, envs)
    want = expected_specs(root, model, expect, one, passthrough)
    check("%s: Allocate(1) device specs" % sc,
          sorted(specs_of(c)) == sorted(want) and specs_of(c)[0] == want[0],
          "%s vs %s" % (specs_of(c), want))
    check("%s: Allocate(1): no mounts, annotations, CDI" % sc,
          not c.mounts and not c.annotations and not c.cdi_devices)

    if len(healthy) >= 2:
        # Request order, not ID order: KubeVirt pops addresses in order.
        two = [healthy[1], healthy[0]]
        if expect[two[0]].get("hive") is not None or expect[two[1]].get("hive") is not None:
            same = [i for i in healthy if expect[i].get("hive") == expect[healthy[0]].get("hive")]
            two = [same[1], same[0]] if len(same) >= 2 else two
        try:
            c = k.allocate(two).container_responses[0]
            if passthrough:
                want_env = ",".join(expect[two[0]]["bdfs"] + expect[two[1]]["bdfs"])
                check("%s: Allocate(2) env lists both groups in request order" % sc,
                      dict(c.envs) == {env_name(resource): want_env}, dict(c.envs))
                paths = [s[0] for s in specs_of(c)]
                check("%s: Allocate(2) /dev/vfio/vfio once, one node per group" % sc,
                      paths.count("/dev/vfio/vfio") == 1 and
                      all(paths.count("/dev/vfio/" + i) == 1 for i in two), paths)
            want = expected_specs(root, model, expect, two, passthrough)
            check("%s: Allocate(2) device specs" % sc, sorted(specs_of(c)) == sorted(want),
                  "%s vs %s" % (specs_of(c), want))
        except grpc.RpcError as e:
            check("%s: Allocate(2)" % sc, False, e.details())

    try:
        k.allocate(["999999"])
        check("%s: Allocate of an unknown ID fails" % sc, False)
    except grpc.RpcError as e:
        check("%s: Allocate of an unknown ID: NOT_FOUND naming it" % sc,
              e.code() == grpc.StatusCode.NOT_FOUND and "999999" in e.details(), e.details())
    try:
        k.allocate([one[0], one[0]])
        check("%s: Allocate of a repeated ID fails" % sc, False)
    except grpc.RpcError as e:
        check("%s: Allocate of a repeated ID fails" % sc,
              e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.details())
    r = k.call("PreStartContainer", M["PreStartContainerRequest"](devices_ids=one),
               "PreStartContainerResponse")
    check("%s: PreStartContainer answers empty" % sc, r.ByteSize() == 0)
    pref = k.prefer(healthy, [], 1)
    check("%s: GetPreferredAllocation(1) picks one available device" % sc,
          len(pref) == 1 and pref[0] in healthy, pref)
    for size, must, why in ((-1, [], "a negative allocation_size"),
                            (1, healthy[:2], "more must_include IDs than allocation_size")):
        if len(must) < 2 and why.startswith("more"):
            continue
        try:
            got = k.prefer(healthy, must, size)
            check("%s: GetPreferredAllocation refuses %s" % (sc, why), False, got)
        except grpc.RpcError as e:
            check("%s: GetPreferredAllocation refuses %s: INVALID_ARGUMENT" % (sc, why),
                  e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code())
    if len(healthy) >= 2:
        pref = k.prefer(healthy, [healthy[-1]], 2)
        check("%s: GetPreferredAllocation honours must_include" % sc,
              len(pref) == 2 and healthy[-1] in pref and len(set(pref)) == 2, pref)
        numa = {i: expect[i]["numa"] for i in healthy}
        if expect[healthy[-1]].get("hive") is None:
            check("%s: GetPreferredAllocation prefers one NUMA node" % sc,
                  len({numa[i] for i in pref}) == 1 or
                  sum(1 for i in healthy if numa[i] == numa[healthy[-1]]) < 2, pref)


def hive_checks(k, sc, expect, healthy):
    hives = {}
    for i in healthy:
        if expect[i].get("hive") is not None:
            hives.setdefault(expect[i]["hive"], []).append(i)
    if not check("%s: scenario has hives of 4" % sc,
                 len(hives) >= 2 and all(len(v) == 4 for v in hives.values()), hives):
        return
    names = sorted(hives)
    h0, h1 = hives[names[0]], hives[names[1]]
    hive_of = {i: h for h, ids in hives.items() for i in ids}
    for size in (1, 2, 4):
        pref = k.prefer(healthy, [], size)
        check("%s: preferred %d is from one hive" % (sc, size),
              len(pref) == size and len({hive_of[i] for i in pref}) == 1, pref)
    pref = k.prefer(healthy, [h1[2]], 2)
    check("%s: preferred 2 with must_include stays in its hive" % sc,
          len(pref) == 2 and h1[2] in pref and {hive_of[i] for i in pref} == {names[1]}, pref)
    pref = k.prefer(healthy, [], 8)
    groups = {}
    for i in pref:
        groups.setdefault(hive_of[i], []).append(i)
    check("%s: preferred 8 is two whole hives" % sc,
          len(pref) == 8 and all(len(v) == 4 for v in groups.values()), pref)
    # A partly used hive is the better home for a small request.
    avail = [i for i in healthy if i != h0[0]]
    pref = k.prefer(avail, [], 2)
    check("%s: preferred 2 fills the partly used hive first" % sc,
          {hive_of[i] for i in pref} == {names[0]}, pref)
    pref = k.prefer(avail, [], 4)
    check("%s: preferred 4 keeps to one hive when another is partly used" % sc,
          len(pref) == 4 and len({hive_of[i] for i in pref}) == 1, pref)

    for bad, why in (([h0[0], h1[0]], "2 across hives"), (h0[:3], "3 of one hive"),
                     (h0 + h1[:1], "a hive and one more")):
        try:
            k.allocate(bad)
            check("%s: Allocate refuses %s" % (sc, why), False)
        except grpc.RpcError as e:
            check("%s: Allocate refuses %s, explaining the hive rule" % (sc, why),
                  e.code() == grpc.StatusCode.FAILED_PRECONDITION and "hive" in e.details(),
                  e.details())
    for good, why in ((h0[:2], "2 of one hive"), (h0, "a whole hive"), (h0 + h1, "two hives")):
        try:
            k.allocate(good)
            check("%s: Allocate accepts %s" % (sc, why), True)
        except grpc.RpcError as e:
            check("%s: Allocate accepts %s" % (sc, why), False, e.details())


def health_checks(k, sc, root, dev, expect):
    node = os.path.join(root, "dev/vfio", dev)
    while not k.updates.empty():
        k.updates.get_nowait()
    t0 = time.monotonic()
    os.rename(node, node + ".away")
    resp = k.list_until(lambda r: list_map(r).get(dev) is not None and
                        list_map(r)[dev].health == "Unhealthy", 3)
    dt = time.monotonic() - t0
    check("%s: removing /dev/vfio/%s turns it Unhealthy at once (%.0f ms)" % (sc, dev, dt * 1000),
          resp is not None and dt < 1.0)
    if resp is not None:
        others = {d.ID: d.health for d in resp.devices if d.ID != dev}
        want = {i: "Healthy" if e["healthy"] else "Unhealthy" for i, e in expect.items() if i != dev}
        check("%s: the other devices keep their health" % sc, others == want,
              "%s vs %s" % (others, want))
    try:
        k.allocate([dev])
        check("%s: Allocate of an unhealthy device fails" % sc, False)
    except grpc.RpcError as e:
        check("%s: Allocate of an unhealthy device: FAILED_PRECONDITION" % sc,
              e.code() == grpc.StatusCode.FAILED_PRECONDITION and "unhealthy" in e.details(),
              e.details())
    t0 = time.monotonic()
    os.rename(node + ".away", node)
    resp = k.list_until(lambda r: list_map(r).get(dev) is not None and
                        list_map(r)[dev].health == "Healthy", 3)
    check("%s: restoring /dev/vfio/%s turns it Healthy again" % (sc, dev), resp is not None)

    # The function leaving vfio-pci: its driver link changes.
    model_bdf = None
    for g in os.listdir(os.path.join(root, "sys/kernel/iommu_groups", dev, "devices")):
        model_bdf = g
    if model_bdf:
        link = os.path.join(root, "sys/bus/pci/devices", model_bdf, "driver")
        target = os.readlink(link)
        os.unlink(link)
        resp = k.list_until(lambda r: list_map(r).get(dev) is not None and
                            list_map(r)[dev].health == "Unhealthy", 3)
        check("%s: unbinding %s from vfio-pci turns %s Unhealthy" % (sc, model_bdf, dev),
              resp is not None)
        os.symlink(target, link)
        resp = k.list_until(lambda r: list_map(r).get(dev) is not None and
                            list_map(r)[dev].health == "Healthy", 3)
        check("%s: binding it back turns %s Healthy" % (sc, dev), resp is not None)


def restart_checks(k, d, sc, pdir, sock_name):
    # kubelet restart: its socket goes away, it removes plugin sockets and
    # serves kubelet.sock anew; the plugin must register again.
    while not k.registrations.empty():
        k.registrations.get_nowait()
    k.stop()
    os.unlink(os.path.join(pdir, sock_name))
    t0 = time.monotonic()
    k.start()
    try:
        status, req, _ = k.registrations.get(timeout=5)
        dt = time.monotonic() - t0
    except queue.Empty:
        status, dt = None, None
    check("%s: re-registers after a kubelet restart (%s ms)" %
          (sc, "%.0f" % (dt * 1000) if dt is not None else "-"),
          status == "ok" and dt < 1.0, status)
    check("%s: the socket is served again" % sc, os.path.exists(os.path.join(pdir, sock_name)))
    resp = k.next_list(3)
    check("%s: a new ListAndWatch gets the list" % sc, resp is not None and len(resp.devices) > 0)
    # kubelet.sock recreated while our socket stays (a kubelet that does not
    # clean up): register again as well.
    while not k.registrations.empty():
        k.registrations.get_nowait()
    k.stop()
    k.start()
    try:
        status = k.registrations.get(timeout=5)[0]
    except queue.Empty:
        status = None
    check("%s: re-registers when kubelet.sock is recreated" % sc, status == "ok")
    k.next_list(3)
    check("%s: daemon alive after restarts" % sc, d.alive())


def hostile_checks(k, d, sc, pdir, sock_name, healthy):
    path = os.path.join(pdir, sock_name)
    settings = frame(4, 0, 0, b"")
    # Garbage instead of the HTTP/2 preface: the connection is closed.
    raw_conn(path, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(4096))
    # Frame header announcing 16 MiB, then nothing: closed, not waited on.
    raw_conn(path, PREFACE + settings + b"\xff\xff\xff\x00\x00\x00\x00\x00\x01")
    # DATA on a stream that was never opened; bad SETTINGS length.
    raw_conn(path, PREFACE + settings + frame(0, 1, 1, b"\x00\x00\x00\x00\x00"))
    raw_conn(path, PREFACE + frame(4, 0, 0, b"\x00\x01\x00"))
    # A gRPC message announcing 5 MiB, compressed flag set, bad flag value.
    for prefix in (b"\x00\x00\x50\x00\x00", b"\x01\x00\x00\x00\x00", b"\x07\x00\x00\x00\x01x"):
        data = raw_conn(path, PREFACE + settings +
                        frame(1, 4, 1, grpc_headers(DP + "Allocate")) +
                        frame(0, 1, 1, prefix))
        hdrs = [f for f in frames_of(data) if f[0] == 1 and f[2] == 1]
        check("%s: bad message prefix %s answered on its stream" % (sc, prefix[:1].hex()),
              len(hdrs) == 1 and (hdrs[0][1] & 1), frames_of(data))
    # A message cut short by END_STREAM; headers only; abrupt disconnects.
    raw_conn(path, PREFACE + settings + frame(1, 4, 1, grpc_headers(DP + "Allocate")) +
             frame(0, 1, 1, b"\x00\x00\x00\x00\x10abc"))
    raw_conn(path, PREFACE + settings + frame(1, 5, 1, grpc_headers(DP + "Allocate")))
    for cut in range(1, 60, 7):
        payload = PREFACE + settings + frame(1, 4, 1, grpc_headers(DP + "ListAndWatch")) + \
            frame(0, 1, 1, b"\x00\x00\x00\x00\x00")
        raw_conn(path, payload[:len(PREFACE) + cut * 3], read=False)
    # A header flood on one stream.
    raw_conn(path, PREFACE + settings +
             frame(1, 4, 1, grpc_headers(DP + "Allocate") +
                   hpack([("x-h%d" % i, "v") for i in range(200)])))
    # Many connections at once, held open past the server's limit.
    held = []
    for _ in range(80):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.sendall(PREFACE + settings)
            held.append(s)
        except OSError:
            s.close()
    time.sleep(0.2)
    for s in held:
        s.close()
    check("%s: daemon survives malformed frames and floods" % sc, d.alive())
    authority_checks(k, sc, path, healthy)
    malformed_checks(d, sc, path)
    budget_checks(k, sc, path, healthy)
    idle_checks(k, sc, path)

    # A connection of its own: grpc would otherwise share kubelet's, and a
    # peer that breaks the protocol loses its whole connection.
    ch = grpc.insecure_channel("unix:" + path, options=[("grpc.use_local_subchannel_pool", 1)])
    try:
        Kubelet.unary(ch, "NoSuchMethod", M["Empty"](), "Empty")
        check("%s: unknown method fails" % sc, False)
    except grpc.RpcError as e:
        check("%s: unknown method: UNIMPLEMENTED" % sc,
              e.code() == grpc.StatusCode.UNIMPLEMENTED, e.code())
    big = M["AllocateRequest"]()
    big.container_requests.add().devices_ids.extend(["x" * 1000] * 5000)
    try:
        Kubelet.unary(ch, "Allocate", big, "AllocateResponse")
        check("%s: 5 MB request fails" % sc, False)
    except grpc.RpcError as e:
        check("%s: 5 MB request: RESOURCE_EXHAUSTED" % sc,
              e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e.code())
    try:
        r = Kubelet.unary(ch, "GetDevicePluginOptions", M["Empty"](), "DevicePluginOptions",
                          compression=grpc.Compression.Gzip)
        check("%s: compressed request is answered with the options" % sc,
              r.get_preferred_allocation_available and not r.pre_start_required, r)
    except grpc.RpcError as e:
        check("%s: compressed request refused cleanly" % sc,
              e.code() == grpc.StatusCode.UNIMPLEMENTED, e.code())
    try:
        Kubelet.unary(ch, "Allocate", M["Empty"](), "AllocateResponse")
        check("%s: empty Allocate request is refused" % sc, False)
    except grpc.RpcError as e:
        check("%s: empty Allocate request is refused" % sc,
              e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code())
    junk = ch.unary_unary(DP + "Allocate", request_serializer=lambda b: b,
                          response_deserializer=lambda b: b)
    try:
        junk(b"\xff\xff\xff\xff\x0f", timeout=5)
        check("%s: undecodable Allocate is refused" % sc, False)
    except grpc.RpcError as e:
        check("%s: undecodable Allocate is refused" % sc,
              e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code())
    # Many concurrent streams on one connection, cancelled halfway.
    calls = []
    for _ in range(300):
        calls.append(ch.unary_stream(DP + "ListAndWatch",
                                     request_serializer=M["Empty"].SerializeToString,
                                     response_deserializer=M["ListAndWatchResponse"].FromString)(
                                         M["Empty"]()))
    firsts = 0
    for c in calls[:100]:
        try:
            next(c)
            firsts += 1
        except (grpc.RpcError, StopIteration):
            pass
    for c in calls:
        c.cancel()
    check("%s: 100 concurrent ListAndWatch streams served" % sc, firsts == 100, firsts)
    ch.close()
    # The real kubelet stream and Allocate still work.
    ok = d.alive()
    if healthy:
        try:
            k.allocate(healthy[:1])
        except grpc.RpcError:
            ok = False
    check("%s: daemon serves normally after the hostile peer" % sc, ok)
    check("%s: kubelet's ListAndWatch stream still open" % sc, k.stream_end.empty(),
          None if k.stream_end.empty() else k.stream_end.queue[0])


def raw_until(sock_path, payload, done, timeout=3):
    """Sends payload and reads frames until done(frames), EOF or timeout."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    data = b""
    end = time.monotonic() + timeout
    try:
        s.sendall(payload)
        while not done(frames_of(data)) and time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, OSError):
        pass
    finally:
        s.close()
    return frames_of(data)


def grpc_message(body):
    return b"\x00" + struct.pack(">I", len(body)) + body


def authority_checks(k, sc, path, healthy):
    """What grpc-go in kubelets before 1.26 sends: the socket path as
    :authority.  Each method must be answered, not reset."""
    settings = frame(4, 0, 0, b"")
    pref = M["PreferredAllocationRequest"]()
    c = pref.container_requests.add()
    c.available_deviceIDs.extend(healthy)
    c.allocation_size = 1
    alloc = M["AllocateRequest"]()
    alloc.container_requests.add().devices_ids.extend(healthy[:1])
    for method, req, resp_type in (("ListAndWatch", M["Empty"](), "ListAndWatchResponse"),
                                   ("GetPreferredAllocation", pref,
                                    "PreferredAllocationResponse"),
                                   ("Allocate", alloc, "AllocateResponse")):
        payload = PREFACE + settings + \
            frame(1, 4, 1, grpc_headers(DP + method, authority=path)) + \
            frame(0, 1, 1, grpc_message(req.SerializeToString()))
        frames = raw_until(path, payload, lambda fs: any(
            f[2] == 1 and f[0] in (0, 3) for f in fs))
        resets = [f for f in frames if f[0] == 3 and f[2] == 1]
        body = b"".join(f[3] for f in frames if f[0] == 0 and f[2] == 1)
        resp = None
        if len(body) >= 5:
            try:
                resp = M[resp_type].FromString(body[5:5 + int.from_bytes(body[1:5], "big")])
            except Exception:  # noqa: BLE001 - reported below
                resp = None
        served = not resets and resp is not None and \
            (method == "Allocate" or resp.ByteSize() > 0)
        check("%s: raw %s with :authority %s is served" % (sc, method, path), served,
              frames)


def malformed_checks(d, sc, path):
    """The HTTP/2 request rules the server keeps with nghttp2's own checks
    off: each of these is reset with PROTOCOL_ERROR, and the log names the
    peer."""
    settings = frame(4, 0, 0, b"")
    good = [(":method", "POST"), (":scheme", "http"), (":path", DP + "Allocate"),
            (":authority", "x"), ("content-type", "application/grpc")]
    cases = [
        ("a header value with CR LF", good + [("x-forged", "a\r\namdvirt: forged line")]),
        ("a header value with NUL", good + [("x-nul", "a\x00b")]),
        ("an upper-case header name", good + [("X-Upper", "v")]),
        ("a pseudo-header field after a regular one", good[:2] + good[4:] + good[2:4]),
        ("a repeated :path", good + [(":path", DP + "ListAndWatch")]),
        ("an unknown pseudo-header field", good[:4] + [(":protocol", "x")] + good[4:]),
        ("a connection-specific header field", good + [("connection", "close")]),
        ("te other than trailers", good + [("te", "gzip")]),
        ("no :path", good[:2] + good[3:]),
        ("a content-length the DATA does not match", good + [("content-length", "3")]),
    ]
    for why, hdrs in cases:
        frames = raw_until(path, PREFACE + settings + frame(1, 4, 1, hpack(hdrs)) +
                           frame(0, 1, 1, b"\x00\x00\x00\x00\x00"),
                           lambda fs: any(f[2] == 1 and f[0] in (1, 3) for f in fs))
        on1 = [(f[0], f[3]) for f in frames if f[2] == 1]
        check("%s: %s: stream reset with PROTOCOL_ERROR" % (sc, why),
              on1 == [(3, b"\x00\x00\x00\x01")], on1)
    check("%s: the resets are logged, naming the peer" % sc,
          wait_for(lambda: "reset (PROTOCOL_ERROR): invalid header field value" in d.text()
                   and "gRPC peer python3[%d]" % os.getpid() in d.text(), 3),
          d.text()[-2000:])
    check("%s: no forged line in the log" % sc,
          "\namdvirt: forged line" not in d.text())


def budget_checks(k, sc, path, healthy):
    """Request data a peer can make the server hold: the attack that took
    the daemon to 1 GB (streams announcing 4 MiB, never ending), then more
    than the budget of all connections in messages under the size limit."""
    f = H.Flood(path, 8, 4, 4 << 20, 65536)
    st = f.run(3)
    f.close()
    check("%s: streams announcing 4 MiB are refused at once" % sc,
          st["answered"] == st["streams"] == 32, st)
    f = H.Flood(path, 24, 4, 65536, 65536)
    st = f.run(4)
    over = st["answered"] + st["reset"] + st["closed"]
    try:
        k.allocate(healthy[:1])
        served = True
    except grpc.RpcError:
        served = False
    f.close()
    check("%s: 6 MB of unfinished requests: some refused or their connections closed" % sc,
          over > 0, st)
    check("%s: kubelet served while the budget is spent" % sc, served)


def idle_checks(k, sc, path):
    """Connections that never speak must not lock kubelet out."""
    held = []
    for _ in range(64):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            held.append(s)
        except OSError:
            s.close()
    time.sleep(1)       # silent for longer than the server's 0.5 s
    ch = grpc.insecure_channel("unix:" + path, options=[("grpc.use_local_subchannel_pool", 1)])
    try:
        Kubelet.unary(ch, "GetDevicePluginOptions", M["Empty"](), "DevicePluginOptions")
        served = True
    except grpc.RpcError as e:
        served = e.code()
    ch.close()
    check("%s: a new connection is served while 64 silent ones are open" % sc,
          served is True, served)
    t0 = time.monotonic()
    left = list(held)
    while left and time.monotonic() - t0 < 8:
        left = [s for s in left if H.still_open(s)]
        time.sleep(0.1)
    for s in held:
        s.close()
    check("%s: silent connections are closed within a few seconds" % sc, not left,
          "%d still open" % len(left))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amdvirt", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--expected", required=True,
                    help="tests/expected/plugin/NAME.json: the devices the scenario must offer")
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--hives", action="store_true")
    ap.add_argument("--restart", action="store_true")
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--late-kubelet", action="store_true")
    ap.add_argument("--path-authority", action="store_true",
                    help="dial back as kubelets before 1.26 do (:authority is the socket path)")
    args = ap.parse_args()
    run(args)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""kubelet's pod-resources API (v1.PodResourcesLister) for the test suite.

Serves List and GetAllocatableResources on a unix socket from a JSON file,
as kubelet does on /var/lib/kubelet/pod-resources/kubelet.sock.  The
message types are built here from kubelet's own field tables
(k8s.io/kubelet/pkg/apis/podresources/v1/api.proto), not from amdvirt's
.proto, so a wrong field number on either side shows up; the fields
amdvirt does not read (cpu_ids, memory, topology, dynamic_resources) are
sent too, as kubelet sends them.

    podresources.py --socket PATH --objects FILE [--log FILE] [--ready FILE]
                    [--mode ok|no-allocatable|garbage|silent|stale]

FILE: {"pods": [{"namespace", "name", "containers": [{"name", "devices":
[{"resource_name", "device_ids"}]}]}], "allocatable": [{"resource_name",
"device_ids"}]}.  --log gets one line per call ("List", ...).  Modes:
no-allocatable answers GetAllocatableResources with UNIMPLEMENTED (an older
kubelet); garbage accepts and writes bytes that are not HTTP/2; silent
accepts and never answers; stale leaves a socket file nobody listens on.
Needs Debian's python3-grpcio and python3-protobuf (/usr/bin/python3).
"""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from concurrent import futures

import grpc
from peerlib import INT64, MSG, OPT, REP, STRING, UINT64, build_messages

MESSAGES = [
    ("AllocatableResourcesRequest", []),
    ("AllocatableResourcesResponse", [("devices", 1, MSG, REP, "ContainerDevices"),
                                      ("cpu_ids", 2, INT64, REP, None),
                                      ("memory", 3, MSG, REP, "ContainerMemory")]),
    ("ListPodResourcesRequest", []),
    ("ListPodResourcesResponse", [("pod_resources", 1, MSG, REP, "PodResources")]),
    ("PodResources", [("name", 1, STRING, OPT, None), ("namespace", 2, STRING, OPT, None),
                      ("containers", 3, MSG, REP, "ContainerResources")]),
    ("ContainerResources", [("name", 1, STRING, OPT, None),
                            ("devices", 2, MSG, REP, "ContainerDevices"),
                            ("cpu_ids", 3, INT64, REP, None),
                            ("memory", 4, MSG, REP, "ContainerMemory"),
                            ("dynamic_resources", 5, MSG, REP, "DynamicResource")]),
    ("ContainerMemory", [("memory_type", 1, STRING, OPT, None), ("size", 2, UINT64, OPT, None),
                         ("topology", 3, MSG, OPT, "TopologyInfo")]),
    ("ContainerDevices", [("resource_name", 1, STRING, OPT, None),
                          ("device_ids", 2, STRING, REP, None),
                          ("topology", 3, MSG, OPT, "TopologyInfo")]),
    ("TopologyInfo", [("nodes", 1, MSG, REP, "NUMANode")]),
    ("NUMANode", [("ID", 1, INT64, OPT, None)]),
    ("DynamicResource", [("claim_name", 2, STRING, OPT, None),
                         ("claim_namespace", 3, STRING, OPT, None)]),
]


M = build_messages("v1", MESSAGES)


def devices(msg, entries):
    for d in entries:
        cd = msg.add(resource_name=d["resource_name"], device_ids=d.get("device_ids", []))
        cd.topology.nodes.add(ID=0)


class Lister:
    def __init__(self, objects, log, mode):
        self.objects, self.log, self.mode = objects, log, mode
        # Built once: kubelet answers from memory, and a peer building
        # hundreds of messages per call would time itself, not amdvirt.
        self.list_resp = self.build_list()
        self.alloc_resp = self.build_allocatable()

    def note(self, what):
        if self.log:
            with open(self.log, "a") as f:
                f.write(what + "\n")

    def list(self, req, ctx):
        self.note("List")
        return self.list_resp

    def build_list(self):
        resp = M["ListPodResourcesResponse"]()
        for p in self.objects.get("pods", []):
            pr = resp.pod_resources.add(name=p["name"], namespace=p["namespace"])
            for c in p.get("containers", []):
                cr = pr.containers.add(name=c["name"], cpu_ids=[2, 3])
                cr.memory.add(memory_type="memory", size=1 << 30)
                devices(cr.devices, c.get("devices", []))
        return resp.SerializeToString()

    def allocatable(self, req, ctx):
        self.note("GetAllocatableResources")
        if self.mode == "no-allocatable":
            ctx.abort(grpc.StatusCode.UNIMPLEMENTED, "unknown method GetAllocatableResources")
        return self.alloc_resp

    def build_allocatable(self):
        resp = M["AllocatableResourcesResponse"](cpu_ids=[0, 1, 2, 3])
        devices(resp.devices, self.objects.get("allocatable", []))
        return resp.SerializeToString()


def raw_server(path, mode):
    """garbage / silent / stale: a socket that is no kubelet."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    if mode == "stale":
        s.close()
        return None
    s.listen(8)

    def serve():
        held = []
        while True:
            c, _ = s.accept()
            if mode == "garbage":
                try:
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\nnot a kubelet\n")
                except OSError:
                    pass
                c.close()
            else:
                held.append(c)
    threading.Thread(target=serve, daemon=True).start()
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--objects", required=True)
    p.add_argument("--log")
    p.add_argument("--ready", help="written once serving")
    p.add_argument("--mode", default="ok",
                   choices=["ok", "no-allocatable", "garbage", "silent", "stale"])
    args = p.parse_args()
    with open(args.objects) as f:
        objects = json.load(f)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = None
    if args.mode in ("garbage", "silent", "stale"):
        raw_server(args.socket, args.mode)
    else:
        lister = Lister(objects, args.log, args.mode)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("v1.PodResourcesLister", {
            "List": grpc.unary_unary_rpc_method_handler(
                lister.list, request_deserializer=M["ListPodResourcesRequest"].FromString,
                response_serializer=lambda b: b),
            "GetAllocatableResources": grpc.unary_unary_rpc_method_handler(
                lister.allocatable, request_deserializer=M["AllocatableResourcesRequest"].FromString,
                response_serializer=lambda b: b),
        }),))
        server.add_insecure_port("unix:" + args.socket)
        server.start()
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(args.ready + ".tmp", args.ready)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    if server:
        server.stop(0)
    if args.mode != "stale" and os.path.exists(args.socket):
        os.unlink(args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A fake Kubernetes API server for the labeller tests.

HTTPS only (certificates made by the test with openssl), bearer tokens or
client certificates, Nodes with resourceVersion and JSON merge patch
(RFC 7386), DeviceConfig and KubeVirt objects, RBAC refusals, and injected faults.
Every request is recorded as one JSON line in --log; the token itself is
never recorded, only whether it was accepted.

Faults (--inject, in order, one per request; METHOD= limits one to a verb):
  500, 429:SECONDS (with Retry-After), 409, 401, 403  an answer with that status
  slow:SECONDS                                        answer late
  drop                                                close without answering
"""

import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import api_crd
import api_kubevirt
import api_watch
import api_resourceslices
from peerlib import merge_patch


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.tokens = set(args.token or [])
        self.forbid = set(args.forbid or [])
        self.allow = set(args.allow or [])
        self.faults = list(args.inject or [])
        self.rotate = args.rotate_token
        self.version = 100
        self.nodes = {}
        self.deviceconfigs = {}
        self.kubevirts = {}
        objects = {}
        if args.objects:
            with open(args.objects) as f:
                objects = json.load(f)
            for obj in objects.get("nodes", []):
                self.add_node(obj)
            for obj in objects.get("deviceconfigs", []):
                # Stored as a cluster stores it: the CRD's defaults
                # applied, unknown fields pruned (api_crd.py).
                try:
                    obj = api_crd.admit_deviceconfig(obj)
                except api_crd.Invalid as e:
                    sys.exit("apiserver.py: %s: DeviceConfig %s is invalid: %s"
                             % (args.objects, obj.get("metadata", {}).get("name"), "; ".join(e.args[0])))
                meta = obj["metadata"]
                self.deviceconfigs[(meta["namespace"], meta["name"])] = obj
            for obj in objects.get("kubevirts", []):
                self.version += 1
                meta = obj.setdefault("metadata", {})
                meta["resourceVersion"] = str(self.version)
                self.kubevirts[(meta["namespace"], meta["name"])] = obj
        api_resourceslices.init(self, objects)
        api_watch.setup(self)

    def add_node(self, obj):
        self.version += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.version)
        self.nodes[obj["metadata"]["name"]] = obj

    def save(self):
        if not self.args.state_out:
            return
        tmp = self.args.state_out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"nodes": list(self.nodes.values()),
                       "kubevirts": list(self.kubevirts.values())}, f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.state_out)

    def next_fault(self, method):
        for i, fault in enumerate(self.faults):
            verb, sep, what = fault.partition("=")
            if not sep:
                what, verb = fault, None
            if verb is None or verb == method:
                del self.faults[i]
                return what
            break
        return None


def status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver"
    # Headers and body go out in two writes; with Nagle on, the body waits
    # for the client's delayed ACK (40 ms) on a kept-alive connection.  A
    # real API server (Go) sets TCP_NODELAY.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def record(self, status, body_text, auth, note=None):
        entry = {"method": self.command, "path": self.path, "status": status,
                 "content_type": self.headers.get("Content-Type"), "auth": auth}
        if body_text:
            try:
                entry["body"] = json.loads(body_text)
            except ValueError:
                entry["body_text"] = body_text
        if note:
            entry["note"] = note
        with open(self.server.state.args.log, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    def answer(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def authenticate(self, st):
        """Returns (auth kind, accepted)."""
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[7:]
            if st.rotate:
                path, new = st.rotate.split(":", 1)
                st.rotate = None
                with open(path + ".tmp", "w") as f:
                    f.write(new + "\n")
                os.replace(path + ".tmp", path)
                st.tokens = {new}
                return "bearer", False
            return "bearer", token in st.tokens
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            return "cert", True
        return "none", False

    def handle_any(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body_text = self.rfile.read(length).decode() if length else ""
        with st.lock:
            auth, ok = self.authenticate(st)
            fault = st.next_fault(self.command)
        if fault == "drop":
            self.record(0, body_text, auth, "dropped")
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if fault and fault.startswith("slow:"):
            time.sleep(float(fault[5:]))
            fault = None
        if fault:
            code, _, retry_after = fault.partition(":")
            code = int(code)
            headers = {"Retry-After": retry_after} if retry_after else None
            self.record(code, body_text, auth, "injected")
            self.answer(code, status_body(code, "Injected", "injected fault"), headers)
            return
        if not ok:
            self.record(401, body_text, auth)
            self.answer(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        if api_watch.handle(self, st, body_text, auth):
            return
        with st.lock:
            code, obj = self.route(st, body_text)
            if code < 300 and self.command == "PATCH":
                st.save()
        self.record(code, body_text, auth)
        self.answer(code, obj)

    def route(self, st, body_text):
        parts = self.path.split("?")[0].strip("/").split("/")
        verb = {"GET": "get", "PATCH": "patch", "PUT": "update"}.get(self.command, self.command.lower())
        dra = api_resourceslices.route(
            st, self.command, self.path, body_text,
            lambda v, r: v in st.forbid or "%s/%s" % (v, r) in st.forbid)
        if dra is not None:
            return dra
        if parts[:3] == ["api", "v1", "nodes"] and len(parts) == 4:
            resource, group, name = "nodes", "", parts[3]
            obj = st.nodes.get(name)
        elif (parts[:4] == ["apis", "amd.com", "v1alpha1", "namespaces"] and len(parts) == 7
              and parts[5] == "deviceconfigs"):
            resource, group, name = "deviceconfigs", "amd.com", parts[6]
            obj = st.deviceconfigs.get((parts[4], name))
        elif (parts[:4] == ["apis", "kubevirt.io", "v1", "namespaces"] and len(parts) == 7
              and parts[5] == "kubevirts"):
            resource, group, name = "kubevirts", "kubevirt.io", parts[6]
            obj = st.kubevirts.get((parts[4], name))
        else:
            return 404, status_body(404, "NotFound", "the server could not find the requested resource")
        if (verb in st.forbid or "%s/%s" % (verb, resource) in st.forbid
                or (st.allow and "%s/%s" % (verb, resource) not in st.allow)):
            return 403, status_body(403, "Forbidden",
                                    '%s "%s" is forbidden: User "system:serviceaccount:test:amdvirt" '
                                    'cannot %s resource "%s" in API group "%s"'
                                    % (resource, name, verb, resource, group))
        if obj is None:
            return 404, status_body(404, "NotFound", '%s "%s" not found' % (resource, name))
        if self.command == "GET" and resource == "kubevirts":
            return api_kubevirt.get(st, (parts[4], name), obj)
        if self.command == "GET":
            return 200, obj
        if self.command == "PATCH" and resource == "kubevirts":
            return api_kubevirt.patch(st, self.headers, body_text, (parts[4], name), obj, merge_patch)
        if self.command == "PATCH" and resource == "nodes":
            if self.headers.get("Content-Type") != "application/merge-patch+json":
                return 415, status_body(415, "UnsupportedMediaType", "unsupported patch type")
            try:
                patch = json.loads(body_text)
            except ValueError:
                return 400, status_body(400, "BadRequest", "not JSON")
            want = patch.get("metadata", {}).get("resourceVersion")
            if want is not None and want != obj["metadata"]["resourceVersion"]:
                return 409, status_body(409, "Conflict", "the object has been modified")
            new = merge_patch(obj, patch)
            st.version += 1
            new["metadata"]["resourceVersion"] = str(st.version)
            st.nodes[name] = new
            return 200, new
        return 405, status_body(405, "MethodNotAllowed", "not supported here")

    do_GET = handle_any
    do_PATCH = handle_any
    do_PUT = handle_any
    do_POST = handle_any
    do_DELETE = handle_any


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--client-ca", help="accept client certificates signed by this CA")
    p.add_argument("--objects", help="JSON {nodes: [...], deviceconfigs: [...], kubevirts: [...]}")
    p.add_argument("--state-out", help="the nodes after every change")
    p.add_argument("--log", required=True, help="one JSON line per request")
    p.add_argument("--port-file", required=True, help="written once listening")
    p.add_argument("--token", action="append", help="an accepted bearer token")
    p.add_argument("--forbid", action="append", help="VERB or VERB/RESOURCE answered with 403")
    p.add_argument("--inject", action="append", help="a fault for a coming request")
    p.add_argument("--allow", action="append",
                   help="VERB/RESOURCE: when given, every other verb and resource is answered with 403")
    api_kubevirt.add_arguments(p)
    p.add_argument("--rotate-token", help="FILE:NEW: at the first request write NEW to FILE, "
                   "accept only NEW and refuse that request with 401")
    api_watch.add_arguments(p)
    args = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.state = State(args)
    server.state.save()
    open(args.log, "a").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DeviceConfig writes, lists and watches for the test API server.

As a real API server (etcd behind it) does them:

- every write (POST create, PUT, merge PATCH, the /status subresource,
  DELETE) goes through commit(): one global resourceVersion counter, the
  generation bumped when spec changes, a no-op write stores nothing and
  sends no event, a stale metadata.resourceVersion (or DeleteOptions
  precondition) is 409 Conflict;
- LIST by fieldSelector (metadata.name, metadata.namespace) answers a List
  whose metadata.resourceVersion is the store's version;
- ?watch=1 from a resourceVersion streams {"type", "object"} lines with
  chunked transfer encoding, only events after that version; without one
  (or "0") it starts with ADDED for what exists; timeoutSeconds ends it;
  allowWatchBookmarks lets /_test/bookmark send a BOOKMARK;
- a version older than the retained history is 410 Gone: an HTTP 410
  answer, or (gone=event) a 200 stream holding one ERROR event with a 410
  Status, as the watch cache sends it.

Test controls (POST, with the same credentials as any request):
  /_test/compact?watches=keep|end|error&gone=http|event
      forget the history up to now; open watches go on (keep), end as at
      their timeout (end), or get an ERROR event with a 410 Status (error);
      gone= says how a later watch from an older version is answered
  /_test/bookmark      every open watch that allows bookmarks sends one
  /_test/raw           every open watch sends the request's body as one line
  GET /_test/watches   {"open": N, "resourceVersion": the store's}

CRD defaulting and pruning hook into admit(): every stored object passes
through it (ADMIT holds functions obj -> obj).
"""

import copy
import datetime
import json
import os
import select
import ssl
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote

from peerlib import merge_patch

PREFIX = ["apis", "amd.com", "v1alpha1", "namespaces"]
KIND, API_VERSION = "DeviceConfig", "amd.com/v1alpha1"
DEFAULT_WATCH_SECONDS = 1800

# Functions obj -> obj applied to every object before it is stored (the
# CRD's defaults and pruning, tests/peers/api_crd.py).
ADMIT = []


def add_arguments(p):
    p.add_argument("--port", type=int, default=0, help="listen here (a restart keeps its port)")
    p.add_argument("--dc-state", help="DeviceConfigs, their history and the resourceVersion, "
                   "kept here across restarts (etcd's part)")


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Watch:
    def __init__(self, ns, name, bookmarks):
        self.ns, self.name, self.bookmarks = ns, name, bookmarks
        self.end = None          # None, "end" or "error"
        self.bookmark = False
        self.raw = []            # lines sent as they are (a broken server)


def setup(st):
    """Called at the end of State.__init__: the loaded DeviceConfigs get
    their versions, and a saved store (--dc-state) replaces them."""
    st.dc_cond = threading.Condition(st.lock)
    st.dc_history = []           # (rv, type, object)
    st.dc_watches = set()
    st.dc_gone = "http"
    st.dc_compacted = 0
    loaded = st.deviceconfigs
    st.deviceconfigs = {}
    with st.lock:
        for obj in loaded.values():
            obj = copy.deepcopy(obj)
            obj.setdefault("metadata", {}).pop("resourceVersion", None)
            commit(st, obj["metadata"]["namespace"], obj["metadata"]["name"], obj, "ADDED")
    path = st.args.dc_state
    if path and os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        st.version = max(st.version, saved["version"])
        st.deviceconfigs = {(o["metadata"]["namespace"], o["metadata"]["name"]): o
                            for o in saved["deviceconfigs"]}
        st.dc_history = [tuple(e) for e in saved["history"]]
        st.dc_compacted = saved["compacted"]
        st.dc_gone = saved.get("gone", "http")
    else:
        # What existed before the server started is not history.
        st.dc_history = []
        st.dc_compacted = st.version
    save(st)


def save(st):
    path = st.args.dc_state
    if not path:
        return
    with open(path + ".tmp", "w") as f:
        json.dump({"version": st.version, "deviceconfigs": list(st.deviceconfigs.values()),
                   "history": st.dc_history, "compacted": st.dc_compacted,
                   "gone": st.dc_gone}, f)
    os.replace(path + ".tmp", path)


def admit(obj):
    for fn in ADMIT:
        obj = fn(obj)
    return obj


def bookkeeping(obj):
    meta = obj.get("metadata", {})
    return {k: v for k, v in meta.items() if k in ("resourceVersion", "generation", "managedFields")}


def commit(st, ns, name, new, etype):
    """The one write path (st.lock held).  new is the whole object to store
    (None: delete).  Returns the stored object (for a delete: the last one,
    with the deletion's version), or the old one when nothing changed."""
    key = (ns, name)
    old = st.deviceconfigs.get(key)
    if new is not None:
        new = admit(new)
        meta = new.setdefault("metadata", {})
        if old is not None:
            same = dict(new, metadata={k: v for k, v in meta.items() if k not in ("resourceVersion", "generation")})
            was = dict(old, metadata={k: v for k, v in old["metadata"].items() if k not in ("resourceVersion", "generation")})
            if same == was:
                return old
            gen = old["metadata"].get("generation", 1)
            meta["generation"] = gen + 1 if new.get("spec") != old.get("spec") else gen
        else:
            meta["generation"] = 1
    st.version += 1
    if new is None:
        new = copy.deepcopy(old)
        new["metadata"]["resourceVersion"] = str(st.version)
        del st.deviceconfigs[key]
    else:
        new["metadata"]["resourceVersion"] = str(st.version)
        st.deviceconfigs[key] = new
    st.dc_history.append((st.version, etype, copy.deepcopy(new)))
    save(st)
    st.dc_cond.notify_all()
    return new


def parse_selector(text):
    """{"metadata.name": v, ...} or raises ValueError with the server's words."""
    out = {}
    for term in filter(None, (text or "").split(",")):
        if "!=" in term:
            raise ValueError("field selector %r: only = is supported here" % term)
        key, sep, value = term.replace("==", "=").partition("=")
        if not sep:
            raise ValueError("invalid field selector %r" % term)
        if key not in ("metadata.name", "metadata.namespace"):
            raise ValueError('field label not supported: %s' % key)
        out[key] = value
    return out


def matches(obj, ns, sel):
    meta = obj["metadata"]
    return (meta["namespace"] == ns and meta["name"] == sel.get("metadata.name", meta["name"])
            and meta["namespace"] == sel.get("metadata.namespace", meta["namespace"]))


def handle(h, st, body_text, auth):
    """Takes the requests that are ours; returns False for the others (a GET
    of one DeviceConfig stays with route())."""
    path, _, query = h.path.partition("?")
    q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if parts[0] == "_test":
        return control(h, st, parts[1:], q, auth, body_text)
    if parts[:4] != PREFIX or len(parts) < 6 or parts[5] != "deviceconfigs":
        return False
    ns = parts[4]
    if len(parts) == 6:
        if h.command == "GET" and q.get("watch") in ("1", "true"):
            return watch(h, st, ns, q, auth)
        if h.command == "GET":
            code, obj = list_(st, ns, q, auth)
            if code == 200:
                return reply(h, auth, body_text, code, obj, "resourceVersion " + obj["metadata"]["resourceVersion"])
        elif h.command == "POST":
            code, obj = create(st, ns, body_text)
        else:
            return reply(h, auth, body_text, 405, status(405, "MethodNotAllowed", "not supported here"))
        return reply(h, auth, body_text, code, obj)
    if len(parts) == 7 and h.command == "GET":
        return False
    if len(parts) == 7 or (len(parts) == 8 and parts[7] == "status"):
        code, obj = write(h, st, ns, parts[6], len(parts) == 8, body_text)
        return reply(h, auth, body_text, code, obj)
    return False


def reply(h, auth, body_text, code, obj, note=None):
    h.record(code, body_text, auth, note)
    h.answer(code, obj)
    return True


def forbidden(st, verb, ns):
    if verb in st.forbid or verb + "/deviceconfigs" in st.forbid:
        return 403, status(403, "Forbidden", 'deviceconfigs.amd.com is forbidden: User '
                           '"system:serviceaccount:test:amdvirt" cannot %s resource "deviceconfigs" '
                           'in API group "amd.com" in the namespace "%s"' % (verb, ns))
    return None


def list_(st, ns, q, auth):
    refused = forbidden(st, "list", ns)
    if refused:
        return refused
    try:
        sel = parse_selector(q.get("fieldSelector"))
    except ValueError as e:
        return 400, status(400, "BadRequest", str(e))
    with st.lock:
        items = [copy.deepcopy(o) for k, o in sorted(st.deviceconfigs.items()) if matches(o, ns, sel)]
        rv = str(st.version)
    return 200, {"kind": KIND + "List", "apiVersion": API_VERSION,
                 "metadata": {"resourceVersion": rv}, "items": items}


def precondition(obj, want):
    if want not in (None, "") and want != obj["metadata"]["resourceVersion"]:
        return 409, status(409, "Conflict", 'Operation cannot be fulfilled on deviceconfigs.amd.com '
                           '"%s": the object has been modified; please apply your changes to the '
                           'latest version and try again' % obj["metadata"]["name"])
    return None


def load_body(body_text):
    try:
        obj = json.loads(body_text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def create(st, ns, body_text):
    refused = forbidden(st, "create", ns)
    if refused:
        return refused
    obj = load_body(body_text)
    if obj is None:
        return 400, status(400, "BadRequest", "the body is not a JSON object")
    meta = obj.setdefault("metadata", {})
    name = meta.get("name")
    if not name:
        return 422, status(422, "Invalid", "metadata.name: Required value")
    if meta.setdefault("namespace", ns) != ns:
        return 400, status(400, "BadRequest", "the namespace of the object does not match the "
                           "namespace on the request")
    if meta.get("resourceVersion"):
        return 400, status(400, "BadRequest", "resourceVersion should not be set on objects to be created")
    with st.lock:
        if (ns, name) in st.deviceconfigs:
            return 409, status(409, "AlreadyExists", 'deviceconfigs.amd.com "%s" already exists' % name)
        obj.setdefault("apiVersion", API_VERSION)
        obj.setdefault("kind", KIND)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        obj.pop("status", None)
        try:
            return 201, copy.deepcopy(commit(st, ns, name, obj, "ADDED"))
        except ValueError as e:
            return invalid(name, e)


def write(h, st, ns, name, subresource, body_text):
    verb = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(h.command)
    if verb is None:
        return 405, status(405, "MethodNotAllowed", "not supported here")
    refused = forbidden(st, verb, ns)
    if refused:
        return refused
    body = load_body(body_text) if body_text else {}
    if body is None:
        return 400, status(400, "BadRequest", "the body is not a JSON object")
    if verb == "patch" and h.headers.get("Content-Type") != "application/merge-patch+json":
        return 415, status(415, "UnsupportedMediaType", "unsupported patch type")
    with st.lock:
        old = st.deviceconfigs.get((ns, name))
        if old is None:
            return 404, status(404, "NotFound", 'deviceconfigs.amd.com "%s" not found' % name)
        if verb == "delete":
            want = (body.get("preconditions") or {}).get("resourceVersion")
            conflict = precondition(old, want)
            if conflict:
                return conflict
            return 200, copy.deepcopy(commit(st, ns, name, None, "DELETED"))
        conflict = precondition(old, body.get("metadata", {}).get("resourceVersion"))
        if conflict:
            return conflict
        new = merge_patch(copy.deepcopy(old), body) if verb == "patch" else copy.deepcopy(body)
        meta = new.setdefault("metadata", {})
        if meta.get("name", name) != name or meta.get("namespace", ns) != ns:
            return 400, status(400, "BadRequest", "the name of the object does not match the request")
        # What the server keeps, whatever the writer sent.
        for key in ("uid", "creationTimestamp", "name", "namespace"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
        new["apiVersion"], new["kind"] = old.get("apiVersion", API_VERSION), old.get("kind", KIND)
        if subresource:
            # /status changes status alone.
            new = dict(copy.deepcopy(old), status=new.get("status"))
        elif "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
        try:
            return 200, copy.deepcopy(commit(st, ns, name, new, "MODIFIED"))
        except ValueError as e:
            return invalid(name, e)


def invalid(name, e):
    """A write the CRD's schema refuses (ADMIT raised), answered as a server does."""
    causes = e.args[0] if e.args and isinstance(e.args[0], list) else [str(e)]
    return 422, status(422, "Invalid", 'DeviceConfig.amd.com "%s" is invalid: %s' % (name, ", ".join(causes)))


def peer_gone(sock):
    """True once the client has closed its side."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except (OSError, ValueError):
        return True


def watch(h, st, ns, q, auth):
    refused = forbidden(st, "watch", ns)
    if refused:
        return reply(h, auth, "", *refused)
    try:
        sel = parse_selector(q.get("fieldSelector"))
        timeout = float(q.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        rv = q.get("resourceVersion") or "0"
        start = int(rv)
    except ValueError as e:
        return reply(h, auth, "", 400, status(400, "BadRequest", str(e)))
    w = Watch(ns, sel, q.get("allowWatchBookmarks") in ("true", "1"))
    pending = []
    with st.lock:
        too_old = start != 0 and start < st.dc_compacted
        gone_as = st.dc_gone
        if start == 0:
            start = st.version
            pending = [("ADDED", copy.deepcopy(o)) for k, o in sorted(st.deviceconfigs.items())
                       if matches(o, ns, sel)]
        if not too_old:
            st.dc_watches.add(w)
    gone = status(410, "Expired", "too old resource version: %d (%d)" % (start, st.dc_compacted))
    if too_old and gone_as == "http":
        h.record(410, "", auth, "watch")
        h.answer(410, gone)
        return True
    h.record(200, "", auth, "watch")
    h.close_connection = True
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()

    def send(etype, obj):
        if etype is None:
            data = obj.encode() + b"\n"
        else:
            data = json.dumps({"type": etype, "object": obj}).encode() + b"\n"
        h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    deadline = time.monotonic() + timeout
    try:
        pos = start
        while not too_old:
            for etype, obj in pending:
                send(etype, obj)
            pending = []
            with st.lock:
                if w.end == "error":
                    pending, end = [("ERROR", status(410, "Expired", "too old resource version: %d (%d)"
                                                     % (pos, st.dc_compacted)))], True
                else:
                    for erv, etype, obj in st.dc_history:
                        if erv > pos and matches(obj, ns, sel):
                            pending.append((etype, copy.deepcopy(obj)))
                    pos = max([pos] + [e[0] for e in st.dc_history])
                    end = w.end == "end" or time.monotonic() >= deadline
                    if w.bookmark and w.bookmarks and not pending:
                        pending.append(("BOOKMARK", {"kind": KIND, "apiVersion": API_VERSION,
                                                     "metadata": {"resourceVersion": str(st.version)}}))
                        pos = st.version
                    w.bookmark = False
                    pending += [(None, line) for line in w.raw]
                    w.raw = []
                    if not pending and not end:
                        st.dc_cond.wait(min(0.5, max(0.0, deadline - time.monotonic())))
            if end:
                for etype, obj in pending:
                    send(etype, obj)
                break
            if not pending and peer_gone(h.connection):
                return True
        if too_old:
            send("ERROR", gone)
        h.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
        pass
    finally:
        with st.lock:
            st.dc_watches.discard(w)
    return True


def control(h, st, parts, q, auth, body_text):
    with st.lock:
        if parts == ["watches"] and h.command == "GET":
            code, obj = 200, {"open": len(st.dc_watches), "resourceVersion": str(st.version)}
        elif parts == ["compact"] and h.command == "POST":
            how, gone = q.get("watches", "keep"), q.get("gone", "http")
            if how not in ("keep", "end", "error") or gone not in ("http", "event"):
                code, obj = 400, status(400, "BadRequest", "watches=keep|end|error, gone=http|event")
            else:
                st.dc_history = []
                st.dc_compacted = st.version
                st.dc_gone = gone
                for w in st.dc_watches:
                    if how != "keep":
                        w.end = how
                save(st)
                st.dc_cond.notify_all()
                code, obj = 200, {"compacted": st.version, "open": len(st.dc_watches)}
        elif parts == ["raw"] and h.command == "POST":
            for w in st.dc_watches:
                w.raw.append(body_text)
            st.dc_cond.notify_all()
            code, obj = 200, {"open": len(st.dc_watches)}
        elif parts == ["bookmark"] and h.command == "POST":
            for w in st.dc_watches:
                w.bookmark = True
            st.dc_cond.notify_all()
            code, obj = 200, {"open": len(st.dc_watches), "resourceVersion": str(st.version)}
        else:
            code, obj = 404, status(404, "NotFound", "no such test control")
    return reply(h, auth, body_text, code, obj)

"""What the test peers share.

- build_messages: kubelet's gRPC message types from field tables written
  from kubelet's own .proto files (kubelet.py, kubelet_dra.py,
  podresources.py), never from amdvirt's, so that a wrong field number on
  either side shows up;
- check and wait_for: the "ok - ..." / "not ok - ..." lines of the peers
  that test, with PASSES and FAILURES for their summary (finish);
- Daemon and driving: the amdvirt daemon those peers drive;
- merge_patch: RFC 7386, as the API server peer applies it.

Importing it needs no protobuf (the API server peer runs without it):
build_messages imports it when called.
"""

import contextlib
import signal
import subprocess
import sys
import time

# FieldDescriptorProto's types and labels (google/protobuf/descriptor.proto),
# for the field tables: (field, number, type, label, message type or None).
STRING, BOOL, INT32, INT64, UINT64, MSG = 9, 8, 5, 3, 4, 11
OPT, REP = 1, 3


def build_messages(package, messages, maps=None):
    """The message classes of a proto3 package, by message name.

    messages: [(message, [(field, number, type, label, message type)])];
    maps: {message: [(entry, value type, value message type or None)]}, the
    map<string, value> entry types nested in that message, which its fields
    name as "message.entry".
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    def qualified(name):
        return "." + package + "." + name

    fdp = descriptor_pb2.FileDescriptorProto(name=package.replace(".", "_") + "_test.proto",
                                             package=package, syntax="proto3")
    for name, fields in messages:
        m = fdp.message_type.add(name=name)
        for fname, num, ftype, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=ftype, label=label)
            if tname:
                f.type_name = qualified(tname)
        for entry, vtype, vname in (maps or {}).get(name, []):
            e = m.nested_type.add(name=entry)
            e.options.map_entry = True
            e.field.add(name="key", number=1, type=STRING, label=OPT)
            v = e.field.add(name="value", number=2, type=vtype, label=OPT)
            if vname:
                v.type_name = qualified(vname)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {name: message_factory.MessageFactory(pool).GetPrototype(
        pool.FindMessageTypeByName(package + "." + name)) for name, _ in messages}


FAILURES = []
PASSES = [0]


def check(what, cond, detail=""):
    """One check's line; cond is returned, for the caller to go on or not."""
    if cond:
        PASSES[0] += 1
        print("ok - " + what, flush=True)
    else:
        FAILURES.append(what)
        print("not ok - %s%s" % (what, ("  # " + str(detail)[:3000]) if detail != "" else ""),
              flush=True)
    return cond


def wait_for(pred, timeout, step=0.01):
    """pred()'s first true value within timeout seconds (asked every step),
    else its last."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def finish():
    """The summary line; exits 1 when a check failed."""
    print("# %d passed, %d failed" % (PASSES[0], len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


class Daemon:
    """A process of the daemon under test, its output appended to log_path
    (the file may hold earlier daemons' lines: text() is this one's)."""

    def __init__(self, argv, log_path, preexec_fn=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.start = self.log.tell()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log, preexec_fn=preexec_fn)

    def alive(self):
        return self.proc.poll() is None

    def text(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.start)
            return f.read().decode(errors="replace")

    def term(self, timeout=5):
        """SIGTERM, then its exit status; killed, None, after timeout seconds."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


@contextlib.contextmanager
def driving(scenario, daemon, stop):
    """The with-block drives daemon; after it the daemon is killed if it
    still runs and stop() ends the peer's side; after a failed check the
    daemon's log follows on stderr."""
    try:
        yield
    finally:
        if daemon.alive():
            daemon.proc.kill()
        stop()
    if FAILURES:
        sys.stderr.write("--- daemon log (%s) ---\n%s" % (scenario, daemon.text()))


def merge_patch(target, patch):
    """RFC 7386: target with patch merged in (target itself unchanged)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out

#!/usr/bin/python3
"""Peak memory of the device plugin under hostile local clients
(tests/peers/h2flood.py), each attack against a fresh daemon on the 8 PF x
8 VF host with the test suite's kubelet registered:

  request data: 64 connections x 4 Allocate streams, each announcing a
    4 MiB message and sending it without END_STREAM (the attack that took
    the daemon to 1 GB); the same with messages just under the request
    limit, on 4 and on 128 streams per connection;
  replies: 64 connections x 128 complete Allocates of all 64 devices, the
    replies never read.

For each: the daemon's peak RSS (VmHWM) against the DaemonSet's 64 MiB
limit, what the server did to the streams and connections, and whether
kubelet is still served afterwards.
    bench/plugin-attack.py AMDVIRT ROOT OUTDIR
Not a test: the numbers depend on the machine and the allocator."""

import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "peers"))
import h2flood as H  # noqa: E402
import kubelet as K  # noqa: E402

LIMIT_KIB = 64 * 1024          # k8s/daemonset.yaml: resources.limits.memory


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.split(":", 1) for line in f)
    return int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])


def attack(amdvirt, root, pdir, log, name, fn):
    k = K.Kubelet(pdir)
    k.start()
    d = K.Daemon(amdvirt, root, log)
    try:
        assert k.registrations.get(timeout=10)[0] == "ok"
        first = k.next_list(5)
        ids = [dev.ID for dev in first.devices if dev.health == "Healthy"]
        rss0, _ = status(d.proc.pid)
        sock = os.path.join(pdir, "amdvirt-amd_com_gpu.sock")
        t0 = time.monotonic()
        what, held = fn(sock, ids)
        dt = time.monotonic() - t0
        rss1, hwm = status(d.proc.pid)
        try:
            k.allocate(ids[:1])
            served = "yes"
        except K.grpc.RpcError as e:
            served = "no (%s)" % e.code()
        for s in held:
            s.close()
        print("%s\n    %s in %.1f s\n    RSS %.1f MiB before, %.1f MiB at the end, peak %.1f MiB "
              "(%.0f%% of the 64 MiB limit); kubelet served after: %s, daemon alive: %s" %
              (name, what, dt, rss0 / 1024, rss1 / 1024, hwm / 1024, 100.0 * hwm / LIMIT_KIB,
               served, d.alive()), flush=True)
        return hwm
    finally:
        d.term()
        k.stop()


def flood(conns, streams, announce, send, seconds):
    def run(sock, ids):
        f = H.Flood(sock, conns, streams, announce, send)
        st = f.run(seconds)
        return ("%(connections)d connections, %(streams)d streams: %(answered)d refused with a "
                "status, %(reset)d reset, %(fully_sent)d sent in full, %(closed)d connections "
                "closed by the server" % st, [c.sock for c in f.conns])
    return run


def unread_replies(conns, streams):
    def run(sock, ids):
        req = K.M["AllocateRequest"]()
        req.container_requests.add().devices_ids.extend(ids)
        socks = H.blast(sock, conns, streams, "/v1beta1.DevicePlugin/Allocate",
                        req.SerializeToString())
        time.sleep(3)
        alive = sum(1 for s in socks if H.still_open(s))
        return ("%d connections x %d Allocates of %d devices, replies unread: %d connections "
                "still open" % (len(socks), streams, len(ids), alive), socks)
    return run


def main():
    amdvirt, root, out = sys.argv[1:4]
    pdir = os.path.join(root, "var/lib/kubelet/device-plugins")
    os.makedirs(pdir, exist_ok=True)
    log = os.path.join(out, "daemon.log")
    peak = 0
    for name, fn in (
            ("request data: 64 conns x 4 streams, 4 MiB messages without END_STREAM",
             flood(64, 4, 4 << 20, 4 << 20, 8)),
            ("request data: 64 conns x 4 streams, 64 KiB messages without END_STREAM",
             flood(64, 4, 65536, 65536, 8)),
            ("request data: 64 conns x 128 streams, 64 KiB messages without END_STREAM",
             flood(64, 128, 65536, 65536, 15)),
            ("replies: 64 conns x 128 Allocates of every device, never read",
             unread_replies(64, 128))):
        peak = max(peak, attack(amdvirt, root, pdir, log, name, fn))
    print("worst peak RSS: %.1f MiB of the 64 MiB limit" % (peak / 1024))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Device plugin figures with the test suite's kubelet (tests/peers/kubelet.py):
start to Register, RSS after 10 s idle, CPU time and context switches over
30 s idle, Allocate latency (median, p99 over 2,000 calls) against a bare
GetDevicePluginOptions round trip, and the daemon's CPU time per Allocate.
    bench/plugin.py AMDVIRT ROOT OUTDIR
Not a test: the numbers depend on the machine."""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peers"))
import kubelet as K  # noqa: E402

CALLS = 2000


class TimedKubelet(K.Kubelet):
    def _register(self, req, context):
        self.register_at = time.monotonic()
        return super()._register(req, context)


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    ctx = int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"])
    return cpu, ctx, int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def rounds(fn, n):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    amdvirt, root, out = sys.argv[1:4]
    pdir = os.path.join(root, "var/lib/kubelet/device-plugins")
    os.makedirs(pdir, exist_ok=True)
    k = TimedKubelet(pdir)
    k.start()
    t0 = time.monotonic()
    d = K.Daemon(amdvirt, root, os.path.join(out, "daemon.log"))
    try:
        status = k.registrations.get(timeout=10)[0]
        assert status == "ok", status
        first = k.next_list(5)
        ids = [dev.ID for dev in first.devices if dev.health == "Healthy"]
        print("devices:                 %d (%d healthy)" % (len(first.devices), len(ids)))
        print("start to Register:       %.2f ms" % ((k.register_at - t0) * 1000))
        time.sleep(10)
        cpu0, ctx0, rss, hwm = proc_stat(d.proc.pid)
        print("RSS after 10 s idle:     %.2f MiB (peak %.2f MiB)" % (rss / 1024, hwm / 1024))
        time.sleep(30)
        cpu1, ctx1, _, _ = proc_stat(d.proc.pid)
        print("30 s idle:               %.3f s CPU, %d context switches" % (cpu1 - cpu0, ctx1 - ctx0))

        empty = K.M["Empty"]()
        opts = rounds(lambda i: k.call("GetDevicePluginOptions", empty, "DevicePluginOptions"), 200)
        opts = rounds(lambda i: k.call("GetDevicePluginOptions", empty, "DevicePluginOptions"),
                      CALLS)
        reqs = []
        for i in range(CALLS):
            r = K.M["AllocateRequest"]()
            r.container_requests.add().devices_ids.append(ids[i % len(ids)])
            reqs.append(r)
        cpu_a0 = proc_stat(d.proc.pid)[0]
        alloc = rounds(lambda i: k.call("Allocate", reqs[i], "AllocateResponse"), CALLS)
        cpu_a1 = proc_stat(d.proc.pid)[0]
        mo, ma = statistics.median(opts), statistics.median(alloc)
        print("GetDevicePluginOptions:  median %.0f us, p99 %.0f us" % (mo, pct(opts, 99)))
        print("Allocate:                median %.0f us, p99 %.0f us (%.2fx options)" %
              (ma, pct(alloc, 99), ma / mo))
        print("daemon CPU per Allocate: %.1f us (clock ticks: +-%.0f us)" %
              ((cpu_a1 - cpu_a0) / CALLS * 1e6, 1e6 / os.sysconf("SC_CLK_TCK") / CALLS))
    finally:
        d.term()
        k.stop()


if __name__ == "__main__":
    main()

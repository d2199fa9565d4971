#!/usr/bin/python3
"""Device plugin figures with the test suite's kubelet (tests/peers/kubelet.py):
start to Register, RSS after 10 s idle, CPU time and context switches over
30 s idle, Allocate latency (median, p99 over 2,000 calls) against a bare
GetDevicePluginOptions round trip (interleaved), and the daemon's CPU time
per Allocate.
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


STARTS = 15


def proc_stat(pid):
    with open("/proc/%d/status" % pid) as f:
        status = dict(line.split(":", 1) for line in f)
    ctx = int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"])
    return cpu_ns(pid), ctx, int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def cpu_ns(pid):
    # schedstat counts every thread's time on a CPU in nanoseconds; the
    # clock ticks of /proc/PID/stat are 10 ms, too coarse for one call.
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    return total


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e6


def start_once(amdvirt, root, pdir, log):
    """One daemon start to its Register call; returns (ms, kubelet, daemon)."""
    k = TimedKubelet(pdir)
    k.start()
    t0 = time.monotonic()
    d = K.Daemon(amdvirt, root, log)
    status = k.registrations.get(timeout=10)[0]
    assert status == "ok", status
    return (k.register_at - t0) * 1000, k, d


def main():
    amdvirt, root, out = sys.argv[1:4]
    pdir = os.path.join(root, "var/lib/kubelet/device-plugins")
    os.makedirs(pdir, exist_ok=True)
    log = os.path.join(out, "daemon.log")
    # The start includes spawning the process from Python and the Python
    # kubelet's dispatch, so it is taken several times: the machine's other
    # work shows in single runs.
    starts = []
    for _ in range(STARTS - 1):
        ms, k, d = start_once(amdvirt, root, pdir, log)
        starts.append(ms)
        d.term()
        k.stop()
    ms, k, d = start_once(amdvirt, root, pdir, log)
    starts.append(ms)
    try:
        first = k.next_list(5)
        ids = [dev.ID for dev in first.devices if dev.health == "Healthy"]
        print("devices:                 %d (%d healthy)" % (len(first.devices), len(ids)))
        print("start to Register:       median %.2f ms, best %.2f ms (%d starts)" %
              (statistics.median(starts), min(starts), len(starts)))
        time.sleep(10)
        cpu0, ctx0, rss, hwm = proc_stat(d.proc.pid)
        print("RSS after 10 s idle:     %.2f MiB (peak %.2f MiB)" % (rss / 1024, hwm / 1024))
        time.sleep(30)
        cpu1, ctx1, _, _ = proc_stat(d.proc.pid)
        print("30 s idle:               %.3f ms CPU, %d context switches" %
              ((cpu1 - cpu0) / 1e6, ctx1 - ctx0))

        empty = K.M["Empty"]()
        reqs = []
        for i in range(CALLS):
            r = K.M["AllocateRequest"]()
            r.container_requests.add().devices_ids.append(ids[i % len(ids)])
            reqs.append(r)

        def options():
            k.call("GetDevicePluginOptions", empty, "DevicePluginOptions")

        def allocate(i):
            return lambda: k.call("Allocate", reqs[i], "AllocateResponse")

        for i in range(200):
            timed(options)
            timed(allocate(i))
        # Interleaved, so that whatever else the machine does weighs on
        # both series alike.
        opts, alloc = [], []
        for i in range(CALLS):
            opts.append(timed(options))
            alloc.append(timed(allocate(i)))
        mo, ma = statistics.median(opts), statistics.median(alloc)
        print("GetDevicePluginOptions:  median %.0f us, p99 %.0f us" % (mo, pct(opts, 99)))
        print("Allocate:                median %.0f us, p99 %.0f us (%.2fx options)" %
              (ma, pct(alloc, 99), ma / mo))
        cpu_a0 = cpu_ns(d.proc.pid)
        for i in range(CALLS):
            allocate(i)()
        cpu_a1 = cpu_ns(d.proc.pid)
        print("daemon CPU per Allocate: %.1f us" % ((cpu_a1 - cpu_a0) / CALLS / 1e3))
    finally:
        d.term()
        k.stop()


if __name__ == "__main__":
    main()

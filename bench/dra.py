#!/usr/bin/python3
"""DRA driver figures with the test suite's kubelet DRA peer
(tests/peers/kubelet_dra.py) and fake API server: start to the registration
socket answering GetInfo, start to the ResourceSlice on the API server (the
node's slices deleted before each start, as kubelet does at its own start,
so that each start creates it), and Prepare / Unprepare latency (median,
p99) of one-GPU claims, each a new claim.
    bench/dra.py AMDVIRT ROOT OUTDIR SERVER
Not a test: the numbers depend on the machine."""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peers"))
import kubelet_dra as K  # noqa: E402

STARTS = 15
CLAIMS = 300


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Args:
    pass


def main():
    amdvirt, root, out, server = sys.argv[1:5]
    args = Args()
    args.amdvirt, args.root, args.tmp, args.scenario = amdvirt, root, out, "bench"
    args.kubeconfig = os.path.join(out, "kubeconfig")
    api = K.Api(server, os.path.join(out, "ca.crt"), "bench-token")
    wipe = "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3Dnode1"
    reg, pub = [], []
    for n in range(STARTS):
        api.call("DELETE", wipe)
        k = K.Kubelet(root)
        t0 = time.monotonic()
        d = K.Daemon(args)
        err = k.register()
        t1 = time.monotonic()
        assert err is None, err
        while not api.slices():
            if time.monotonic() - t0 > 30:
                sys.exit("no ResourceSlice 30 s after start; the daemon's log: %s" % d.log_path)
            time.sleep(0.001)
        t2 = time.monotonic()
        reg.append((t1 - t0) * 1000)
        pub.append((t2 - t0) * 1000)
        if n < STARTS - 1:
            d.term()
            k.close()
    try:
        devs = [x["name"] for x in api.slices()[0]["spec"]["devices"]]
        print("devices in the slice:      %d" % len(devs))
        print("start to registered:       median %.1f ms, best %.1f ms (%d starts)" %
              (statistics.median(reg), min(reg), STARTS))
        print("start to slice published:  median %.1f ms, best %.1f ms" % (statistics.median(pub), min(pub)))
        claims = []
        for i in range(CLAIMS):
            c = api.make_claim("bench", "c%d" % i, [("gpu", K.DRIVER, K.NODE, devs[i % len(devs)])])
            claims.append(("bench", c["metadata"]["uid"], c["metadata"]["name"]))
        prep, unprep = [], []
        for ref in claims:
            t0 = time.perf_counter()
            r = k.prepare([ref])
            prep.append((time.perf_counter() - t0) * 1e3)
            assert r.claims[ref[1]].error == "", r
            t0 = time.perf_counter()
            k.unprepare([ref])
            unprep.append((time.perf_counter() - t0) * 1e3)
        print("Prepare (1 GPU):           median %.2f ms, p99 %.2f ms (%d claims; a GET of the claim, "
              "a fresh reading of the host, 3 files)" % (statistics.median(prep), pct(prep, 99), CLAIMS))
        print("Unprepare:                 median %.2f ms, p99 %.2f ms" %
              (statistics.median(unprep), pct(unprep, 99)))
        rep = []
        r0 = claims[0]
        k.prepare([r0])
        for _ in range(CLAIMS):
            t0 = time.perf_counter()
            k.prepare([r0])
            rep.append((time.perf_counter() - t0) * 1e3)
        print("Prepare again (on record): median %.2f ms, p99 %.2f ms" % (statistics.median(rep), pct(rep, 99)))
    finally:
        d.term()
        k.close()


if __name__ == "__main__":
    main()

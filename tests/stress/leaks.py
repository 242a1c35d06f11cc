#!/usr/bin/env python3
"""Create/delete cycles of a wired node and of a supervised process, and
whether netnsd's resources stay flat.

    tests/stress/leaks.py [-n 10000] [--rss-slack-kib 4096] [--json FILE] [--csv FILE]

One cycle: netns.add, link.add (a veth with one end in the namespace and one
in the host), addr.add, route.add, netns.delete; then proc.spawn of `true`
in a namespace kept for the run, proc.wait, proc.delete.  Sampled at the
start (after a warm-up of 50 cycles, which fills allocator pools and caches)
and every so often: netnsd's RSS, open fds and mounts (lines of its
/proc/PID/mountinfo that name our prefix; the total too, for the record),
host links and /run/netns entries with our prefix (others share the
machine), shims alive.

Exit status: 0 when fds, mounts, links, namespaces and shims are exactly
where they started and RSS grew by at most --rss-slack-kib; 1 otherwise;
77 when not root.  NETNSD names the binary (default build/daemon/netnsd).
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stresslib  # noqa: E402

WARMUP = 50


def cycle(c, prefix, procns, i, slots=7):
    """One wired node made and deleted, one process run and deleted, on connection c."""
    ns, host = "%sn%d" % (prefix, i % slots), "%sh%d" % (prefix, i % slots)
    c.call("netns.add", {"name": ns})
    c.call("link.add", {"netns": ns, "name": "eth0", "kind": "veth", "up": True,
                        "peer": {"name": host, "netns": None, "up": True}})
    c.call("addr.add", {"netns": ns, "dev": "eth0", "address": "10.66.%d.2/24" % (i % slots)})
    c.call("route.add", {"netns": ns, "dst": "10.67.0.0/16", "via": "10.66.%d.1" % (i % slots)})
    c.call("netns.delete", {"name": ns, "grace_ms": 0})
    p = c.call("proc.spawn", {"netns": procns, "argv": ["true"]})
    w = c.call("proc.wait", {"id": p["id"], "timeout_ms": 10000})
    if w.get("exit_code") != 0:
        raise RuntimeError("proc %s ended %r" % (p["id"], w))
    c.call("proc.delete", {"id": p["id"], "grace_ms": 0})


def sample(d, cycles, t0, prefix):
    """Other users of the machine make namespaces and links too: count ours by prefix
    (the totals are there for the record)."""
    return {"cycles": cycles, "seconds": round(time.time() - t0, 1), "rss_kib": d.rss_kib(),
            "fds": d.fds(), "mounts": d.mounts(prefix), "mounts_total": d.mounts(),
            "host_links": len(stresslib.host_links(prefix)),
            "run_netns": len(stresslib.run_netns(prefix)),
            "shims": len(stresslib.shims_of(d.runtime_dir))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=int(os.environ.get("LEAKS_N", 10000)))
    ap.add_argument("--rss-slack-kib", type=int, default=4096)
    ap.add_argument("--every", type=int, default=0, help="sample every N cycles")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--csv", help="write the samples here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("leaks: SKIP: needs root (namespaces, links)")
        return 77
    every = args.every or max(1, args.n // 20)
    prefix = stresslib.prefix_for("lk")
    d = stresslib.Netnsd(stresslib.default_netnsd())
    procns = prefix + "p"
    samples = []
    t0 = time.time()
    try:
        d.start()
        c = d.conn()
        c.call("netns.add", {"name": procns})

        for i in range(WARMUP):
            cycle(c, prefix, procns, i)
        # Closing handles finishes on the next loop turns; let them settle first.
        time.sleep(0.5)
        samples.append(sample(d, 0, t0, prefix))
        for i in range(1, args.n + 1):
            cycle(c, prefix, procns, i)
            if i % every == 0 or i == args.n:
                time.sleep(0.5)
                samples.append(sample(d, i, t0, prefix))
                print("leaks: %s" % samples[-1], file=sys.stderr, flush=True)
        c.close()
    finally:
        try:
            if d.proc and d.proc.poll() is None:
                d.call("netns.delete", {"name": procns, "grace_ms": 0})
                d.stop()
        except Exception:
            pass
        stresslib.cleanup(prefix, d)
    start, end = samples[0], samples[-1]
    flat = {k: end[k] == start[k] for k in ("fds", "mounts", "host_links", "run_netns", "shims")}
    rss_ok = end["rss_kib"] - start["rss_kib"] <= args.rss_slack_kib
    figures = {"cycles": args.n, "warmup": WARMUP, "start": start, "end": end,
               "rss_growth_kib": end["rss_kib"] - start["rss_kib"],
               "rss_max_kib": max(s["rss_kib"] for s in samples),
               "cycles_per_second": round(args.n / max(end["seconds"] - start["seconds"], 0.001), 1),
               "flat": flat, "rss_within_slack": rss_ok, "ok": all(flat.values()) and rss_ok}
    if args.csv:
        with open(args.csv, "w") as f:
            keys = list(samples[0])
            f.write(",".join(keys) + "\n")
            for s in samples:
                f.write(",".join(str(s[k]) for k in keys) + "\n")
    stresslib.emit(figures, args.json)
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    # Stopped from outside (the soak, a test's timeout): clean up all the same.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())

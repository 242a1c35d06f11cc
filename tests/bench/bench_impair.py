#!/usr/bin/env python3
"""Benchmark: impairing N links through netnsd against the plain tc way.

One namespace with N veth pairs (both ends inside it). The same rate limit
(a tbf) is applied to the N first ends, timed three ways in the same run:

  netnsd     link.set {impair: {rate_kbit}} per link, one request after the
             other on one connection (each reply waits for the state to be
             on disk, as every netnsd change does); and pipelined: all N
             requests written at once, so replies share fsyncs
  tc         `tc -n NS qdisc replace dev X root tbf ...` per link, what a
             lab script does
  tc -batch  all N in one `tc -n NS -batch FILE`, the floor of the tc way

then removed again the same three ways, and read back: link.list (every
link with its impair) against `tc -j qdisc show`. Figures go to stdout with
the ratios netnsd/tc and netnsd/tc-batch. Needs root; not part of `make check`.

Usage: NETNSD=build/daemon/netnsd tests/bench/bench_impair.py [--n N]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import loadavg, task_sched_ns  # noqa: E402
from netnsd_test import Daemon, cleanup, run, uniq  # noqa: E402

RATE = 10000  # kbit/s


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="links (default 200)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_impair: needs root", file=sys.stderr)
        return 77
    n = args.n
    d = Daemon()
    ns = uniq("b")
    d.call("netns.add", {"name": ns})
    c = d.client()
    names = ["i%d" % i for i in range(n)]
    for name in names:
        c.call("link.add", {"netns": ns, "name": name, "kind": "veth", "up": True,
                            "peer": {"name": name + "p", "up": True}})

    def netnsd_set(imp):
        for name in names:
            c.call("link.set", {"netns": ns, "name": name, "impair": imp})

    def netnsd_pipelined(imp):
        """All requests written at once: replies share the state's fsyncs (group commit)."""
        msgs = "".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": "link.set",
                                   "params": {"netns": ns, "name": name, "impair": imp}}) + "\n"
                       for i, name in enumerate(names))
        c.send_raw(msgs)
        for _ in names:
            reply = c.recv()
            assert "result" in reply, reply

    def tc_each(verb):
        for name in names:
            cmd = ["tc", "-n", ns, "qdisc", verb, "dev", name, "root"]
            if verb == "replace":
                cmd += ["tbf", "rate", "%dkbit" % RATE, "burst", "15k", "latency", "100ms"]
            run(cmd)

    def tc_batch(verb):
        with tempfile.NamedTemporaryFile("w", suffix=".tc") as f:
            for name in names:
                line = "qdisc %s dev %s root" % (verb, name)
                if verb == "replace":
                    line += " tbf rate %dkbit burst 15k latency 100ms" % RATE
                f.write(line + "\n")
            f.flush()
            run(["tc", "-n", ns, "-batch", f.name])

    # Each way starts from the same kernel state (none for apply, all for remove).
    rows = []
    t_tc = timed(lambda: tc_each("replace"))
    tc_batch("del")
    t_batch = timed(lambda: tc_batch("replace"))
    tc_batch("del")
    t_ours = timed(lambda: netnsd_set({"rate_kbit": RATE}))
    netnsd_set(None)
    cpu0 = task_sched_ns(d.proc.pid)[0]
    t_pipe = timed(lambda: netnsd_pipelined({"rate_kbit": RATE}))
    cpu_apply = (task_sched_ns(d.proc.pid)[0] - cpu0) / 1e9
    rows.append(("apply", t_ours, t_pipe, t_tc, t_batch))
    t_tc = timed(lambda: tc_each("del"))
    tc_batch("replace")
    t_batch = timed(lambda: tc_batch("del"))
    netnsd_set({"rate_kbit": RATE})
    t_ours = timed(lambda: netnsd_set(None))
    netnsd_set({"rate_kbit": RATE})
    t_pipe = timed(lambda: netnsd_pipelined(None))
    rows.append(("remove", t_ours, t_pipe, t_tc, t_batch))

    netnsd_set({"rate_kbit": RATE})
    t_list = timed(lambda: c.call("link.list", {"netns": ns}))
    t_show = timed(lambda: run(["tc", "-n", ns, "-j", "qdisc", "show"]))
    listed = [l for l in c.call("link.list", {"netns": ns})["links"] if l.get("impair")]
    assert len(listed) == n, len(listed)
    c.close()
    d.stop()

    print("bench_impair: N = %d links, tbf %d kbit/s, load %s" % (n, RATE, loadavg()))
    print("per link  %13s %13s %13s %13s   netnsd (pipelined) vs tc each, vs tc -batch" % (
        "netnsd", "pipelined", "tc each", "tc -batch"))
    for what, ours, pipe, tc, batch in rows:
        print("%-8s %10.1f us %10.1f us %10.1f us %10.1f us   %.2fx (%.2fx), %.1fx (%.1fx)" % (
            what, ours / n * 1e6, pipe / n * 1e6, tc / n * 1e6, batch / n * 1e6, ours / tc,
            pipe / tc, ours / batch, pipe / batch))
    print("netnsd CPU per pipelined apply: %.0f us (wall time above includes waiting for a CPU)"
          % (cpu_apply / n * 1e6))
    print("read-back of %d links: link.list %.1f ms, tc -j qdisc show %.1f ms (%.2fx)" % (
        n, t_list * 1e3, t_show * 1e3, t_list / t_show))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()

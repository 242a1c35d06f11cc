#!/usr/bin/env python3
"""kill -9 netnsd under load, N times, and count what it lost.

    tests/stress/kill9.py [-n 1000] [--clients 4] [--max-ms 400] [--json FILE]

Several clients pipeline a mixed workload (namespaces with veths inside and
to the host, addresses, routes, supervised processes with known exit codes,
deletions) while netnsd is killed with SIGKILL at a random moment (one round
in ten already while it restores its state), then restarted.  After every
restart the acknowledged model is checked against netnsd and the kernel
(tests/lib/crashlib.py): acknowledged objects lost, acknowledged deletions
undone, objects in the kernel that netnsd's state does not know (orphans),
processes lost or with a wrong exit code, shims nobody supervises.

Prints figures as JSON; exit status 0 when there was no violation, 1
otherwise, 77 when not root.  Needs root (namespaces, links).  NETNSD names
the binary (default: build/daemon/netnsd).
"""

import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stresslib  # noqa: E402
from stresslib import crashlib  # noqa: E402


def classify(v):
    if "exit code" in v:
        return "proc_wrong_exit"
    if v.startswith("proc") or v.startswith("shim"):
        return "proc_lost"
    if "acknowledged but lost" in v or "but its namespace is gone" in v:
        return "acked_lost"
    if "deletion acknowledged" in v:
        return "acked_delete_undone"
    if "orphan" in v or "not in netnsd's state" in v:
        return "orphans"
    return "inconsistent"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=int(os.environ.get("KILL9_N", 1000)))
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-ms", type=int, default=400, help="longest run before the kill")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--seconds", type=float, default=0,
                    help="stop after this long even if fewer than N rounds ran (0: no limit)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--keep-log", help="copy netnsd's log here when there were violations")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("kill9: SKIP: needs root (namespaces, links)")
        return 77

    rng = random.Random(args.seed)
    prefix = stresslib.prefix_for("k9")
    d = stresslib.Netnsd(stresslib.default_netnsd())
    procns = prefix + "procs"
    wl = crashlib.Workload(d.socket, d.state_dir, prefix, clients=args.clients,
                           seed=args.seed, proc_netns=procns)
    figures = {"iterations": 0, "kills_during_restore": 0, "acked_ops": 0,
               "acked_procs_checked": 0, "seed": args.seed, "clients": args.clients,
               "violations": 0}
    counts = {k: 0 for k in ("acked_lost", "acked_delete_undone", "orphans", "proc_lost",
                             "proc_wrong_exit", "inconsistent")}
    examples = []
    t0 = time.time()
    try:
        d.start()
        d.call("netns.add", {"name": procns})
        d.stop()
        for i in range(args.n):
            if args.seconds and time.time() - t0 > args.seconds:
                break
            if i and rng.random() < 0.1:
                # Killed while it restores the state and adopts its shims.
                d.start(wait=False)
                time.sleep(rng.uniform(0, 0.05))
                d.kill9()
                figures["kills_during_restore"] += 1
            d.start()
            conn = d.conn()
            before = set(wl.model.procs)
            v = wl.check(conn) + wl.orphan_shims(d.runtime_dir, conn)
            figures["acked_procs_checked"] += len(before - set(wl.model.procs))
            conn.close()
            for x in v:
                counts[classify(x)] += 1
                if len(examples) < 40:
                    examples.append("round %d: %s" % (i, x))
                if not args.quiet:
                    print("kill9: round %d: %s" % (i, x), flush=True)
            wl.start()
            time.sleep(rng.uniform(0, args.max_ms / 1000.0))
            d.kill9()
            wl.stop()
            figures["iterations"] += 1
            if not args.quiet and (i + 1) % 50 == 0:
                print("kill9: %d/%d rounds, %d acknowledged, %d violations, %.0fs"
                      % (i + 1, args.n, wl.model.acked, sum(counts.values()),
                         time.time() - t0), flush=True)
        # The last kill is checked too, then the workload waits for its processes.
        d.start()
        conn = d.conn()
        v = wl.final_check(conn, d.runtime_dir)
        conn.close()
        for x in v:
            counts[classify(x)] += 1
            if len(examples) < 40:
                examples.append("final: %s" % x)
    finally:
        figures["acked_ops"] = wl.model.acked
        figures["seconds"] = round(time.time() - t0, 1)
        figures.update(counts)
        figures["violations"] = sum(counts.values())
        figures["examples"] = examples
        if args.keep_log and figures["violations"]:
            import shutil
            shutil.copy(d.log_path, args.keep_log)
        stresslib.finish(d, prefix, [k[1] for k in wl.model.objs if k[0] == "netns"] + [procns])
    stresslib.emit(figures, args.json)
    return 1 if figures["violations"] else 0


if __name__ == "__main__":
    # Stopped from outside (the soak, a test's timeout): clean up all the same.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())

#!/usr/bin/env python3
"""The failpoint walk: crash netnsd at every failpoint and check that the
restarted daemon keeps every promise.

Needs a netnsd configured with --enable-failpoints (skipped otherwise). For
each failpoint that `netnsd --list-failpoints` names, and for its 1st and
FAILPOINT_NTH-th hit (default 3): a fresh netnsd armed with
NETNSD_FAILPOINT=NAME:N runs a fixed mixed workload (two wired nodes, one
with /etc/netns files, processes with known exit codes, a namespace
deletion), then a clean SIGTERM (whose compaction reaches the file.*
points); wherever the failpoint stops it, netnsd is started again without
it and the invariants of tests/lib/crashlib.py are checked: every
acknowledged change present in netnsd's view and the kernel's, no
unacknowledged change half-present, no kernel object marked as netnsd's that
its state does not know, no process lost or with a wrong exit code, no
shim nobody supervises.  The summary line reports the failpoint count,
how many runs stopped at their failpoint, and the violations (goal 0).
"""

import os
import signal
import subprocess
import sys

from netnsd_test import NETNSD, Skip, main, test
import crashlib
import stresslib

NTH = int(os.environ.get("FAILPOINT_NTH", "3"))
failpoints = []
results = {}


def list_failpoints():
    p = subprocess.run([NETNSD, "--list-failpoints"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return [line.split("\t")[0] for line in p.stdout.splitlines() if line.strip()]


def one_run(fp, nth):
    """Crash at the nth hit of fp; returns (hit, violations)."""
    prefix = stresslib.prefix_for("fp")
    d = stresslib.Netnsd(NETNSD)
    procns = prefix + "procs"
    wl = crashlib.Workload(d.socket, d.state_dir, prefix, proc_netns=procns)
    hit = False
    v = []
    try:
        # The namespace for processes comes first, from an unarmed daemon.
        d.start()
        d.call("netns.add", {"name": procns})
        d.stop()
        d.start(wait=False, env={"NETNSD_FAILPOINT": "%s:%d" % (fp, nth)})
        try:
            d.wait_ready(timeout=30)
            conn = d.conn(timeout=30)
            wl.scripted(conn)
            conn.close()
        except (OSError, ConnectionError, RuntimeError, ValueError):
            pass
        if d.proc.poll() is None:
            d.stop()
        status = d.proc.wait()
        hit = status == 86
        if status not in (0, 86):
            v.append("netnsd exited with %d, not at the failpoint:\n%s" % (status, d.log_tail()))
        d.start()
        conn = d.conn()
        # The processes end within a second; their exit codes must be exact.
        v += wl.final_check(conn, d.runtime_dir)
        if wl.model.procs:
            v.append("processes never ended: %s" % sorted(wl.model.procs))
        # Everything is still netnsd's to delete, and then nothing is left.
        for key in list(wl.model.objs):
            if key[0] == "netns" and wl.model.get(key) == crashlib.PRESENT:
                conn.call("netns.delete", {"name": key[1], "grace_ms": 0})
        conn.call("netns.delete", {"name": procns, "grace_ms": 0})
        conn.close()
        d.stop()
        left = stresslib.run_netns(prefix) + stresslib.host_links(prefix)
        if left:
            v.append("left behind after deleting everything: %s" % left)
    finally:
        stresslib.cleanup(prefix, d)
    return hit, v


def make_test(fp):
    def t():
        hits, violations = 0, []
        for nth in sorted({1, NTH}):
            hit, v = one_run(fp, nth)
            hits += hit
            violations += ["%s:%d: %s" % (fp, nth, x) for x in v]
            results[(fp, nth)] = (hit, v)
        assert not violations, "\n".join(violations)
        if not hits:
            raise Skip("the workload never reaches %s" % fp)
    t.__name__ = "failpoint_" + fp.replace(".", "_")
    t.__doc__ = "crash at %s (hits 1 and %d), restart, invariants hold" % (fp, NTH)
    return t


def summary():
    """failpoint count, runs that stopped at their failpoint, violations"""
    if not results:
        raise Skip("no failpoint ran")
    hits = sum(1 for h, v in results.values() if h)
    bad = sum(len(v) for h, v in results.values())
    print("# failpoints: %d, runs: %d, stopped at the failpoint: %d, violations: %d"
          % (len(failpoints), len(results), hits, bad))
    unreached = sorted(set(fp for (fp, n), (h, v) in results.items())
                       - set(fp for (fp, n), (h, v) in results.items() if h))
    if unreached:
        print("# never reached: %s" % " ".join(unreached))
    assert bad == 0


if __name__ == "__main__":
    if os.geteuid() == 0:
        failpoints = list_failpoints()
        if failpoints is None:
            print("1..0 # SKIP %s was built without --enable-failpoints" % NETNSD)
            sys.exit(0)
        for fp in failpoints:
            test(make_test(fp))
        test(summary)
    sys.exit(main())

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
shim nobody supervises.

A second workload, the lab (crashlib's lab_setup() by an unarmed netnsd,
then lab_script()), renames a link, moves one to another namespace, adds an
address and a route, applies a two-node topology with a service and
destroys it; it crashes at every hit of the points in EVERY_HIT and at hits
1 and FAILPOINT_NTH of the others.  Its invariants add: a renamed or moved
link under exactly one of its names, and a topology whole or absent after
the restart (never half applied), with no transaction left over.

The summary lines report the failpoint count, the runs of each workload,
how many stopped at their failpoint, and the violations (goal 0).

FAILPOINT_ONLY=PREFIX[,...] walks a subset.  The proc.transient.* points
fire only where systemd is PID 1: in the qemu systemd guest, given a
failpoints build (BUILD_DIR=... tests/vm/run.sh systemd
tests/integration/test_failpoints.py), the walk takes the proc.* points.
"""

import os
import signal
import subprocess
import sys

from netnsd_test import NETNSD, Skip, main, test
import crashlib
import stresslib

NTH = int(os.environ.get("FAILPOINT_NTH", "3"))
# The lab workload stops at every hit of these (a kernel change not yet recorded, a commit,
# a new namespace, a started supervisor), at most LAB_MAX; FAILPOINT_LAB_ALL=1: of all.
EVERY_HIT = ("nl.sent", "state.journal.torn", "netns.mounted", "proc.spawned",
             "proc.transient.started")
LAB_MAX = int(os.environ.get("FAILPOINT_LAB_MAX", "64"))
failpoints = []
results = {}


def list_failpoints():
    p = subprocess.run([NETNSD, "--list-failpoints"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return [line.split("\t")[0] for line in p.stdout.splitlines() if line.strip()]


def one_run(fp, nth, lab=False):
    """Crash at the nth hit of fp during the mixed workload (or, with lab, the one of
    renames, moves and a topology); returns (hit, violations)."""
    prefix = stresslib.prefix_for("fp")
    d = stresslib.Netnsd(NETNSD)
    procns = prefix + "procs"
    wl = crashlib.Workload(d.socket, d.state_dir, prefix, proc_netns=procns)
    hit = False
    v = []
    try:
        # What the workload starts from comes first, from an unarmed daemon.
        d.start()
        d.call("netns.add", {"name": procns})
        if lab:
            conn = d.conn()
            wl.lab_setup(conn)
            conn.close()
        d.stop()
        d.start(wait=False, env={"NETNSD_FAILPOINT": "%s:%d" % (fp, nth)})
        try:
            d.wait_ready(timeout=30)
            conn = d.conn(timeout=30)
            (wl.lab_script if lab else wl.scripted)(conn)
            conn.close()
        except (OSError, ConnectionError, RuntimeError, ValueError) as e:
            try:
                d.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                v.append("the workload failed while netnsd runs: %s" % e)
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
        wl.cleanup(conn)
        conn.call("netns.delete", {"name": procns, "grace_ms": 0})
        conn.close()
        # A sanitizer build exits non-zero on a leak or an error in what recovered.
        status = d.stop()
        if status != 0:
            v.append("netnsd exited with %s after the restart:\n%s" % (status, d.log_tail()))
        left = stresslib.run_netns(prefix) + stresslib.host_links(prefix)
        if left:
            v.append("left behind after deleting everything: %s" % left)
    finally:
        stresslib.cleanup(prefix, d)
    return hit, v


def lab_hits(fp):
    """The hits of fp the lab workload crashes at: every one (until a run no longer
    stops) for the points between a kernel change and its record, else 1 and NTH."""
    if fp in EVERY_HIT or os.environ.get("FAILPOINT_LAB_ALL"):
        return range(1, LAB_MAX + 1)
    return sorted({1, NTH})


def make_test(fp):
    def t():
        hits, violations = 0, []
        for lab, nths in ((False, sorted({1, NTH})), (True, lab_hits(fp))):
            for nth in nths:
                hit, v = one_run(fp, nth, lab)
                hits += hit
                violations += ["%s:%d%s: %s" % (fp, nth, " (lab)" if lab else "", x)
                               for x in v]
                results[(fp, nth, lab)] = (hit, v)
                if not hit:
                    break  # the workload ended before that hit: so would later ones
        assert not violations, "\n".join(violations)
        if not hits:
            if fp.startswith("proc.transient."):
                raise Skip("%s is on the systemd launcher's path: only where systemd is "
                           "PID 1 (tests/vm/run.sh systemd with a failpoints build)" % fp)
            raise Skip("the workloads never reach %s" % fp)
    t.__name__ = "failpoint_" + fp.replace(".", "_")
    t.__doc__ = "crash at %s (hits %s), restart, invariants hold" % (
        fp, "1 and %d, lab: %s" % (NTH, "every one" if fp in EVERY_HIT else "1 and %d" % NTH))
    return t


def summary():
    """failpoint count, runs that stopped at their failpoint, violations"""
    if not results:
        raise Skip("no failpoint ran")
    for lab in (False, True):
        r = [hv for k, hv in results.items() if k[2] == lab]
        print("# %s workload: runs: %d, stopped at the failpoint: %d, violations: %d"
              % ("lab" if lab else "mixed", len(r), sum(1 for h, v in r if h),
                 sum(len(v) for h, v in r)))
    hits = sum(1 for h, v in results.values() if h)
    bad = sum(len(v) for h, v in results.values())
    print("# failpoints: %d, runs: %d, stopped at the failpoint: %d, violations: %d"
          % (len(failpoints), len(results), hits, bad))
    unreached = sorted(set(k[0] for k in results)
                       - set(k[0] for k, (h, v) in results.items() if h))
    if unreached:
        print("# never reached: %s" % " ".join(unreached))
    assert bad == 0


if __name__ == "__main__":
    if os.geteuid() == 0:
        failpoints = list_failpoints()
        if failpoints is None:
            print("1..0 # SKIP %s was built without --enable-failpoints" % NETNSD)
            sys.exit(0)
        # FAILPOINT_ONLY=PREFIX[,PREFIX...]: a subset.  In the qemu systemd guest
        # (tests/vm, VM_MODE=systemd) the proc.* points: what systemd as PID 1 changes.
        only = os.environ.get("FAILPOINT_ONLY") or \
            ("proc." if os.environ.get("VM_MODE") == "systemd" else "")
        if only:
            failpoints = [fp for fp in failpoints
                          if any(fp.startswith(p) for p in only.split(","))]
        for fp in failpoints:
            test(make_test(fp))
        test(summary)
    sys.exit(main())

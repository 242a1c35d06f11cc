#!/usr/bin/env python3
"""The soak's driver (run it through tests/stress/soak.sh, which also plots).

    tests/stress/soak.py --minutes 60 --csv FILE [--sample-s 60] [--json FILE]

For the given time, against one long-lived netnsd (the one sampled):
  - four workload clients (tests/lib/crashlib.py): namespaces with veths in
    and to the host, addresses, routes, deletions, processes with known exit
    codes, pipelined;
  - create/delete cycles of a wired node and of a supervised process (as
    tests/stress/leaks.py);
  - light abuse (tests/bench/bench_abuse.py's abusers: 4 of each kind and
    100 event subscribers, half of which never read);
and, against a second netnsd, the kill -9 loop (tests/stress/kill9.py) for
the whole time.  Every --sample-s seconds one CSV line: minutes, RSS (KiB),
open fds, mounts (lines of its /proc/PID/mountinfo, all and ours), managed
namespaces, connections, supervised processes, cycles done, acknowledged
workload requests.  At the end the acknowledged model is checked (as the
kill -9 loop does, after a clean restart) and the kill -9 loop's figures are
collected.  Exit status 0 when the sampled daemon survived, the checks found
no violation and the kill -9 loop reported none.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import crashlib  # noqa: E402
import stresslib  # noqa: E402
sys.path.insert(0, HERE)
import leaks  # noqa: E402


def cycles(d, prefix, stop, counter):
    """As leaks.py; a slow answer (under abuse) starts over on a new connection."""
    procns = prefix + "p"
    d.call("netns.add", {"name": procns})
    i = 0
    while not stop.is_set():
        c = d.conn(timeout=120)
        try:
            cycles_on(c, prefix, procns, stop, counter, i)
        except (OSError, RuntimeError, ValueError):
            i = counter[0] + 1
            for ns in ("%sn%d" % (prefix, k) for k in range(5)):  # leaks.cycle's names
                try:
                    d.call("netns.delete", {"name": ns, "grace_ms": 0})
                except (OSError, RuntimeError, ValueError):
                    pass
        finally:
            c.close()


def cycles_on(c, prefix, procns, stop, counter, i):
    while not stop.is_set():
        leaks.cycle(c, prefix, procns, i, slots=5)
        i += 1
        counter[0] = i


def reaper(d, wl, stop, violations):
    """Ended processes of the workload: check their exit code, then delete them (netnsd
    keeps at most 1024 records).  Only acknowledged spawns: their code is known."""
    m = wl.model
    while not stop.wait(10):
        try:
            c = d.conn(timeout=60)
            for pid, code in list(m.procs.items()):
                p = c.call("proc.get", {"id": pid})
                if p["state"] not in ("exited", "failed", "lost"):
                    continue
                if p["state"] != "exited" or p.get("exit_code") != code:
                    violations.append("proc %s: %s, exit code %r, expected %d" % (
                        pid, p["state"], p.get("exit_code"), code))
                c.call("proc.delete", {"id": pid, "grace_ms": 0})
                with m.lock:
                    m.procs.pop(pid, None)
            c.close()
        except (OSError, RuntimeError, ValueError):
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample-s", type=float, default=60)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: SKIP: needs root")
        return 77
    import bench_abuse
    bench_abuse.raise_nofile()
    prefix = stresslib.prefix_for("sk")
    binary = stresslib.default_netnsd()
    d = stresslib.Netnsd(binary, args=["--max-connections", "1024"])
    wl_ns = prefix + "w"
    wl = crashlib.Workload(d.socket, d.state_dir, wl_ns, clients=4, seed=int(time.time()),
                           proc_netns=prefix + "q")
    stop = threading.Event()
    mstop = multiprocessing.Event()
    counter = [0]
    figures = {"minutes": args.minutes, "violations": []}
    t0 = time.time()
    k9 = abuser = None
    k9_json = args.csv + ".kill9.json"
    try:
        d.start()
        d.call("netns.add", {"name": prefix + "q"})
        k9 = subprocess.Popen([sys.executable, os.path.join(HERE, "kill9.py"), "-n", "1000000",
                               "--seconds", str(args.minutes * 60), "--quiet", "--json", k9_json],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, NETNSD=binary))
        ready = multiprocessing.Event()
        result = multiprocessing.Queue()
        abuser = multiprocessing.Process(target=bench_abuse.abuse_main, args=(
            d.socket, 100, 1 << 20, ready, mstop, result, 4))
        abuser.start()
        cyc = threading.Thread(target=cycles, args=(d, prefix + "c", stop, counter), daemon=True)
        cyc.start()
        wl.start()
        reap_v = []
        reap = threading.Thread(target=reaper, args=(d, wl, stop, reap_v), daemon=True)
        reap.start()
        with open(args.csv, "w") as f:
            f.write("minutes,rss_kib,fds,mounts,mounts_ours,namespaces,connections,procs,"
                    "cycles,acked\n")
            while True:
                # From /proc first; the RPC figures only when netnsd answers in time
                # (under abuse it may not: then they are empty, and that is a finding).
                row = [round((time.time() - t0) / 60, 2), d.rss_kib(), d.fds(), d.mounts(),
                       d.mounts(prefix)]
                try:
                    c = d.conn(timeout=20)
                    info = c.call("daemon.info")
                    row += [info["counts"]["namespaces"], info["counts"]["connections"],
                            len(c.call("proc.list")["processes"])]
                    c.close()
                except (OSError, RuntimeError, ValueError):
                    row += ["", "", ""]
                    figures["slow_samples"] = figures.get("slow_samples", 0) + 1
                row += [counter[0], wl.model.acked]
                f.write(",".join(str(x) for x in row) + "\n")
                f.flush()
                print("soak: %s" % row, file=sys.stderr, flush=True)
                if time.time() - t0 >= args.minutes * 60 or d.proc.poll() is not None:
                    break
                time.sleep(max(0.0, args.sample_s - (time.time() - t0) % args.sample_s))
        figures["alive"] = d.proc.poll() is None
        stop.set()
        wl.stop()
        mstop.set()
        figures["abusers"] = result.get(timeout=60)
        abuser.join(30)
        cyc.join(60)
        reap.join(120)
        # A clean restart, then the model must hold.
        d.stop()
        d.start()
        conn = d.conn()
        v = wl.final_check(conn, d.runtime_dir)
        conn.close()
        figures["violations"] = reap_v + v
        figures["acked"] = wl.model.acked
        figures["cycles"] = counter[0]
        k9.wait(timeout=600)
        with open(k9_json) as f:
            figures["kill9"] = json.load(f)
    finally:
        stop.set()
        mstop.set()
        if abuser is not None and abuser.is_alive():
            abuser.terminate()
        if k9 is not None and k9.poll() is None:
            k9.terminate()
            k9.wait()
        stresslib.finish(d, prefix, [k[1] for k in wl.model.objs if k[0] == "netns"])
    stresslib.emit(figures, args.json)
    ok = figures.get("alive") and not figures["violations"] and \
        not figures.get("kill9", {}).get("violations")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

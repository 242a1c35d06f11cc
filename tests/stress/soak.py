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
the whole time.

No client gives up on a slow netnsd: every answer is timed (slow ones, over
1 s and over 30 s, are counted and the client waits on), and a client whose
connection broke, or that waited SOAK_GIVE_UP_S (default 600) for one
answer, connects again and carries on.  So the workload runs for the whole
soak, and the counts say how slow netnsd was under the abuse.

Every --sample-s seconds one CSV line (see COLUMNS): minutes, RSS (KiB),
open fds, mounts (lines of its /proc/PID/mountinfo, all and ours), managed
namespaces, connections, supervised processes, cycles done, acknowledged
workload requests; then RssAnon and RssFile (KiB, /proc/PID/status), heap in
use and free heap (KiB: daemon.info's memory object when netnsd reports one,
else, with --gdb-probe, glibc's mallinfo2() read with gdb, see memprobe.py),
reply and event bytes queued for clients (KiB, from the same places), event
subscriptions, and the answers so far, slow ones and reconnects.
Empty fields are figures not known at that moment.  --gdb-probe also keeps
the full probe of each sample (largest queues ...) in the JSON.

For a leak hunt, a netnsd built with -fsanitize=address, --no-kill9 and
--daemon-log FILE: the sampled netnsd is stopped with SIGTERM at the end and
LeakSanitizer's report (if any) lands in FILE, its exit status in the JSON
(daemon_exit).  At the end the
acknowledged model is checked (as the kill -9 loop does, after a clean
restart) and the kill -9 loop's figures are collected.  Exit status 0 when
the sampled daemon survived, the checks found no violation and the kill -9
loop reported none.
"""

import argparse
import json
import multiprocessing
import os
import shutil
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
import memprobe  # noqa: E402

COLUMNS = ("minutes,rss_kib,fds,mounts,mounts_ours,namespaces,connections,procs,cycles,acked,"
           "rss_anon_kib,rss_file_kib,heap_in_use_kib,heap_free_kib,queued_kib,subscriptions,"
           "answers,slow_1s,slow_30s,reconnects")
GIVE_UP_S = float(os.environ.get("SOAK_GIVE_UP_S", 600))


class Answers:
    """How fast netnsd answered the soak's clients, all of them together."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = self.slow_1s = self.slow_30s = self.reconnects = self.gave_up = 0
        self.max_s = 0.0

    def answered(self, seconds):
        with self.lock:
            self.answers += 1
            self.slow_1s += seconds > 1
            self.slow_30s += seconds > 30
            self.max_s = max(self.max_s, seconds)

    def reconnected(self):
        with self.lock:
            self.reconnects += 1

    def figures(self):
        with self.lock:
            return {"answers": self.answers, "slow_over_1s": self.slow_1s,
                    "slow_over_30s": self.slow_30s, "reconnects": self.reconnects,
                    "gave_up_waiting": self.gave_up, "slowest_s": round(self.max_s, 1)}


ANSWERS = Answers()


class SoakConn(crashlib.Conn):
    """A pipelining connection that waits out a slow netnsd: every answer is timed into
    ANSWERS; only a broken connection, the stop event or GIVE_UP_S for one answer end the
    wait (ConnectionError)."""

    def __init__(self, path, stop):
        super().__init__(path, timeout=5)
        self.stop = stop
        self.sent = {}

    def send_many(self, reqs):
        ids = super().send_many(reqs)
        now = time.monotonic()
        for i in ids:
            self.sent[i] = now
        return ids

    def recv(self):
        waiting = time.monotonic()
        while True:
            try:
                m = super().recv()
            except TimeoutError:
                if self.stop.is_set():
                    raise ConnectionError("soak stopping")
                if time.monotonic() - waiting > GIVE_UP_S:
                    with ANSWERS.lock:
                        ANSWERS.gave_up += 1
                    raise ConnectionError("no answer in %d s" % GIVE_UP_S)
                continue
            t = self.sent.pop(m.get("id"), None) if isinstance(m.get("id"), int) else None
            if t is not None:
                ANSWERS.answered(time.monotonic() - t)
            return m


def soak_conn(d, stop):
    return SoakConn(d.socket, stop)


class SoakClient(crashlib.Client):
    """crashlib's workload client, which reconnects instead of ending."""

    def run(self):
        conn = None
        while not self.stop:
            try:
                if conn is None:
                    conn = SoakConn(self.wl.socket, self.wl.stop_event)
                self.round(conn)
            except (OSError, ConnectionError, ValueError):
                # Requests in flight stay unknown in the model: the final check learns them.
                if conn is not None:
                    conn.close()
                    conn = None
                if self.stop:
                    break
                ANSWERS.reconnected()
                time.sleep(0.5)
        if conn is not None:
            conn.close()


class SoakWorkload(crashlib.Workload):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.stop_event = threading.Event()

    def start(self):
        self.seed += 1
        self.stop_event.clear()
        self.threads = [SoakClient(self, i) for i in range(self.nclients)]
        for t in self.threads:
            t.start()

    def stop(self, timeout=30):
        self.stop_event.set()
        super().stop(timeout)


def cycles(d, prefix, stop, counter):
    """As leaks.py; an error or a lost connection starts over on a new connection (a slow
    answer is waited for)."""
    procns = prefix + "p"
    d.call("netns.add", {"name": procns})
    i = 0
    while not stop.is_set():
        try:
            c = soak_conn(d, stop)
        except OSError:
            ANSWERS.reconnected()
            time.sleep(0.5)
            continue
        try:
            cycles_on(c, prefix, procns, stop, counter, i)
        except (OSError, ValueError):
            ANSWERS.reconnected()
        except RuntimeError:
            pass  # an error answer: clean up and go on
        else:
            break
        finally:
            c.close()
        i = counter[0] + 1
        try:
            c = soak_conn(d, stop)
            for ns in ("%sn%d" % (prefix, k) for k in range(5)):  # leaks.cycle's names
                try:
                    c.call("netns.delete", {"name": ns, "grace_ms": 0})
                except RuntimeError:
                    pass
            c.close()
        except (OSError, ValueError):
            pass


def cycles_on(c, prefix, procns, stop, counter, i):
    while not stop.is_set():
        leaks.cycle(c, prefix, procns, i, slots=5)
        i += 1
        counter[0] = i


def reaper(d, wl, stop, violations):
    """Ended processes of the workload: check their exit code, then delete them (netnsd
    keeps at most 1024 records).  Only acknowledged spawns: their code is known.  One
    proc.list and one pipelined run of proc.delete a round, so a slow netnsd costs a few
    answers, not one per process."""
    m = wl.model
    while not stop.wait(10):
        c = None
        try:
            c = soak_conn(d, stop)
            ended = []
            for p in c.call("proc.list")["processes"]:
                code = m.procs.get(p["id"])
                if code is None or p["state"] not in ("exited", "failed", "lost"):
                    continue
                if p["state"] != "exited" or p.get("exit_code") != code:
                    violations.append("proc %s: %s, exit code %r, expected %d" % (
                        p["id"], p["state"], p.get("exit_code"), code))
                ended.append(p["id"])
            if not ended:
                continue
            ids = c.send_many([("proc.delete", {"id": pid, "grace_ms": 0}) for pid in ended])
            byid = dict(zip(ids, ended))
            while byid:
                msg = c.recv()
                pid = byid.pop(msg.get("id"), None)
                if pid is not None:
                    with m.lock:
                        m.procs.pop(pid, None)
        except (OSError, RuntimeError, ValueError):
            pass
        finally:
            if c is not None:
                c.close()


def number(obj, key):
    v = obj.get(key)
    return v if isinstance(v, int) else None


def kib(v):
    return "" if v is None else int(v) // 1024


def sample(d, t0, prefix, counter, wl, figures, gdb_probe):
    """One CSV row (COLUMNS): /proc first; the RPC figures only when netnsd answers in
    time (under abuse it may not: then they are empty, and that is a finding)."""
    status = memprobe.proc_status(d.proc.pid)
    row = [round((time.time() - t0) / 60, 2), status.get("VmRSS", 0), d.fds(), d.mounts(),
           d.mounts(prefix)]
    memory = subs = None
    try:
        c = d.conn(timeout=20)
        try:
            info = c.call("daemon.info")
            memory = info.get("memory")
            subs = info.get("events", {}).get("subscriptions")
            row += [info["counts"]["namespaces"], info["counts"]["connections"],
                    len(c.call("proc.list")["processes"])]
        finally:
            c.close()
    except (OSError, RuntimeError, ValueError):
        row += ["", "", ""]
        figures["slow_samples"] = figures.get("slow_samples", 0) + 1
    probe = memprobe.probe(d.proc.pid) if gdb_probe else {}
    mem = memory if isinstance(memory, dict) else {}
    # daemon.info's figures when it has them (netnsd after issue 10's scheduling work).
    heap, heap_free = number(mem, "heap_in_use_bytes"), number(mem, "heap_free_bytes")
    if heap is None:
        heap, heap_free = probe.get("heap_in_use"), probe.get("heap_free")
    queued = number(mem, "queued_bytes")
    if queued is None:
        queued = probe.get("out_queued")
    a = ANSWERS.figures()
    row += [counter[0], wl.model.acked, status.get("RssAnon", ""), status.get("RssFile", ""),
            kib(heap), kib(heap_free), kib(queued),
            subs if subs is not None else probe.get("subscriptions", ""), a["answers"], a["slow_over_1s"],
            a["slow_over_30s"], a["reconnects"]]
    if memory is not None or probe:
        figures.setdefault("memory_samples", []).append(
            {"minutes": row[0], "daemon_info": memory, "gdb": probe or None})
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample-s", type=float, default=60)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--json")
    ap.add_argument("--gdb-probe", action="store_true",
                    help="read the heap and the queued bytes with gdb each sample "
                         "(memprobe.py; netnsd stops for a moment)")
    ap.add_argument("--no-kill9", action="store_true",
                    help="without the kill -9 loop on a second netnsd (for a sanitizer build)")
    ap.add_argument("--daemon-log", help="keep the sampled netnsd's log here (its "
                    "LeakSanitizer report, in a sanitizer build)")
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
    wl = SoakWorkload(d.socket, d.state_dir, wl_ns, clients=4, seed=int(time.time()),
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
        if not args.no_kill9:
            k9 = subprocess.Popen([sys.executable, os.path.join(HERE, "kill9.py"), "-n",
                                   "1000000", "--seconds", str(args.minutes * 60), "--quiet",
                                   "--json", k9_json], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=dict(os.environ, NETNSD=binary))
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
            f.write(COLUMNS + "\n")
            while True:
                row = sample(d, t0, prefix, counter, wl, figures, args.gdb_probe)
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
        figures["answers"] = ANSWERS.figures()
        # A clean restart (its exit status: a sanitizer's report makes it non-zero), then
        # the model must hold.
        figures["daemon_exit"] = d.stop(timeout=120)
        d.start()
        conn = d.conn()
        v = wl.final_check(conn, d.runtime_dir)
        conn.close()
        figures["violations"] = reap_v + v
        figures["acked"] = wl.model.acked
        figures["cycles"] = counter[0]
        if k9 is not None:
            rc = k9.wait(timeout=600)
            try:
                with open(k9_json) as f:
                    figures["kill9"] = json.load(f)
            except (OSError, ValueError) as e:
                # Its figures are missing, not the soak's: say so and keep the rest.
                figures["kill9"] = {"error": "no figures from kill9.py (exit status %s): %s"
                                    % (rc, e)}
                figures["violations"].append("kill9.py ended without its figures")
    finally:
        stop.set()
        mstop.set()
        wl.stop_event.set()
        if abuser is not None and abuser.is_alive():
            abuser.terminate()
        if k9 is not None and k9.poll() is None:
            k9.terminate()
            k9.wait()
        if args.daemon_log:
            shutil.copyfile(d.log_path, args.daemon_log)
        stresslib.finish(d, prefix, [k[1] for k in wl.model.objs if k[0] == "netns"])
    stresslib.emit(figures, args.json)
    ok = figures.get("alive") and not figures["violations"] and \
        not figures.get("kill9", {}).get("violations") and figures.get("daemon_exit") == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

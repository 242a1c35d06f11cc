#!/usr/bin/env python3
"""netnsd events benchmark (issue 5): how fast and how completely a burst of
link changes in a managed namespace reaches netnsd's event subscribers,
against `ip monitor link` reading the same kind of burst.  See
tests/bench/README.events.

Normally started by tests/bench/run-driver.sh events, which builds the helpers:
    bench_events.py --netnsd PATH --bin-dir DIR [options]
DIR holds event-burst and event-sub.

The burst: event-burst makes COUNT (10 000) changes to K veth ends inside the
namespace as fast as rtnetlink takes them; change S sets the MTU to BASE + S
(mode "updown" also flips the link up or down: two kernel messages per
change; mode "mtu": one).  Every reader notes when each change reached it;
latency = arrival - the time taken just before the change was sent, on the
same clock (CLOCK_MONOTONIC).  Readers are C programs (event-sub): for
netnsd, a connection subscribed to {"topics":["link"],"netns":NS}; for the
comparison, `ip -n NS monitor link` with its stdout on a pipe to event-sub.

Prints tables and PASS/MISS per target, then one JSON line (the last line of
stdout).  Exit status: 0 when the run completed (whatever the targets say),
1 when something broke, 77 when it cannot run here (not root).
"""

import argparse
import json
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import Broken, loadavg, log, rpc_call, task_sched_ns

PREFIX = "be%04x" % (os.getpid() & 0xFFFF)
IFPREFIX = "ba"          # links inside our namespace: ba0.. (peers bb0..)
BASE = 20000             # change S sets MTU BASE + S; canaries just below

TARGETS = {
    "p99_ms": 5.0,       # netnsd, 10 subscribers: p99 latency under 5 ms
    "loss": 0,           # and no change lost by any of them
}


def run(cmd, what, timeout=120):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise Broken("%s failed (exit %d): %s" % (what, p.returncode, p.stderr.strip()[-1500:]))
    return p


def pct(sorted_v, q):
    """The q-quantile (0..1) of a sorted list, nearest rank."""
    if not sorted_v:
        return None
    k = max(0, min(len(sorted_v) - 1, int(round(q * len(sorted_v) + 0.5)) - 1))
    return sorted_v[k]


class Netnsd:
    def __init__(self, path, tmp, extra_args=()):
        self.state_dir = os.path.join(tmp, "state")
        os.mkdir(self.state_dir)
        self.sock = os.path.join(tmp, "netnsd.sock")
        self.log_path = os.path.join(tmp, "netnsd.log")
        self.log = open(self.log_path, "ab")
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"):
            env.pop(k, None)
        # Default limits: only the paths are ours.
        self.proc = subprocess.Popen([path, "--socket", self.sock, "--state-dir", self.state_dir,
                                      "--runtime-dir", os.path.join(tmp, "run")]
                                     + list(extra_args),
                                     stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise Broken("netnsd exited with %d: %s" % (self.proc.returncode, self.log_tail()))
            try:
                self.call("daemon.ping")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise Broken("netnsd did not answer: %s" % self.log_tail())
                time.sleep(0.02)

    def log_tail(self, n=1500):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def log_count(self, needle):
        try:
            with open(self.log_path, errors="replace") as f:
                return sum(1 for line in f if needle in line)
        except OSError:
            return 0

    def call(self, method, params=None):
        return rpc_call(self.sock, method, params)


    def sched_ns(self):
        return task_sched_ns(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Reader:
    """One event-sub process (and, for ip, the `ip monitor` feeding it)."""

    def __init__(self, kind, bench, idx):
        self.kind = kind
        self.out = os.path.join(bench.tmp, "arrivals-%s-%d.txt" % (kind, idx))
        self.monitor = None
        common = ["--count", str(bench.args.count), "--base", str(BASE), "--out", self.out,
                  "--timeout-ms", str(int(bench.args.timeout * 1000))]
        if kind == "netnsd":
            cmd = [bench.sub, "--socket", bench.netnsd.sock, "--netns", bench.ns] + common
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        else:
            self.monitor = subprocess.Popen(["ip", "-n", bench.ns, "monitor", "link"],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.proc = subprocess.Popen([bench.sub, "--stdin"] + common, stdin=self.monitor.stdout,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.monitor.stdout.close()
        self.ready = False
        self.lines = b""

    def poll_ready(self):
        if self.ready:
            return True
        r, _, _ = select.select([self.proc.stdout], [], [], 0)
        if r:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            self.lines += chunk
            if b"ready\n" in self.lines:
                self.ready = True
            elif not chunk:
                raise Broken("event-sub exited before it was ready: %s"
                             % self.proc.stderr.read().decode(errors="replace"))
        return self.ready

    def finish(self, deadline):
        try:
            self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        out = self.lines + self.proc.stdout.read()
        err = self.proc.stderr.read().decode(errors="replace")
        if self.monitor:
            self.monitor.send_signal(signal.SIGTERM)
            try:
                self.monitor.wait(5)
            except subprocess.TimeoutExpired:
                self.monitor.kill()
                self.monitor.wait()
            err += self.monitor.stderr.read().decode(errors="replace")
        if self.proc.returncode != 0:
            raise Broken("event-sub failed (%d): %s" % (self.proc.returncode, err.strip()))
        summary = json.loads(out.decode().strip().splitlines()[-1])
        summary["stderr"] = "; ".join(sorted(set(l.strip() for l in err.splitlines() if l.strip())))[-300:]
        arrivals = {}
        with open(self.out) as f:
            for line in f:
                s, t = line.split()
                arrivals[int(s)] = int(t)
        return summary, arrivals

    def kill(self):
        for p in (self.proc, self.monitor):
            if p and p.poll() is None:
                p.kill()
                p.wait()


class Bench:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.burst = os.path.join(args.bin_dir, "event-burst")
        self.sub = os.path.join(args.bin_dir, "event-sub")
        for p in (self.burst, self.sub):
            if not os.access(p, os.X_OK):
                raise Broken("missing executable %s" % p)
        self.netnsd = None
        self.ns = PREFIX + "ns"
        self.results = {}   # (kind, nsubs, mode) -> [run dict]

    def setup(self):
        self.netnsd = Netnsd(self.args.netnsd, self.tmp, self.args.netnsd_arg)
        self.netnsd.call("netns.add", {"name": self.ns})
        for i in range(self.args.links):
            run(["ip", "-n", self.ns, "link", "add", "%s%d" % (IFPREFIX, i), "type", "veth",
                 "peer", "name", "bb%d" % i], "ip link add")

    def teardown(self):
        if self.netnsd:
            try:
                self.netnsd.call("netns.delete", {"name": self.ns})
            except (Broken, OSError):
                pass

    def one(self, kind, nsubs, mode):
        a = self.args
        run([self.burst, "reset", self.ns, IFPREFIX, str(a.links)], "event-burst reset")
        readers = []
        try:
            for i in range(nsubs):
                readers.append(Reader(kind, self, i))
            # Canaries until every reader shows it is live.
            deadline = time.monotonic() + 15
            canary = 0
            while not all(r.poll_ready() for r in readers):
                if time.monotonic() > deadline:
                    raise Broken("%d of %d %s readers not ready after 15 s"
                                 % (sum(not r.ready for r in readers), nsubs, kind))
                run([self.burst, "canary", self.ns, IFPREFIX, str(BASE - 1 - canary % 2)],
                    "event-burst canary")
                canary += 1
                time.sleep(0.05)
            times = os.path.join(self.tmp, "sent.txt")
            cpu0, wait0 = self.netnsd.sched_ns()
            overruns0 = self.netnsd.log_count("Lost rtnetlink messages")
            cmd = [self.burst, "run", self.ns, IFPREFIX, str(a.links), str(a.count), str(BASE),
                   times, "--mode", mode]
            if a.rate:
                cmd += ["--rate", str(a.rate)]
            burst = json.loads(run(cmd, "event-burst run").stdout.strip().splitlines()[-1])
            if burst["errors"]:
                raise Broken("event-burst: %d changes failed" % burst["errors"])
            # Readers stop by themselves once they have everything.
            deadline = time.monotonic() + a.drain
            got = [r.finish(deadline) for r in readers]
            cpu1, wait1 = self.netnsd.sched_ns()
            cpu, runq = (cpu1 - cpu0) / 1e9, (wait1 - wait0) / 1e9
        finally:
            for r in readers:
                r.kill()
        sent = {}
        with open(times) as f:
            for line in f:
                s, t = line.split()
                sent[int(s)] = int(t)
        first_send = min(sent.values())
        lat = []
        subs = []
        for summary, arrivals in got:
            mine = sorted((arrivals[s] - sent[s]) / 1e6 for s in arrivals)
            lat.extend(mine)
            last = max(arrivals.values()) if arrivals else first_send
            span = (last - first_send) / 1e9
            subs.append({
                "matched": len(arrivals), "missing": a.count - len(arrivals),
                "lines": summary["lines"], "seq_gaps": summary["seq_gaps"],
                "lost": summary["lost"], "overflows": summary["overflows"],
                "p50_ms": pct(mine, 0.5), "p99_ms": pct(mine, 0.99),
                "max_ms": mine[-1] if mine else None,
                "changes_per_s": len(arrivals) / span if span > 0 else None,
                "lines_per_s": summary["lines"] / span if span > 0 else None,
                "stderr": summary["stderr"],
                "reader_cpu_s": summary["cpu_ns"] / 1e9,
                "reader_runq_s": summary["runq_wait_ns"] / 1e9,
            })
        lat.sort()
        res = {
            "burst_s": burst["elapsed_ns"] / 1e9,
            "burst_per_s": a.count / (burst["elapsed_ns"] / 1e9),
            "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": lat[-1] if lat else None,
            "missing": sum(s["missing"] for s in subs),
            "seq_gaps": sum(s["seq_gaps"] for s in subs),
            "overflow_lost": sum(s["lost"] for s in subs),
            "min_changes_per_s": min((s["changes_per_s"] or 0) for s in subs),
            "lines_per_s": statistics.median([(s["lines_per_s"] or 0) for s in subs]),
            "netnsd_cpu_s": cpu, "netnsd_runq_s": runq,
            "overruns": self.netnsd.log_count("Lost rtnetlink messages") - overruns0,
            "reader_runq_max_s": max(s["reader_runq_s"] for s in subs),
            "reader_cpu_max_s": max(s["reader_cpu_s"] for s in subs),
            "subscribers": subs,
        }
        self.results.setdefault((kind, nsubs, mode), []).append(res)
        log("    %s x%d %s: p50 %.2f p99 %.2f max %.2f ms, missing %d, burst %.0f/s"
            % (kind, nsubs, mode, res["p50_ms"] or -1, res["p99_ms"] or -1, res["max_ms"] or -1,
               res["missing"], res["burst_per_s"]))

    def run(self):
        scenarios = [("netnsd", 1), ("netnsd", 10), ("ip", 1), ("ip", 10)]
        scenarios = [s for s in scenarios if "%s%d" % s in self.args.scenarios]
        for rep in range(self.args.reps):
            for mode in self.args.modes:
                k = rep % len(scenarios)
                for kind, n in scenarios[k:] + scenarios[:k]:
                    self.one(kind, n, mode)


def fmt(v, spec="%.2f", none="-"):
    return none if v is None else spec % v


def report(b, env):
    out = []
    p = out.append
    a = b.args
    p("")
    p("netnsd events benchmark: %s" % env["summary"])
    p("Burst: %d link changes over %d veth ends in one managed namespace, %s; latency ="
      % (a.count, a.links, "at %.0f/s" % a.rate if a.rate else "as fast as rtnetlink takes them"))
    p("arrival at the reader - time just before the change was sent (ms).  Each row: median over")
    p("%d runs of the run's figure (all subscribers' latencies pooled), worst run in brackets." % a.reps)
    p("missing = changes some subscriber never saw (sum over subscribers); rate = changes/s")
    p("reaching the slowest subscriber (first send to its last arrival); lines/s = event lines a")
    p("subscriber read per second (updown makes 2 kernel messages per change); cpu s / wait s =")
    p("netnsd's CPU time / time it was runnable but waiting for a CPU, from the burst's start")
    p("until the last reader finished.")
    p("")
    hdr = ("%-24s%-8s%9s%19s%19s%10s%10s%10s%10s%8s%8s" %
           ("readers", "mode", "p50", "p99", "max", "missing", "rate", "lines/s", "burst/s", "cpu s",
            "wait s"))
    p(hdr)
    results = []
    for (kind, n, mode), runs in sorted(b.results.items(), key=lambda kv: (kv[0][2], kv[0][0] != "netnsd", kv[0][1])):
        med = lambda k: statistics.median([r[k] for r in runs if r[k] is not None]) if any(
            r[k] is not None for r in runs) else None
        worst = lambda k: max(r[k] for r in runs if r[k] is not None) if any(
            r[k] is not None for r in runs) else None
        label = "%s x%d" % ("netnsd subscriber" if kind == "netnsd" else "ip monitor", n)
        p("%-24s%-8s%9s%19s%19s%10s%10s%10s%10s%8s%8s" % (
            label, mode, fmt(med("p50_ms")),
            "%s (%s)" % (fmt(med("p99_ms")), fmt(worst("p99_ms"))),
            "%s (%s)" % (fmt(med("max_ms")), fmt(worst("max_ms"))),
            "%d" % worst("missing"), fmt(med("min_changes_per_s"), "%.0f"),
            fmt(med("lines_per_s"), "%.0f"), fmt(med("burst_per_s"), "%.0f"),
            fmt(med("netnsd_cpu_s"), "%.2f") if kind == "netnsd" else "-",
            fmt(med("netnsd_runq_s"), "%.2f") if kind == "netnsd" else "-"))
        extra = ["readers: CPU <= %.2f s, waited for a CPU <= %.2f s (worst reader, median run)"
                 % (med("reader_cpu_max_s"), med("reader_runq_max_s"))]
        if sum(r["overruns"] for r in runs):
            extra.append("netnsd logged %d rtnetlink overruns (resyncs)" % sum(r["overruns"] for r in runs))
        if sum(r["seq_gaps"] for r in runs):
            extra.append("seq gaps %d" % sum(r["seq_gaps"] for r in runs))
        if sum(r["overflow_lost"] for r in runs):
            extra.append("overflow events announced %d lost" % sum(r["overflow_lost"] for r in runs))
        errs = {s["stderr"] for r in runs for s in r["subscribers"] if s["stderr"]}
        if errs:
            extra.append("reader stderr: %s" % "; ".join(sorted(errs))[:200])
        for e in extra:
            p("%24s  %s" % ("", e))
        if kind == "netnsd" and n == 10:
            p99 = worst("p99_ms")
            miss = worst("missing")
            ok = p99 is not None and p99 < TARGETS["p99_ms"]
            results.append({"target": "p99_ms", "mode": mode, "value": p99, "pass": ok})
            results.append({"target": "loss", "mode": mode, "value": miss, "pass": miss == 0})
    p("")
    p("Targets (netnsd, 10 subscribers, worst run):")
    for r in results:
        if r["target"] == "p99_ms":
            p("  %-8s p99 latency < %.0f ms%28s %8s  %s" % (r["mode"], TARGETS["p99_ms"], "",
                                                           fmt(r["value"]), "PASS" if r["pass"] else "MISS"))
        else:
            p("  %-8s no change lost by any subscriber%18s %8d  %s" % (r["mode"], "", r["value"],
                                                                     "PASS" if r["pass"] else "MISS"))
    for (kind, n, mode), runs in b.results.items():
        if kind == "netnsd":
            ratio = None
            ipr = b.results.get(("ip", n, mode))
            if ipr:
                a1 = statistics.median([r["p99_ms"] for r in runs])
                a2 = statistics.median([r["p99_ms"] for r in ipr])
                ratio = a1 / a2 if a2 else None
            p("  (info) %s x%d %s: p99 netnsd / ip monitor = %s" % (kind, n, mode, fmt(ratio)))
    passed = sum(1 for r in results if r["pass"])
    p("")
    p("Targets: %d PASS, %d MISS" % (passed, len(results) - passed))
    print("\n".join(out))
    doc = {"bench": "events", "env": env, "targets": TARGETS, "results": results,
           "runs": {"%s/%d/%s" % k: v for k, v in b.results.items()}}
    print(json.dumps(doc, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netnsd", required=True)
    ap.add_argument("--bin-dir", required=True, help="directory holding event-burst and event-sub")
    ap.add_argument("--count", type=int, default=10000, help="changes per burst (default 10000)")
    ap.add_argument("--links", type=int, default=8, help="veth ends changed in turn (default 8)")
    ap.add_argument("--modes", default="updown,mtu", help="updown and/or mtu (default both)")
    ap.add_argument("--scenarios", default="netnsd1,netnsd10,ip1,ip10",
                    help="readers: netnsd1,netnsd10,ip1,ip10 (default all)")
    ap.add_argument("--rate", type=float, default=0, help="pace the changes at this many per s "
                    "(default: a burst, as fast as possible)")
    ap.add_argument("--reps", type=int, default=3, help="runs per scenario and mode (default 3)")
    ap.add_argument("--drain", type=float, default=20.0,
                    help="seconds the readers get after the burst (default 20)")
    ap.add_argument("--timeout", type=float, default=60.0, help="a reader's own limit, s")
    ap.add_argument("--netnsd-arg", action="append", default=[],
                    help="extra netnsd option for experiments (repeatable; the default run "
                    "uses netnsd's default limits)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2000 changes, 1 run")
    args = ap.parse_args()
    if args.quick:
        args.count, args.reps = 2000, 1
    args.modes = [m for m in args.modes.split(",") if m]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if BASE + args.count > 65535:
        ap.error("--count at most %d (the MTU carries the change number)" % (65535 - BASE))
    if os.geteuid() != 0:
        log("bench_events: SKIP: needs root")
        return 77
    tmp = tempfile.mkdtemp(prefix="netnsd-events-")
    b = None
    status = 0

    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        b = Bench(args, tmp)
        env = {"kernel": platform.release(), "cpus": os.cpu_count(), "load_start": loadavg(),
               "prefix": PREFIX, "netnsd_args": args.netnsd_arg}
        t0 = time.monotonic()
        b.setup()
        b.run()
        env["load_end"] = loadavg()
        env["elapsed_s"] = round(time.monotonic() - t0, 1)
        env["summary"] = ("kernel %s, %d CPUs, load %s -> %s, %.0f s, netnsd %s" % (
            env["kernel"], env["cpus"], env["load_start"], env["load_end"], env["elapsed_s"],
            " ".join(args.netnsd_arg) or "with default limits"))
        report(b, env)
    except Broken as e:
        log("bench_events: BROKEN: %s" % e)
        status = 1
    except KeyboardInterrupt:
        log("bench_events: interrupted")
        status = 130
    finally:
        if b:
            b.teardown()
            if b.netnsd:
                b.netnsd.stop()
        if os.path.exists("/run/netns/" + PREFIX + "ns"):
            subprocess.run(["ip", "netns", "del", PREFIX + "ns"], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", tmp])
    return status


if __name__ == "__main__":
    sys.exit(main())

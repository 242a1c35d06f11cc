#!/usr/bin/env python3
"""netnsd benchmark (issue 2): namespace create/delete cost against the raw
syscall floor and an `ip netns` loop, and daemon.ping throughput against a
minimal JSON-RPC server.  See tests/bench/README.

Normally started by tests/bench/run.sh, which builds the helpers:
    bench_netns.py --netnsd PATH --bin-dir DIR [options]
DIR holds netns-floor, echo-floor and rpc-load.

Prints tables and PASS/MISS per target, then one JSON line (the last line of
stdout).  Exit status: 0 when the run completed (whatever the targets say),
1 when something broke, 77 when it cannot run here (not root).
"""

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import Broken, SETTLE, fs_of, loadavg, log, rpc_call, settle

PREFIX = "bn%d-" % os.getpid()
RUN_DIR = "/run/netns"

# Methods of the namespace measurement, in the order of the table.
METHODS = [
    ("floor", "f", "floor: syscalls only"),
    ("floor_persist", "F", "floor + fdatasync'd record"),
    ("netnsd_pipe", "p", "netnsd pipelined, 1 conn"),
    ("netnsd_seq", "s", "netnsd one at a time"),
    ("ip_loop", "i", "ip netns add/del loop"),
]

TARGETS = {
    "create_vs_floor": 2.0,    # netnsd create <= 2x the floor
    "ip_vs_netnsd": 8.0,       # the ip loop >= 8x slower than netnsd
    "scaling": 1.3,            # per-ns(N=1000) <= 1.3x per-ns(N=100)
    "ping_vs_floor": 0.5,      # netnsd >= 50% of the floor's ping rate
}


# ---------------------------------------------------------------- helpers


def ours(tag):
    try:
        return sorted(n for n in os.listdir(RUN_DIR) if n.startswith(PREFIX + tag))
    except FileNotFoundError:
        return []


def expect_mounted(tag, n, what):
    got = len(ours(tag))
    if got != n:
        raise Broken("after %s: %d namespaces named %s%s* in %s, expected %d"
                     % (what, got, PREFIX, tag, RUN_DIR, n))


def names(tag, n):
    return ["%s%s%d" % (PREFIX, tag, i) for i in range(n)]


def median(v):
    return statistics.median(v) if v else None


class Tools:
    def __init__(self, bin_dir, netnsd):
        self.floor = os.path.join(bin_dir, "netns-floor")
        self.echo = os.path.join(bin_dir, "echo-floor")
        self.load = os.path.join(bin_dir, "rpc-load")
        self.netnsd = netnsd
        for p in (self.floor, self.echo, self.load, self.netnsd):
            if not os.access(p, os.X_OK):
                raise Broken("missing executable %s" % p)


def run_json(cmd, what, timeout=300):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise Broken("%s failed (exit %d): %s" % (what, p.returncode, p.stderr.strip()[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


class Server:
    """A netnsd or an echo-floor process with a private socket."""

    def __init__(self, cmd, sock, log_path):
        self.sock = sock
        self.log_path = log_path
        self.log = open(log_path, "ab")
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"):
            env.pop(k, None)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise Broken("%s exited with %d: %s" % (cmd[0], self.proc.returncode, self.log_tail()))
            try:
                self.call("daemon.ping")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise Broken("%s did not answer: %s" % (cmd[0], self.log_tail()))
                time.sleep(0.02)

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def call(self, method, params=None):
        return rpc_call(self.sock, method, params, timeout=30)


    def cpu_ns(self):
        """CPU time this server has run so far (all threads), nanoseconds."""
        total = 0
        task_dir = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(task_dir):
            try:
                with open("%s/%s/schedstat" % (task_dir, tid)) as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
        return total

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


# ---------------------------------------------------------- measurements

class Bench:
    def __init__(self, args, tools, tmp):
        self.args = args
        self.t = tools
        self.tmp = tmp
        self.netnsd = None
        self.persist_file = os.path.join(tmp, "floor-journal.jsonl")
        self.samples = {}   # (method, n, op) -> [wall-clock us per ns]
        self.cpu = {}       # (method, n, op) -> [CPU us per ns of the doer]
        self.floor_steps = {}  # (n, op, persist) -> {step: us per ns}
        self.list_ms = {}
        self.ping = {}

    def add(self, method, n, op, seconds, cpu_seconds):
        self.samples.setdefault((method, n, op), []).append(seconds * 1e6 / n)
        self.cpu.setdefault((method, n, op), []).append(cpu_seconds * 1e6 / n)

    def rpc_file(self, method_name, tag, n):
        path = os.path.join(self.tmp, "req-%s-%s.ndjson" % (method_name, tag))
        with open(path, "w") as f:
            for i, name in enumerate(names(tag, n)):
                f.write(json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": method_name,
                                    "params": {"name": name}}, separators=(",", ":")) + "\n")
        return path

    def load(self, sock, mode, path, what):
        out = path + ".replies"
        res = run_json([self.t.load, sock, mode, path, "--out", out], what)
        if res["errors"] or res["replies"] != res["n"]:
            raise Broken("%s: %d of %d replies, %d errors" % (what, res["replies"], res["n"], res["errors"]))
        return res, out

    # One create or delete phase of one method: (wall seconds, CPU seconds of
    # the process doing the work: the floor, netnsd, or sh and its ip children).
    def phase(self, method, tag, n, op):
        if method in ("floor", "floor_persist"):
            cmd = [self.t.floor, "create" if op == "create" else "delete", PREFIX + tag, str(n)]
            if method == "floor_persist":
                cmd += ["--persist", self.persist_file]
            res = run_json(cmd, "netns-floor %s" % op)
            key = (n, op, method == "floor_persist")
            steps = {k: v / 1e3 / n for k, v in res["steps_ns"].items()}
            self.floor_steps.setdefault(key, []).append(steps)
            return res["total_ns"] / 1e9, res["cpu_ns"] / 1e9
        if method in ("netnsd_pipe", "netnsd_seq"):
            mode = "pipe" if method == "netnsd_pipe" else "seq"
            path = self.rpc_file("netns.add" if op == "create" else "netns.delete", tag, n)
            cpu0 = self.netnsd.cpu_ns()
            res, out = self.load(self.netnsd.sock, mode, path, "netnsd %s %s" % (mode, op))
            cpu = (self.netnsd.cpu_ns() - cpu0) / 1e9
            if op == "create":
                with open(out) as f:
                    for line in f:
                        r = json.loads(line)["result"]
                        if not r.get("managed") or not r.get("mounted"):
                            raise Broken("netns.add replied %r" % r)
            return res["elapsed_ns"] / 1e9, cpu
        if method == "ip_loop":
            script = os.path.join(self.tmp, "ip-%s.sh" % op)
            verb = "add" if op == "create" else "del"
            with open(script, "w") as f:
                for name in names(tag, n):
                    f.write("ip netns %s %s\n" % (verb, name))
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            p = subprocess.run(["sh", "-e", script], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            dt = time.perf_counter() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
            if p.returncode != 0:
                raise Broken("ip netns %s loop failed: %s" % (verb, p.stderr.strip()[-500:]))
            return dt, cpu
        raise AssertionError(method)

    def list_latency(self, n):
        """netns.list with n of ours (plus whatever else is there) mounted."""
        path = os.path.join(self.tmp, "req-list.ndjson")
        with open(path, "w") as f:
            f.write('{"jsonrpc":"2.0","id":1,"method":"netns.list"}\n')
        times = []
        for _ in range(3):
            res, out = self.load(self.netnsd.sock, "seq", path, "netns.list")
            with open(out) as f:
                listed = json.load(f)["result"]["namespaces"]
            mine = sum(1 for e in listed if e["name"].startswith(PREFIX + "p"))
            if mine != n:
                raise Broken("netns.list showed %d of our %d namespaces" % (mine, n))
            times.append(res["elapsed_ns"] / 1e6)
        self.list_ms[n] = {"median_ms": median(times), "entries": len(listed),
                           "samples_ms": times}

    def netns_round(self, n, order):
        for method in order:
            tag = dict((m, t) for m, t, _ in METHODS)[method]
            settle(self.args.settle)
            log("  N=%d %-14s create ..." % (n, method))
            dt, cpu = self.phase(method, tag, n, "create")
            expect_mounted(tag, n, "%s create" % method)
            self.add(method, n, "create", dt, cpu)
            if method == "netnsd_pipe" and n not in self.list_ms:
                self.list_latency(n)
            settle(self.args.settle)
            log("  N=%d %-14s delete ..." % (n, method))
            dt, cpu = self.phase(method, tag, n, "delete")
            expect_mounted(tag, 0, "%s delete" % method)
            self.add(method, n, "delete", dt, cpu)

    def run_netns(self):
        base = [m for m, _, _ in METHODS]
        for n in self.args.sizes:
            reps = self.args.reps_small if n < 1000 else self.args.reps_large
            for r in range(reps):
                # Rotate the order so no method always follows the same one.
                k = r % len(base)
                self.netns_round(n, base[k:] + base[:k])

    def run_ping(self):
        servers = {"netnsd": self.netnsd}
        floors = []
        for name, extra in (("floor", []), ("raw", ["--raw"])):
            sock = os.path.join(self.tmp, "echo-%s.sock" % name)
            floors.append(Server([self.t.echo, sock] + extra, sock,
                                 os.path.join(self.tmp, "echo-%s.log" % name)))
            servers[name] = floors[-1]
        try:
            for srv, server in servers.items():
                run_json([self.t.load, server.sock, "pipe", "--ping", "2000"], "ping warm-up")
            for rep in range(self.args.ping_reps):
                for srv, server in servers.items():
                    for mode, count in (("seq", self.args.ping_seq), ("pipe", self.args.ping_pipe)):
                        cpu0 = server.cpu_ns()
                        res = run_json([self.t.load, server.sock, mode, "--ping", str(count)],
                                       "ping %s %s" % (srv, mode))
                        res["server_cpu_ns_per_req"] = (server.cpu_ns() - cpu0) / count
                        if res["errors"]:
                            raise Broken("ping %s %s: %d error replies" % (srv, mode, res["errors"]))
                        self.ping.setdefault((srv, mode), []).append(res)
        finally:
            for f in floors:
                f.stop()


# ------------------------------------------------------------- reporting

def fmt(v, spec="%.1f", none="-"):
    return none if v is None else spec % v


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(b, env):
    out = []
    p = out.append
    sizes = b.args.sizes
    # Best of the repeated runs: the one least disturbed by other load.
    med = {k: min(v) for k, v in b.samples.items()}

    def m(method, n, op):
        return med.get((method, n, op))

    p("")
    p("netnsd benchmark: %s" % env["summary"])
    p("run: %.0f s (%.0f s of it settling), load average %s at start, %s at end"
      % (env["elapsed_s"], env["settle_waited_s"], env["loadavg_start"], env["loadavg_end"]))
    if env["settle_timeouts"]:
        p("WARNING: the kernel's namespace cleanup did not go quiet %d times (someone else "
          "creating/deleting namespaces?); figures are noisier" % env["settle_timeouts"])
    reps = "/".join("%d" % (b.args.reps_small if n < 1000 else b.args.reps_large) for n in sizes)

    def table(title, get):
        p("")
        p(title)
        head = "%-28s" % "method"
        for n in sizes:
            head += " | N=%-5d create   delete" % n
        p(head)
        p("-" * len(head))
        for method, _, label in METHODS:
            row = "%-28s" % label
            for n in sizes:
                row += " | %14s %8s" % (fmt(get(method, n, "create")), fmt(get(method, n, "delete")))
            p(row)

    cmed = {k: min(v) for k, v in b.cpu.items()}

    def c(method, n, op):
        return cmed.get((method, n, op))

    table("== Namespaces: wall-clock microseconds per namespace (best of %s runs) ==" % reps, m)
    table("== Same, CPU microseconds per namespace of the process doing the work (floor, "
          "netnsd, sh + ip) ==", c)

    targets = []

    def target(name, value, limit, higher_better, cpu=None):
        ok = value is not None and (value >= limit if higher_better else value <= limit)
        targets.append({"name": name, "value": value, "limit": limit, "cpu_value": cpu,
                        "direction": ">=" if higher_better else "<=", "pass": ok})
        p("  %-52s %8s   target %s %-5g %s%s" % (name, fmt(value, "%.2fx"),
                                                 ">=" if higher_better else "<=", limit,
                                                 verdict(ok),
                                                 "   (CPU: %.2fx)" % cpu if cpu else ""))

    def ratio(a, bb):
        return a / bb if a is not None and bb else None

    p("")
    p("== Namespace ratios ==")
    for n in sizes:
        for name, a, bb, limit, hb in (
                ("netnsd pipelined / floor", "netnsd_pipe", "floor", "create_vs_floor", False),
                ("netnsd one-at-a-time / floor+fdatasync", "netnsd_seq", "floor_persist",
                 "create_vs_floor", False),
                ("ip loop / netnsd pipelined", "ip_loop", "netnsd_pipe", "ip_vs_netnsd", True),
                ("ip loop / netnsd one-at-a-time", "ip_loop", "netnsd_seq", "ip_vs_netnsd", True)):
            target("N=%d create: %s" % (n, name), ratio(m(a, n, "create"), m(bb, n, "create")),
                   TARGETS[limit], hb, ratio(c(a, n, "create"), c(bb, n, "create")))
    if 100 in sizes and 1000 in sizes:
        for method in ("netnsd_pipe", "netnsd_seq"):
            target("create scaling N=1000/N=100: %s" % method,
                   ratio(m(method, 1000, "create"), m(method, 100, "create")),
                   TARGETS["scaling"], False,
                   ratio(c(method, 1000, "create"), c(method, 100, "create")))
    p("  informational (no target):")
    info = {}
    for n in sizes:
        for what, a, bb in (
                ("delete: netnsd pipelined / floor", "netnsd_pipe", "floor"),
                ("delete: netnsd one-at-a-time / floor+fdatasync", "netnsd_seq", "floor_persist"),
                ("delete: ip loop / netnsd pipelined", "ip_loop", "netnsd_pipe")):
            v = ratio(m(a, n, "delete"), m(bb, n, "delete"))
            info["N=%d %s" % (n, what)] = v
            p("  %-52s %8s" % ("N=%d %s" % (n, what), fmt(v, "%.2fx")))
        v = ratio(m("netnsd_seq", n, "create"), m("floor", n, "create"))
        info["N=%d create: netnsd one-at-a-time / floor" % n] = v
        p("  %-52s %8s" % ("N=%d create: netnsd one-at-a-time / floor" % n, fmt(v, "%.2fx")))
        v = ratio(c("netnsd_pipe", n, "delete"), c("floor", n, "delete"))
        what = "N=%d delete CPU: netnsd pipelined / floor" % n
        info[what] = v
        p("  %-52s %8s" % (what, fmt(v, "%.2fx")))
    if 100 in sizes and 1000 in sizes:
        for method in ("floor", "ip_loop"):
            v = ratio(m(method, 1000, "create"), m(method, 100, "create"))
            info["create scaling N=1000/N=100: %s" % method] = v
            p("  %-52s %8s" % ("create scaling N=1000/N=100: %s" % method, fmt(v, "%.2fx")))

    p("")
    p("== Floor, microseconds per namespace by step (median) ==")
    steps = {}
    for (n, op, persist), runs in sorted(b.floor_steps.items()):
        keys = list(runs[0])
        steps["N=%d %s%s" % (n, op, " persist" if persist else "")] = \
            {k: median([r.get(k, 0.0) for r in runs]) for k in keys}
    for label, st in steps.items():
        p("  %-20s %s" % (label, "  ".join("%s %.1f" % (k, v) for k, v in st.items())))

    p("")
    p("== netns.list latency (one call, netnsd) ==")
    for n, v in sorted(b.list_ms.items()):
        p("  with N=%-5d of ours mounted (%d entries): %.2f ms" % (n, v["entries"], v["median_ms"]))

    p("")
    p("== daemon.ping round trips per second (median of %d runs; client: rpc-load, in C) ==" % b.args.ping_reps)
    p("%-34s %13s %13s %10s %10s %12s" % ("server", "sequential/s", "pipelined/s", "seq p50",
                                          "seq p99", "CPU/ping(pipe)"))
    ping = {}
    for srv, label in (("netnsd", "netnsd"), ("floor", "floor: libuv + jansson"),
                       ("raw", "transport only (no JSON), ref.")):
        seq = b.ping.get((srv, "seq"), [])
        pipe = b.ping.get((srv, "pipe"), [])
        ping[srv] = {"seq_rate": median([r["rate"] for r in seq]),
                     "pipe_rate": median([r["rate"] for r in pipe]),
                     "seq_p50_us": median([r["p50_ns"] / 1e3 for r in seq]),
                     "seq_p99_us": median([r["p99_ns"] / 1e3 for r in seq]),
                     "pipe_server_cpu_us": median([r["server_cpu_ns_per_req"] / 1e3 for r in pipe]),
                     "seq_server_cpu_us": median([r["server_cpu_ns_per_req"] / 1e3 for r in seq])}
        d = ping[srv]
        p("%-34s %13s %13s %7s us %7s us %9s us" % (
            label, fmt(d["seq_rate"], "%.0f"), fmt(d["pipe_rate"], "%.0f"), fmt(d["seq_p50_us"]),
            fmt(d["seq_p99_us"]), fmt(d["pipe_server_cpu_us"], "%.2f")))
    p("")
    p("== Ping ratios ==")
    # The CPU figure is the floor's CPU per ping over netnsd's (higher is better, like the rate).
    target("ping sequential: netnsd / floor",
           ratio(ping["netnsd"]["seq_rate"], ping["floor"]["seq_rate"]),
           TARGETS["ping_vs_floor"], True,
           ratio(ping["floor"]["seq_server_cpu_us"], ping["netnsd"]["seq_server_cpu_us"]))
    target("ping pipelined: netnsd / floor",
           ratio(ping["netnsd"]["pipe_rate"], ping["floor"]["pipe_rate"]),
           TARGETS["ping_vs_floor"], True,
           ratio(ping["floor"]["pipe_server_cpu_us"], ping["netnsd"]["pipe_server_cpu_us"]))

    missed = [t["name"] for t in targets if not t["pass"]]
    p("")
    p("targets: %d PASS, %d MISS%s" % (len(targets) - len(missed), len(missed),
                                        (" (" + "; ".join(missed) + ")") if missed else ""))
    print("\n".join(out), flush=True)

    doc = {
        "bench": "netnsd-issue-2",
        "env": env,
        "estimator": "netns: best (min) of the runs; ping, netns.list, floor steps: median",
        "netns_us_per_ns": {
            str(n): {method: {op: m(method, n, op) for op in ("create", "delete")}
                     for method, _, _ in METHODS} for n in sizes},
        "netns_samples_us_per_ns": {
            "%s/%d/%s" % k: v for k, v in sorted(b.samples.items())},
        "netns_cpu_us_per_ns": {
            str(n): {method: {op: c(method, n, op) for op in ("create", "delete")}
                     for method, _, _ in METHODS} for n in sizes},
        "floor_steps_us_per_ns": steps,
        "netns_list_ms": {str(n): v for n, v in b.list_ms.items()},
        "ping": ping,
        "targets": targets,
        "informational": info,
    }
    print(json.dumps(doc, sort_keys=True, separators=(",", ":")), flush=True)


# ------------------------------------------------------------------ main

def cleanup(tools_floor):
    """Remove every namespace with our prefix, whoever made it."""
    left = ours("")
    if not left:
        return
    log("cleanup: removing %d leftover namespaces %s*" % (len(left), PREFIX))
    if tools_floor and os.access(tools_floor, os.X_OK):
        subprocess.run([tools_floor, "purge", PREFIX], stdout=subprocess.DEVNULL)
    for name in ours(""):
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netnsd", required=True, help="the netnsd binary to measure")
    ap.add_argument("--bin-dir", required=True, help="where netns-floor, echo-floor, rpc-load are")
    ap.add_argument("--state-dir-base", default="/var/tmp",
                    help="parent of the temporary directory holding netnsd's --state-dir and "
                         "the floor's record file (default /var/tmp: a disk, like /var/lib)")
    ap.add_argument("--sizes", default="100,1000", help="namespace counts (default 100,1000)")
    ap.add_argument("--reps-small", type=int, default=3, help="runs per method for N < 1000 (3)")
    ap.add_argument("--reps-large", type=int, default=1, help="runs per method for N >= 1000 (1)")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="minimum pause before each phase, seconds (1.0)")
    ap.add_argument("--ping-seq", type=int, default=10000, help="sequential pings per run (10000)")
    ap.add_argument("--ping-pipe", type=int, default=100000, help="pipelined pings per run (100000)")
    ap.add_argument("--ping-reps", type=int, default=3, help="ping runs per server and mode (3)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: N=10,100, one run each, few pings (figures not meaningful)")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.reps_small, args.reps_large = "10,100", 1, 1
        args.settle, args.ping_seq, args.ping_pipe, args.ping_reps = 0.2, 2000, 20000, 1
    args.sizes = [int(x) for x in args.sizes.split(",")]

    if os.geteuid() != 0:
        log("SKIP: the benchmark creates network namespaces and needs root")
        return 77

    # Ctrl-C reaches the servers and helpers too (same process group), so a
    # helper may fail before Python sees the signal: remember it was asked.
    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    tools = None
    tmp = None
    bench = None
    rc = 0
    t_start = time.monotonic()
    try:
        tools = Tools(args.bin_dir, args.netnsd)
        tmp = tempfile.mkdtemp(prefix="netnsd-bench-", dir=args.state_dir_base)
        state_dir = os.path.join(tmp, "state")
        dev, fstype, mnt = fs_of(tmp)
        run_dev, run_fstype, _ = fs_of(RUN_DIR if os.path.isdir(RUN_DIR) else "/run")
        env = {
            "kernel": platform.release(),
            "cpus": os.cpu_count(),
            "state_dir": state_dir,
            "state_fs": "%s %s on %s" % (fstype, dev, mnt),
            "run_netns_fs": "%s %s" % (run_fstype, run_dev),
            "prefix": PREFIX,
            "netnsd": args.netnsd,
            "netnsd_log_level": "info (default; log to a file)",
            "loadavg_start": loadavg(),
        }
        bench = Bench(args, tools, tmp)
        sock = os.path.join(tmp, "netnsd.sock")
        bench.netnsd = Server([args.netnsd, "--socket", sock, "--state-dir", state_dir,
                               "--runtime-dir", os.path.join(tmp, "run")],
                              sock, os.path.join(tmp, "netnsd.log"))
        env["netnsd_version"] = bench.netnsd.call("daemon.info").get("version")
        env["summary"] = "netnsd %s, Linux %s, %d CPUs, state dir on %s, /run/netns on %s" % (
            env["netnsd_version"], env["kernel"], env["cpus"], env["state_fs"], env["run_netns_fs"])
        log("netnsd benchmark: prefix %s, temp dir %s" % (PREFIX, tmp))
        log("namespaces:")
        bench.run_netns()
        log("daemon.ping:")
        bench.run_ping()
        rc_netnsd = bench.netnsd.stop()
        if rc_netnsd != 0:
            raise Broken("netnsd exited with %s: %s" % (rc_netnsd, bench.netnsd.log_tail()))
        env["elapsed_s"] = round(time.monotonic() - t_start, 1)
        env["loadavg_end"] = loadavg()
        env["settle_waited_s"] = round(SETTLE["waited_s"], 1)
        env["settle_timeouts"] = SETTLE["timeouts"]
        report(bench, env)
    except Broken as e:
        if interrupted:
            log("interrupted")
            rc = 130
        else:
            log("ERROR: %s" % e)
            rc = 1
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    except Exception:
        import traceback
        traceback.print_exc()
        rc = 1
    finally:
        # Finish cleaning up even when Ctrl-C is pressed again.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if bench and bench.netnsd:
            bench.netnsd.stop()
        cleanup(tools.floor if tools else None)
        if tmp:
            subprocess.run(["rm", "-rf", "--one-file-system", tmp])
    return rc


if __name__ == "__main__":
    sys.exit(main())

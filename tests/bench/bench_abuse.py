#!/usr/bin/env python3
"""bench_abuse.py: does netnsd stay responsive while clients misbehave?

    tests/bench/bench_abuse.py [--nodes 100] [--pings 2000] [--subscribers 1000]
                               [--json FILE] [--quick]

One netnsd (its own socket, state and runtime directories), measured twice
in the same run: idle, then while 100 abusive clients and 1000 event
subscribers (a separate process) hammer it:

  slowloris      20 connections trickling a request one byte every 50 ms,
                 never finishing the line
  stuck readers  20 connections pipelining daemon.info without ever reading
                 (netnsd pauses them, then cuts them off; they come back)
  oversize       20 connections sending a line over --max-message-bytes
                 (an error, then a close; they come back)
  batch bombs    20 connections sending batches of 1024 daemon.ping (the
                 default limit) and one of 1025, reading the answers
  hammer         20 connections pipelining netns.list / link.list / daemon.info
                 as fast as netnsd answers
  subscribers    1000 connections subscribed to every topic; half read their
                 events, half never do (netnsd drops and finally cuts them)

Measured each time: an admin's daemon.ping round trip (p50, p99, max; one
connection, one request at a time) and the wall time to build a 100-node
lab (namespace + veth to a host bridge + address per node), then its
teardown (not timed).  --lab topology (the default) builds it with one
topology.apply of a star document; --lab links sends the single netns.add,
link.add and addr.add calls pipelined on one connection, as bench_lab.py
does.  Printed: the figures, the ratios abused/idle, and the targets (p99 <
50 ms, build within 1.5x of idle).

Exit status 0 when the run completed (met or not: a benchmark reports, it
does not judge), 1 when something broke, 77 when not root.
"""

import argparse
import json
import multiprocessing
import os
import random
import resource
import select
import signal
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stresslib  # noqa: E402
from crashlib import Conn  # noqa: E402


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# -- the abusers (their own process) --------------------------------------------------------

def line(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        m["params"] = params
    return (json.dumps(m, separators=(",", ":")) + "\n").encode()


class Abuser:
    """One misbehaving connection: kind says how; reconnects when cut off."""

    def __init__(self, path, kind, rng, max_message):
        self.path, self.kind, self.rng, self.max_message = path, kind, rng, max_message
        self.sock = None
        self.out = b""
        self.reads = kind in ("batch", "hammer", "sub_reader")
        self.next_at = 0.0
        self.stats = {"connects": 0, "cutoffs": 0, "bytes_in": 0}

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(self.path)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            s.close()
            self.sock = None
            self.next_at = time.time() + 0.1
            return
        self.sock = s
        self.stats["connects"] += 1
        self.out = b""
        if self.kind == "slowloris":
            self.out = line("daemon.info")[:-1] + b" " * 100000
        elif self.kind == "oversize":
            self.out = b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping","params":{"x":"' + \
                b"a" * (self.max_message + 10) + b'"}}\n'
        elif self.kind in ("sub_reader", "sub_stuck"):
            self.out = line("events.subscribe", {})
        self.refill()

    def refill(self):
        if self.kind == "stuck":
            self.out += line("daemon.info") * 200
        elif self.kind == "batch":
            n = 1025 if self.rng.random() < 0.2 else 1024
            self.out += (json.dumps([{"jsonrpc": "2.0", "id": i, "method": "daemon.ping"}
                                     for i in range(n)], separators=(",", ":")) + "\n").encode()
        elif self.kind == "hammer":
            self.out += b"".join(line(self.rng.choice(["netns.list", "link.list", "daemon.info"]))
                                 for _ in range(50))

    def drop(self):
        if self.sock:
            self.sock.close()
        self.sock = None
        self.stats["cutoffs"] += 1
        self.next_at = time.time() + 0.05

    def want_write(self):
        return self.sock is not None and bool(self.out) and \
            (self.kind != "slowloris" or time.time() >= self.next_at)

    def on_write(self):
        n = 1 if self.kind == "slowloris" else 65536
        try:
            sent = self.sock.send(self.out[:n])
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.drop()
        self.out = self.out[sent:]
        if self.kind == "slowloris":
            self.next_at = time.time() + 0.05
        if not self.out and self.kind in ("batch", "hammer"):
            self.refill()
        if not self.out and self.kind == "stuck":
            self.refill()

    def on_read(self):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.drop()
        if not data:
            return self.drop()
        self.stats["bytes_in"] += len(data)


def abuse_main(path, nsubs, max_message, ready, stop, result, per_kind=20):
    raise_nofile()
    rng = random.Random(7)
    kinds = ["slowloris", "stuck", "oversize", "batch", "hammer"] * per_kind + \
        ["sub_reader"] * (nsubs // 2) + ["sub_stuck"] * (nsubs - nsubs // 2)
    abusers = [Abuser(path, k, rng, max_message) for k in kinds]
    for a in abusers:
        a.connect()
    ready.set()
    poller = select.epoll()
    registered = {}
    while not stop.is_set():
        now = time.time()
        for a in abusers:
            if a.sock is None and now >= a.next_at:
                a.connect()
            fd = a.sock.fileno() if a.sock else None
            ev = 0
            if a.sock is not None:
                if a.reads or a.kind in ("oversize", "slowloris", "stuck"):
                    # Stuck readers read nothing, but notice a close (EPOLLRDHUP).
                    ev |= select.EPOLLIN if a.reads else select.EPOLLRDHUP
                if a.want_write():
                    ev |= select.EPOLLOUT
            old = registered.get(id(a))
            if old and (old[0] != fd or fd is None):
                try:
                    poller.unregister(old[0])
                except (OSError, ValueError):
                    pass
                registered.pop(id(a))
                old = None
            # A closed socket left the epoll set by itself, and its fd number may be
            # reused at once: register or modify, whichever the kernel agrees to.
            if fd is not None and ev:
                if old is None or old[1] != ev:
                    try:
                        poller.modify(fd, ev)
                    except FileNotFoundError:
                        poller.register(fd, ev)
                registered[id(a)] = (fd, ev)
            elif old is not None:
                try:
                    poller.unregister(old[0])
                except (OSError, ValueError):
                    pass
                registered.pop(id(a))
        byfd = {a.sock.fileno(): a for a in abusers if a.sock is not None}
        for fd, ev in poller.poll(0.02):
            a = byfd.get(fd)
            if a is None:
                continue
            if ev & (select.EPOLLHUP | select.EPOLLERR | select.EPOLLRDHUP) and not a.reads:
                a.drop()
                continue
            if ev & select.EPOLLIN:
                a.on_read()
            if a.sock is not None and ev & select.EPOLLOUT:
                a.on_write()
    totals = {}
    for a in abusers:
        t = totals.setdefault(a.kind, {"clients": 0, "connects": 0, "cutoffs": 0, "bytes_in": 0})
        t["clients"] += 1
        for k in ("connects", "cutoffs", "bytes_in"):
            t[k] += a.stats[k]
    result.put(totals)


# -- the measurements ---------------------------------------------------------------------

def ping_latencies(path, n, max_s=30.0):
    """n sequential pings, or as many as fit in max_s (a daemon in trouble is slow)."""
    c = Conn(path, timeout=120)
    out = []
    t0 = time.perf_counter()
    try:
        for _ in range(n):
            t = time.perf_counter()
            c.call("daemon.ping")
            out.append((time.perf_counter() - t) * 1000.0)
            if t - t0 > max_s and len(out) >= 20:
                break
    finally:
        c.close()
    out.sort()
    return {"n": len(out), "p50_ms": round(out[len(out) // 2], 3),
            "p99_ms": round(out[min(len(out) - 1, int(len(out) * 0.99))], 3),
            "max_ms": round(out[-1], 3)}


def pipeline(conn, reqs):
    """Send all, read all answers; raise on an error answer."""
    ids = conn.send_many(reqs)
    want = set(ids)
    while want:
        m = conn.recv()
        if m.get("id") in want:
            want.discard(m["id"])
            if "error" in m:
                raise RuntimeError("lab request failed: %s" % m["error"])


def build_lab_links(conn, prefix, n, tag):
    """The 100-node lab through netns.add, link.add and addr.add (bench_lab.py's shape)."""
    br = "%sbr%s" % (prefix, tag)
    conn.call("link.add", {"name": br, "kind": "bridge", "up": True})
    reqs = []
    for i in range(n):
        ns = "%s%s%d" % (prefix, tag, i)
        reqs += [("netns.add", {"name": ns}),
                 ("link.add", {"netns": ns, "name": "eth0", "kind": "veth", "up": True,
                               "ipv6_ll": False,
                               "peer": {"name": "%s%s%d" % (prefix, tag, i), "netns": None,
                                        "master": br, "up": True, "ipv6_ll": False}}),
                 ("addr.add", {"netns": ns, "dev": "eth0",
                               "address": "10.77.%d.%d/16" % (i // 250, i % 250 + 1)})]
    t = time.perf_counter()
    pipeline(conn, reqs)
    return time.perf_counter() - t


def teardown_lab(conn, prefix, n, tag):
    pipeline(conn, [("netns.delete", {"name": "%s%s%d" % (prefix, tag, i), "grace_ms": 0})
                    for i in range(n)])
    conn.call("link.delete", {"name": "%sbr%s" % (prefix, tag)})


def star_doc(prefix, n, tag):
    """The same lab as a topology document: n nodes on a host bridge, one address each."""
    members = [{"node": "n%d" % i, "name": "eth0", "port": "h%d" % i, "ipv6_ll": False,
                "addresses": ["10.77.%d.%d/16" % (i // 250, i % 250 + 1)]}
               for i in range(n)]
    return {"name": "%s%sstar" % (prefix, tag), "prefix": prefix + tag,
            "nodes": [{"name": "n%d" % i} for i in range(n)],
            "bridges": [{"name": "br", "members": members}]}


def build_lab_topology(conn, prefix, n, tag):
    """One topology.apply of the lab (netnsd works through it in chunks)."""
    doc = star_doc(prefix, n, tag)
    t = time.perf_counter()
    conn.call("topology.apply", {"doc": doc})
    return time.perf_counter() - t


def teardown_topology(conn, prefix, n, tag):
    conn.call("topology.destroy", {"name": "%s%sstar" % (prefix, tag)})


LABS = {"links": (build_lab_links, teardown_lab),
        "topology": (build_lab_topology, teardown_topology)}


def measure(d, args, prefix, tag):
    pings = ping_latencies(d.socket, args.pings)
    conn = Conn(d.socket, timeout=300)
    try:
        build_fn, teardown_fn = LABS[args.lab]
        build = build_fn(conn, prefix, args.nodes, tag)
        teardown_fn(conn, prefix, args.nodes, tag)
    finally:
        conn.close()
    time.sleep(1.0)  # the kernel frees deleted namespaces in the background
    return {"ping": pings, "build_s": round(build, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--lab", choices=sorted(LABS), default="topology")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 10 nodes, 200 pings")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_abuse: SKIP: needs root")
        return 77
    if args.quick:
        args.nodes, args.pings, args.subscribers = 10, 200, 100
    nofile = raise_nofile()
    if nofile < args.subscribers + 300:
        print("bench_abuse: SKIP: RLIMIT_NOFILE %d is too low" % nofile)
        return 77
    prefix = stresslib.prefix_for("ab")
    max_message = 1 << 20
    d = stresslib.Netnsd(stresslib.default_netnsd(), args=[
        "--max-connections", str(args.subscribers + 400),
        "--max-subscriptions", str(args.subscribers + 100),
        "--max-message-bytes", str(max_message)])
    figures = {"nodes": args.nodes, "subscribers": args.subscribers, "lab": args.lab,
               "load_before": open("/proc/loadavg").read().split()[:3]}
    proc = None
    stop = multiprocessing.Event()
    try:
        d.start()
        print("bench_abuse: idle ...", file=sys.stderr, flush=True)
        figures["idle"] = measure(d, args, prefix, "i")
        ready = multiprocessing.Event()
        result = multiprocessing.Queue()
        proc = multiprocessing.Process(target=abuse_main, args=(
            d.socket, args.subscribers, max_message, ready, stop, result))
        proc.start()
        ready.wait(60)
        time.sleep(2.0)  # let the abuse reach its steady state
        print("bench_abuse: under abuse ...", file=sys.stderr, flush=True)
        figures["abused"] = measure(d, args, prefix, "a")
        info = d.call("daemon.info")
        figures["daemon_under_abuse"] = {"connections": info["counts"]["connections"],
                                         "events": info.get("events")}
        stop.set()
        figures["abusers"] = result.get(timeout=60)
        proc.join(30)
        figures["rss_kib_after"] = d.rss_kib()
        figures["alive_after"] = d.proc.poll() is None
        d.stop()
    finally:
        stop.set()
        if proc is not None and proc.is_alive():
            proc.terminate()
        stresslib.cleanup(prefix, d)
    i, a = figures["idle"], figures["abused"]
    figures["ratio_ping_p99"] = round(a["ping"]["p99_ms"] / max(i["ping"]["p99_ms"], 1e-6), 2)
    figures["ratio_build"] = round(a["build_s"] / max(i["build_s"], 1e-6), 2)
    figures["targets"] = {"ping_p99_under_50ms": a["ping"]["p99_ms"] < 50.0,
                          "build_within_1.5x": figures["ratio_build"] <= 1.5}
    figures["load_after"] = open("/proc/loadavg").read().split()[:3]
    print("daemon.ping p99: idle %.2f ms, abused %.2f ms (x%.2f; target < 50 ms: %s)" % (
        i["ping"]["p99_ms"], a["ping"]["p99_ms"], figures["ratio_ping_p99"],
        "met" if figures["targets"]["ping_p99_under_50ms"] else "MISSED"))
    print("%d-node lab build: idle %.2f s, abused %.2f s (x%.2f; target <= 1.5x: %s)" % (
        args.nodes, i["build_s"], a["build_s"], figures["ratio_build"],
        "met" if figures["targets"]["build_within_1.5x"] else "MISSED"))
    stresslib.emit(figures, args.json)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())

#!/usr/bin/env python3
"""netnsd replay benchmark (issue 11): how long a resuming subscriber takes
to get 5000 missed events from the ring, against the same 5000 events
delivered live to a subscriber that was connected while they happened.

Set-up: netnsd with --event-ring 8192 (the default ring, 4096, is smaller
than the burst), one namespace made with netns.add, 8 veth pairs made in it
with `ip`.  The burst: `ip -n NS -batch` sets 5000 distinct MTUs, one link
change each (every one is a link "change" event in netnsd).

  live    a subscriber {"topics":["link"],"netns":NS} connected before the
          burst: time from the start of `ip -batch` to its 5000th event.
          This is what the kernel, netnsd's monitor and the delivery cost
          together; `ip monitor` would see the same burst at kernel speed.
  replay  after the burst, a new connection subscribes with {since, instance}
          of the cursor taken before it: time from sending events.subscribe
          to the 5000th replayed event.

Both readers are this Python process reading lines (no JSON parsing until
the end, when every event is checked: 5000 changes, each MTU once, gseq
rising).  Prints a table (median of --reps runs, worst in brackets), the
ratio replay/live, and one JSON line (the last line of stdout).

Usage (root):  bench_replay.py --netnsd PATH [--count 5000] [--reps 3]
Exit status 0 when the run completed, 1 when something broke, 77 when it
cannot run here.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Broken, log, rpc_call  # noqa: E402

PREFIX = "br%04x" % (os.getpid() & 0xFFFF)
BASE = 30000
LINKS = 8


def sh(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise Broken("%s: %s" % (" ".join(cmd[:4]), p.stderr.strip()[-800:]))
    return p


class Reader:
    def __init__(self, sock_path, params):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.settimeout(60)
        self.s.connect(sock_path)
        self.buf = b""
        self.lines = []
        self.t_send = time.monotonic()
        self.s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                                   "params": params}).encode() + b"\n")
        self.reply = json.loads(self.next_line())
        if "error" in self.reply:
            raise Broken("events.subscribe: %s" % self.reply["error"])

    def next_line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise Broken("netnsd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_events(self, n):
        """Read until n events with an MTU in the burst's range came; the time of the last."""
        got = 0
        while got < n:
            line = self.next_line()
            self.lines.append(line)
            if b'"mtu":' in line and b'"gseq"' in line:
                got += 1
        return time.monotonic()

    def check(self, n):
        mtus, gseqs = [], []
        for line in self.lines:
            e = json.loads(line)["params"]
            if e["topic"] == "link" and BASE <= e["link"].get("mtu", 0) < BASE + n:
                mtus.append(e["link"]["mtu"])
                gseqs.append(e["gseq"])
            if e["topic"] == "daemon" and e["action"] in ("gap", "overflow"):
                raise Broken("the reader got %s: %r" % (e["action"], e))
        if sorted(mtus) != list(range(BASE, BASE + n)):
            raise Broken("events missing or repeated: %d of %d" % (len(set(mtus)), n))
        if gseqs != sorted(set(gseqs)):
            raise Broken("gseq not rising")

    def close(self):
        self.s.close()


def one_run(args, sock, ns, batch_path):
    # Reset the MTUs so that every change of the burst is a change.
    for i in range(LINKS):
        sh(["ip", "-n", ns, "link", "set", "ba%d" % i, "mtu", "1500"])
    time.sleep(0.3)
    cursor = Reader(sock, {"topics": ["link"], "netns": ns})
    since, instance = cursor.reply["result"]["gseq"], cursor.reply["result"]["instance"]
    cursor.close()
    live = Reader(sock, {"topics": ["link"], "netns": ns})
    t0 = time.monotonic()
    sh(["ip", "-n", ns, "-batch", batch_path])
    t_live = live.read_events(args.count) - t0
    live.check(args.count)
    live.close()
    rep = Reader(sock, {"topics": ["link"], "netns": ns, "since": since, "instance": instance})
    if rep.reply["result"].get("lost") != 0:
        raise Broken("the ring lost events: %r" % rep.reply)
    t_replay = rep.read_events(args.count) - rep.t_send
    rep.check(args.count)
    rep.close()
    return t_live, t_replay


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netnsd", default=os.environ.get("NETNSD", "daemon/netnsd"))
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_replay: needs root")
        return 77
    tmp = tempfile.mkdtemp(prefix="netnsd-bench-replay-")
    ns = PREFIX + "ns"
    proc = None
    try:
        sock = os.path.join(tmp, "s")
        logf = open(os.path.join(tmp, "netnsd.log"), "ab")
        proc = subprocess.Popen([args.netnsd, "--socket", sock, "--state-dir",
                                 os.path.join(tmp, "state"), "--runtime-dir",
                                 os.path.join(tmp, "run"), "--event-ring",
                                 str(max(8192, args.count * 2))],
                                stdout=logf, stderr=logf)
        deadline = time.monotonic() + 15
        while True:
            try:
                rpc_call(sock, "daemon.ping")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise Broken("netnsd did not start")
                time.sleep(0.05)
        rpc_call(sock, "netns.add", {"name": ns})
        for i in range(LINKS):
            sh(["ip", "-n", ns, "link", "add", "ba%d" % i, "type", "veth", "peer", "bb%d" % i])
        batch_path = os.path.join(tmp, "batch")
        with open(batch_path, "w") as f:
            for s in range(args.count):
                f.write("link set ba%d mtu %d\n" % (s % LINKS, BASE + s))
        runs = []
        for r in range(args.reps):
            runs.append(one_run(args, sock, ns, batch_path))
            log("run %d: live %.1f ms, replay %.1f ms" % (r + 1, runs[-1][0] * 1e3,
                                                           runs[-1][1] * 1e3))
        live = statistics.median(x[0] for x in runs)
        replay = statistics.median(x[1] for x in runs)
        print("%-48s %12s %12s" % ("%d link events, median of %d" % (args.count, args.reps),
                                   "ms", "events/s"))
        print("%-48s %12.1f %12.0f   [worst %.1f ms]" % (
            "live delivery (burst start -> last event)", live * 1e3, args.count / live,
            max(x[0] for x in runs) * 1e3))
        print("%-48s %12.1f %12.0f   [worst %.1f ms]" % (
            "replay from the ring (subscribe -> last event)", replay * 1e3, args.count / replay,
            max(x[1] for x in runs) * 1e3))
        print("ratio replay / live: %.2f" % (replay / live))
        print(json.dumps({"bench": "replay", "count": args.count, "reps": args.reps,
                          "live_ms": round(live * 1e3, 2), "replay_ms": round(replay * 1e3, 2),
                          "ratio_replay_live": round(replay / live, 3),
                          "runs_ms": [[round(a * 1e3, 2), round(b * 1e3, 2)] for a, b in runs]}))
        return 0
    except Broken as e:
        print("bench_replay: %s" % e, file=sys.stderr)
        return 1
    finally:
        if proc and proc.poll() is None:
            try:
                rpc_call(sock, "netns.delete", {"name": ns})
            except Exception:
                pass
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
